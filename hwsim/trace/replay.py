"""``hwsim replay ARCH.yaml TRACE``: latency, energy and area of a trace on an accelerator.

The trace's layer shapes are mapped on the accelerator with the trace's array roles
(:func:`hwsim.elaborate.mapping.map_layers`); a network that does not fit is a
:class:`~hwsim.errors.TraceError` (exit status 2).  Ops are then streamed from the
file one at a time through :class:`~hwsim.sim.hardware.Hardware` — the same
operations API the training runner drives — so memory stays bounded by one op, and
a trace recorded on accelerator X and replayed on X gives the run's latency and
energy exactly.  Repeated ops go through the op memo the Hardware owns
(:class:`~hwsim.sim.memo.OpMemo`, exact; see there for the conditions), which is what
makes a CIFAR-10 epoch of a 32-layer network replay in seconds.

The report has the structure of a run's report (latency total/per phase/per
component, energy per component and phase, area, per-sample figures); its
``extra.trace`` section carries the trace header, footer and cache statistics.
Output files are written only after the whole trace replayed without error.
"""
from __future__ import annotations

import os

from hwsim.errors import BuildError, SimulationError, TraceError
from hwsim.trace.format import Step, TraceReader


def load_accelerator_ref(accelerator_cfg, overrides=None):
    from hwsim.config.accelerator import AcceleratorConfig, load_accelerator
    if isinstance(accelerator_cfg, AcceleratorConfig):
        return accelerator_cfg
    return load_accelerator(str(accelerator_cfg), overrides or None)


def map_trace(acc, header: dict, trace_file: str):
    """The layer mapping of a trace's network on ``acc``; TraceError if it cannot be mapped."""
    from hwsim.elaborate.mapping import map_layers
    shapes = [(x["name"], x["out_features"], x["in_features"]) for x in header["network"]]
    try:
        return map_layers(shapes, header["roles"], acc.tile.rows, acc.tile.cols, acc.tile.count)
    except BuildError as exc:
        raise TraceError(f"the trace's network cannot be mapped on accelerator '{acc.name}': "
                         f"{exc.message}", file=trace_file) from None


def _progress(reader, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=os.path.getsize(reader.path), unit="B", unit_scale=True,
                desc=f"replay {reader.path.name}", leave=False, mininterval=0.5)


def run_trace(acc, trace_path, *, progress: bool = True, cache: bool = True,
              timeline: bool = False):
    """Build, map and stream the trace through the hardware; returns (hw, reader).
    With ``timeline`` every block records its busy intervals (the op memo is then off:
    ops taken from the memo are not simulated, so they would leave no intervals)."""
    from hwsim.elaborate.graph import build_machine
    from hwsim.sim.hardware import Hardware

    reader = TraceReader(trace_path)
    mapping = map_trace(acc, reader.header, reader.file)
    machine = build_machine(acc)
    hw = Hardware(machine, mapping, timeline=timeline, cache=cache and not timeline)
    bar = _progress(reader, progress)
    done_bytes = 0
    index = 0
    try:
        for item in reader:
            if isinstance(item, Step):
                hw.end_step(item.samples)
                hw.flush()
                if bar is not None:
                    pos = reader.bytes_read()
                    bar.update(max(0, pos - done_bytes))
                    done_bytes = max(done_bytes, pos)
                continue
            try:
                hw.execute(item)
            except (SimulationError, BuildError) as exc:
                raise TraceError(f"op #{index} ('{item.op}' on layer '{item.layer}', role "
                                 f"'{item.role}') cannot run on accelerator '{acc.name}': "
                                 f"{exc.message}", file=reader.file) from None
            index += 1
    finally:
        if bar is not None:
            bar.close()
    hw.sync()
    hw.flush()
    return hw, reader
