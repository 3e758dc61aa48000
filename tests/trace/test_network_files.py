"""The shipped network files of configs/networks: the large graph networks build (shapes
only) with the weight counts of their papers, counted by hand below; ResNet-32 as a graph
keeps the analog layers of the shipped traces; the LSTM's digital work is in the op
stream with the counts its file derives."""
from collections import Counter
from pathlib import Path

import pytest

from hwsim.config.yamlio import load_yaml
from hwsim.trace.format import Step, TraceReader
from hwsim.training.network import build_network
from hwsim.training.trace_generate import generate_trace, load_network

ROOT = Path(__file__).resolve().parents[2]
NETS = ROOT / "configs" / "networks"


def _net(name):
    d = load_yaml(str(NETS / f"{name}.yaml"))
    return build_network(d["network"], tuple(d["input_shape"]), shapes_only=True,
                         key="network", input_dtype=d.get("input_dtype", "float"))


def _weights(net):
    return sum(s.out_features * s.in_features for s in net.layer_shapes())


def _resnet18(stem, classes):
    """Conv weights C_out·C_in·k² of He et al. Table 1 (18-layer), 1×1 projections where a
    stage doubles the channels, + the 512·classes classifier."""
    w = stem
    c_in = 64
    for c in (64, 128, 256, 512):
        w += c * c_in * 9 + 3 * c * c * 9 + (c * c_in if c != c_in else 0)
        c_in = c
    return w + 512 * classes


def test_resnet18_weights():
    assert _weights(_net("resnet18_imagenet")) == _resnet18(64 * 3 * 49, 1000) == 11_678_912
    assert _weights(_net("resnet18_cifar10")) == _resnet18(64 * 3 * 9, 10)
    assert _net("resnet18_imagenet").output_shape == (1000,)


@pytest.mark.parametrize("name,extra,out", [
    ("vit_b16", 768 * 768 + 768 * 1000, (1000,)),        # patch embedding + head
    ("bert_base", 768 * 768 + 768 * 2, (2,)),             # pooler + classifier
    ("gpt2_small", 768 * 50257, (128, 50257)),            # untied LM head
])
def test_transformer_weights(name, extra, out):
    # one block: q, k, v, out (4·d²) + the MLP (2·d·4d), d = 768, 12 blocks (the papers'
    # ViT-Base / BERT-base / GPT-2 small: 86 M, 110 M with the 23 M embedding table,
    # 117 M with the tied 38 M table)
    net = _net(name)
    assert _weights(net) == 12 * (4 * 768 ** 2 + 2 * 768 * 3072) + extra
    assert net.output_shape == out


def test_vit_attention_digital_work():
    # per sample and block: scores and context 12 heads · 196 · 196 · 64 MACs each,
    # softmax 12 · 196² elements (196 = (224/16)² patch tokens)
    ops = _net("vit_b16").digital_ops(1)
    assert ops[("block1.attn.scores", "forward")] == 12 * 196 * 196 * 64
    assert ops[("block1.attn.context", "forward")] == 12 * 196 * 196 * 64
    assert ops[("block1.attn.softmax", "forward")] == 12 * 196 * 196


def test_resnet32_graph_keeps_the_analog_layers_of_the_shipped_traces():
    header = TraceReader(ROOT / "traces" / "resnet32_cifar10_sgd_step.jsonl.gz").header
    assert load_network(NETS / "resnet32_cifar10.yaml")["layers"] == header["network"]
    net = _net("resnet32_cifar10")
    kinds = {n.name: n.kind for n in net.nodes}
    # 15 residual adds: 5 per stage of 16·32², 32·16², 64·8² elements per sample, B = 2
    adds = sorted(n for (nm, ph), n in net.digital_ops(2).items()
                  if kinds[nm] == "add" and ph == "forward")
    assert adds == sorted([2 * 16 * 1024] * 5 + [2 * 32 * 256] * 5 + [2 * 64 * 64] * 5)


def test_lstm_digital_work_in_the_trace(tmp_path):
    t = generate_trace(NETS / "lstm.yaml", 4, 1, "sgd", out=tmp_path / "l.jsonl.gz")
    c = Counter()
    for o in TraceReader(t):
        if not isinstance(o, Step) and o.op == "digital":
            c[(o.layer, o.phase, dict(o.meta)["kind"])] += o.n
    T, H, B = 28, 128, 4
    assert c[("lstm1", "forward", "mult")] == B * 3 * H * T        # f·c, i·g, o·tanh(c)
    assert c[("lstm1", "forward", "activation")] == B * T * (4 * H + H)   # gates + tanh(c)
    assert c[("lstm1", "backward", "mult")] == B * 7 * H * T
    assert c[("lstm1", "backward", "activation_grad")] == B * 5 * H * T
