"""One ONNX node → hwsim items, the data-layout and pooling ops (``Reshape``, ``Flatten``,
``Squeeze``, ``Unsqueeze``, ``Transpose``, ``Concat``, ``Gather``, ``ReduceMean``, pooling):
a mixin of :class:`hwsim.onnx.handlers.Handlers` (what each becomes:
:mod:`hwsim.onnx.mapping`)."""
from __future__ import annotations

from math import prod

import numpy as np

from hwsim.onnx.values import v as _v

POOL_OPS = {"MaxPool": "max", "AveragePool": "avg"}


def axis_of(axis: int, rank: int) -> int:
    """A full-tensor axis (batch first) as a per-sample axis (≥ 0), or −1 for the batch."""
    a = axis + rank if axis < 0 else axis
    return a - 1


def window_out(hw, kernel, strides, pads, dilations=None, ceil=0) -> tuple:
    """Output rows and columns of a conv or pooling window (ONNX Conv/MaxPool):
    ``⌊(H + p_begin + p_end − d(k − 1) − 1)/s⌋ + 1`` (⌈ ⌉ in ceil mode)."""
    pads = tuple(pads) if pads else (0, 0, 0, 0)
    d = tuple(dilations) if dilations else (1, 1)
    out = []
    for i in range(2):
        span = hw[i] + pads[i] + pads[i + 2] - d[i] * (kernel[i] - 1) - 1
        out.append(-(-span // strides[i]) + 1 if ceil else span // strides[i] + 1)
    return tuple(out)


class ShapeHandlers:
    """Layout, lookup and pooling ops (mixed into the walk through ``Handlers``)."""

    def _reshape(self, node) -> None:
        x = self.plain(node, self.val(node.input[0], node))
        y = self.shape(node.output[0])
        if y is None:
            y = self._target(node, x)
        if y is None or prod(y) != prod(x.shape):
            raise self.g.fail(node, f"a reshape of {x.shape} to {y} that keeps no batch "
                                    f"dimension (or whose target is unknown)")
        if y == x.shape:
            return self.bind(node.output[0], x)
        if len(x.shape) == 3 and len(y) == 1:
            self.emit({"flatten": True}, "flatten", _v(y), x, node.output[0])
            return
        self.emit({"reshape": list(y)}, "reshape", _v(y), x, node.output[0])

    def _target(self, node, x) -> tuple | None:
        """A per-sample Reshape/Flatten target shape inference left open: a flatten, or
        a Reshape whose target the exporter computes (``x.view(x.size(0), -1)``: Shape →
        Gather → Concat) of rank 2 (batch, features)."""
        if node.op_type == "Flatten":
            return (prod(x.shape),) if self.g.attrs(node).get("axis", 1) == 1 else None
        if node.op_type != "Reshape":
            return None
        t = self.g.evaluate(node.input[1], self.full_shape)
        if t is None:
            return (prod(x.shape),) if self.g.shape(node.input[1]) == (2,) else None
        full = [1, *x.shape]               # batch 1, as the shape inference reads it
        t = [full[i] if int(d) == 0 else int(d) for i, d in enumerate(np.asarray(t).reshape(-1))]
        if t.count(-1) == 1:
            t[t.index(-1)] = prod(full) // max(1, -prod(t))
        return tuple(t[1:]) if t and t[0] == 1 and prod(t) == prod(full) else None

    def _op_Transpose(self, node, a) -> None:
        x = self.plain(node, self.val(node.input[0], node))
        r = len(x.shape)
        perm = list(a.get("perm", range(r, -1, -1)))
        if perm[0] != 0:
            raise self.g.fail(node, f"perm={perm} moves the batch dimension")
        p = [i - 1 for i in perm[1:]]
        y = tuple(x.shape[i] for i in p)
        if p == list(range(r)):
            return self.bind(node.output[0], x)
        users = self.g.users(node.output[0])
        u = users[0] if len(users) == 1 else None
        if r >= 2 and p[-2] == r - 1 and u is not None and u.op_type == "MatMul" \
                and u.input[1] == node.output[0] and u.input[0] in self.g.data:
            # the second operand of a product, its last axis moved to the rows (kᵀ):
            # a transpose q (if any) then the matmul's transpose_b (p = swap ∘ q)
            q = p[:-2] + [p[-1], p[-2]]
            if q != list(range(r)):
                x = self.emit({"transpose": q}, "transpose", _v(y[:-2] + (y[-1], y[-2])), x,
                              None)
            return self.bind(node.output[0], x._replace(shape=y, transposed=True))
        self.emit({"transpose": p}, "transpose", _v(y), x, node.output[0])

    def _op_Concat(self, node, a) -> None:
        if any(i not in self.g.data for i in node.input):
            raise self.g.fail(node, "a concatenation with a constant (e.g. a class token) "
                                    "has no hwsim node")
        xs = [self.plain(node, self.val(i, node)) for i in node.input]
        axis = axis_of(a["axis"], len(xs[0].shape) + 1)
        if axis < 0:
            raise self.g.fail(node, "a concatenation along the batch has no hwsim node")
        y = list(xs[0].shape)
        y[axis] = sum(x.shape[axis] for x in xs)
        self.emit({"concat": {"inputs": [x.name for x in xs], "axis": axis}}, "concat",
                  _v(tuple(y)), None, node.output[0])

    def _op_Gather(self, node, a) -> None:
        g = self.g
        table, ids = node.input
        if table not in g.data and ids in g.data:
            w = self._weight(node, 0, 2)
            x = self.plain(node, self.val(ids, node))
            if a.get("axis", 0) != 0 or x.name != "input" or not g.input_int:
                raise g.fail(node, "only a lookup of the integer network input in a "
                                   "constant (V, D) table maps (an embedding)")
            self.emit({"embedding": {"vocab": w[0], "dim": w[1], "positions": False}},
                      "embedding", _v(x.shape + (w[1],)), x, node.output[0])
            return
        index = g.value(ids)
        x = self.plain(node, self.val(table, node)) if table in g.data else None
        axis = axis_of(a.get("axis", 0), len(x.shape) + 1) if x is not None else -1
        if x is None or index is None or np.asarray(index).ndim != 0 or axis < 0:
            raise g.fail(node, "only a lookup of one constant index of an activation maps "
                               "(select)")
        y = x.shape[:axis] + x.shape[axis + 1:]
        self.emit({"select": {"axis": axis, "index": int(index) % x.shape[axis]}}, "select",
                  _v(y), x, node.output[0])

    def _op_ReduceMean(self, node, a) -> None:
        x = self.plain(node, self.val(node.input[0], node))
        axes = a.get("axes")
        if axes is None and len(node.input) > 1:
            axes = [int(i) for i in np.asarray(self.g.value(node.input[1])).reshape(-1)]
        r = len(x.shape) + 1
        axes = sorted(axis_of(i, r) for i in (axes or ()))
        if len(x.shape) == 3 and axes == [1, 2]:       # global average pooling
            return self._global_pool(node, x)
        if len(axes) != 1 or axes[0] < 0:
            raise self.g.fail(node, f"a mean over axes {axes}: hwsim's mean is over one "
                                    f"per-sample axis")
        y = x.shape[:axes[0]] + x.shape[axes[0] + 1:]
        v = self.emit({"mean": {"axis": axes[0]}}, "mean", _v(y), x, None)
        if a.get("keepdims", 1):
            keep = self.shape(node.output[0])
            self.emit({"reshape": list(keep)}, "reshape", _v(keep), v, node.output[0])
        else:
            self.bind(node.output[0], v)

    def _op_MaxPool(self, node, a) -> None:
        kernel, strides = tuple(a["kernel_shape"]), tuple(a.get("strides", (1, 1)))
        if len(kernel) != 2:
            raise self.g.fail(node, f"kernel_shape={list(kernel)}: only 2-D pooling maps")
        self.check_trace_only(node, "pooling", (
            (kernel[0] != kernel[1], f"{kernel[0]}×{kernel[1]} window"),
            (len(set(strides)) != 1, f"strides={list(strides)}"),
            (any(a.get("pads", (0,))), f"pads={a.get('pads')}"),
            (a.get("ceil_mode", 0), "ceil_mode=1"),
            (any(d != 1 for d in a.get("dilations", (1,))), f"dilations={a.get('dilations')}")))
        x = self.plain(node, self.val(node.input[0], node))
        y = self.shape(node.output[0]) or (x.shape[0], *window_out(
            x.shape[1:], kernel, strides, a.get("pads", (0, 0, 0, 0)), a.get("dilations"),
            a.get("ceil_mode", 0)))
        self.emit({"pool": {"kind": POOL_OPS[node.op_type], "size": kernel[0],
                            "stride": strides[0]}}, "pool", _v(y), x, node.output[0])

    _op_AveragePool = _op_MaxPool

    def _op_GlobalAveragePool(self, node, a) -> None:
        x = self.plain(node, self.val(node.input[0], node))
        if len(x.shape) != 3:
            raise self.g.fail(node, f"expected (C, H, W), got {x.shape}")
        self._global_pool(node, x)

    def _global_pool(self, node, x) -> None:
        """Global average pooling gives (C,) (ONNX keeps (C, 1, 1); a Flatten after it
        then changes nothing)."""
        self.emit({"pool": {"kind": "avg", "global": True}}, "pool", _v(x.shape[:1]), x,
                  node.output[0])
