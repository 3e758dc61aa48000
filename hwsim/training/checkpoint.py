"""A run's output directory: who owns it, and its checksummed checkpoints (layer 5).

**Identity.**  A run is identified by its resolved configuration (experiment,
accelerator, device), its data (name, shapes and a BLAKE2 hash of the arrays) and the
code (hwsim, numpy and kernel versions), flattened to dotted keys.  ``run.json`` in
the output directory holds it and its hash.  The keys of :data:`RESUMABLE` may differ
between a checkpoint and the run that resumes it (more epochs, another ``--out``, no
progress bar); any other difference refuses ``--resume`` naming the keys.

**Ownership.**  A new run into a directory that holds another run's results
(``run.json``, ``report.json`` or a checkpoint) is refused unless ``--force``, naming
the keys that differ.  We refuse rather than pick a fresh numbered directory: scripts
and users read ``runs/<name>/report.json``, and a silently renamed output would leave
them reading the stale one.  A run whose identity equals the recorded one (same
config, data, code and epochs) may write again: runs are reproducible bit for bit,
so it rewrites the same results and loses nothing.

**Checkpoints** (``checkpoint.pkl``, and the previous epoch's ``checkpoint.prev.pkl``)
are a header (magic, BLAKE2b-256 digest and length of the payload, epoch) and a pickle.
They are written to a temporary file, flushed to disk and renamed into place
(``os.replace``), so a crash mid-write leaves the last complete checkpoint; the
pickle is streamed through the hash, never held twice in memory.  Loading verifies
the length and digest before unpickling; a corrupt file is one line that names the
previous epoch's checkpoint when there is one.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np

from hwsim.version import __version__
from hwsim.errors import HwsimError

try:
    from hwsim._ext.quantize import BUILT_WITH_CYTHON as _KERNELS
except ImportError:  # pragma: no cover - a broken install (the cython backend says so)
    _KERNELS = "not built"

CHECKPOINT = "checkpoint.pkl"
PREVIOUS = "checkpoint.prev.pkl"
IDENTITY = "run.json"
RESULTS = ("report.json", "energy.csv", CHECKPOINT, PREVIOUS)
MAGIC = b"HWSIMCK1"
_HEADER = len(MAGIC) + 32 + 8 + 8      # magic, digest, payload length, epoch (little endian)
#: keys that may differ between a checkpoint and the run resuming it
RESUMABLE = ("experiment.training.epochs", "experiment.run.out", "experiment.run.progress",
             "experiment.run.checkpoint")
_SHOWN = 4                             # differing keys named in an error


# ---- identity ---------------------------------------------------------------------
def _flatten(obj, prefix: str, out: dict) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif prefix.rsplit(".", 1)[-1] in ("file", "accelerator_file"):
        return                         # where a file was read from is not what it says
    else:
        out[prefix] = json.loads(json.dumps(obj, default=str))


def _array_digest(arrays) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.reshape(-1).view(np.uint8))       # no copy; empty arrays too
    return h.hexdigest()


def code_versions() -> dict:
    """What code made the numbers: hwsim, numpy, and the Cython that built the kernels."""
    return {"hwsim": __version__, "numpy": np.__version__, "kernels": _KERNELS}


def identity(cfg, accelerator, device, dataset) -> dict:
    """Dotted key -> value of everything that makes a run's results (see module doc)."""
    out: dict = {}
    exp = dataclasses.asdict(cfg)
    exp.pop("accelerator")          # a file name or an inlined mapping: resolved below
    _flatten({"experiment": exp,
              "accelerator": dataclasses.asdict(accelerator),
              "device": dataclasses.asdict(device) if dataclasses.is_dataclass(device)
              else repr(device)}, "", out)
    out["data.name"] = dataset.name
    out["data.train"] = [int(dataset.n_train), *map(int, np.shape(dataset.train_x)[1:])]
    out["data.test"] = int(dataset.n_test)
    out["data.hash"] = _array_digest((dataset.train_x, dataset.train_y, dataset.test_x,
                                      dataset.test_y))
    for k, v in sorted(code_versions().items()):
        out[f"code.{k}"] = v
    return out


def digest(ident: dict) -> str:
    text = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def differences(old: dict, new: dict, ignore=()) -> list[str]:
    """The keys whose values differ (or exist on one side only), sorted."""
    keys = sorted(set(old) | set(new))
    return [k for k in keys if k not in ignore and old.get(k, "<unset>") != new.get(k, "<unset>")]


def describe_differences(old: dict, new: dict, keys: list[str]) -> str:
    def short(v):
        t = json.dumps(v, default=str)
        return t if len(t) <= 40 else t[:39] + "…"
    shown = [f"{k} ({short(old.get(k, '<unset>'))} -> {short(new.get(k, '<unset>'))})"
             for k in keys[:_SHOWN]]
    more = f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else ""
    return ", ".join(shown) + more


def read_identity(out: Path) -> dict | None:
    path = Path(out) / IDENTITY
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data["identity"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise HwsimError("not a run identity file (delete it or run with --force)",
                         file=str(path)) from None


def write_identity(out: Path, ident: dict) -> None:
    path = Path(out) / IDENTITY
    tmp = path.with_name(f".{IDENTITY}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"hash": digest(ident), "identity": ident}, sort_keys=True,
                              indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def claim(out: Path, ident: dict, *, resume: bool, force: bool) -> None:
    """Check that this run may write into ``out`` (see module doc); raise otherwise."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise HwsimError("run.out is an existing file, not a directory: choose another --out",
                         file=str(out))
    if resume or force or not out.is_dir():
        return
    old = read_identity(out)
    if old is None:
        found = [n for n in RESULTS if (out / n).exists()]
        if found:
            raise HwsimError(f"holds results of another run ({', '.join(found)}) with no "
                             f"{IDENTITY}: use another --out, or --force to overwrite them",
                             file=str(out))
        return
    diff = differences(old, ident)
    if diff:
        hint = ("--resume to continue it, " if set(diff) <= set(RESUMABLE)
                and (out / CHECKPOINT).exists() else "")
        raise HwsimError(f"holds the results of another run ({describe_differences(old, ident, diff)}): "
                         f"use {hint}another --out, or --force to overwrite them", file=str(out))


def check_resumable(ckpt: Path, state: dict, ident: dict) -> None:
    """Refuse to resume a checkpoint made by a different configuration, data or code."""
    old = state.get("identity")
    if old is None:
        raise HwsimError("checkpoint has no run identity (made by an older hwsim): start a "
                         "new run", file=str(ckpt))
    diff = differences(old, ident, RESUMABLE)
    if diff:
        raise HwsimError(f"cannot resume: the checkpoint was made by a different run: "
                         f"{describe_differences(old, ident, diff)}", file=str(ckpt))


# ---- checkpoint files -------------------------------------------------------------
class _HashingWriter:
    """A binary file that hashes what is written through it."""

    def __init__(self, fh):
        self.fh, self.hash, self.n = fh, hashlib.blake2b(digest_size=32), 0

    def write(self, data) -> int:
        view = memoryview(data)      # bytes, or a PickleBuffer of a large array (protocol 5)
        self.hash.update(view)
        self.n += view.nbytes
        return self.fh.write(view)


def save_checkpoint(path: Path, state: dict) -> None:
    """Write ``state`` atomically; the checkpoint it replaces becomes ``checkpoint.prev.pkl``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(b"\0" * _HEADER)
        w = _HashingWriter(fh)
        pickle.dump(state, w, protocol=pickle.HIGHEST_PROTOCOL)
        fh.seek(0)
        fh.write(MAGIC + w.hash.digest() + w.n.to_bytes(8, "little")
                 + int(state.get("epoch", 0)).to_bytes(8, "little"))
        fh.flush()
        os.fsync(fh.fileno())
    if path.exists():
        os.replace(path, path.with_name(PREVIOUS))
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:  # pragma: no cover - not on every platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def remove_partial(out: Path) -> None:
    """Delete temporary checkpoint files a killed run left behind."""
    for p in Path(out).glob(f".{CHECKPOINT}.tmp-*"):
        p.unlink(missing_ok=True)


def _verify(path: Path) -> str | None:
    """None if ``path`` is a complete checkpoint, else what is wrong with it."""
    with open(path, "rb") as fh:
        head = fh.read(_HEADER)
        if len(head) < _HEADER or not head.startswith(MAGIC):
            return "not a hwsim checkpoint (no header: truncated, garbage or an older format)"
        want = head[len(MAGIC):len(MAGIC) + 32]
        length = int.from_bytes(head[len(MAGIC) + 32:len(MAGIC) + 40], "little")
        h, n = hashlib.blake2b(digest_size=32), 0
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
    if n != length:
        return f"truncated checkpoint ({n} of {length} payload bytes)"
    if h.digest() != want:
        return "corrupt checkpoint (checksum mismatch)"
    return None


def _epoch_of(path: Path) -> int | None:
    """The epoch of an intact checkpoint (from its header), else None."""
    if not path.is_file() or _verify(path) is not None:
        return None
    with open(path, "rb") as fh:
        return int.from_bytes(fh.read(_HEADER)[-8:], "little")


def load_checkpoint(path: Path) -> dict:
    """The state saved by :func:`save_checkpoint`, verified; one-line errors otherwise."""
    path = Path(path)
    prev = path.with_name(PREVIOUS)
    if not path.is_file():
        epoch = _epoch_of(prev)          # (a crash between the two renames of a save)
        raise HwsimError("no checkpoint to resume from" + (
            f"; the previous epoch's checkpoint {prev} (epoch {epoch}) is intact: move it to "
            f"{path.name} to resume from it" if epoch is not None else ""), file=str(path))
    problem = _verify(path)
    if problem is None:
        with open(path, "rb") as fh:
            fh.seek(_HEADER)
            try:
                return pickle.load(fh)
            except Exception as exc:  # noqa: BLE001 - classes moved or removed since
                problem = f"cannot read the checkpoint ({type(exc).__name__}: {exc})"
    epoch = _epoch_of(prev) if prev != path else None
    offer = (f"; the previous epoch's checkpoint {prev} (epoch {epoch}) is intact: move it "
             f"to {path.name} to resume from it" if epoch is not None else
             "; no intact previous checkpoint: start a new run with --force")
    raise HwsimError(problem + offer, file=str(path))
