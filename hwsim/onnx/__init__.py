"""Bring your own network: feed-forward ONNX models as hwsim networks (layer 5).

:func:`import_onnx` reads a ``.onnx`` file (optional extra ``hwsim[onnx]``; the ``onnx``
package only, no PyTorch) and returns the mapping a network file holds, so
``hwsim trace generate model.onnx …``, a network file with ``onnx: model.onnx`` and an
experiment's ``workload.network: {onnx: model.onnx}`` all take it.  What maps and what
does not: :mod:`hwsim.onnx.mapping`.
"""
from hwsim.onnx.mapping import import_onnx

__all__ = ["import_onnx"]
