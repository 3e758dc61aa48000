"""A network list as a DAG: wiring, shape inference and the nodes (layer 5).

:func:`build_graph` is what :func:`hwsim.training.network.build_network` calls for a
list that is more than today's layer list (a graph kind, a block or ``input:``
wiring).  Each item is expanded into primitive node descriptions
(:mod:`hwsim.training.graph_blocks`), each operand name is resolved against the nodes
*before* it (a later or unknown name is a ConfigError at the operand's key, e.g.
``workload.network[7].add[1]``), the per-sample shapes are inferred node by node (a
mismatch is a ConfigError at the item's kind key) and the nodes are made: analog
``linear``/``conv`` layers with the caller's weight backends, the digital nodes of
:mod:`hwsim.training.nodes_shape` and :mod:`hwsim.training.nodes_transformer`.
Shapes are per sample; the batch dimension is implicit and leading.
"""
from __future__ import annotations

from hwsim.training.graph_blocks import expand
from hwsim.training.graph_network import GraphNetwork
from hwsim.training.layers_conv import POOLS, Conv2d
from hwsim.training.layers_dense import ACTIVATIONS, Flatten, Linear, check_backend
from hwsim.training.network_base import init_bias
from hwsim.training.nodes_base import LayerNode, size
from hwsim.training.nodes_shape import (Add, Concat, GlobalAvgPool, Mean, Patches, Reshape,
                                        Select, Shortcut, Transpose)
from hwsim.training.nodes_transformer import Embedding, LayerNorm, Matmul, Positions, Softmax


def build_graph(spec, items, input_shape, factory, rng, *, key, fail, init, init_weights,
                shapes_only=False, input_dtype="float") -> GraphNetwork:
    """The :class:`GraphNetwork` of parsed ``items`` (``spec``: the list as read, for
    error lines); ``factory``/``rng``/``init``/``init_weights``: as
    :func:`~hwsim.training.network.build_network`."""
    descs, aliases = expand(items, spec, key, {}, set(), fail)
    shapes, nodes = {"input": tuple(int(v) for v in input_shape)}, []
    for d in descs:
        ins = []
        for j, nm in enumerate(d.inputs):
            target = aliases.get(nm, nm)     # an item's name: its output (after its parts)
            if target not in shapes:             # ... unless read inside that item itself
                target = nm
            if target not in shapes:
                box, k, path = d.refs[j] if j < len(d.refs) else (d.item, d.key, d.path)
                raise fail(f"'{nm}' is not the name of an earlier item (names must refer "
                           f"back: the list is in topological order)", box, k, path)
            ins.append(target)
        if input_dtype == "int" and "input" in ins and d.kind != "embedding":
            raise fail("token ids (input_dtype: int) feed an embedding only", d.item, d.key,
                       f"{d.path}.{d.key}")
        node = _make(d, ins, [shapes[i] for i in ins], factory, rng, init, init_weights,
                     shapes_only, fail)
        shapes[d.name] = node.shape
        nodes.append(node)
    read = {nm for n in nodes for nm in n.inputs}
    for d, n in zip(descs[:-1], nodes[:-1]):
        if n.name not in read:
            raise fail(f"the output of '{n.name}' is never read (the network output is the "
                       f"last item's)", d.item, d.key, f"{d.path}.{d.key}")
    return GraphNetwork(nodes, tuple(int(v) for v in input_shape), input_dtype)


def _make(d, ins, in_shapes, factory, rng, init, init_weights, shapes_only, fail):
    """One node of description ``d`` with operands ``ins`` of ``in_shapes``."""
    c, x = d.cfg, in_shapes[0]
    here = (d.item, d.key, f"{d.path}.{d.key}")

    def bad(msg, sub=None):
        if sub is not None and isinstance(d.item.get(d.key), dict) and sub in d.item[d.key]:
            return fail(msg, d.item[d.key], sub, f"{d.path}.{d.key}.{sub}")
        return fail(msg, *here)

    def axis(a, rank, sub="axis"):
        if not -rank <= a < rank:
            raise bad(f"axis {a} out of range for a per-sample shape of rank {rank}", sub)
        return a % rank

    k = d.kind
    if k == "linear":
        n_in = x[-1]
        w0 = None if shapes_only else init_weights(rng, c, n_in, n_in, c, d.init or init)
        backend = factory(d.name, c, n_in, w0)
        check_backend(backend, d.name, c, n_in)
        layer = Linear(backend, bias=d.bias, name=d.name)
        if not shapes_only:
            init_bias(layer, rng, n_in, d.bias_init)
        return LayerNode(layer, d.name, ins, in_shapes, x[:-1] + (c,))
    if k == "conv":
        if len(x) != 3:
            raise bad(f"conv needs (C, H, W) input, got {x}")
        if min(x[1:]) + 2 * c.padding < c.kernel:
            raise bad(f"kernel {c.kernel} does not fit input {x[1]}×{x[2]} with padding "
                      f"{c.padding}", "kernel")
        n_in = x[0] * c.kernel ** 2
        w0 = None if shapes_only else init_weights(rng, c.out, n_in, n_in, c.out * c.kernel ** 2,
                                                   d.init or init)
        backend = factory(d.name, c.out, n_in, w0)
        check_backend(backend, d.name, c.out, n_in)
        layer = Conv2d(backend, x, c.kernel, stride=c.stride, padding=c.padding, bias=d.bias,
                       name=d.name)
        if not shapes_only:
            init_bias(layer, rng, n_in, d.bias_init)
        return LayerNode(layer, d.name, ins, in_shapes, layer.output_shape(x))
    if k == "pool":
        if len(x) != 3:
            raise bad(f"pooling needs (C, H, W) input, got {x}")
        if c.global_:
            if c.kind != "avg":
                raise bad("a global pool is an average (kind: avg)", "kind")
            return GlobalAvgPool(d.name, ins, in_shapes)
        stride = c.stride if c.stride is not None else c.size
        if min(x[1:]) < c.size:
            raise bad(f"window {c.size} larger than input {x[1]}×{x[2]}", "size")
        layer = POOLS[c.kind](c.size, stride, name=d.name)
        node = LayerNode(layer, d.name, ins, in_shapes, layer.output_shape(x), op="pool",
                         work="input")
        node.SAVES = "inputs"
        return node
    if k == "flatten":
        return LayerNode(Flatten(name=d.name), d.name, ins, in_shapes, (size(x),))
    if k == "activation":
        node = LayerNode(ACTIVATIONS[c](name=d.name), d.name, ins, in_shapes, x)
        node.SAVES = "output"
        return node
    if k == "add":
        if in_shapes[0] != in_shapes[1]:
            raise bad(f"operands have shapes {in_shapes[0]} and {in_shapes[1]}; add needs "
                      f"identical shapes")
        return Add(d.name, ins, in_shapes, x)
    if k == "shortcut":
        if len(x) != 3 or c.out < x[0]:
            raise bad(f"shortcut needs (C, H, W) input with C ≤ out ({c.out}), got {x}")
        return Shortcut(d.name, ins, in_shapes, c.stride, c.out)
    if k == "concat":
        a = axis(c.axis, len(x))
        for s in in_shapes[1:]:
            if len(s) != len(x) or any(u != v for i, (u, v) in enumerate(zip(s, x)) if i != a):
                raise bad(f"operands {in_shapes} differ off axis {c.axis}", "inputs")
        shape = x[:a] + (sum(s[a] for s in in_shapes),) + x[a + 1:]
        return Concat(d.name, ins, in_shapes, shape, a)
    if k == "layernorm":
        return LayerNorm(d.name, ins, in_shapes, c.eps)
    if k == "softmax":
        a = axis(c.axis, len(x))
        if c.causal and (a != len(x) - 1 or len(x) < 2):
            raise bad("a causal softmax runs along the last axis of a (…, T, T) input",
                      "causal")
        return Softmax(d.name, ins, in_shapes, a, c.causal)
    if k == "matmul":
        a, b = in_shapes
        bb = b[:-2] + (b[-1], b[-2]) if c.transpose_b and len(b) >= 2 else b
        if len(a) < 2 or len(a) != len(b) or a[:-2] != bb[:-2] or a[-1] != bb[-2]:
            raise bad(f"cannot multiply {a} by {b}{'ᵀ' if c.transpose_b else ''} "
                      f"((…, M, K) × (…, K, N), same batched dims)", "inputs")
        return Matmul(d.name, ins, in_shapes, a[:-1] + (bb[-1],), c.transpose_b, c.scale)
    if k == "embedding":
        if len(x) != 1 or ins[0] != "input":
            raise bad(f"an embedding reads the token ids (T,) of the network input, got {x}")
        return Embedding(d.name, ins, in_shapes, c.vocab, c.dim, c.positions,
                         None if shapes_only else rng)
    if k == "positions":
        if len(x) != 2:
            raise bad(f"a position table needs (T, D) input, got {x}")
        return Positions(d.name, ins, in_shapes, c.std, None if shapes_only else rng)
    if k == "reshape":
        shape = list(c)
        if shape.count(-1) > 1 or any(v == 0 or v < -1 for v in shape):
            raise bad(f"expected positive sizes and at most one -1, got {list(c)}")
        if -1 in shape:
            rest = size([v for v in shape if v != -1])
            if size(x) % rest:
                raise bad(f"cannot reshape {x} into {list(c)}")
            shape[shape.index(-1)] = size(x) // rest
        if size(shape) != size(x):
            raise bad(f"cannot reshape {x} ({size(x)} elements) into {list(c)}")
        return Reshape(d.name, ins, in_shapes, tuple(shape))
    if k == "transpose":
        if sorted(c) != list(range(len(x))):
            raise bad(f"expected a permutation of 0…{len(x) - 1}, got {list(c)}")
        return Transpose(d.name, ins, in_shapes, c)
    if k == "patches":
        if len(x) != 3 or x[1] % c.size or x[2] % c.size:
            raise bad(f"patches of {c.size} need (C, H, W) input with H, W divisible by it, "
                      f"got {x}", "size")
        return Patches(d.name, ins, in_shapes, c.size)
    if k == "mean":
        return Mean(d.name, ins, in_shapes, axis(c.axis, len(x)))
    if k == "select":
        a = axis(c.axis, len(x))
        if not -x[a] <= c.index < x[a]:
            raise bad(f"index {c.index} out of range for axis {c.axis} of size {x[a]}", "index")
        return Select(d.name, ins, in_shapes, a, c.index % x[a])
    raise bad(f"unknown node kind {k!r}")   # pragma: no cover (the spec declares the kinds)

