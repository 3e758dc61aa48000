"""The layers a network is built from (one import point).

Analog layers (:class:`Linear`, :class:`Conv2d`) take their matrix-vector
products from a :class:`WeightBackend` and keep a digital bias; the others
(activations, pooling, flatten) are digital.  Every layer has
``forward(x, train=True)`` and ``backward(grad_out, need_grad_in=True) -> grad_in``.
Dense layers and the backend interface live in :mod:`hwsim.training.layers_dense`,
convolution and pooling in :mod:`hwsim.training.layers_conv`.
"""
from __future__ import annotations

from hwsim.training.layers_conv import (POOLS, AvgPool2d, Conv2d, MaxPool2d, col2im,
                                        conv_output_size, im2col)
from hwsim.training.layers_dense import (ACTIVATIONS, FloatWeights, Flatten, Layer, Linear,
                                         ReLU, Sigmoid, Tanh, WeightBackend, check_backend)

__all__ = [
    "WeightBackend", "FloatWeights", "check_backend", "Layer", "Linear", "Conv2d",
    "Sigmoid", "Tanh", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten",
    "ACTIVATIONS", "POOLS", "im2col", "col2im", "conv_output_size",
]
