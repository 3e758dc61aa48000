"""A network named by reference, ``{onnx: model.onnx, seq: N}``, in a network file or an
experiment's ``workload.network``; the path is relative to the file that names it."""
from __future__ import annotations

from hwsim.config.experiment import resolve_path
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import ConfigError
from hwsim.onnx.mapping import import_onnx

KEYS = ("onnx", "seq")


def import_reference(ref: dict, base_file: str | None, key: str, seq: int | None = None,
                     also: tuple = ()) -> dict:
    """The network-file mapping of the model ``ref`` names (``seq`` overrides ``ref``'s);
    ``also``: further keys the caller reads from ``ref``.  ``key``: where ``ref`` sits."""
    file = file_of(ref) or base_file
    known = KEYS + tuple(also)
    for k in ref:
        if k not in known:
            raise ConfigError(f"unknown key (known keys: {', '.join(known)})", file=file,
                              line=line_of(ref, k), key=_join(key, k))
    path, n = ref.get("onnx"), ref.get("seq") if seq is None else seq
    if not isinstance(path, str) or not path:
        raise ConfigError(f"expected the path of an .onnx file, got {path!r}", file=file,
                          line=line_of(ref, "onnx"), key=_join(key, "onnx"))
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"expected an integer ≥ 1, got {n!r}", file=file,
                          line=line_of(ref, "seq"), key=_join(key, "seq"))
    return import_onnx(resolve_path(path, base_file, "networks"), n)


def network_spec(ref: dict, base_file: str | None, key: str, input_shape: tuple) -> list:
    """The layer list of the model ``ref`` names, for a data set of ``input_shape``."""
    net = import_reference(ref, base_file, key)
    file = file_of(ref) or base_file
    if "network" not in net:
        raise ConfigError(f"{ref['onnx']}: its per-token linear layers can be traced "
                          f"(hwsim trace generate) but not trained: graph networks are not "
                          f"in hwsim yet", file=file, line=line_of(ref, "onnx"), key=_join(key, "onnx"))
    if tuple(net["input_shape"]) != tuple(input_shape):
        raise ConfigError(f"{ref['onnx']} takes inputs of shape {tuple(net['input_shape'])}, "
                          f"the data set gives {tuple(input_shape)}", file=file,
                          line=line_of(ref, "onnx"), key=_join(key, "onnx"))
    return net["network"]


def _join(key: str, sub: str) -> str:
    return f"{key}.{sub}" if key else sub
