"""Losses computed digitally at the network output, and accuracy.

Both losses are **means over the batch**, so the returned gradient carries the
factor 1/B and ``∂L/∂W = dᵀx`` summed over the batch rows (the convention of
:mod:`hwsim.training.layers_dense`).

Softmax cross-entropy for logits z (B, K) and integer labels t:

    p = softmax(z),   L = −(1/B) Σ_b log p_{b, t_b},   ∂L/∂z = (p − onehot(t)) / B.

Mean squared error (regression data sets, matrix learning of PHYSICS.md §5):

    L = (1/(2B)) Σ_b ‖y_b − y*_b‖²,   ∂L/∂y = (y − y*) / B,

so the error entering the last layer is ``d = (W − W*) x / B`` for a linear model.
"""
from __future__ import annotations

import numpy as np


def _labels(labels: np.ndarray, batch: int, n_classes: int) -> np.ndarray:
    t = np.asarray(labels)
    if t.shape != (batch,) or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"labels: expected {batch} integers, got shape {t.shape} dtype {t.dtype}")
    if batch and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got {t.min()}..{t.max()}")
    return t


def log_softmax(z: np.ndarray) -> np.ndarray:
    """``z − logsumexp(z)`` row by row, shifted by the row maximum (no overflow)."""
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient ``(softmax(z) − onehot) / B``."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"logits: expected a non-empty (B, K) array, got shape {z.shape}")
    b = z.shape[0]
    t = _labels(labels, b, z.shape[1])
    logp = log_softmax(z)
    rows = np.arange(b)
    loss = -float(logp[rows, t].mean())
    grad = np.exp(logp)
    grad[rows, t] -= 1.0
    grad /= b
    return loss, grad


def mean_squared_error(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """``L = ‖y − y*‖² / (2B)`` and its gradient ``(y − y*) / B``."""
    y = np.asarray(y, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if y.shape != target.shape or y.ndim != 2 or y.shape[0] == 0:
        raise ValueError(f"mean_squared_error: y {y.shape} and target {target.shape} must be "
                         f"equal non-empty (B, K) arrays")
    diff = y - target
    b = y.shape[0]
    return float(0.5 * np.sum(diff * diff) / b), diff / b


def accuracy(scores_or_pred: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of correct predictions; accepts logits (B, K) or predicted classes (B,)."""
    s = np.asarray(scores_or_pred)
    pred = s.argmax(axis=1) if s.ndim == 2 else s
    t = np.asarray(labels)
    if pred.shape != t.shape or t.ndim != 1:
        raise ValueError(f"accuracy: predictions {pred.shape} and labels {t.shape} differ")
    if t.size == 0:
        raise ValueError("accuracy: empty batch")
    return float(np.mean(pred == t))
