"""A network named by reference, ``{onnx: model.onnx, seq: N}``, in a network file or an
experiment's ``workload.network``; the path is relative to the file that names it."""
from __future__ import annotations

from hwsim.config.experiment import resolve_path
from hwsim.config.params import build_section, param, section
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import ConfigError
from hwsim.onnx.mapping import import_onnx


@section("onnx", "An ONNX model as the network")
class OnnxReference:
    onnx: str = param(desc="the .onnx file (relative to the file naming it, then the "
                      "shipped configs/networks)")
    seq: int | None = param(None, desc="length of every dynamic non-batch input "
                            "dimension (tokens)", lo=1)
    name: str = param("", desc="network name in reports (default: the file's stem)")
    source: str = param("", desc="where the model comes from (default: the file's producer)")


def import_reference(ref: dict, base_file: str | None, key: str,
                     seq: int | None = None) -> dict:
    """The network-file mapping of the model ``ref`` names; ``seq`` overrides ``ref``'s,
    ``key`` is where ``ref`` sits (for errors)."""
    r = build_section(OnnxReference, ref, key)
    net = import_onnx(resolve_path(r.onnx, base_file, "networks"), seq or r.seq)
    return {**net, **{k: v for k, v in (("name", r.name), ("source", r.source)) if v}}


def network_spec(ref: dict, base_file: str | None, key: str, input_shape: tuple) -> list:
    """The layer list of the model ``ref`` names, for a data set of ``input_shape``."""
    net = import_reference(ref, base_file, key)
    where = dict(file=file_of(ref) or base_file, line=line_of(ref, "onnx"),
                 key=f"{key}.onnx" if key else "onnx")
    if "network" not in net:
        raise ConfigError(f"{ref['onnx']} can be traced (hwsim trace generate) but not "
                          f"trained: {net['trace_only'][0]}", **where)
    if tuple(net["input_shape"]) != tuple(input_shape):
        raise ConfigError(f"{ref['onnx']} takes inputs of shape {tuple(net['input_shape'])}, "
                          f"the data set gives {tuple(input_shape)}", **where)
    return net["network"]
