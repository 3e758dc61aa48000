"""The items of a network list, as declared sections (layer 5).

One item of ``workload.network`` (or of a network file's ``network``) is a
:class:`LayerSpec`: exactly one kind key — ``linear``, ``conv``, ``pool``, ``flatten``
or a graph kind of :mod:`hwsim.training.graph_spec` (``add``, ``layernorm``,
``attention``, …) — or only ``activation``, plus ``activation``, ``bias``, ``init``,
``bias_init``, ``analog_bias``, ``name`` and ``input`` (the operand, default the previous item).  The
declarations below are what validation, ``hwsim describe network.layer`` and
``hwsim schema network`` read; :func:`parse_item` adds the checks that relate two
keys of one item.  Shapes (does a kernel fit, is a flatten missing) need the input
shape and are checked by :func:`hwsim.training.network.build_network`.
"""
from __future__ import annotations

from hwsim.config.params import build_section, param, section
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import ConfigError
from hwsim.training.graph_spec import (AttentionSpec, ConcatSpec, DecoderSpec, EmbeddingSpec,
                                       EncoderSpec, GRAPH_SECTIONS, LayerNormSpec, MatmulSpec,
                                       MeanSpec, PatchesSpec, PositionsSpec, SelectSpec, ShortcutSpec,
                                       SoftmaxSpec)
from hwsim.training.layers_conv import POOLS
from hwsim.training.layers_dense import ACTIVATIONS

INITS = ("xavier", "lecun", "torch")
BIAS_INITS = ("zero", "torch")
_TORCH = ("PyTorch nn.Linear/nn.Conv2d reset_parameters: kaiming_uniform_(a=√5) ⇒ "
          "U(±1/√fan_in) weights, bias U(±1/√fan_in)")
#: today's layer-list kinds (a list of these alone, unwired, is the linear special case)
LIST_KINDS = ("linear", "conv", "pool", "flatten")
KINDS = LIST_KINDS + ("add", "reshape", "transpose") + tuple(GRAPH_SECTIONS)


@section("network.conv", "A 2-D convolution on the crossbar (im2col: one MVM per output pixel)")
class ConvSpec:
    out: int = param(desc="output channels (rows of W)", lo=1)
    kernel: int = param(desc="square kernel size k (W has C_in·k² columns)", lo=1)
    stride: int = param(1, desc="stride", lo=1)
    padding: int = param(0, desc="zero padding on every side", lo=0)


@section("network.pool", "Pooling on the digital unit")
class PoolSpec:
    size: int | None = param(None, desc="window size (required unless global)", lo=1)
    kind: str = param("max", desc="pooling function", choices=tuple(POOLS))
    stride: int | None = param(None, desc="stride (default: the window size)", lo=1)
    global_: bool = param(False, key="global", desc="pool over all of H, W: (C, H, W) → (C,)")


@section("network.layer", "One item of a network layer list")
class LayerSpec:
    linear: int | None = param(None, desc="dense analog layer: number of outputs", lo=1)
    conv: ConvSpec | None = param(None, desc="convolution (analog)")
    pool: PoolSpec | None = param(None, desc="pooling (digital)")
    flatten: bool | None = param(None, desc="true: flatten (C, H, W) to a vector")
    activation: str | None = param(None, desc="activation after the layer, or alone",
                                   choices=tuple(ACTIVATIONS) + ("none",))
    bias: bool | None = param(None, desc="digital bias of a linear/conv layer (default true)")
    init: str | None = param(None, desc="initial weights of a linear/conv layer (default "
                             "xavier; torch: U(±1/√fan_in))", choices=INITS, cite=_TORCH)
    bias_init: str | None = param(None, desc="initial bias of a linear/conv layer (default "
                                  "zero; torch: U(±1/√fan_in))", choices=BIAS_INITS, cite=_TORCH)
    analog_bias: bool | None = param(None, desc="linear layer: the bias as one more crossbar "
                                     "column driven by a constant 1 (default false: digital "
                                     "bias)", cite="IBM aihwkit 1.1.0 AnalogLinear(bias=True) "
                                     "with rpu_config.mapping.digital_bias = False")
    name: str | None = param(None, desc="layer name (default fc1, conv1, … in order; digital "
                             "nodes <kind><k>, e.g. add1)")
    input: str | None = param(None, desc="name of the operand (default: the previous item; "
                              "'input' is the network input)")
    add: tuple[str, ...] | None = param(None, desc="[A, B]: elementwise sum (residual), digital")
    shortcut: ShortcutSpec | None = param(None, desc="option-A identity shortcut (digital)")
    concat: ConcatSpec | None = param(None, desc="concatenation (digital)")
    layernorm: LayerNormSpec | None = param(None, desc="layer normalisation (digital)")
    softmax: SoftmaxSpec | None = param(None, desc="softmax (digital)")
    matmul: MatmulSpec | None = param(None, desc="product of two activations (digital)")
    embedding: EmbeddingSpec | None = param(None, desc="token-id lookup (digital table)")
    reshape: tuple[int, ...] | None = param(None, desc="new per-sample shape (-1 once)")
    transpose: tuple[int, ...] | None = param(None, desc="permutation of the per-sample axes")
    positions: PositionsSpec | None = param(None, desc="learned position table added (digital)")
    patches: PatchesSpec | None = param(None, desc="ViT patchify (digital, data movement)")
    mean: MeanSpec | None = param(None, desc="mean over an axis (digital)")
    select: SelectSpec | None = param(None, desc="one index of an axis (data movement)")
    attention: AttentionSpec | None = param(None, desc="multi-head attention block")
    encoder: EncoderSpec | None = param(None, desc="pre-norm transformer encoder block")
    decoder: DecoderSpec | None = param(None, desc="decoder-only transformer block")

    @property
    def kind(self) -> str | None:
        return next((k for k in KINDS if getattr(self, k) is not None), None)


def spec_error(msg, container, k, path, where=None):
    """A :class:`ConfigError` at ``container[k]`` (or where ``where(path)`` says)."""
    file, line = file_of(container), line_of(container, k)
    if file is None and where is not None:
        file, line = where(path)
    return ConfigError(msg, file=file, line=line, key=path)


def parse_item(spec, i: int, key: str = "workload.network", where=None) -> LayerSpec:
    """Item ``i`` of a layer list as a :class:`LayerSpec`; errors name ``key[i]...``.

    ``where(key_path) -> (file, line)`` locates errors when the list is not YAML read
    by :func:`hwsim.config.yamlio.load_yaml`."""
    path = f"{key}[{i}]"
    item = spec[i]
    if not isinstance(item, dict):
        raise spec_error(f"expected a mapping like {{linear: 32}}, got {item!r}", spec, i, path, where)
    try:
        s = build_section(LayerSpec, item, path)
    except ConfigError as exc:
        if exc.file is None and where is not None:
            exc.file, exc.line = where(exc.key or path)
        raise
    kinds = [k for k in KINDS if getattr(s, k) is not None]
    if len(kinds) > 1:
        raise spec_error(f"one layer per item; got {' and '.join(kinds)}", spec, i, path, where)
    if not kinds and s.activation is None:
        raise spec_error(f"expected one of {', '.join(KINDS)} or activation", spec, i, path,
                         where)
    for k in ("bias", "init", "bias_init"):
        if getattr(s, k) is not None and s.kind not in ("linear", "conv"):
            raise spec_error("only linear and conv layers take this key", item, k, f"{path}.{k}",
                        where)
    if s.analog_bias is not None and s.kind != "linear":
        raise spec_error("analog_bias is a linear layer's (conv: not modelled)", item,
                         "analog_bias", f"{path}.analog_bias", where)
    if s.analog_bias and s.bias is False:
        raise spec_error("analog_bias needs the layer's bias (bias: false here)", item,
                         "analog_bias", f"{path}.analog_bias", where)
    if s.bias_init is not None and s.bias is False:
        raise spec_error("a layer without a bias takes no bias_init", item, "bias_init",
                         f"{path}.bias_init", where)
    if s.flatten is False:
        raise spec_error("expected true, got False", item, "flatten", f"{path}.flatten", where)
    if s.kind is None and s.activation == "none":
        raise spec_error("an activation-only item needs a function name", item, "activation",
                    f"{path}.activation", where)
    for k in ("name", "input"):
        if getattr(s, k) is not None and not getattr(s, k):
            raise spec_error("expected a non-empty string, got ''", item, k, f"{path}.{k}", where)
    if s.pool is not None:
        if s.pool.size is None and not s.pool.global_:
            raise spec_error("expected a window size (or global: true)", item, "pool",
                             f"{path}.pool", where)
        if s.pool.global_ and (s.pool.size is not None or s.pool.stride is not None):
            raise spec_error("a global pool takes no size or stride", item["pool"], "global",
                             f"{path}.pool.global", where)
    if s.add is not None and len(s.add) != 2:
        raise spec_error(f"expected two operands [A, B], got {len(s.add)}", item, "add",
                         f"{path}.add", where)
    if s.matmul is not None and len(s.matmul.inputs) != 2:
        raise spec_error(f"expected two operands [A, B], got {len(s.matmul.inputs)}",
                         item["matmul"], "inputs", f"{path}.matmul.inputs", where)
    if s.concat is not None and len(s.concat.inputs) < 2:
        raise spec_error("expected at least two operands", item["concat"], "inputs",
                         f"{path}.concat.inputs", where)
    if s.input is not None and s.kind in ("add", "concat", "matmul"):
        raise spec_error(f"{s.kind} names its operands in its own key, not in 'input'", item,
                         "input", f"{path}.input", where)
    if s.decoder is not None and not s.decoder.causal:
        raise spec_error("a decoder is causal (use encoder with causal: false)", item["decoder"],
                         "causal", f"{path}.decoder.causal", where)
    return s


def is_layer_list(items) -> bool:
    """True for today's linear special case: only list kinds, no ``input`` wiring (such a
    list builds the :class:`~hwsim.training.network.Network` it always built)."""
    return all(s.input is None and (s.kind is None or s.kind in LIST_KINDS)
               and not (s.pool is not None and s.pool.global_) for s in items)


def parse_layers(spec, key: str = "workload.network", where=None) -> tuple[LayerSpec, ...]:
    """Every item of a layer list (a non-empty list) as a :class:`LayerSpec`."""
    if not isinstance(spec, (list, tuple)) or not spec:
        raise spec_error(f"expected a non-empty list of layers, got {spec!r}", spec, None, key, where)
    return tuple(parse_item(spec, i, key, where) for i in range(len(spec)))


@section("network", "A network file (configs/networks/*.yaml): a layer list, or shapes only")
class NetworkFile:
    name: str = param("", desc="name used in traces (default: the file name)")
    source: str = param("", desc="where the network comes from")
    input_shape: tuple[int, ...] = param((), desc="shape of one input sample, e.g. [3, 32, 32] "
                                         "(with network)")
    input_dtype: str = param("float", desc="'int': token ids for an embedding first node",
                             choices=("float", "int"))
    network: tuple[LayerSpec, ...] = param((), desc="layers, first to last")
    layers: tuple[dict, ...] = param((), desc="shapes only: {name, kind, out_features, "
                                     "in_features, vectors_per_sample} per analog layer")


def layer_sections() -> dict:
    """The sections of a layer list, for ``hwsim describe`` / ``hwsim schema``."""
    return {"network": NetworkFile, "network.layer": LayerSpec, "network.conv": ConvSpec,
            "network.pool": PoolSpec, **{f"network.{k}": v for k, v in GRAPH_SECTIONS.items()}}
