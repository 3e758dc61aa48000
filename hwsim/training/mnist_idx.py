"""Reader of the IDX files MNIST is distributed in (LeCun et al. 1998).

Format (all integers big-endian): a 4-byte magic ``0x00 0x00 <type> <ndim>`` —
type 0x08 = unsigned byte — then ``ndim`` uint32 dimensions, then the
``Π dims`` data bytes in C order.  MNIST images have magic 2051 (0x00000803,
dims N × 28 × 28), labels magic 2049 (0x00000801, dims N).  Files may be gzip
compressed (detected by the gzip magic 1f 8b, not by the name).  Anything else —
a missing file, a bad magic, a header or body shorter (or longer) than the
dimensions say, a broken gzip stream, labels outside 0…9, image and label
counts that differ — is a :class:`~hwsim.errors.DataError` naming the file.
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from hwsim.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
#: file stems of the two MNIST splits, images then labels
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataError(f"cannot read IDX file: {exc.strerror or exc}", file=path) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"corrupt or truncated gzip stream: {exc}", file=path) from None
    return raw


def read_idx(path: str, magic: int) -> np.ndarray:
    """The uint8 array stored in an IDX file whose magic must equal ``magic``."""
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"truncated IDX header ({len(raw)} bytes)", file=path)
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"not an IDX file of the expected kind: magic {found}, expected {magic}",
                        file=path)
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"truncated IDX header: {ndim} dimensions need {header} bytes, "
                        f"file has {len(raw)}", file=path)
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    n = int(np.prod(dims, dtype=np.int64))
    body = len(raw) - header
    if body != n:
        what = "truncated" if body < n else "has trailing bytes"
        raise DataError(f"IDX data {what}: dimensions {dims} need {n} bytes, found {body}", file=path)
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_idx(directory: str, stem: str) -> str | None:
    """``directory/stem`` or ``directory/stem.gz``, whichever exists (plain first)."""
    for name in (stem, stem + ".gz"):
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    return None


def read_split(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) uint8) of one MNIST split."""
    img_stem, lab_stem = MNIST_FILES[split]
    paths = []
    for stem in (img_stem, lab_stem):
        p = find_idx(directory, stem)
        if p is None:
            raise DataError(f"MNIST file missing (looked for {stem} and {stem}.gz)",
                            file=os.path.join(directory, stem))
        paths.append(p)
    images = read_idx(paths[0], IMAGES_MAGIC)
    labels = read_idx(paths[1], LABELS_MAGIC)
    if images.ndim != 3:
        raise DataError(f"expected N×rows×cols images, got dimensions {images.shape}", file=paths[0])
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{labels.shape} labels do not match {len(images)} images in {paths[0]}",
                        file=paths[1])
    if labels.size and labels.max() > 9:
        raise DataError(f"label {int(labels.max())} outside 0…9", file=paths[1])
    return images, labels


def load_mnist_arrays(directory: str, use_train: bool = True) -> dict:
    """``{"test": (images, labels)}`` plus ``"train"`` when the train files exist and are wanted.

    A half-present train split (images without labels or the reverse) is an error,
    not a silent fallback to the 10k split.
    """
    out = {"test": read_split(directory, "test")}
    if use_train:
        present = [find_idx(directory, s) is not None for s in MNIST_FILES["train"]]
        if all(present):
            out["train"] = read_split(directory, "train")
        elif any(present):
            missing = MNIST_FILES["train"][present.index(False)]
            raise DataError("MNIST train split incomplete (one of its two files is missing)",
                            file=os.path.join(directory, missing))
    return out
