"""Data sets: digits split, MNIST IDX parsing and errors, synthetic tasks, mini-batches."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from hwsim.config.yamlio import load_yaml_text
from hwsim.errors import ConfigError, DataError
from hwsim.training.datasets import load_dataset
from hwsim.training.mnist_idx import read_idx

MNIST_DIR = Path(__file__).parents[2].parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"no MNIST data at {MNIST_DIR}")
MNIST_10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(arr: np.ndarray, magic: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + \
        arr.astype(np.uint8).tobytes()


def write_mnist(d: Path, n_test=30, n_train=0, gz=True, seed=0):
    """A small valid MNIST directory; returns the arrays written."""
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("t10k", n_test), ("train", n_train)):
        if not n:
            continue
        img = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        lab = rng.integers(0, 10, size=n, dtype=np.uint8)
        for stem, arr, magic in ((f"{split}-images-idx3-ubyte", img, 2051),
                                 (f"{split}-labels-idx1-ubyte", lab, 2049)):
            data = idx_bytes(arr, magic)
            (d / (stem + ".gz" if gz else stem)).write_bytes(gzip.compress(data) if gz else data)
        out[split] = (img, lab)
    return out


# -- digits ---------------------------------------------------------------------------------
def test_digits_fixed_stratified_split():
    from sklearn.datasets import load_digits
    a = load_dataset("digits", np.random.default_rng(0))
    b = load_dataset({"name": "digits"}, np.random.default_rng(123))
    assert (a.n_train, a.n_test, a.input_shape, a.n_classes) == (1438, 359, (64,), 10)
    for f in ("train_x", "train_y", "test_x", "test_y"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))   # independent of the run seed
    assert a.train_x.min() == 0.0 and a.train_x.max() == 1.0
    full = np.bincount(load_digits().target)
    np.testing.assert_array_equal(np.bincount(a.train_y) + np.bincount(a.test_y), full)
    np.testing.assert_array_equal(np.bincount(a.train_y), np.round(0.8 * full).astype(int))
    assert len(set(a.train_y[:20])) > 5                               # classes interleaved


def test_digits_options():
    base = load_dataset("digits")
    img = load_dataset({"name": "digits", "flatten": False, "limit_train": 100, "limit_test": 50})
    assert img.input_shape == (1, 8, 8) and img.train_x.shape == (100, 1, 8, 8) and img.n_test == 50
    np.testing.assert_array_equal(img.train_x.reshape(100, -1), base.train_x[:100])
    other = load_dataset({"name": "digits", "split_seed": 1})
    assert not np.array_equal(other.train_y, base.train_y)
    for bad, key in [({"flatten": "yes"}, "flatten"), ({"limit_train": 0}, "limit_train"),
                     ({"limit_test": 10**6}, "limit_test"), ({"train_fraction": 1.0}, "train_fraction"),
                     ({"colour": True}, "colour")]:
        with pytest.raises(ConfigError) as info:
            load_dataset({"name": "digits", **bad})
        assert info.value.key == f"workload.dataset.{key}"


def test_unknown_dataset_name():
    with pytest.raises(ConfigError, match="unknown data set 'cifar'"):
        load_dataset("cifar")
    with pytest.raises(ConfigError) as info:
        load_dataset(load_yaml_text("dataset: {name: cifar}\n", "e.yaml")["dataset"])
    assert info.value.one_line().startswith("e.yaml:1: workload.dataset.name:")


# -- mini-batches ---------------------------------------------------------------------------
def test_batches_deterministic_cover_everything_once():
    ds = load_dataset({"name": "digits", "limit_train": 95})
    order = lambda seed, **kw: [y for _, y in ds.batches(10, np.random.default_rng(seed), **kw)]
    a, b, c = order(5), order(5), order(6)
    assert [len(y) for y in a] == [10] * 9 + [5]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))
    np.testing.assert_array_equal(np.sort(np.concatenate(a)), np.sort(ds.train_y))
    assert [len(y) for y in order(5, drop_last=True)] == [10] * 9
    plain = [y for _, y in ds.batches(10, shuffle=False)]
    np.testing.assert_array_equal(np.concatenate(plain), ds.train_y)
    x, y = next(ds.batches(7, np.random.default_rng(0), split="test"))
    assert x.shape == (7, 64) and y.shape == (7,)
    with pytest.raises(ValueError, match="batch_size"):
        next(ds.batches(0, np.random.default_rng(0)))
    with pytest.raises(TypeError, match="Generator"):
        next(ds.batches(10))


# -- MNIST, real files ------------------------------------------------------------------------
@needs_mnist
def test_mnist_10k_split_and_label_counts():
    ds = load_dataset({"name": "mnist", "path": str(MNIST_DIR)})
    assert ds.name == "mnist-10k"
    assert (ds.n_train, ds.n_test, ds.input_shape) == (8000, 2000, (784,))
    np.testing.assert_array_equal(np.bincount(np.concatenate([ds.train_y, ds.test_y])), MNIST_10K_COUNTS)
    assert ds.train_x.min() == 0.0 and ds.train_x.max() == 1.0
    raw = read_idx(str(MNIST_DIR / "t10k-images-idx3-ubyte.gz"), 2051)
    np.testing.assert_array_equal(ds.test_x[-1], raw[-1].reshape(-1) / 255.0)
    img = load_dataset({"name": "mnist", "flatten": False, "limit_train": 100, "limit_test": 10},
                       data_dir=MNIST_DIR)
    assert img.train_x.shape == (100, 1, 28, 28) and img.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(img.train_x.reshape(100, -1), ds.train_x[:100])
    np.testing.assert_array_equal(img.test_y, ds.test_y[:10])


@needs_mnist
def test_mnist_directory_from_env_parent_and_yaml_relative_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSIM_DATA", str(MNIST_DIR.parent))        # parent with mnist/ inside
    assert load_dataset("mnist", None).n_train == 8000
    # precedence flag > env > file: HWSIM_DATA wins over a path that does not exist ...
    assert load_dataset({"name": "mnist", "path": str(tmp_path / "nowhere")}).n_train == 8000
    # ... and data_dir (--data) wins over both
    with pytest.raises(DataError, match="directory not found") as info:
        load_dataset({"name": "mnist", "path": str(MNIST_DIR)}, data_dir=tmp_path / "flag")
    assert info.value.file == str(tmp_path / "flag")
    monkeypatch.delenv("HWSIM_DATA")
    (tmp_path / "data").symlink_to(MNIST_DIR)
    (tmp_path / "exp.yaml").write_text("dataset: {name: mnist, path: data, limit_test: 5}\n")
    m = load_yaml_text((tmp_path / "exp.yaml").read_text(), str(tmp_path / "exp.yaml"))["dataset"]
    monkeypatch.chdir("/")
    assert load_dataset(m).n_test == 5
    plain = {"name": "mnist", "path": "data", "limit_test": 3}       # no file info: base_dir
    assert load_dataset(plain, base_dir=tmp_path).n_test == 3
    with pytest.raises(DataError, match="directory not found"):
        load_dataset(plain)                                         # relative to cwd "/"


# -- MNIST, synthetic files and errors ------------------------------------------------------
@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip_and_standard_split(tmp_path, gz):
    arrays = write_mnist(tmp_path, n_test=12, n_train=20, gz=gz)
    ds = load_dataset({"name": "mnist", "path": str(tmp_path), "flatten": False})
    assert ds.name == "mnist" and (ds.n_train, ds.n_test) == (20, 12)
    np.testing.assert_array_equal(ds.train_x[:, 0] * 255.0, arrays["train"][0])
    np.testing.assert_array_equal(ds.test_y, arrays["t10k"][1])
    tenk = load_dataset({"name": "mnist", "path": str(tmp_path), "split": "10k"})
    assert tenk.name == "mnist-10k" and (tenk.n_train, tenk.n_test) == (9, 3)   # first 80 %
    np.testing.assert_array_equal(tenk.test_y, arrays["t10k"][1][9:])


def test_corrupt_truncated_and_missing_files_raise_data_error(tmp_path, monkeypatch):
    def expect(match, path=None, **opts):
        with pytest.raises(DataError, match=match) as info:
            load_dataset({"name": "mnist", "path": str(tmp_path), **opts})
        if path is not None:
            assert info.value.file == str(path)

    img = tmp_path / "t10k-images-idx3-ubyte.gz"
    lab = tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_mnist(tmp_path, n_test=10)
    good_img, good_lab = img.read_bytes(), lab.read_bytes()
    raw = gzip.decompress(good_img)
    img.write_bytes(good_img[: len(good_img) // 2])
    expect("corrupt or truncated gzip", img)
    img.write_bytes(gzip.compress(raw[:-100]))
    expect("IDX data truncated", img)
    img.write_bytes(gzip.compress(raw + b"\0"))
    expect("trailing bytes", img)
    img.write_bytes(gzip.compress(struct.pack(">I", 2049) + raw[4:]))
    expect("magic 2049, expected 2051", img)
    img.write_bytes(gzip.compress(raw[:10]))
    expect("truncated IDX header", img)
    img.write_bytes(good_img)
    lab.write_bytes(gzip.compress(idx_bytes(np.arange(9), 2049)))
    expect("do not match 10 images", lab)
    lab.write_bytes(gzip.compress(idx_bytes(np.full(10, 12), 2049)))
    expect("label 12 outside", lab)
    lab.unlink()
    expect("MNIST file missing", tmp_path / "t10k-labels-idx1-ubyte")
    lab.write_bytes(good_lab)
    write_mnist(tmp_path / "half", n_test=10, n_train=5)
    (tmp_path / "half" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="train split incomplete"):
        load_dataset({"name": "mnist", "path": str(tmp_path / "half")})
    with pytest.raises(DataError, match="directory not found") as info:
        load_dataset({"name": "mnist", "path": str(tmp_path / "nowhere")})
    assert info.value.file == str(tmp_path / "nowhere")
    monkeypatch.delenv("HWSIM_DATA", raising=False)
    with pytest.raises(DataError, match="HWSIM_DATA"):
        load_dataset("mnist")


# -- synthetic tasks ---------------------------------------------------------------------
def test_matrix_learning_task():
    spec = {"name": "matrix_learning", "out": 4, "in": 6, "n_train": 50, "n_test": 20}
    a = load_dataset(spec, np.random.default_rng(3))
    b = load_dataset(spec, np.random.default_rng(3))
    np.testing.assert_array_equal(a.target, b.target)
    assert a.train_x.shape == (50, 6) and a.test_y.shape == (20, 4) and a.input_shape == (6,)
    assert np.abs(a.target).max() <= 0.3 and np.abs(a.train_x).max() <= 1.0
    np.testing.assert_allclose(a.train_y, a.train_x @ a.target.T)
    assert a.loss(a.target) == pytest.approx(0.0, abs=1e-25) and a.min_train_loss == 0.0
    x, y = a.sample(7, np.random.default_rng(0))
    np.testing.assert_allclose(y, x @ a.target.T)
    assert a.weight_error(a.target + 0.1) == pytest.approx(0.1)
    with pytest.raises(ConfigError) as info:
        load_dataset({"name": "matrix_learning", "out": 4}, np.random.default_rng(0))
    assert info.value.key == "workload.dataset.in"


def test_least_squares_solution_is_the_minimiser():
    ds = load_dataset({"name": "least_squares", "out": 2, "in": 5, "n_train": 40, "noise": 0.1},
                      np.random.default_rng(4))
    a, b = ds.train_x, ds.train_y
    np.testing.assert_allclose(a.T @ (a @ ds.solution.T - b), 0, atol=1e-10)  # normal equations
    assert ds.min_train_loss == pytest.approx(ds.loss(ds.solution, "train"))
    assert ds.min_train_loss < ds.loss(ds.target, "train")
    assert ds.min_train_loss == pytest.approx(0.5 * 2 * 0.01 * (40 - 5) / 40, rel=0.5)  # E = ½σ²·M(N−n)/N
    exact = load_dataset({"name": "least_squares", "in": 3}, np.random.default_rng(4))
    assert exact.n_train == 30 and exact.min_train_loss == 0.0
    with pytest.raises(ConfigError, match="not be unique"):
        load_dataset({"name": "least_squares", "in": 5, "n_train": 4}, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        load_dataset({"name": "least_squares", "in": 3})
