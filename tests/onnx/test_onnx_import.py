"""ONNX import: the exporter's node patterns give the networks of the shipped YAML files
(same layers, same trace op counts, checked against hand counts too), and every model
hwsim cannot map is one line naming the node, its op and the file, exit status 2.
Graph patterns (residuals, attention, normalization, embeddings): test_onnx_graphs.py."""
import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from onnx import TensorProto, helper  # noqa: E402

from hwsim.cli import main  # noqa: E402
from hwsim.onnx import import_onnx  # noqa: E402
from hwsim.trace.format import Step, TraceReader  # noqa: E402
from hwsim.training.network import build_network  # noqa: E402
from hwsim.training.trace_generate import generate_trace, load_network  # noqa: E402

NETS = Path(__file__).resolve().parents[2] / "configs" / "networks"
_spec = importlib.util.spec_from_file_location("hwsim_test_exporter_graphs",
                                               Path(__file__).with_name("exporter_graphs.py"))
E = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(E)
OUT = [E.BATCH, 10]


def _summary(net: dict) -> str:
    return build_network(net["network"], tuple(net["input_shape"]),
                         rng=np.random.default_rng(0)).summary()


def _counts(path):
    """(op, layer, phase, kind) → total items, over one generated trace."""
    c = Counter()
    for o in TraceReader(path):
        if not isinstance(o, Step):
            c[(o.op, o.layer, o.phase, dict(o.meta).get("kind", ""))] += o.n
    return c


def _same_as_yaml(tmp_path, chain, yaml_name, batch, algorithm="sgd"):
    model = chain.save(tmp_path / "model.onnx", OUT)
    yaml = NETS / yaml_name
    from hwsim.config.yamlio import load_yaml
    assert _summary(import_onnx(model)) == _summary(dict(load_yaml(str(yaml))))
    assert load_network(model)["layers"] == load_network(yaml)["layers"]
    a = generate_trace(model, batch, 2, algorithm, out=tmp_path / "onnx.jsonl.gz")
    b = generate_trace(yaml, batch, 2, algorithm, out=tmp_path / "yaml.jsonl.gz")
    assert _counts(a) == _counts(b)
    return _counts(a)


@pytest.mark.parametrize("opset", [13, 17, 18])
@pytest.mark.parametrize("matmul", [False, True], ids=["gemm", "matmul_add"])
def test_mlp_equals_the_yaml_file(tmp_path, opset, matmul):
    c = _same_as_yaml(tmp_path, E.mlp(opset, matmul), "mlp_784_256_128_10.yaml", batch=8)
    # hand counts, 2 steps of B = 8: one forward MVM per sample and layer (16), the
    # activations B·M per step (2·8·256 …), loss gradient 2·8·10, backward MVMs of fc3
    # and fc2 only (fc1 needs no input error), one update op per layer and step
    assert c[("forward", "fc1", "forward", "")] == 16
    assert [c[("digital", f"fc{i}", "forward", "activation")] for i in (1, 2, 3)] == \
        [2 * 8 * 256, 2 * 8 * 128, 2 * 8 * 10]
    assert c[("digital", "", "backward", "loss_grad")] == 2 * 8 * 10
    assert (c[("backward", "fc3", "backward", "")], c[("backward", "fc2", "backward", "")],
            c[("backward", "fc1", "backward", "")]) == (16, 16, 0)


@pytest.mark.parametrize("view,opset", [(False, 17), (True, 13)], ids=["flatten", "view"])
def test_lenet_equals_the_yaml_file(tmp_path, view, opset):
    c = _same_as_yaml(tmp_path, E.lenet(opset, view), "lenet5.yaml", batch=4, algorithm="c-ttv2")
    # hand counts: conv1 (pad 2) gives 28·28 = 784 im2col vectors per sample, conv2 on the
    # pooled 14×14 gives (14−5+1)² = 100; 2 steps of B = 4
    assert c[("forward", "conv1", "forward", "")] == 2 * 4 * 784
    assert c[("digital", "conv1", "forward", "activation")] == 2 * 4 * 784 * 6
    assert c[("forward", "conv2", "forward", "")] == 2 * 4 * 100
    assert c[("backward", "conv2", "backward", "")] == 2 * 4 * 100
    assert c[("forward", "fc1", "forward", "")] == 2 * 4
    net = load_network(E.lenet(opset, view).save(tmp_path / "m.onnx", OUT))
    # conv1: 6 × (1·5·5), conv2: 16 × (6·5·5), fc1: 120 × 16·5·5
    assert [(x["out_features"], x["in_features"]) for x in net["layers"]] == \
        [(6, 25), (16, 150), (120, 400), (84, 120), (10, 84)]


def test_activations_gelu_relu_softmax_and_skipped_ops(tmp_path):
    c = E.Chain([E.BATCH, 64])
    c.gemm("fc1", 64, 32).gelu("act1")
    c.node("Identity", "id").node("Dropout", "drop")
    c.gemm("fc2", 32, 16).act("Relu", "act2")
    c.act("Sigmoid", "act3")            # a second activation: its own item
    c.gemm("fc3", 16, 10).node("LogSoftmax", "out", axis=1)
    net = import_onnx(c.save(tmp_path / "m.onnx", OUT))
    assert net["input_shape"] == [64]
    # items named as the layer list's defaults (fc1 …; an activation alone: sigmoid1)
    assert net["network"] == [{"name": "fc1", "linear": 32, "activation": "gelu"},
                              {"name": "fc2", "linear": 16, "activation": "relu"},
                              {"name": "sigmoid1", "activation": "sigmoid"},
                              {"name": "fc3", "linear": 10}]
    assert "opset 17, pytorch 2.1.0" in net["source"]


def test_per_token_linear_needs_seq_and_gives_layer_shapes(tmp_path):
    c = E.Chain([E.BATCH, "sequence", 32])
    c.matmul_add("fc1", 32, 64).gelu("act").matmul_add("fc2", 64, 32)
    model = c.save(tmp_path / "tok.onnx", [E.BATCH, "sequence", 32])
    net = load_network(model, seq=16)
    # a linear layer per token: 16 vectors per sample
    assert net["layers"] == [
        {"name": "fc1", "kind": "linear", "out_features": 64, "in_features": 32, "vectors_per_sample": 16},
        {"name": "fc2", "kind": "linear", "out_features": 32, "in_features": 64, "vectors_per_sample": 16}]
    trace = generate_trace(model, 2, 1, "sgd", out=tmp_path / "t.jsonl.gz", seq=16)
    counts = _counts(trace)
    assert counts[("forward", "fc1", "forward", "")] == 2 * 16        # B·T vectors
    assert counts[("digital", "fc1", "forward", "activation")] == 2 * 16 * 64


def test_dilated_conv_and_ceil_pooling_give_layer_shapes_for_traces(tmp_path):
    from hwsim.errors import ConfigError
    from hwsim.onnx.reference import network_spec
    c = E.Chain([E.BATCH, 3, 16, 16])
    c.conv("conv1", 3, 8, 3, dilations=[2, 2]).act("Relu", "a")
    c.maxpool("pool", 3, strides=[2, 2], ceil_mode=1).flatten().gemm("fc1", 8 * 6 * 6, 10)
    model = c.save(tmp_path / "dil.onnx", OUT)
    # dilation 2 spreads the 3×3 kernel over 5×5: 16 − 5 + 1 = 12 output rows and columns
    # (144 im2col vectors of 3·3·3 = 27 inputs); ceil-mode pooling 3/2 on 12: ⌈9/2⌉ + 1 = 6
    # (floor would give 5), so fc1 reads 8·6·6 = 288 features
    assert load_network(model)["layers"] == [
        {"name": "conv1", "kind": "conv", "out_features": 8, "in_features": 27, "vectors_per_sample": 144},
        {"name": "fc1", "kind": "linear", "out_features": 10, "in_features": 288, "vectors_per_sample": 1}]
    with pytest.raises(ConfigError, match=r"traced .* not trained: node '/conv1/Conv' \(Conv\): "
                                          r"hwsim's conv layer has no dilations=\[2, 2\]"):
        network_spec({"onnx": str(model)}, None, "workload.network", (3, 16, 16))


def test_a_network_file_and_an_experiment_may_name_an_onnx_model(tmp_path):
    from hwsim.config.experiment import load_experiment
    from hwsim.training.runner import prepare
    c = E.Chain([E.BATCH, 64])
    c.gemm("fc1", 64, 32).act("Sigmoid", "a").gemm("fc2", 32, 10)
    c.save(tmp_path / "digits.onnx", OUT)
    (tmp_path / "net.yaml").write_text("name: digits-onnx\nonnx: digits.onnx\n")
    net = load_network(tmp_path / "net.yaml")
    assert net["name"] == "digits-onnx"
    assert [(x["out_features"], x["in_features"]) for x in net["layers"]] == [(32, 64), (10, 32)]
    acc = Path(__file__).resolve().parents[2] / "configs" / "accelerators" / "cttv2_tile.yaml"
    (tmp_path / "exp.yaml").write_text(
        f"schema_version: 1\naccelerator: {acc}\n"
        "workload: {dataset: {name: digits, limit_train: 20, limit_test: 10}, "
        "network: {onnx: digits.onnx}}\n"
        f"training: {{algorithm: sgd}}\nrun: {{out: {tmp_path / 'run'}, progress: false}}\n")
    prep = prepare(load_experiment(str(tmp_path / "exp.yaml")))
    assert [(s.name, s.out_features, s.in_features) for s in prep.network.layer_shapes()] == \
        [("fc1", 32, 64), ("fc2", 10, 32)]
    # the same network written inline: the same layers (activations included)
    (tmp_path / "inline.yaml").write_text((tmp_path / "exp.yaml").read_text().replace(
        "{onnx: digits.onnx}", "[{linear: 32, activation: sigmoid}, {linear: 10}]"))
    inline = prepare(load_experiment(str(tmp_path / "inline.yaml")))
    assert prep.network.summary() == inline.network.summary()


@pytest.mark.parametrize("ref,fragment", [
    ("{onnx: digits.onnx, sequence: 4}", ":3: workload.network.sequence: unknown key"),
    ("{onnx: digits.onnx, seq: 0}", ":3: workload.network.seq: expected an integer ≥ 1"),
    ("{onnx: lenet.onnx}", ":3: workload.network.onnx: lenet.onnx takes inputs of shape (1, 28, 28)"),
    ("{onnx: nowhere.onnx}", "cannot find 'nowhere.onnx'"),
])
def test_bad_onnx_reference_in_an_experiment(tmp_path, capsys, ref, fragment):
    E.mlp().save(tmp_path / "digits.onnx", OUT)
    E.lenet().save(tmp_path / "lenet.onnx", OUT)
    exp = tmp_path / "exp.yaml"
    exp.write_text("schema_version: 1\nworkload:\n  network: " + ref + "\n"
                   f"training: {{algorithm: sgd}}\nrun: {{out: {tmp_path / 'run'}}}\n")
    assert main(["validate", str(exp)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1, err


# -- what does not map: one line, exit 2 ------------------------------------------------
def _cli_error(capsys, model, *extra):
    rc = main(["trace", "generate", str(model), "--batch", "2", "--steps", "1",
               "--algorithm", "sgd", "-o", str(Path(model).with_suffix(".jsonl.gz")), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(model) in err
    return err


@pytest.mark.parametrize("build,fragments", [
    (lambda c: c.gemm("fc", 8, 8).node("BatchNormalization", "bn", [c.x] + [c.const(f"bn{i}", (8,)) for i in range(4)]),
     ["'/bn/BatchNormalization'", "(BatchNormalization)", "right after a Conv"]),
    (lambda c: c.gemm("fc", 8, 8).node("Mul", "gate", [c.x, "input"]),
     ["'/gate/Mul'", "(Mul)", "product of two activations"]),
    (lambda c: c.gemm("fc", 8, 8).node("Add", "shift", [c.x, c.const("shift", (8,))]),
     ["'/shift/Add'", "(Add)", "adds a constant"]),
    (lambda c: c.gemm("fc", 8, 8).node("Concat", "cls", [c.const("cls", (1, 8)), c.x], axis=0),
     ["'/cls/Concat'", "(Concat)", "constant"]),
    (lambda c: c.gemm("fc", 8, 8).node("LogSoftmax", "ls", axis=1).gemm("fc2", 8, 8),
     ["'/ls/LogSoftmax'", "(LogSoftmax)"]),
    (lambda c: c.gemm("fc", 8, 8).node("Sin", "sin"),
     ["'/sin/Sin'", "(Sin)", "not supported"]),
])
def test_unsupported_op_is_one_line_naming_node_op_and_file(tmp_path, capsys, build, fragments):
    c = E.Chain([E.BATCH, 8])
    build(c)
    err = _cli_error(capsys, c.save(tmp_path / "bad.onnx", [E.BATCH, 8]))
    for f in fragments:
        assert f in err, err


@pytest.mark.parametrize("domain", ["com.microsoft", ""])
def test_unknown_op_is_named_in_any_domain(tmp_path, capsys, domain):
    c = E.Chain([E.BATCH, 8])
    c.gemm("fc", 8, 8)
    c.nodes.append(helper.make_node("FooBar", [c.x], ["/foo/out"], name="/foo/FooBar", domain=domain))
    c.x = "/foo/out"
    m = c.model([E.BATCH, 8])
    if domain:
        m.opset_import.append(helper.make_opsetid(domain, 1))
    import onnx
    onnx.save(m, str(tmp_path / "foo.onnx"))
    err = _cli_error(capsys, tmp_path / "foo.onnx")
    # a custom domain reaches the importer; an unknown standard op fails the onnx checker,
    # whose context line names the node too
    assert ("'/foo/FooBar' (FooBar)" if domain else "Name: /foo/FooBar OpType: FooBar") in err


def test_grouped_conv(tmp_path, capsys):
    c = E.Chain([E.BATCH, 4, 8, 8])
    c.conv("dw", 4, 4, 3, group=4)
    err = _cli_error(capsys, c.save(tmp_path / "dw.onnx", [E.BATCH, 4, 6, 6]))
    assert "'/dw/Conv' (Conv)" in err and "group=4" in err


def test_dynamic_dimension_without_seq(tmp_path, capsys):
    c = E.Chain([E.BATCH, "sequence", 32])
    c.matmul_add("fc1", 32, 8)
    model = c.save(tmp_path / "tok.onnx", [E.BATCH, "sequence", 8])
    err = _cli_error(capsys, model)
    assert "dimension 1 ('sequence') is dynamic" in err and "--seq" in err
    out = tmp_path / "ok.jsonl.gz"
    assert main(["trace", "generate", str(model), "--batch", "2", "--steps", "1",
                 "--algorithm", "sgd", "-o", str(out), "--seq", "4"]) == 0


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file(tmp_path, capsys, cut):
    data = E.lenet().model(OUT).SerializeToString()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(data[:int(len(data) * cut)])
    _cli_error(capsys, bad)


def test_garbage_missing_file_and_missing_package(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(bytes(range(256)) * 4)
    assert "not a readable ONNX model" in _cli_error(capsys, bad)
    _cli_error(capsys, tmp_path / "absent.onnx")
    good = E.mlp().save(tmp_path / "mlp.onnx", OUT)
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)   # onnx not installed
    assert "pip install" in _cli_error(capsys, good)


def test_two_inputs_are_refused(tmp_path):
    from hwsim.errors import ConfigError
    x = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["z"])], "g", [x, y], [z])
    import onnx
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "two.onnx"))
    with pytest.raises(ConfigError, match="2 data input"):
        import_onnx(tmp_path / "two.onnx")
