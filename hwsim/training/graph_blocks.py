"""Block expansion: a network list item → the primitive node descriptions it stands for.

Every item becomes one :class:`Desc` (plus one for its ``activation``); the blocks
``attention``, ``encoder`` and ``decoder`` expand into the nodes of the contract, named
``BLOCK.part``:

* ``attention {heads h, dim d, causal, bias}`` on (T, d): ``BLOCK.q``, ``.k``, ``.v`` —
  analog ``linear: d`` (T vectors per sample); each ``.heads`` = reshape (T, h, d/h) and
  ``.t`` = transpose (h, T, d/h); ``BLOCK.scores`` = matmul(q, k, transpose_b,
  scale 1/√(d/h)) (h, T, T); ``BLOCK.softmax`` (causal mask); ``BLOCK.context`` =
  matmul(probs, v) (h, T, d/h); ``BLOCK.context.t`` (T, h, d/h) and ``BLOCK.merge``
  (T, d); ``BLOCK.out`` = ``linear: d`` (Vaswani et al. 2017, §3.2.2).
* ``encoder {heads, dim, mlp, causal, activation}``, pre-norm (Xiong et al. 2020; ViT,
  Dosovitskiy et al. 2021): ``BLOCK.ln1``; ``BLOCK.attn.*`` = attention(ln1);
  ``BLOCK.res1`` = add(x, attn.out); ``BLOCK.ln2``; ``BLOCK.fc1`` = linear mlp +
  activation; ``BLOCK.fc2`` = linear dim; ``BLOCK.res2`` = add(res1, fc2) — the block's
  output.  ``decoder`` = encoder with causal attention (GPT-style decoder-only).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace as NS

from hwsim.training.graph_spec import BLOCKS, OPERAND_KEYS

#: default-name stem of each kind (today's fc/conv for the analog layers)
STEMS = {"linear": "fc", "conv": "conv"}


@dataclass
class Desc:
    """One primitive node before its shapes are known."""
    name: str
    kind: str                      # linear, conv, pool, flatten, activation, add, ...
    cfg: object                    # the kind's value (a section, a list, an int, ...)
    inputs: list                   # operand names ("input": the network input)
    path: str                      # key path of the item (errors)
    item: object                   # the item mapping (error lines)
    key: str                       # the item's kind key (errors)
    refs: list = field(default_factory=list)   # (container, key, path) of each operand
    bias: bool = True
    init: str | None = None
    bias_init: str | None = None


def expand(items, spec, key: str, counts: dict, names: set, fail) -> tuple[list, dict]:
    """``(descs, aliases)``: the :class:`Desc` list of every item, names given and checked
    unique (``fail(msg, container, key, path)`` makes the ConfigError), and the node each
    item name stands for — the item's output: a block's last part, or the activation
    node of an item with ``activation``."""
    out, aliases = [], {}

    def named(nm, item, path):
        if nm in names or nm == "input":
            raise fail(f"duplicate layer name {nm!r}", item, "name", f"{path}.name")
        names.add(nm)
        return nm

    def default(stem):
        counts[stem] = counts.get(stem, 0) + 1
        return f"{stem}{counts[stem]}"

    for i, (s, item) in enumerate(zip(items, spec)):
        path, kind = f"{key}[{i}]", s.kind
        act = s.activation if s.activation not in (None, "none") else None
        src = [s.input if s.input is not None else (out[-1].name if out else "input")]
        refs = [(item, "input", f"{path}.input")] if s.input is not None else []
        if kind is None:                                  # activation only
            nm = named(s.name or default(act), item, path)
            out.append(Desc(nm, "activation", act, src, path, item, "activation", refs))
            aliases[nm] = nm
            continue
        nm = named(s.name or default(STEMS.get(kind, kind)), item, path)
        if kind in BLOCKS:
            out += _block(kind, getattr(s, kind), nm, src, refs, path, item, named, fail)
        else:
            d = Desc(nm, kind, getattr(s, kind), src, path, item, kind, refs,
                     bias=True if s.bias is None else s.bias, init=s.init,
                     bias_init=s.bias_init)
            if s.analog_bias:
                raise fail("analog_bias is not modelled in graph networks yet (a layer "
                           "list takes it)", item, "analog_bias", f"{path}.analog_bias")
            if kind in OPERAND_KEYS:
                sub = OPERAND_KEYS[kind]
                box = item[kind] if sub is None else item[kind][sub]
                where = f"{path}.{kind}" + (f".{sub}" if sub else "")
                d.inputs = [str(v) for v in box]
                d.refs = [(box, j, f"{where}[{j}]") for j in range(len(box))]
            out.append(d)
        if act is not None:
            out.append(Desc(named(f"{nm}.{act}", item, path), "activation", act, [out[-1].name],
                            path, item, "activation", [(item, "activation", f"{path}.activation")]))
        aliases[nm] = out[-1].name
    return out, aliases


def _block(kind, c, nm, src, refs, path, item, named, fail):
    """The descriptions of one block (see the module docstring)."""
    out = []
    if c.dim % c.heads:
        raise fail(f"heads ({c.heads}) must divide dim ({c.dim})", item[kind], "heads",
                   f"{path}.{kind}.heads")

    def add(part, k, cfg, inputs, **kw):
        # the block's own operand keeps the item's 'input' reference (its error line)
        r = [refs[0] if refs and x == src[0] else (item, kind, f"{path}.{kind}") for x in inputs]
        d = Desc(named(f"{nm}.{part}", item, path), k, cfg, inputs, path, item, kind, r, **kw)
        out.append(d)
        return d.name

    if kind == "attention":
        _attention(add, c.heads, c.dim, c.causal, c.bias, src, "")
        return out
    ln1 = add("ln1", "layernorm", NS(eps=1.0e-5), src)
    a_out = _attention(add, c.heads, c.dim, kind == "decoder" or c.causal, True, [ln1], "attn.")
    res1 = add("res1", "add", None, [src[0], a_out])
    ln2 = add("ln2", "layernorm", NS(eps=1.0e-5), [res1])
    fc1 = add("fc1", "linear", c.mlp, [ln2])
    h = add(f"fc1.{c.activation}", "activation", c.activation, [fc1])
    fc2 = add("fc2", "linear", c.dim, [h])
    add("res2", "add", None, [res1, fc2])
    return out


def _attention(add, h, d, causal, bias, src, pre):
    dh = d // h if h else 0
    heads = {}
    for part in ("q", "k", "v"):
        lin = add(pre + part, "linear", d, src, bias=bias)
        r = add(f"{pre}{part}.heads", "reshape", (-1, h, dh), [lin])
        heads[part] = add(f"{pre}{part}.t", "transpose", (1, 0, 2), [r])
    scale = 1.0 / math.sqrt(dh) if dh else 1.0
    scores = add(pre + "scores", "matmul", NS(transpose_b=True, scale=scale),
                 [heads["q"], heads["k"]])
    probs = add(pre + "softmax", "softmax", NS(axis=-1, causal=causal), [scores])
    ctx = add(pre + "context", "matmul", NS(transpose_b=False, scale=1.0), [probs, heads["v"]])
    t = add(pre + "context.t", "transpose", (1, 0, 2), [ctx])
    m = add(pre + "merge", "reshape", (-1, d), [t])
    return add(pre + "out", "linear", d, [m], bias=bias)
