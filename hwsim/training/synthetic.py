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

from hwsim.training.batches import iterate_batches

OPTIONS = {
    "matrix_learning": ("out", "in", "n_train", "n_test", "target_range", "input_range"),
    "least_squares": ("out", "in", "n_train", "n_test", "target_range", "noise"),
}


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


def _required(o, k):
    v = o.int_(k, None)
    if v is None:
        raise o.error("required key is missing", k)
    return v


def make(kind: str, o, rng: np.random.Generator) -> RegressionDataset:
    """Build a task from checked options ``o`` (see :class:`hwsim.training.datasets._Options`)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"the {kind} data set needs a numpy.random.Generator")
    if kind == "matrix_learning":
        out, n_in = _required(o, "out"), _required(o, "in")
        n_train, n_test = o.int_("n_train", 1000), o.int_("n_test", 1000)
        t_range = o.float_("target_range", 0.3, lo_open=True)
        x_range, noise = o.float_("input_range", 1.0, lo_open=True), 0.0
    else:
        out, n_in = o.int_("out", 1), _required(o, "in")
        n_train, n_test = o.int_("n_train", 10 * n_in), o.int_("n_test", 1000)
        if n_train < n_in:
            raise o.error(f"n_train {n_train} < in {n_in}: the least-squares solution would not be "
                          f"unique", "n_train")
        t_range = o.float_("target_range", 0.3, lo_open=True)
        x_range, noise = 1.0, o.float_("noise", 0.0)
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
