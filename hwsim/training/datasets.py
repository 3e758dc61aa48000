"""Data sets of the training workloads: digits, MNIST, and synthetic regression tasks.

``load_dataset(name_or_mapping, rng, data_dir=None)`` takes the experiment's
``workload.dataset`` value — a name (``digits``) or a mapping
(``{name: mnist, path: ../shared/data/mnist, flatten: false, limit_train: 2000}``).

* **digits** — scikit-learn's 8×8 handwritten digits (1797 images → 1438 train /
  359 test; bundled with scikit-learn, UCI "Optical Recognition of Handwritten
  Digits", Alpaydin & Kaynak 1998).  Pixels 0…16 are scaled to [0, 1].  Fixed
  stratified split, independent of the run's seed: the samples of each class are
  permuted with ``default_rng(split_seed)`` (``split_seed`` 0), the first
  ``round(train_fraction·n_c)`` (0.8) of class c go to training and the rest to
  test; each split is then shuffled once with the same generator so that the
  classes are interleaved.
* **mnist** — the IDX files of LeCun et al. 1998, parsed here (magic 2051 for
  images, 2049 for labels, big-endian uint32 dimensions, gzip or plain; see
  :mod:`hwsim.training.mnist_idx`).  Pixels are scaled to [0, 1].  With the
  60 000-image ``train-*`` files present the standard 60k/10k split is used; with
  only the ``t10k-*`` files ("MNIST-10k") the first 80 % of the test images (8000)
  train and the last 20 % (2000) test; ``split: 10k`` forces this even with train
  files.  The directory is, in order: the mapping's ``path`` (relative to the YAML
  file that holds it, else to ``base_dir``), ``data_dir``, or the environment
  variable ``HWSIM_DATA``; a directory without the files but with an ``mnist/``
  sub-directory means that one.
* **matrix_learning**, **least_squares** — synthetic regression tasks of
  PHYSICS.md §5, see :mod:`hwsim.training.synthetic`.

Common options: ``flatten`` (images as vectors (N,) or as (C, H, W)),
``limit_train`` / ``limit_test`` (keep the first n samples of the fixed order, so
a subsample is deterministic and independent of the seed).  ``rng`` is used only
by the synthetic tasks (the real data sets have fixed splits).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import ConfigError, DataError
from hwsim.training import synthetic
from hwsim.training.batches import iterate_batches
from hwsim.training.mnist_idx import load_mnist_arrays
from hwsim.training.synthetic import RegressionDataset


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set with a fixed train/test split."""
    train_x: np.ndarray          # (N_train, *input_shape) float64 in [0, 1]
    train_y: np.ndarray          # (N_train,) int64 class labels
    test_x: np.ndarray
    test_y: np.ndarray
    input_shape: tuple
    n_classes: int
    name: str
    source: str                  # provenance: files, split rule, citation

    @property
    def n_train(self) -> int:
        return len(self.train_y)

    @property
    def n_test(self) -> int:
        return len(self.test_y)

    def batches(self, batch_size: int, rng: np.random.Generator | None = None, shuffle: bool = True,
                split: str = "train", drop_last: bool = False):
        """Mini-batches of one split, in an order fixed by ``rng`` (see :func:`iterate_batches`)."""
        x, y = self._split(split)
        return iterate_batches(x, y, batch_size, rng, shuffle, drop_last)

    def _split(self, split):
        if split == "train":
            return self.train_x, self.train_y
        if split == "test":
            return self.test_x, self.test_y
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


class _Options:
    """Checks the keys of a ``workload.dataset`` mapping, with file/line/key in errors."""

    def __init__(self, mapping, key: str, known: tuple):
        self.m, self.key = mapping, key
        for k in mapping:
            if k != "name" and k not in known:
                raise self.error(f"unknown key (known keys: name, {', '.join(known)})", k)

    def error(self, msg, k):
        return ConfigError(msg, file=file_of(self.m), line=line_of(self.m, k), key=f"{self.key}.{k}")

    def bool_(self, k, default):
        v = self.m.get(k, default)
        if not isinstance(v, bool):
            raise self.error(f"expected true or false, got {v!r}", k)
        return v

    def int_(self, k, default, lo=1):
        v = self.m.get(k, default)
        if v is None and default is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise self.error(f"expected an integer ≥ {lo}, got {v!r}", k)
        return int(v)

    def float_(self, k, default, lo=0.0, lo_open=False):
        v = self.m.get(k, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo or (lo_open and v == lo):
            raise self.error(f"expected a number {'>' if lo_open else '≥'} {lo}, got {v!r}", k)
        return float(v)

    def limit(self, x, y, k):
        n = self.int_(k, None)
        if n is None:
            return x, y
        if n > len(y):
            raise self.error(f"{k} {n} exceeds the {len(y)} samples of the split", k)
        return x[:n], y[:n]


def _shape_images(x: np.ndarray, flatten: bool, channels_hw: tuple) -> tuple[np.ndarray, tuple]:
    if flatten:
        return x.reshape(len(x), -1), (int(np.prod(channels_hw)),)
    return x.reshape((len(x),) + channels_hw), channels_hw


def _load_digits(m, rng, data_dir, key, base_dir=None) -> Dataset:
    o = _Options(m, key, ("flatten", "limit_train", "limit_test", "train_fraction", "split_seed"))
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - sklearn is a dependency
        raise DataError("the digits data set needs scikit-learn (pip install scikit-learn)",
                        key=key) from exc
    frac = o.float_("train_fraction", 0.8, lo=0.0, lo_open=True)
    if frac >= 1.0:
        raise o.error(f"expected a number in (0, 1), got {frac}", "train_fraction")
    split_rng = np.random.default_rng(o.int_("split_seed", 0, lo=0))
    bunch = load_digits()
    x = bunch.data.astype(np.float64) / 16.0
    y = bunch.target.astype(np.int64)
    train_idx, test_idx = [], []
    for c in range(10):
        idx = split_rng.permutation(np.flatnonzero(y == c))
        n_tr = int(round(frac * len(idx)))
        train_idx.append(idx[:n_tr])
        test_idx.append(idx[n_tr:])
    tr = split_rng.permutation(np.concatenate(train_idx))
    te = split_rng.permutation(np.concatenate(test_idx))
    xs, shape = _shape_images(x, o.bool_("flatten", True), (1, 8, 8))
    train_x, train_y = o.limit(xs[tr], y[tr], "limit_train")
    test_x, test_y = o.limit(xs[te], y[te], "limit_test")
    return Dataset(train_x, train_y, test_x, test_y, shape, 10, "digits",
                   f"scikit-learn load_digits (UCI optical digits, Alpaydin & Kaynak 1998); "
                   f"stratified {frac:.0%} train split, split_seed {o.int_('split_seed', 0, lo=0)}")


def _mnist_dir(m, data_dir, key, base_dir) -> str:
    if "path" in m:
        p = m["path"]
        if not isinstance(p, str) or not p:
            raise ConfigError(f"expected a directory name, got {p!r}", file=file_of(m),
                              line=line_of(m, "path"), key=f"{key}.path")
        src = file_of(m)
        if src and os.path.isfile(src):
            base = os.path.dirname(os.path.abspath(src))
        else:
            base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
        d = os.path.join(base, os.path.expanduser(p))
    elif data_dir is not None:
        d = os.fspath(data_dir)
    elif os.environ.get("HWSIM_DATA"):
        d = os.environ["HWSIM_DATA"]
    else:
        raise DataError("no MNIST directory configured: give workload.dataset.path, pass data_dir, "
                        "or set the environment variable HWSIM_DATA to the directory holding the "
                        "IDX files (t10k-images-idx3-ubyte.gz ...)", key=key)
    if not os.path.isdir(d):
        raise DataError("MNIST directory not found", file=d, key=key)
    sub = os.path.join(d, "mnist")
    has_files = any(f.startswith("t10k-images-idx3-ubyte") for f in os.listdir(d))
    return sub if not has_files and os.path.isdir(sub) else d


def _load_mnist(m, rng, data_dir, key, base_dir=None) -> Dataset:
    o = _Options(m, key, ("path", "flatten", "limit_train", "limit_test", "split"))
    split = m.get("split", "auto")
    if split not in ("auto", "10k"):
        raise o.error(f"expected one of auto, 10k; got {split!r}", "split")
    flatten = o.bool_("flatten", True)
    d = _mnist_dir(m, data_dir, key, base_dir)
    arrays = load_mnist_arrays(d, use_train=(split == "auto"))
    to_x = lambda img: _shape_images(img.astype(np.float64) / 255.0, flatten, (1,) + img.shape[1:])
    if "train" in arrays:
        (tr_img, tr_lab), (te_img, te_lab) = arrays["train"], arrays["test"]
        name, rule = "mnist", "standard 60k train / 10k test files"
    else:
        img, lab = arrays["test"]
        n_tr = len(img) * 4 // 5                                  # 8000 of the 10 000
        tr_img, tr_lab, te_img, te_lab = img[:n_tr], lab[:n_tr], img[n_tr:], lab[n_tr:]
        name, rule = "mnist-10k", f"t10k files only: first {n_tr} train, last {len(img) - n_tr} test"
    train_x, shape = to_x(tr_img)
    test_x, _ = to_x(te_img)
    train_x, train_y = o.limit(train_x, tr_lab.astype(np.int64), "limit_train")
    test_x, test_y = o.limit(test_x, te_lab.astype(np.int64), "limit_test")
    return Dataset(train_x, train_y, test_x, test_y, shape, 10, name,
                   f"MNIST IDX files (LeCun et al. 1998) in {d}; {rule}")


def _load_synthetic(kind):
    def load(m, rng, data_dir, key, base_dir=None):
        o = _Options(m, key, synthetic.OPTIONS[kind])
        return synthetic.make(kind, o, rng)
    return load


LOADERS = {"digits": _load_digits, "mnist": _load_mnist,
           "matrix_learning": _load_synthetic("matrix_learning"),
           "least_squares": _load_synthetic("least_squares")}


def load_dataset(name_or_mapping, rng: np.random.Generator | None = None, data_dir=None, *,
                 key: str = "workload.dataset", base_dir=None) -> Dataset | RegressionDataset:
    """Load a data set by name or mapping; see the module docstring for names and options.

    Returns a :class:`Dataset` (classification) or a :class:`RegressionDataset`
    (``matrix_learning``, ``least_squares``).  File problems raise
    :class:`DataError` naming the file; bad options raise :class:`ConfigError`
    with the key path under ``key``.  A relative ``path`` is resolved against the
    directory of the YAML file the mapping was read from, else ``base_dir``, else
    the working directory.
    """
    m = {"name": name_or_mapping} if isinstance(name_or_mapping, str) else name_or_mapping
    if not isinstance(m, dict):
        raise ConfigError(f"expected a data set name or a mapping with 'name', got {name_or_mapping!r}",
                          file=file_of(m), line=getattr(m, "line", None), key=key)
    name = m.get("name")
    if name not in LOADERS:
        raise ConfigError(f"unknown data set {name!r}; expected one of {', '.join(LOADERS)}",
                          file=file_of(m), line=line_of(m, "name"),
                          key=f"{key}.name" if isinstance(name_or_mapping, dict) else key)
    return LOADERS[name](m, rng, data_dir, key, base_dir)
