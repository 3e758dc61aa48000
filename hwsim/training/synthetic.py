"""Synthetic regression tasks with a known answer (PHYSICS.md §5).

* **matrix_learning** — one tile learns a fixed random target W* (out × in) from
  random inputs: x ~ U[−input_range, input_range]ⁿ, y = W* x, and the error at the
  output of a linear layer is ``d = (W − W*) x`` (mean-squared-error gradient).
  W* ~ U[−target_range, target_range] with target_range 0.3 by default, half the
  default device bound w_max = 0.6 (PHYSICS.md §1, Gokmen & Vlasov 2016), so the
  target is reachable with room for the device's soft bounds.
* **least_squares** — ``min_W ½‖W aᵢ − bᵢ‖²`` over a fixed sample: rows aᵢ of
  A ~ U[−1, 1], bᵢ = W_true aᵢ + ε, ε ~ N(0, noise²).  ``solution`` is the exact
  least-squares minimiser over the training rows (``numpy.linalg.lstsq``; equal
  to W_true when noise = 0), ``min_train_loss`` its loss: the floor digital SGD
  approaches and analog SGD stays above (Wu et al., NeurIPS 2024).

Both come as a :class:`RegressionDataset` (inputs, real-valued targets, the known
matrix) with the same ``batches`` iterator as the classification data sets, and
``sample(n, rng)`` for a fresh stream of inputs from the task's distribution.
All randomness comes from the caller's Generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.config.params import param, section
from hwsim.training.batches import iterate_batches

_SIZE = "number of samples"


@section("dataset.matrix_learning", "Synthetic: one tile learns a fixed random matrix W*")
class MatrixLearningOptions:
    out: int = param(desc="outputs (rows of W*)", lo=1)
    in_: int = param(desc="inputs (columns of W*)", lo=1, key="in")
    name: str = param("matrix_learning", desc="data set name", choices=("matrix_learning",))
    n_train: int = param(1000, lo=1, desc="training " + _SIZE)
    n_test: int = param(1000, lo=1, desc="test " + _SIZE)
    target_range: float = param(0.3, lo=0, lo_open=True, desc="W* ~ U[±target_range]")
    input_range: float = param(1.0, lo=0, lo_open=True, desc="x ~ U[±input_range]")


@section("dataset.least_squares", "Synthetic: min_W ½‖W a − b‖² over a fixed sample")
class LeastSquaresOptions:
    in_: int = param(desc="inputs (columns of W)", lo=1, key="in")
    name: str = param("least_squares", desc="data set name", choices=("least_squares",))
    out: int = param(1, desc="outputs (rows of W)", lo=1)
    n_train: int | None = param(None, lo=1, desc="training " + _SIZE + " (default 10·in; "
                                "at least in, for a unique solution)")
    n_test: int = param(1000, lo=1, desc="test " + _SIZE)
    target_range: float = param(0.3, lo=0, lo_open=True, desc="W_true ~ U[±target_range]")
    noise: float = param(0.0, lo=0, desc="std of the Gaussian noise ε on the targets")


@dataclass(frozen=True, eq=False)
class RegressionDataset:
    """Inputs x (N, in), targets y (N, out) and the matrix that explains them."""
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    target: np.ndarray           # W_true / W* (out, in): generates the data
    solution: np.ndarray         # exact minimiser of the training loss (out, in)
    min_train_loss: float        # ½ mean ‖solution x − y‖² over the training set
    input_range: float
    noise: float
    name: str
    source: str

    @property
    def in_features(self) -> int:
        return self.target.shape[1]

    @property
    def out_features(self) -> int:
        return self.target.shape[0]

    @property
    def input_shape(self) -> tuple:
        return (self.in_features,)

    @property
    def n_train(self) -> int:
        return len(self.train_x)

    @property
    def n_test(self) -> int:
        return len(self.test_x)

    def batches(self, batch_size: int, rng: np.random.Generator | None = None, shuffle: bool = True,
                split: str = "train", drop_last: bool = False):
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        x, y = (self.train_x, self.train_y) if split == "train" else (self.test_x, self.test_y)
        return iterate_batches(x, y, batch_size, rng, shuffle, drop_last)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n fresh pairs from the task's distribution: x ~ U[±input_range], y = W x (+ noise)."""
        x = rng.uniform(-self.input_range, self.input_range, size=(n, self.in_features))
        y = x @ self.target.T
        if self.noise:
            y = y + rng.normal(0.0, self.noise, size=y.shape)
        return x, y

    def loss(self, w: np.ndarray, split: str = "test") -> float:
        """½ mean ‖W x − y‖² of a weight matrix on one split."""
        x, y = (self.train_x, self.train_y) if split == "train" else (self.test_x, self.test_y)
        r = x @ np.asarray(w).T - y
        return float(0.5 * np.mean(np.sum(r * r, axis=1)))

    def weight_error(self, w: np.ndarray) -> float:
        """RMS distance to the known answer, √mean((W − solution)²)."""
        diff = np.asarray(w) - self.solution
        return float(np.sqrt(np.mean(diff * diff)))


def make(kind: str, o, rng: np.random.Generator) -> RegressionDataset:
    """Build a task from checked options: ``o.opts`` is the declared section,
    ``o.error(msg, key)`` an error at a key (see :class:`hwsim.training.datasets._Options`)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"the {kind} data set needs a numpy.random.Generator")
    p = o.opts
    out, n_in, n_test, t_range = p.out, p.in_, p.n_test, p.target_range
    if kind == "matrix_learning":
        n_train, x_range, noise = p.n_train, p.input_range, 0.0
    else:
        n_train = p.n_train if p.n_train is not None else 10 * n_in
        if n_train < n_in:
            raise o.error(f"n_train {n_train} < in {n_in}: the least-squares solution would not be "
                          f"unique", "n_train")
        x_range, noise = 1.0, p.noise
    target = rng.uniform(-t_range, t_range, size=(out, n_in))
    xs = rng.uniform(-x_range, x_range, size=(n_train + n_test, n_in))
    ys = xs @ target.T
    if noise:
        ys = ys + rng.normal(0.0, noise, size=ys.shape)
    train_x, test_x, train_y, test_y = xs[:n_train], xs[n_train:], ys[:n_train], ys[n_train:]
    if noise:
        solution = np.linalg.lstsq(train_x, train_y, rcond=None)[0].T
    else:
        solution = target.copy()
    r = train_x @ solution.T - train_y
    min_loss = float(0.5 * np.mean(np.sum(r * r, axis=1)))
    src = (f"synthetic {kind}: W ~ U[±{t_range}] ({out}×{n_in}), x ~ U[±{x_range}], "
           f"{n_train} train / {n_test} test" + (f", target noise σ={noise}" if noise else ""))
    return RegressionDataset(train_x, train_y, test_x, test_y, target, solution, min_loss,
                             x_range, noise, kind, src)
