"""ONNX import of graph networks: a 2-layer pre-norm encoder as the exporter writes it
(LayerNormalization from opset 17, its decomposed form below; the two transposes of kᵀ
fused or not) gives the layer shapes and digital op counts of the same network written
with the YAML ``encoder`` block; residual CNNs (BatchNormalization folded into the conv),
token embeddings with positions and causal masks map to the contract's items
(docs: the graph format), checked against hand counts."""
import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from hwsim.onnx import import_onnx  # noqa: E402
from hwsim.training.network import build_network  # noqa: E402

_spec = importlib.util.spec_from_file_location("hwsim_test_exporter_graphs",
                                               Path(__file__).with_name("exporter_graphs.py"))
E = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(E)
OUT = [E.BATCH, 10]
T, D, H, MLP = 8, 16, 2, 32
ENCODER_YAML = [{"encoder": {"heads": H, "dim": D, "mlp": MLP}},
                {"encoder": {"heads": H, "dim": D, "mlp": MLP}},
                {"mean": {"axis": 0}}, {"linear": 10}]


def _build(items, shape, dtype="float"):
    return build_network(items, tuple(shape), shapes_only=True, graph=True,
                         input_dtype=dtype, key="network")


def _digital(net, batch):
    """(kind, phase, n) → how many nodes issue that digital op, in one step."""
    kinds = {n.name: n.kind for n in net.nodes}
    return Counter((kinds[nm], ph, n) for (nm, ph), n in net.digital_ops(batch).items() if n)


def _shapes(net):
    return [(s.out_features, s.in_features, s.vectors_per_sample)
            for s in (n.layer for n in net.nodes if n.has_weights)]


@pytest.mark.parametrize("opset,decomposed,fused", [(17, False, False), (13, True, True),
                                                    (18, True, False)])
def test_encoder_equals_the_yaml_encoder_block(tmp_path, opset, decomposed, fused):
    model = E.encoder2(T, D, H, MLP, opset=opset, decomposed=decomposed,
                       fused_transpose=fused).save(tmp_path / "enc.onnx", OUT)
    net = import_onnx(model)
    assert net["input_shape"] == [T, D]
    a, y = _build(net["network"], [T, D]), _build(ENCODER_YAML, [T, D])
    assert _shapes(a) == _shapes(y)
    assert _digital(a, 4) == _digital(y, 4)
    # hand counts, one attention block of h = 2 heads, T = 8 tokens, d_head = 8, B = 4:
    # scores QKᵀ and context PV are h·T·T·d_head = 1024 MACs per sample each, softmax
    # h·T·T = 128 elements, layernorm and the residual adds T·d = 128 elements
    ops = {(nm, ph): n for (nm, ph), n in a.digital_ops(4).items()}
    assert ops[("matmul1", "forward")] == ops[("matmul2", "forward")] == 4 * 2 * 8 * 8 * 8
    assert ops[("softmax1", "forward")] == 4 * 2 * 8 * 8
    assert ops[("layernorm1", "forward")] == ops[("add1", "forward")] == 4 * 8 * 16
    scores = next(it for it in net["network"] if it["name"] == "matmul1")["matmul"]
    assert scores["transpose_b"] is True and scores["scale"] == pytest.approx(1 / np.sqrt(8))
    # q, k, v, out: 16×16 per token (8 vectors per sample), fc1 32×16, fc2 16×32, head 10×16
    assert _shapes(a)[:6] == [(16, 16, 8)] * 4 + [(32, 16, 8), (16, 32, 8)]


def test_residual_cnn_folds_batch_norm_into_the_convs(tmp_path):
    net = import_onnx(E.resnet_tiny().save(tmp_path / "res.onnx", OUT))
    conv = lambda out, k, s, p: {"out": out, "kernel": k, "stride": s, "padding": p}  # noqa: E731
    # BatchNormalization after each conv: folded, so every conv has a bias (no bias: False)
    assert net["network"] == [
        {"name": "conv1", "conv": conv(8, 3, 1, 1), "activation": "relu"},
        {"name": "conv2", "conv": conv(8, 3, 1, 1), "activation": "relu"},
        {"name": "conv3", "conv": conv(8, 3, 1, 1)},
        {"name": "add1", "add": ["conv3", "conv1"], "activation": "relu"},
        {"name": "conv4", "conv": conv(16, 3, 2, 1), "activation": "relu"},
        {"name": "conv5", "conv": conv(16, 3, 1, 1)},
        {"name": "conv6", "conv": conv(16, 1, 2, 0), "input": "add1"},
        {"name": "add2", "add": ["conv5", "conv6"], "activation": "relu"},
        {"name": "pool1", "pool": {"kind": "avg", "global": True}},
        {"name": "fc1", "linear": 10}]
    shapes = _shapes(_build(net["network"], net["input_shape"]))
    # 16×16 maps (padding 1): 256 im2col vectors of 3·9 then 8·9 inputs; stride 2 → 8×8 = 64
    assert shapes == [(8, 27, 256), (8, 72, 256), (8, 72, 256), (16, 72, 64), (16, 144, 64),
                      (16, 8, 64), (10, 16, 1)]


def test_token_embedding_positions_causal_mask_and_lm_head(tmp_path):
    g = E.gpt_tiny(vocab=50, t=T, d=D, h=H, mlp=MLP)
    net = import_onnx(g.save(tmp_path / "gpt.onnx", [E.BATCH, T, 50]))
    assert net["input_shape"] == [T] and net["input_dtype"] == "int"
    items = {it["name"]: it for it in net["network"]}
    assert items["embedding1"]["embedding"] == {"vocab": 50, "dim": D, "positions": True}
    assert items["softmax1"]["softmax"] == {"axis": -1, "causal": True}
    assert net["network"][-1] == {"name": "fc7", "linear": 50, "bias": False}
    built = _build(net["network"], [T], "int")
    assert built.output_shape == (T, 50)
    # the embedding's forward work: one element per output element, T·D per sample
    assert built.digital_ops(2)[("embedding1", "forward")] == 2 * T * D


def test_fused_qkv_split_and_where_mask(tmp_path):
    """GPT-2's c_attn: one Linear to 3d, Split into q, k, v (→ three linear layers of the
    rows of W); a causal mask as Where(upper triangle, -inf, scores)."""
    g = E.Graph([E.BATCH, T, D])
    qkv = g.linear_nd("c_attn", "input", D, 3 * D)
    g.nodes.append(E.helper.make_node("Split", [qkv, g.scalar([D, D, D], np.int64)],
                                      ["q", "k", "v"], name="/split/Split", axis=2))
    kt = g.op("Transpose", "kt", ["k"], perm=[0, 2, 1])
    s = g.op("MatMul", "scores", ["q", kt])
    cond = np.triu(np.ones((T, T), bool), 1)
    s = g.op("Where", "mask", [g.scalar(cond, np.bool_), g.scalar(-np.inf), s])
    p = g.op("Softmax", "softmax", [s], axis=-1)
    g.x = g.op("MatMul", "context", [p, "v"])
    net = import_onnx(g.save(tmp_path / "qkv.onnx", [E.BATCH, T, D]))
    assert net["network"] == [
        {"name": "fc1", "linear": D, "input": "input"},
        {"name": "fc2", "linear": D, "input": "input"},
        {"name": "fc3", "linear": D, "input": "input"},
        {"name": "matmul1", "matmul": {"inputs": ["fc1", "fc2"], "transpose_b": True,
                                       "scale": 1.0}},
        {"name": "softmax1", "softmax": {"axis": -1, "causal": True}},
        {"name": "matmul2", "matmul": {"inputs": ["softmax1", "fc3"], "transpose_b": False,
                                       "scale": 1.0}}]
    assert _build(net["network"], [T, D]).output_shape == (T, D)


def test_a_split_that_is_not_of_a_linear_layer(tmp_path):
    from hwsim.errors import ConfigError
    g = E.Graph([E.BATCH, T, D])
    g.nodes.append(E.helper.make_node("Split", ["input", g.scalar([8, 8], np.int64)],
                                      ["a", "b"], name="/split/Split", axis=2))
    g.x = g.op("Add", "sum", ["a", "b"])
    with pytest.raises(ConfigError, match=r"'/split/Split' \(Split\): only a Split of a linear"):
        import_onnx(g.save(tmp_path / "s.onnx", [E.BATCH, T, 8]))


def _trace_counts(path):
    """(op, phase, kind, n) → how many ops of the trace, layer names left out (the
    importer names nodes fc1, matmul1 …, the encoder block encoder1.attn.q …)."""
    from hwsim.trace.format import Step, TraceReader
    return Counter((o.op, o.phase, dict(o.meta).get("kind", ""), o.n)
                   for o in TraceReader(path) if not isinstance(o, Step) and o.op != "move")


@pytest.mark.parametrize("algorithm", ["sgd", "c-ttv2"])
def test_encoder_trace_has_the_op_counts_of_the_yaml_encoder(tmp_path, algorithm):
    from hwsim.training.trace_generate import generate_trace
    model = E.encoder2(T, D, H, MLP).save(tmp_path / "enc.onnx", OUT)
    yaml = tmp_path / "enc.yaml"
    yaml.write_text("input_shape: [8, 16]\nnetwork:\n" + "".join(
        f"  - {item}\n".replace("'", "") for item in ENCODER_YAML))
    a = generate_trace(model, 4, 2, algorithm, out=tmp_path / "a.jsonl.gz")
    b = generate_trace(yaml, 4, 2, algorithm, out=tmp_path / "b.jsonl.gz")
    ca, cb = _trace_counts(a), _trace_counts(b)
    assert ca == cb
    # hand counts, 2 steps of B = 4: the two score products per step and block are
    # 4·2·8·8·8 = 4096 MACs forward; fc1 of each block one MVM per token: 4·8 = 32 vectors
    assert ca[("digital", "forward", "matmul", 4096)] == 2 * 2 * 2
    assert ca[("forward", "forward", "", 32)] >= 2 * 2 * 6      # 6 per-token linears a block
