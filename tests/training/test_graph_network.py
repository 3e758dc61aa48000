"""Networks as graphs: a layer list is the linear special case (the same numbers and the
same op stream as today's Network), wiring and shape errors name file, line and key, the
data movement places tensors by liveness, and the graphs train."""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.config.yamlio import load_yaml_text
from hwsim.errors import ConfigError
from hwsim.training.datasets import load_dataset
from hwsim.training.graph_network import GraphNetwork
from hwsim.training.losses import softmax_cross_entropy
from hwsim.training.network import Network, build_network

from tests.training.test_network import LENET5

RESNET = [{"conv": {"out": 4, "kernel": 3, "padding": 1}, "activation": "relu", "name": "stem"},
          {"conv": {"out": 4, "kernel": 3, "padding": 1}, "name": "c1"},
          {"add": ["stem", "c1"], "activation": "relu", "name": "b1"},
          {"conv": {"out": 8, "kernel": 3, "padding": 1, "stride": 2}, "name": "c2"},
          {"shortcut": {"stride": 2, "out": 8}, "input": "b1", "name": "sc"},
          {"add": ["c2", "sc"], "name": "b2"},
          {"pool": {"kind": "avg", "global": True}},
          {"linear": 10}]


class Record:
    """The operations API as a list of calls."""

    def __init__(self):
        self.ops = []

    def digital(self, kind, n, layer="", phase="digital"):
        self.ops.append(("digital", kind, n, layer, phase))

    def op(self, kind, n, **fields):
        self.ops.append((kind, n, tuple(sorted(fields.items()))))


def _step(net, x, y):
    hw = Record()
    moves = net.step_moves(len(x))
    z = net.forward(x, hw=hw, moves=moves)
    _, g = softmax_cross_entropy(z, y)
    moves.loss(hw)
    net.backward(g, hw=hw, moves=moves)
    moves.update(hw)
    return z, hw.ops, [(la.last_input, la.last_delta) for la in net.analog_layers()]


def test_layer_list_as_a_graph_is_bit_identical():
    """LeNet-5 walked as a DAG: the outputs, every layer's x and d and the op stream (the
    post-processing ops, the move ops with their offsets) equal today's Network's."""
    x = np.random.default_rng(1).normal(size=(3, 1, 28, 28))
    y = np.array([1, 2, 3])
    lst = build_network(LENET5, (1, 28, 28), rng=np.random.default_rng(0))
    gr = build_network(LENET5, (1, 28, 28), rng=np.random.default_rng(0), graph=True)
    assert isinstance(lst, Network) and isinstance(gr, GraphNetwork)
    assert lst.layer_shapes() == gr.layer_shapes()
    za, opa, xda = _step(lst, x, y)
    zb, opb, xdb = _step(gr, x, y)
    assert np.array_equal(za, zb) and opa == opb and len(opa) > 20
    for (xa, da), (xb, db) in zip(xda, xdb):
        assert np.array_equal(xa, xb) and np.array_equal(da, db)


def test_residual_moves_and_liveness():
    """The residual input b1 (after its relu: not fused, it follows an add) is read by c2
    (patches) and through the shortcut view, so it lives until the update; its error
    gets two contributions (c2's transposed MVM and the shortcut): the second is a read
    and a write, and a digital ``add``.  Tensors that are alive at the same time never
    share bytes, and dead ones' bytes are reused (the working set is below the sum)."""
    net = build_network(RESNET, (1, 8, 8), rng=np.random.default_rng(0))
    moves = net.step_moves(2)
    name = {n.name: i for i, n in enumerate(net.nodes)}
    b1 = name["b1.relu"]
    assert moves.store(b1) == ("act", b1) and moves.store(name["sc"]) == ("act", b1)
    life, ts = moves.lifetime, list(moves.lifetime)
    assert life[("act", b1)][1] > life[("err", b1)][0]          # until the update
    for i, a in enumerate(ts):
        for b in ts[i + 1:]:
            apart = (moves.offset[a] + moves.extent[a] <= moves.offset[b]
                     or moves.offset[b] + moves.extent[b] <= moves.offset[a])
            assert apart or life[a][1] < life[b][0] or life[b][1] < life[a][0], (a, b)
    assert moves.working_set < sum(moves.extent[t] for t in ts)
    _, ops, _ = _step(net, np.random.default_rng(1).normal(size=(2, 1, 8, 8)), np.array([0, 1]))
    kinds = [o[1] for o in ops if o[0] == "digital"]
    # two residual adds forward; two error accumulations: the stem's output feeds c1 and
    # the first add, b1's feeds c2 and the shortcut
    assert kinds.count("add") == 2 + 2
    err_b1 = [o for o in ops if o[0] == "move" and dict(o[2])["offset"] == moves.offset[("err", b1)]
              and dict(o[2])["phase"] == "backward"]
    assert [dict(o[2])["access"] for o in err_b1][:3] == ["write", "read", "write"]


def test_wiring_errors_name_file_line_and_key():
    text = ("network:\n"
            "  - {linear: 8, name: a}\n"
            "  - {linear: 8}\n"
            "  - {add: [a, later]}\n"
            "  - {linear: 4, name: later}\n")
    spec = load_yaml_text(text, name="net.yaml")["network"]
    with pytest.raises(ConfigError) as info:
        build_network(spec, (8,), rng=np.random.default_rng(0), key="network")
    assert info.value.one_line().startswith("net.yaml:4: network[2].add[1]: 'later' is not")
    text = "network:\n  - {linear: 8}\n  - {linear: 4, input: nowhere}\n"
    spec = load_yaml_text(text, name="net.yaml")["network"]
    with pytest.raises(ConfigError) as info:
        build_network(spec, (8,), rng=np.random.default_rng(0), key="network")
    assert info.value.one_line().startswith("net.yaml:3: network[1].input:")


@pytest.mark.parametrize("spec,shape,key,msg", [
    ([{"linear": 8, "name": "a"}, {"linear": 4}, {"add": ["a", "fc1"]}], (8,),
     "workload.network[2].add", "identical shapes"),
    ([{"attention": {"heads": 3, "dim": 8}}], (4, 8), "workload.network[0].attention.heads",
     "must divide"),
    ([{"reshape": [3, -1]}], (8,), "workload.network[0].reshape", "cannot reshape"),
    ([{"patches": {"size": 3}}], (1, 8, 8), "workload.network[0].patches.size", "divisible"),
    ([{"softmax": {"axis": 0, "causal": True}}], (4, 4), "workload.network[0].softmax.causal",
     "last axis"),
    ([{"pool": {"kind": "max"}}], (1, 8, 8), "workload.network[0].pool", "window size"),
    ([{"add": ["input"]}], (8,), "workload.network[0].add", "two operands"),
    ([{"linear": 8, "input": "x", "name": "x"}], (8,), "workload.network[0].input", "earlier"),
    ([{"linear": 8, "name": "a"}, {"linear": 4, "input": "input"}], (8,),
     "workload.network[0].linear", "never read"),
])
def test_graph_spec_errors(spec, shape, key, msg):
    with pytest.raises(ConfigError) as info:
        build_network(spec, shape, rng=np.random.default_rng(0))
    assert info.value.key == key and msg in info.value.message


def test_names_refer_to_an_items_output():
    """``a`` names the item's output, after its activation; block parts are BLOCK.part."""
    net = build_network([{"linear": 8, "activation": "relu", "name": "a"}, {"linear": 8},
                         {"add": ["a", "fc1"]}], (8,), rng=np.random.default_rng(0))
    assert net.nodes[-1].inputs == ["a.relu", "fc1"]
    enc = build_network([{"encoder": {"heads": 2, "dim": 8, "mlp": 16}}], (5, 8),
                        rng=np.random.default_rng(0))
    assert [s.name for s in enc.layer_shapes()] == [
        "encoder1.attn.q", "encoder1.attn.k", "encoder1.attn.v", "encoder1.attn.out",
        "encoder1.fc1", "encoder1.fc2"]
    assert all(s.vectors_per_sample == 5 for s in enc.layer_shapes())


def test_a_decoder_is_causal():
    """Changing a later token leaves the outputs of the earlier tokens unchanged."""
    net = build_network([{"embedding": {"vocab": 7, "dim": 8, "positions": True}},
                         {"decoder": {"heads": 2, "dim": 8, "mlp": 16}}], (5,),
                        rng=np.random.default_rng(0), input_dtype="int")
    ids = np.array([[1, 2, 3, 4, 5]])
    other = ids.copy()
    other[0, 3:] = [6, 0]
    a, b = net.forward(ids, train=False), net.forward(other, train=False)
    assert np.allclose(a[0, :3], b[0, :3]) and not np.allclose(a[0, 3:], b[0, 3:])


@pytest.mark.parametrize("spec", ["resnet", "vit"])
def test_graphs_learn_digits_with_float_sgd(spec):
    """Three epochs of plain SGD on 600 digits: far above chance (10 %) on the test split."""
    ds = load_dataset({"name": "digits", "flatten": False})
    x, y = ds.train_x[:600], ds.train_y[:600]
    head = [{"pool": {"kind": "max", "size": 2}}, {"flatten": True}, {"linear": 10}]
    items = RESNET[:-2] + head if spec == "resnet" else [
        {"patches": {"size": 2}}, {"linear": 8}, {"positions": {}},
        {"encoder": {"heads": 2, "dim": 8, "mlp": 16}}, {"layernorm": {}}, {"flatten": True},
        {"linear": 10}]
    net = build_network(items, (1, 8, 8), rng=np.random.default_rng(0))
    for _ in range(3):
        for k in range(0, len(x), 10):
            z = net.forward(x[k:k + 10])
            net.backward(softmax_cross_entropy(z, y[k:k + 10])[1])
            net.sgd_step(0.1)
    assert net.evaluate(ds.test_x, ds.test_y)[1] > 0.5


@pytest.mark.parametrize("algorithm", ["sgd", "c-ttv2"])
def test_graph_run_resumes_to_the_uninterrupted_run(tmp_path, algorithm):
    """A small transformer trained through the runner (timing on) and checkpointed after
    epoch 1 resumes to the same report as the uninterrupted two-epoch run."""
    from hwsim.config.experiment import ExperimentConfig
    from hwsim.config.params import build_section, replace

    from tests.training.test_runner import ROOT, _strip, run_experiment

    def cfg(out, epochs):
        data = {"name": "g", "accelerator": str(ROOT / "configs" / "accelerators" /
                                                "cttv2_tile_32.yaml"),
                "workload": {"dataset": {"name": "digits", "flatten": False, "limit_train": 40,
                                         "limit_test": 20},
                             "network": [{"patches": {"size": 4}}, {"linear": 8},
                                         {"positions": {}},
                                         {"encoder": {"heads": 2, "dim": 8, "mlp": 8}},
                                         {"flatten": True}, {"linear": 10}]},
                "training": {"algorithm": algorithm, "lr": 0.1, "batch": 10, "epochs": epochs},
                "run": {"seed": 3, "out": str(out), "progress": False}}
        return replace(build_section(ExperimentConfig, data), file=str(ROOT / "configs" / "x.yaml"))
    full = run_experiment(cfg(tmp_path / "full", 2))
    run_experiment(cfg(tmp_path / "part", 1))
    resumed = run_experiment(cfg(tmp_path / "part", 2), resume=True)
    assert _strip(resumed) == _strip(full)
