"""Checks that need more than one key (layer 1): references and size budgets.

The declared ranges of :mod:`hwsim.config.params` check each value alone.  This
module adds what relates a file to others or to the machine it would build:

* :func:`check_references`, :func:`located` — the technology table and the device an
  accelerator names exist and are valid; a name that resolves to nothing is an error
  at the accelerator's own ``file:line: device`` (or ``technology``), not a bare name.
* :func:`check_size` — an estimate of what a run would build, refused over a stated
  budget unless ``allow_large`` (``--allow-large``, ``run.allow_large``): the number of
  components the tile template elaborates to, and the memory of the device arrays
  and mini-batch activations of a network.

``hwsim validate`` and ``hwsim run`` call the same functions (through
:func:`hwsim.config.accelerator.accelerator_from_data` and
:func:`hwsim.training.runner.prepare`), so what one refuses the other refuses.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from hwsim.config.blocks import BLOCKS
from hwsim.config.technology import load_technology
from hwsim.config.yamlio import file_of, line_of, load_yaml
from hwsim.errors import ConfigError

#: Most tiles elaborated without ``--allow-large``.  Measured (cttv2_tile, 6 components
#: per tile): 4096 tiles elaborate in 1.3 s and 91 MB; the allowed maximum of 65536
#: took 112 s and 4 GB for a 6-tile network (issue 14) — linear in the tile count.
TILE_BUDGET = 8192
#: Most bytes of device state and activations a run may allocate without ``--allow-large``.
MEMORY_BUDGET = 4 << 30
#: Bytes of state per device of one array: w, b_max, b_min, dw_up, dw_down, p_up, p_down,
#: reference, write noise (float64 each), the stuck mask, optional decay/diffusion rates
#: and pulse counter (hwsim.physics.device_array.DeviceArray) — 128 B bounds them all.
BYTES_PER_DEVICE = 128
#: Bytes per activation element kept for one mini-batch: the input cache, the output and
#: its gradient of every analog layer (3 float64 each).
BYTES_PER_ACTIVATION = 24
_MISSING = ("file not found", "technology table file not found")


def located(exc: ConfigError, file: str | None, key: str, line: int | None = None):
    """``exc`` (from loading a referenced file or name) as an error of the referring file:
    an unknown name or a missing file is reported at ``file:line: key``; an error inside
    an existing referenced file keeps its own file and line."""
    if exc.file is not None and exc.message not in _MISSING:
        return exc
    what = f"{exc.message}: {exc.file}" if exc.file else exc.message
    if line is None and file and os.path.isfile(file):
        try:                      # the line of the key in the referring file, if it has one
            line = line_of(load_yaml(file), key)
        except ConfigError:
            line = None
    return ConfigError(what, file=file or None, line=line, key=key)


def line_in(file: str | None, *keys) -> int | None:
    """The line of the nested key ``keys`` in a YAML file (None if absent or unreadable):
    for errors about a value whose config object no longer carries its line."""
    if not file or not os.path.isfile(file):
        return None
    try:
        node = load_yaml(file)
        for k in keys[:-1]:
            node = node[k]
        return line_of(node, keys[-1]) if isinstance(node, dict) and keys[-1] in node else None
    except (ConfigError, KeyError, TypeError, IndexError):
        return None


def check_references(cfg, data, path: str) -> None:
    """Load the technology table that accelerator ``cfg`` names (as a run does); an
    unknown name or a missing file is an error at the accelerator's ``technology`` key.
    (The device is checked where its loader, :mod:`hwsim.devices`, may be imported:
    :func:`hwsim.training.runner.prepare` and :func:`hwsim.api.validate`, with
    :func:`located`.)"""
    base = os.path.dirname(path) if path and os.path.exists(path) else None
    try:
        load_technology(cfg.technology, base_dir=base)
    except ConfigError as exc:
        raise located(exc, file_of(data, path), "technology", line_of(data, "technology")) \
            from None


#: The kinds of file ``hwsim validate`` reads, and the top-level keys that identify each
#: (a file is the first kind with one of its keys; else an accelerator).
FILE_KINDS = {"sweep": ("axes", "zip", "constraints", "objectives", "base"),
              "experiment": ("workload", "training", "run"),
              "network": ("network", "layers", "input_shape"),
              "device": ("model", "dw_min", "w_max", "w_min"),
              "technology": ("entries", "scaling", "extends", "constants"),
              "accelerator": ()}


def detect_kind(data, path: str = "") -> str:
    """The kind of a file's YAML data (see :data:`FILE_KINDS`)."""
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping (an accelerator, experiment, sweep, network, "
                          "device or technology file)", file=path, line=getattr(data, "line", None))
    for kind, keys in FILE_KINDS.items():
        if any(k in data for k in keys):
            return kind
    return "accelerator"


@dataclass(frozen=True)
class SizeEstimate:
    """What a run would build: components, device-state and activation bytes."""
    tiles: int
    components: int
    device_bytes: int = 0
    activation_bytes: int = 0

    @property
    def memory_bytes(self) -> int:
        return self.device_bytes + self.activation_bytes


def estimate_size(acc, layers=(), roles: int = 1, batch: int = 1) -> SizeEstimate:
    """Estimate of a run: ``acc`` an accelerator config; ``layers`` of
    ``(out_features, in_features, vectors_per_sample)``; ``roles`` arrays per layer."""
    # the tile template's instances, counted from its one table (config/blocks.py): one
    # per chip block, one per tile or per bank of shared tiles; plus explicit components
    components = len(acc.components)
    for b in BLOCKS:
        if b.params_of(acc) is not None:
            components += (1 if b.scope == "chip"
                           else -(-acc.tile.count // b.tiles_per_instance(acc)))
    devices = sum(o * i for o, i, _ in layers)
    acts = sum((o + i) * v for o, i, v in layers)
    return SizeEstimate(acc.tile.count, components, devices * roles * BYTES_PER_DEVICE,
                        acts * batch * BYTES_PER_ACTIVATION)


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB"


def check_size(est: SizeEstimate, *, file: str | None = None, allow_large: bool = False) -> None:
    """Refuse an estimate over :data:`TILE_BUDGET` or :data:`MEMORY_BUDGET`."""
    if allow_large:
        return
    hint = " (pass --allow-large, or run.allow_large: true, to run it anyway)"
    if est.tiles > TILE_BUDGET:
        raise ConfigError(f"{est.tiles} tiles ({est.components} components) exceed the budget "
                          f"of {TILE_BUDGET} tiles: elaboration grows linearly, ≈ 0.3 ms and "
                          f"22 KB per tile{hint}", file=file, key="tile.count")
    if est.memory_bytes > MEMORY_BUDGET:
        raise ConfigError(f"the run would allocate ≈ {_gib(est.memory_bytes)} "
                          f"({_gib(est.device_bytes)} of device state, "
                          f"{_gib(est.activation_bytes)} of mini-batch activations), over the "
                          f"budget of {_gib(MEMORY_BUDGET)}{hint}", file=file,
                          key="workload.network")
