"""The graph item kinds of a network list, as declared sections (layer 5).

A network list item is one node of a DAG (``docs/graph_format.md`` of the issue, the
contract): it reads the previous item's output unless it names its operand with
``input: NAME`` (``input`` is the network input); multi-operand kinds list their
operands in their own key.  These sections are what ``hwsim describe network.<kind>``
and ``hwsim schema network`` show; :mod:`hwsim.training.network_spec` puts them in
the item section and :mod:`hwsim.training.graph` checks the wiring and the shapes.
"""
from __future__ import annotations

from hwsim.config.params import param, section


@section("network.shortcut", "ResNet option-A identity shortcut (He et al. 2016, §4.2): "
         "subsample H, W by the stride, zero-pad channels; parameter-free")
class ShortcutSpec:
    out: int = param(desc="output channels (≥ input channels; the rest are zeros)", lo=1)
    stride: int = param(1, desc="subsampling of H and W", lo=1)


@section("network.concat", "Concatenation of several outputs along one per-sample axis")
class ConcatSpec:
    inputs: tuple[str, ...] = param(desc="names of the operands, in order")
    axis: int = param(0, desc="per-sample axis (negative counts from the end)")


@section("network.layernorm", "Layer normalisation over the last dimension with a learnable "
         "gain and bias (Ba, Kiros & Hinton 2016), digital")
class LayerNormSpec:
    eps: float = param(1.0e-5, desc="added to the variance", lo=0, lo_open=True)


@section("network.softmax", "Softmax along one axis, optionally causal (digital)")
class SoftmaxSpec:
    axis: int = param(-1, desc="per-sample axis")
    causal: bool = param(False, desc="mask j > i on the last two axes (decoder attention)")


@section("network.matmul", "Product of two activations per sample (digital; batched leading "
         "dims): (…, M, K) × (…, K, N) → (…, M, N)")
class MatmulSpec:
    inputs: tuple[str, ...] = param(desc="[A, B]: the two operands")
    transpose_b: bool = param(False, desc="use Bᵀ (…, N, K) → (…, K, N)")
    scale: float = param(1.0, desc="factor on the product (1/√d_head for attention scores)")


@section("network.embedding", "Lookup of integer token ids in a digital table: (T,) → (T, D)")
class EmbeddingSpec:
    vocab: int = param(desc="table rows (token ids 0 … vocab−1)", lo=1)
    dim: int = param(desc="features per token", lo=1)
    positions: bool = param(False, desc="add a learned (T, D) position table")


@section("network.positions", "A learned (T, D) position table added to a (T, D) input "
         "(ViT's position embedding for patch tokens; digital, trained like the biases)")
class PositionsSpec:
    std: float = param(0.02, desc="initial entries N(0, std²) (GPT-2/ViT initialisation)",
                       lo=0)


@section("network.patches", "ViT patchify (Dosovitskiy et al. 2021): (C, H, W) → "
         "(H/P·W/P, C·P²) tokens, each patch channel-major")
class PatchesSpec:
    size: int = param(desc="patch side P (must divide H and W)", lo=1)


@section("network.mean", "Mean over one per-sample axis (token mean)")
class MeanSpec:
    axis: int = param(0, desc="per-sample axis")


@section("network.select", "One index of one per-sample axis (e.g. the CLS token)")
class SelectSpec:
    axis: int = param(0, desc="per-sample axis")
    index: int = param(0, desc="index along it (negative counts from the end)")


@section("network.attention", "Multi-head self-attention block on (T, d): expands to "
         "BLOCK.q/k/v (analog linear), scores (digital matmul), softmax, context "
         "(digital matmul) and BLOCK.out (analog linear)")
class AttentionSpec:
    heads: int = param(desc="attention heads h (must divide dim)", lo=1)
    dim: int = param(desc="model width d (the input's last dimension)", lo=1)
    causal: bool = param(False, desc="causal mask on the scores")
    bias: bool = param(True, desc="digital biases of the four linears")


@section("network.encoder", "Pre-norm transformer block (Xiong et al. 2020; ViT): "
         "x + attn(ln1(x)), then + fc2(act(fc1(ln2(·))))")
class EncoderSpec:
    heads: int = param(desc="attention heads", lo=1)
    dim: int = param(desc="model width d", lo=1)
    mlp: int = param(desc="hidden width of the MLP", lo=1)
    causal: bool = param(False, desc="causal attention (decoder-only)")
    activation: str = param("gelu", desc="MLP activation",
                            choices=("gelu", "relu", "tanh", "sigmoid"))


@section("network.decoder", "GPT-style decoder-only block: an encoder block with causal "
         "attention")
class DecoderSpec:
    heads: int = param(desc="attention heads", lo=1)
    dim: int = param(desc="model width d", lo=1)
    mlp: int = param(desc="hidden width of the MLP", lo=1)
    causal: bool = param(True, desc="causal attention (always true for a decoder)")
    activation: str = param("gelu", desc="MLP activation",
                            choices=("gelu", "relu", "tanh", "sigmoid"))


#: the graph item kinds (beyond today's linear, conv, pool, flatten) and their sections
GRAPH_SECTIONS = {"shortcut": ShortcutSpec, "concat": ConcatSpec,
                  "layernorm": LayerNormSpec, "softmax": SoftmaxSpec, "matmul": MatmulSpec,
                  "embedding": EmbeddingSpec, "positions": PositionsSpec,
                  "patches": PatchesSpec, "mean": MeanSpec,
                  "select": SelectSpec, "attention": AttentionSpec, "encoder": EncoderSpec,
                  "decoder": DecoderSpec}
#: kinds that expand into several nodes
BLOCKS = ("attention", "encoder", "decoder")
#: keys naming operands: (item key, its field holding the names or None for the list itself)
OPERAND_KEYS = {"add": None, "concat": "inputs", "matmul": "inputs"}
