"""Multi-node patterns of ``torch.onnx.export`` (opsets 13–18) that are one hwsim node.

Each matcher looks at the node that starts the pattern and follows the consumers of
its tensors (:meth:`~hwsim.onnx.reader.OnnxGraph.users`); it returns the nodes the
pattern covers and what the node needs, or None.  Constants are read where they decide
the meaning (a layer norm's ε; the ½ and 1 of GELU and its √2 are taken as written by
the exporter and not checked).

* **GELU** below opset 20 (``nn.GELU()``, exact form): ``Div(x, √2)`` (or ``Mul(x, 1/√2)``)
  → ``Erf`` → ``Add(·, 1)`` → ``Mul(x, ·)`` → ``Mul(·, 0.5)``.
* **Layer normalization** below opset 17, or written out by hand (``nn.LayerNorm`` as
  the exporter decomposes it): ``m = ReduceMean(x, −1)``, ``d = Sub(x, m)``,
  ``v = ReduceMean(Pow(d, 2), −1)``, ``s = Sqrt(Add(v, ε))``, ``y = Div(d, s)``, then
  ``Mul(y, γ)`` and ``Add(·, β)`` (both optional: hwsim's layernorm always has its gain
  and bias, initialised to 1 and 0 as PyTorch's).
* **Causal mask** of attention scores ``S``: ``Add(S, M)`` with a constant ``M`` that is
  0 on and below the diagonal and ≤ −10⁴ above it (``−inf`` as PyTorch writes it), or
  ``Where(C, F, S)`` with a constant boolean ``C`` true above the diagonal and a
  constant ``F`` ≤ −10⁴; both mask ``j > i`` on the last two axes.
"""
from __future__ import annotations

import numpy as np

#: a masked score is at most this (PyTorch writes −inf or the dtype's minimum)
MASKED = -1.0e4


def _only_user(g, tensor: str, op: str):
    """The single node reading ``tensor`` if it is an ``op`` node, else None."""
    users = g.users(tensor)
    return users[0] if len(users) == 1 and users[0] is not None and users[0].op_type == op \
        else None


def _other(node, tensor: str) -> str | None:
    """The operand of a binary node that is not ``tensor`` (None if both are)."""
    a, b = node.input[0], node.input[1]
    return b if a == tensor and b != tensor else a if b == tensor and a != tensor else None


def _scalar(g, name) -> float | None:
    v = g.value(name) if name else None
    return float(np.asarray(v).reshape(-1)[0]) if v is not None and np.asarray(v).size == 1 \
        else None


def gelu(g, node, x: str):
    """``(nodes, output)`` of the exporter's erf GELU of ``x`` starting at ``node``."""
    if node.op_type not in ("Div", "Mul") or node.input[0] != x \
            or _scalar(g, node.input[1]) is None:
        return None
    erf = _only_user(g, node.output[0], "Erf")
    add = erf and _only_user(g, erf.output[0], "Add")
    if add is None or _scalar(g, _other(add, erf.output[0])) is None:
        return None
    mul = _only_user(g, add.output[0], "Mul")
    if mul is None or _other(mul, add.output[0]) != x:
        return None
    half = _only_user(g, mul.output[0], "Mul")
    if half is None or _scalar(g, _other(half, mul.output[0])) is None:
        return None
    return [node, erf, add, mul, half], half.output[0]


def _last_axis_mean(g, node, rank: int) -> bool:
    """A ReduceMean over the last axis only, dims kept (axes an attribute or, from
    opset 18, an input)."""
    a = g.attrs(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1:
        v = g.value(node.input[1])
        axes = None if v is None else [int(i) for i in np.asarray(v).reshape(-1)]
    return axes is not None and len(axes) == 1 and axes[0] in (-1, rank - 1) \
        and a.get("keepdims", 1) == 1


def layernorm(g, node, x: str, rank: int):
    """``(nodes, output, eps)`` of a decomposed layer norm of ``x`` (rank with the
    batch) starting at the first ReduceMean ``node``; None when it is not one."""
    if node.op_type != "ReduceMean" or node.input[0] != x or not _last_axis_mean(g, node, rank):
        return None
    subs = [u for u in g.users(x) if u is not None and u.op_type == "Sub"
            and list(u.input) == [x, node.output[0]]]
    if len(subs) != 1 or len(g.users(node.output[0])) != 1:
        return None
    sub = subs[0]
    d = sub.output[0]
    users = g.users(d)
    pow_ = next((u for u in users if u is not None and u.op_type == "Pow"), None)
    div = next((u for u in users if u is not None and u.op_type == "Div"), None)
    if pow_ is None or div is None or len(users) != 2 or _scalar(g, pow_.input[1]) != 2.0:
        return None
    mean2 = _only_user(g, pow_.output[0], "ReduceMean")
    if mean2 is None or not _last_axis_mean(g, mean2, rank):
        return None
    add = _only_user(g, mean2.output[0], "Add")
    eps = add and _scalar(g, _other(add, mean2.output[0]))
    sqrt = eps is not None and _only_user(g, add.output[0], "Sqrt")
    if not sqrt or list(div.input) != [d, sqrt.output[0]]:
        return None
    nodes, out = [node, sub, pow_, mean2, add, sqrt, div], div.output[0]
    for op in ("Mul", "Add"):           # gain γ, then bias β (constants of the last dim)
        nxt = _only_user(g, out, op)
        if nxt is None or g.value(_other(nxt, out) or "") is None:
            break
        nodes.append(nxt)
        out = nxt.output[0]
    return nodes, out, eps


def causal_mask(mask) -> bool:
    """Whether the additive constant ``mask`` (…, T, T) is 0 for j ≤ i and masked above."""
    m = np.asarray(mask, dtype=float)
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        return False
    m = m.reshape(-1, *m.shape[-2:])
    upper = np.triu(np.ones(m.shape[-2:], dtype=bool), 1)
    return bool(np.all(m[:, upper] <= MASKED) and np.all(m[:, ~upper] == 0))


def causal_condition(cond, fill) -> bool:
    """Whether ``Where(cond, fill, S)`` masks exactly ``j > i`` of the scores ``S``."""
    c = np.asarray(cond, dtype=bool)
    if c.ndim < 2 or c.shape[-1] != c.shape[-2] or _scalar_array(fill) is None:
        return False
    upper = np.triu(np.ones(c.shape[-2:], dtype=bool), 1)
    c = c.reshape(-1, *c.shape[-2:])
    return bool(np.all(c == upper) and _scalar_array(fill) <= MASKED)


def _scalar_array(v) -> float | None:
    a = np.asarray(v, dtype=float).reshape(-1) if v is not None else np.zeros(0)
    return float(a[0]) if a.size and np.all(a == a[0]) else None
