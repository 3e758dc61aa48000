"""Convolution on a crossbar (im2col) and digital pooling.

A convolution with C_in input channels, C_out output channels and a k_h × k_w
kernel is one crossbar matrix W (C_out × C_in·k_h·k_w).  Every output pixel is one
MVM: the input patch under the kernel, unrolled channel-major (c, i, j), is the
input vector x_p and ``y_p = W x_p + b``.  So a sample of H_out × W_out output
pixels drives P = H_out·W_out vectors through the *same* WeightBackend
(Gokmen, Onen & Haensch 2017, "Training deep CNNs with resistive cross-point
devices", Front. Neurosci. 11:538).  Output size along one axis:

    H_out = ⌊(H + 2·padding − k) / stride⌋ + 1.

im2col is a strided view (``sliding_window_view``) copied once into a
(B·P, C·k_h·k_w) matrix; col2im (the backward) adds the patch gradients back
with one vectorised slice-add per kernel offset (k_h·k_w NumPy calls, never a
loop over pixels).  After backward, ``last_input`` holds the B·P patch vectors and
``last_delta`` the B·P output errors, so an update algorithm applies
``ΔW = −η Σ_p d_p x_pᵀ`` exactly as for a fully connected layer.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hwsim.training.layers_dense import Layer, WeightBackend, check_backend


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """``⌊(size + 2·padding − kernel) / stride⌋ + 1`` (≤ 0 means the kernel does not fit)."""
    return (size + 2 * padding - kernel) // stride + 1


def _windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Strided view (B, C, H_out, W_out, kh, kw) of every kernel position (no copy)."""
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))
    return win[:, :, ::stride, ::stride]


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """(B, C, H, W) -> patch matrix (B·H_out·W_out, C·kh·kw), rows in (b, oh, ow) order."""
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = _windows(x, kh, kw, stride)
    b, c, ho, wo = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(b * ho * wo, c * kh * kw)


def col2im(cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1,
           padding: int = 0) -> np.ndarray:
    """Adjoint of :func:`im2col`: add each patch row back onto the (B, C, H, W) image."""
    b, c, h, w = x_shape
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(w, kw, stride, padding)
    patches = cols.reshape(b, ho, wo, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # (B,C,kh,kw,ho,wo)
    out = np.zeros((b, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += patches[:, :, i, j]
    if padding:
        out = out[:, :, padding:padding + h, padding:padding + w]
    return out


def _check_image(x: np.ndarray, in_shape: tuple, who: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1:] != tuple(in_shape):
        raise ValueError(f"{who}: expected input (B, {', '.join(map(str, in_shape))}), got {x.shape}")
    return x


class Conv2d(Layer):
    """2-D convolution whose kernel matrix (C_out × C_in·k·k) lives in a WeightBackend."""

    kind = "conv"
    has_weights = True

    def __init__(self, backend: WeightBackend, in_shape: tuple, kernel: int | tuple, *,
                 stride: int = 1, padding: int = 0, bias: bool = True, name: str = "conv"):
        self.kh, self.kw = (kernel, kernel) if np.isscalar(kernel) else tuple(kernel)
        self.in_shape = tuple(int(v) for v in in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"{name}: in_shape must be (C, H, W), got {in_shape}")
        c, h, w = self.in_shape
        self.stride, self.padding, self.name = int(stride), int(padding), name
        check_backend(backend, name, in_features=c * self.kh * self.kw)
        self.out_channels = int(backend.out_features)
        self.backend = backend
        self.out_h = conv_output_size(h, self.kh, self.stride, self.padding)
        self.out_w = conv_output_size(w, self.kw, self.stride, self.padding)
        if self.out_h < 1 or self.out_w < 1:
            raise ValueError(f"{name}: kernel {self.kh}×{self.kw} does not fit input {h}×{w} "
                             f"with padding {self.padding}")
        self.out_features = self.out_channels
        self.in_features = c * self.kh * self.kw
        self.vectors_per_sample = self.out_h * self.out_w
        self.bias = np.zeros(self.out_channels) if bias else None
        self.grad_bias: np.ndarray | None = None
        self.last_input: np.ndarray | None = None   # patches (B·P, C·kh·kw)
        self.last_delta: np.ndarray | None = None   # errors  (B·P, C_out)
        self._batch = 0

    def output_shape(self, input_shape):
        if tuple(input_shape) != self.in_shape:
            raise ValueError(f"{self.name}: expects input {self.in_shape}, got {tuple(input_shape)}")
        return (self.out_channels, self.out_h, self.out_w)

    def forward(self, x, train=True):
        x = _check_image(x, self.in_shape, self.name)
        cols = im2col(x, self.kh, self.kw, self.stride, self.padding)
        y = self.backend.forward(cols)                                  # (B·P, C_out)
        if self.bias is not None:
            y = y + self.bias
        b = x.shape[0]
        if train:
            self.last_input, self.last_delta, self._batch = cols, None, b
        return y.reshape(b, self.out_h, self.out_w, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, grad_out, need_grad_in=True):
        self._need("last_input")  # backward needs a forward first
        want = (self._batch, self.out_channels, self.out_h, self.out_w)
        if grad_out.shape != want:
            raise ValueError(f"{self.name}: expected error of shape {want}, got {grad_out.shape}")
        d = grad_out.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)
        self.last_delta = d
        self.grad_bias = d.sum(axis=0) if self.bias is not None else None
        if not need_grad_in:
            return None
        g_cols = self.backend.backward(d)                               # (B·P, C·kh·kw)
        return col2im(g_cols, (self._batch,) + self.in_shape, self.kh, self.kw,
                      self.stride, self.padding)

    def apply_digital_updates(self, lr):
        """``b ← b − lr Σ_{B,P} d`` (one digital bias per output channel)."""
        if self.bias is not None and self.grad_bias is not None:
            self.bias -= lr * self.grad_bias


class _Pool2d(Layer):
    """Digital pooling over size × size windows with a stride (default = size, no overlap).

    Rows/columns that do not fill a last window are dropped (floor), as in LeNet-5.
    """

    def __init__(self, size: int, stride: int | None = None, name: str = ""):
        self.size = int(size)
        self.stride = int(stride) if stride is not None else self.size
        if self.size < 1 or self.stride < 1:
            raise ValueError(f"pool size and stride must be ≥ 1, got {size}, {stride}")
        self.name = name or self.kind
        self._x_shape: tuple | None = None

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.name}: expects (C, H, W) input, got {tuple(input_shape)}")
        c, h, w = input_shape
        ho, wo = (conv_output_size(h, self.size, self.stride), conv_output_size(w, self.size, self.stride))
        if ho < 1 or wo < 1:
            raise ValueError(f"{self.name}: window {self.size} larger than input {h}×{w}")
        return (c, ho, wo)

    def _scatter(self, per_offset, x_shape, dtype):
        """Sum per-offset gradients (B, C, H_out, W_out) back onto the input grid."""
        out = np.zeros(x_shape, dtype=dtype)
        k, s = self.size, self.stride
        ho, wo = conv_output_size(x_shape[2], k, s), conv_output_size(x_shape[3], k, s)
        for i in range(k):
            for j in range(k):
                out[:, :, i:i + s * ho:s, j:j + s * wo:s] += per_offset(i, j)
        return out


class MaxPool2d(_Pool2d):
    """y = max over the window; the error goes to the (first) arg-max of each window."""

    kind = "maxpool"

    def forward(self, x, train=True):
        x = np.asarray(x)
        win = _windows(x, self.size, self.size, self.stride)
        flat = win.reshape(win.shape[:4] + (-1,))
        arg = flat.argmax(axis=-1)
        y = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        if train:
            self._x_shape, self._arg = x.shape, arg
        return y

    def backward(self, grad_out, need_grad_in=True):
        shape = self._need("_x_shape")
        if not need_grad_in:
            return None
        arg, k = self._arg, self.size
        return self._scatter(lambda i, j: grad_out * (arg == i * k + j), shape, grad_out.dtype)


class AvgPool2d(_Pool2d):
    """y = mean over the window; each input gets grad / size²."""

    kind = "avgpool"

    def forward(self, x, train=True):
        x = np.asarray(x)
        y = _windows(x, self.size, self.size, self.stride).mean(axis=(-2, -1))
        if train:
            self._x_shape = x.shape
        return y

    def backward(self, grad_out, need_grad_in=True):
        shape = self._need("_x_shape")
        if not need_grad_in:
            return None
        g = grad_out / float(self.size * self.size)
        return self._scatter(lambda i, j: g, shape, g.dtype)


POOLS = {"max": MaxPool2d, "avg": AvgPool2d}
