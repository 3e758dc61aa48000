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
  files.  The directory is, by precedence: ``data_dir`` (the ``--data`` flag), the
  environment variable ``HWSIM_DATA``, the mapping's ``path`` (relative to the YAML
  file that holds it, else to ``base_dir``) — flag > env > file, so a copied
  experiment whose ``path`` does not exist runs with ``--data``; a directory without
  the files but with an ``mnist/`` sub-directory means that one.
* **matrix_learning**, **least_squares** — synthetic regression tasks of
  PHYSICS.md §5, see :mod:`hwsim.training.synthetic`.

The options of each data set are a declared section (:class:`DigitsOptions`,
:class:`MNISTOptions`, and the synthetic ones; ``hwsim describe dataset.mnist``).
Common options: ``flatten`` (images as vectors (N,) or as (C, H, W)),
``limit_train`` / ``limit_test`` (keep the first n samples of the fixed order, so
a subsample is deterministic and independent of the seed).  ``rng`` is used only
by the synthetic tasks (the real data sets have fixed splits).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from hwsim.config.params import build_section, param, section
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
    """A ``workload.dataset`` mapping checked against its declared section: ``o.opts``
    is the section, ``o.error(msg, k)`` a :class:`ConfigError` at key ``k``."""

    def __init__(self, mapping, key: str, cls):
        self.m, self.key = mapping, key
        self.opts = build_section(cls, mapping, key)

    def error(self, msg, k):
        return ConfigError(msg, file=file_of(self.m), line=line_of(self.m, k), key=f"{self.key}.{k}")

    def limit(self, x, y, k):
        n = getattr(self.opts, k)
        if n is None:
            return x, y
        if n > len(y):
            raise self.error(f"{k} {n} exceeds the {len(y)} samples of the split", k)
        return x[:n], y[:n]


_LIMIT = "keep the first n samples of the split's fixed order (null = all)"


@section("dataset.digits", "scikit-learn 8×8 handwritten digits (Alpaydin & Kaynak 1998)")
class DigitsOptions:
    name: str = param("digits", desc="data set name", choices=("digits",))
    flatten: bool = param(True, desc="images as vectors (64,) instead of (1, 8, 8)")
    limit_train: int | None = param(None, lo=1, desc=_LIMIT)
    limit_test: int | None = param(None, lo=1, desc=_LIMIT)
    train_fraction: float = param(0.8, lo=0, lo_open=True, hi=1, hi_open=True,
                                  desc="fraction of each class in the training split")
    split_seed: int = param(0, lo=0, desc="seed of the fixed stratified split (not the run's)")


@section("dataset.mnist", "MNIST IDX files (LeCun et al. 1998)")
class MNISTOptions:
    name: str = param("mnist", desc="data set name", choices=("mnist",))
    path: str | None = param(None, desc="directory of the IDX files, relative to this file; "
                             "--data and HWSIM_DATA take precedence (flag > env > file)")
    flatten: bool = param(True, desc="images as vectors (784,) instead of (1, 28, 28)")
    limit_train: int | None = param(None, lo=1, desc=_LIMIT)
    limit_test: int | None = param(None, lo=1, desc=_LIMIT)
    split: str = param("auto", choices=("auto", "10k"),
                       desc="auto: 60k/10k with the train files, else 8000/2000 of t10k; "
                            "10k: always the t10k split")


def _shape_images(x: np.ndarray, flatten: bool, channels_hw: tuple) -> tuple[np.ndarray, tuple]:
    if flatten:
        return x.reshape(len(x), -1), (int(np.prod(channels_hw)),)
    return x.reshape((len(x),) + channels_hw), channels_hw


def _load_digits(o: _Options, rng, data_dir, key, base_dir=None) -> Dataset:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - sklearn is a dependency
        raise DataError("the digits data set needs scikit-learn (pip install scikit-learn)",
                        key=key) from exc
    frac = o.opts.train_fraction
    split_rng = np.random.default_rng(o.opts.split_seed)
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
    xs, shape = _shape_images(x, o.opts.flatten, (1, 8, 8))
    train_x, train_y = o.limit(xs[tr], y[tr], "limit_train")
    test_x, test_y = o.limit(xs[te], y[te], "limit_test")
    return Dataset(train_x, train_y, test_x, test_y, shape, 10, "digits",
                   f"scikit-learn load_digits (UCI optical digits, Alpaydin & Kaynak 1998); "
                   f"stratified {frac:.0%} train split, split_seed {o.opts.split_seed}")


def _mnist_dir(o: _Options, data_dir, key, base_dir) -> str:
    """The MNIST directory.  Precedence: ``data_dir`` (``--data``) > ``HWSIM_DATA`` > the
    mapping's ``path`` (relative to the YAML file holding it, else ``base_dir``, else the
    working directory); a ``path`` that does not exist is no error when one of the first
    two is given."""
    m, p = o.m, o.opts.path
    if p is not None and not p:
        raise o.error("expected a directory name, got ''", "path")
    if data_dir is not None:
        d = os.fspath(data_dir)
    elif os.environ.get("HWSIM_DATA"):
        d = os.environ["HWSIM_DATA"]
    elif p is not None:
        src = file_of(m)
        if src and os.path.isfile(src):
            base = os.path.dirname(os.path.abspath(src))
        else:
            base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
        d = os.path.join(base, os.path.expanduser(p))
    else:
        raise DataError("no MNIST directory configured: give workload.dataset.path, pass --data "
                        "(data_dir), or set the environment variable HWSIM_DATA to the directory "
                        "holding the IDX files (t10k-images-idx3-ubyte.gz ...)",
                        file=file_of(m), key=key)
    if not os.path.isdir(d):
        raise DataError("MNIST directory not found", file=d, key=key)
    sub = os.path.join(d, "mnist")
    has_files = any(f.startswith("t10k-images-idx3-ubyte") for f in os.listdir(d))
    return sub if not has_files and os.path.isdir(sub) else d


def _load_mnist(o: _Options, rng, data_dir, key, base_dir=None) -> Dataset:
    split, flatten = o.opts.split, o.opts.flatten
    d = _mnist_dir(o, data_dir, key, base_dir)
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
    def load(o: _Options, rng, data_dir, key, base_dir=None):
        return synthetic.make(kind, o, rng)
    return load


#: name -> (declared options, loader(options, rng, data_dir, key, base_dir))
DATASETS = {"digits": (DigitsOptions, _load_digits), "mnist": (MNISTOptions, _load_mnist),
            "matrix_learning": (synthetic.MatrixLearningOptions, _load_synthetic("matrix_learning")),
            "least_squares": (synthetic.LeastSquaresOptions, _load_synthetic("least_squares"))}
LOADERS = {name: loader for name, (_, loader) in DATASETS.items()}


def dataset_sections() -> dict:
    """``dataset.<name>`` -> its declared options, for ``hwsim describe`` / ``hwsim schema``."""
    return {f"dataset.{name}": cls for name, (cls, _) in DATASETS.items()}


def load_dataset(name_or_mapping, rng: np.random.Generator | None = None, data_dir=None, *,
                 key: str = "workload.dataset", base_dir=None, file: str | None = None,
                 line: int | None = None) -> Dataset | RegressionDataset:
    """Load a data set by name or mapping; see the module docstring for names and options.

    Returns a :class:`Dataset` (classification) or a :class:`RegressionDataset`
    (``matrix_learning``, ``least_squares``).  File problems raise
    :class:`DataError` naming the file; bad options raise :class:`ConfigError`
    with the key path under ``key``.  A relative ``path`` is resolved against the
    directory of the YAML file the mapping was read from, else ``base_dir``, else
    the working directory; ``--data``/``data_dir`` and ``HWSIM_DATA`` take precedence over
    it.  ``file``/``line`` locate a data set given by name (a plain string has no lines).
    """
    m = {"name": name_or_mapping} if isinstance(name_or_mapping, str) else name_or_mapping
    if not isinstance(m, dict):
        raise ConfigError(f"expected a data set name or a mapping with 'name', got {name_or_mapping!r}",
                          file=file_of(m, file), line=getattr(m, "line", line), key=key)
    name = m.get("name")
    if not isinstance(name, str) or name not in DATASETS:
        raise ConfigError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}",
                          file=file_of(m, file), line=line_of(m, "name") or line,
                          key=f"{key}.name" if isinstance(name_or_mapping, dict) else key)
    cls, loader = DATASETS[name]
    return loader(_Options(m, key, cls), rng, data_dir, key, base_dir)
