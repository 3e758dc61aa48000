"""Weight backends, the analog fully connected layer, activations and flatten.

A layer's weights are **not** owned by the layer.  An analog layer asks a
:class:`WeightBackend` for its two matrix-vector products,

    forward   y = W x        (B, in)  -> (B, out)
    backward  g = Wᵀ d       (B, out) -> (B, in)

so the same network runs in floating point (:class:`FloatWeights`, the digital
baseline) or on simulated crossbar tiles with their periphery (PHYSICS.md §3).
The weight *update* is not done by the layer either: after ``backward`` the layer
exposes ``last_input`` x (B, in) and ``last_delta`` d (B, out), and the training
algorithm (analog SGD, Tiki-Taka, c-TTv2, AGAD, mixed precision …, PHYSICS.md §4)
issues the rank-1 updates ``ΔW = −η Σ_b d_b x_bᵀ`` on the hardware itself.

Scaling convention: the loss is a *mean* over the batch, so ``d`` already
carries the factor 1/B (see :mod:`hwsim.training.losses`) and the gradient of
the loss is exactly ``∂L/∂W = dᵀ x`` (a sum over the rows).

The bias is digital (a NumPy vector next to the array, PHYSICS.md §3 "Digital
bias") and is updated by :meth:`Linear.apply_digital_updates`.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class WeightBackend(Protocol):
    """What an analog layer needs from the thing that holds its weights W (out × in)."""

    out_features: int
    in_features: int

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``y = W x`` for a batch of row vectors: x (B, in) -> y (B, out)."""
        ...

    def backward(self, d: np.ndarray) -> np.ndarray:
        """``g = Wᵀ d`` for a batch of row vectors: d (B, out) -> g (B, in)."""
        ...

    def weights(self) -> np.ndarray:
        """The visible weights (out, in), as a fresh array (for checks and reports)."""
        ...


class FloatWeights:
    """Exact floating-point weights: the digital baseline of every algorithm.

    ``forward``/``backward`` are plain BLAS products; :meth:`sgd_step` is the
    exact gradient step ``W ← W − η dᵀx`` (dᵀx is ∂L/∂W for a batch-mean loss).
    """

    def __init__(self, w: np.ndarray):
        w = np.array(w, dtype=np.float64, copy=True)
        if w.ndim != 2 or w.size == 0:
            raise ValueError(f"FloatWeights: expected a non-empty 2-D weight matrix, got shape {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError("FloatWeights: initial weights contain NaN or inf")
        self._w = w
        self.out_features, self.in_features = w.shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self._w.T

    def backward(self, d: np.ndarray) -> np.ndarray:
        return d @ self._w

    def weights(self) -> np.ndarray:
        return self._w.copy()

    def set_weights(self, w: np.ndarray) -> None:
        """Overwrite W (same shape), e.g. to load a checkpoint."""
        w = np.asarray(w, dtype=np.float64)
        if w.shape != self._w.shape:
            raise ValueError(f"FloatWeights.set_weights: expected shape {self._w.shape}, got {w.shape}")
        self._w[...] = w

    def sgd_step(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        """``W ← W − lr · dᵀ x``: x (B, in), d (B, out); the sum over B is the batch gradient."""
        if x.ndim != 2 or d.ndim != 2 or x.shape[0] != d.shape[0] \
                or x.shape[1] != self.in_features or d.shape[1] != self.out_features:
            raise ValueError(f"FloatWeights.sgd_step: x {x.shape} and d {d.shape} do not fit "
                             f"W ({self.out_features}, {self.in_features})")
        self._w -= lr * (d.T @ x)


def check_backend(backend, who: str, out_features: int | None = None,
                  in_features: int | None = None) -> None:
    """Raise TypeError unless ``backend`` is a WeightBackend, ValueError if its shape differs."""
    if not isinstance(backend, WeightBackend):
        raise TypeError(f"{who}: {type(backend).__name__} is not a WeightBackend "
                        f"(needs out_features, in_features, forward, backward, weights)")
    want = (out_features if out_features is not None else backend.out_features,
            in_features if in_features is not None else backend.in_features)
    if (backend.out_features, backend.in_features) != want:
        raise ValueError(f"{who}: backend is {backend.out_features}×{backend.in_features}, "
                         f"layer needs {want[0]}×{want[1]}")


def _check_batch(x: np.ndarray, width: int, who: str, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{who}: expected {what} of shape (B, {width}), got {x.shape}")
    return x


class Layer:
    """Base of every layer: ``forward(x, train)`` and ``backward(grad_out) -> grad_in``.

    ``forward(..., train=False)`` keeps no state (inference); ``backward`` needs a
    preceding ``forward(..., train=True)``.  ``need_grad_in=False`` lets the first
    layer of a network skip the input gradient (on hardware: skip a backward MVM).
    """

    name: str = ""
    kind: str = "layer"
    has_weights = False

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray, need_grad_in: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def apply_digital_updates(self, lr: float) -> None:
        """Apply the digital (bias) part of a gradient step; no-op for most layers."""

    def _need(self, attr: str):
        val = getattr(self, attr)
        if val is None:
            raise RuntimeError(f"{self.name or self.kind}: backward() called without a "
                               f"forward(train=True) first")
        return val


class Linear(Layer):
    """Fully connected analog layer ``y = W x + b`` with W in a WeightBackend and digital b."""

    kind = "linear"
    has_weights = True

    def __init__(self, backend: WeightBackend, *, bias: bool = True, name: str = "fc"):
        check_backend(backend, name)
        self.backend = backend
        self.name = name
        self.out_features = int(backend.out_features)
        self.in_features = int(backend.in_features)
        self.bias = np.zeros(self.out_features) if bias else None
        self.grad_bias: np.ndarray | None = None
        self.last_input: np.ndarray | None = None    # x (B, in)
        self.last_delta: np.ndarray | None = None    # d (B, out)
        self.vectors_per_sample = 1

    def output_shape(self, input_shape: tuple) -> tuple:
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(f"{self.name}: expects input ({self.in_features},), got {tuple(input_shape)}")
        return (self.out_features,)

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        x = _check_batch(x, self.in_features, self.name, "input")
        y = self.backend.forward(x)
        if self.bias is not None:
            y = y + self.bias
        if train:
            self.last_input = x
            self.last_delta = None
        return y

    def backward(self, grad_out: np.ndarray, need_grad_in: bool = True) -> np.ndarray | None:
        x = self._need("last_input")
        d = _check_batch(grad_out, self.out_features, self.name, "error")
        if d.shape[0] != x.shape[0]:
            raise ValueError(f"{self.name}: error batch {d.shape[0]} != input batch {x.shape[0]}")
        self.last_delta = d
        self.grad_bias = d.sum(axis=0) if self.bias is not None else None
        return self.backend.backward(d) if need_grad_in else None

    def apply_digital_updates(self, lr: float) -> None:
        """``b ← b − lr Σ_B d`` (the bias gradient of the batch-mean loss)."""
        if self.bias is not None and self.grad_bias is not None:
            self.bias -= lr * self.grad_bias


class AnalogBiasLinear(Linear):
    """``y = [W b] [x; 1]``: the bias is one more crossbar column driven by a constant
    input 1 (IBM aihwkit 1.1.0 ``analog_bias``; Gokmen & Vlasov, Front. Neurosci. 10:333,
    2016, the RPU array's bias column).  The backend is M × (N+1): the column is part
    of the tile, read by every MVM (noise and bound management see the 1 too), updated
    by the algorithm's pulsed update with x_{N+1} = 1, and mapped as one more column
    (``in_features`` is the crossbar's N+1; ``data_features`` the layer input N)."""

    def __init__(self, backend: WeightBackend, *, name: str = "fc"):
        super().__init__(backend, bias=False, name=name)
        if self.in_features < 2:
            raise ValueError(f"{name}: an analog-bias backend needs ≥ 2 columns (inputs + bias)")
        self.data_features = self.in_features - 1

    def output_shape(self, input_shape: tuple) -> tuple:
        if tuple(input_shape) != (self.data_features,):
            raise ValueError(f"{self.name}: expects input ({self.data_features},), "
                             f"got {tuple(input_shape)}")
        return (self.out_features,)

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        x = _check_batch(x, self.data_features, self.name, "input")
        return super().forward(np.hstack([x, np.ones((x.shape[0], 1))]), train)

    def backward(self, grad_out: np.ndarray, need_grad_in: bool = True) -> np.ndarray | None:
        g = super().backward(grad_out, need_grad_in)
        return None if g is None else g[:, :self.data_features]

    def analog_bias(self) -> np.ndarray:
        """The bias as the network sees it: the last column of the weights."""
        return self.backend.weights()[:, -1].copy()


class _Activation(Layer):
    """Element-wise digital activation; caches what its derivative needs."""

    kind = "activation"

    def __init__(self, name: str = ""):
        self.name = name or self.kind
        self._cache: np.ndarray | None = None

    def backward(self, grad_out: np.ndarray, need_grad_in: bool = True) -> np.ndarray | None:
        cache = self._need("_cache")
        if grad_out.shape != cache.shape:
            raise ValueError(f"{self.name}: grad shape {grad_out.shape} != output shape {cache.shape}")
        return self._derivative(cache, grad_out) if need_grad_in else None

    def _derivative(self, cache, grad_out):
        raise NotImplementedError


class Sigmoid(_Activation):
    """σ(z) = 1 / (1 + e^(−z)); σ' = σ (1 − σ)."""

    kind = "sigmoid"

    def forward(self, x, train=True):
        # numerically stable in both tails: σ(z) = ½(1 + tanh(z/2))
        y = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x)))
        self._cache = y if train else None
        return y

    def _derivative(self, y, g):
        return g * y * (1.0 - y)


class Tanh(_Activation):
    """tanh(z); tanh' = 1 − tanh²."""

    kind = "tanh"

    def forward(self, x, train=True):
        y = np.tanh(x)
        self._cache = y if train else None
        return y

    def _derivative(self, y, g):
        return g * (1.0 - y * y)


class ReLU(_Activation):
    """max(z, 0); derivative 1 for z > 0, else 0."""

    kind = "relu"

    def forward(self, x, train=True):
        x = np.asarray(x)
        self._cache = (x > 0) if train else None
        return np.maximum(x, 0.0)

    def _derivative(self, mask, g):
        return g * mask


#: erf(z) ≈ 1 − t·(a1 + t·(a2 + …))·e^(−z²), t = 1/(1 + p·z), z ≥ 0: Abramowitz & Stegun,
#: Handbook of Mathematical Functions (1964), eq. 7.1.26, |error| ≤ 1.5·10⁻⁷.
_ERF_P, _ERF_A = 0.3275911, (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(z: np.ndarray) -> np.ndarray:
    """The error function (A&S 7.1.26, odd extension), without SciPy."""
    z = np.asarray(z, dtype=float)
    a = np.abs(z)
    t = 1.0 / (1.0 + _ERF_P * a)
    poly = t * (_ERF_A[0] + t * (_ERF_A[1] + t * (_ERF_A[2] + t * (_ERF_A[3] + t * _ERF_A[4]))))
    return np.sign(z) * (1.0 - poly * np.exp(-a * a))


class GELU(_Activation):
    """z·Φ(z), Φ(z) = ½(1 + erf(z/√2)) (Hendrycks & Gimpel 2016); GELU' = Φ(z) + z·φ(z)."""

    kind = "gelu"

    def forward(self, x, train=True):
        x = np.asarray(x)
        self._cache = x if train else None
        return x * 0.5 * (1.0 + erf(x / np.sqrt(2.0)))

    def _derivative(self, x, g):
        phi = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
        return g * (0.5 * (1.0 + erf(x / np.sqrt(2.0))) + x * phi)


ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "gelu": GELU}


class Flatten(Layer):
    """(B, C, H, W) -> (B, C·H·W) in C-order (channel-major), and back."""

    kind = "flatten"

    def __init__(self, name: str = "flatten"):
        self.name = name
        self._shape: tuple | None = None

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, train=True):
        x = np.asarray(x)
        if train:
            self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out, need_grad_in=True):
        shape = self._need("_shape")
        return grad_out.reshape(shape) if need_grad_in else None
