"""``hwsim run``: train a network on an accelerator; accuracy, latency, energy (layer 5).

One seed drives everything: every random stream is a child of
``SeedSequence([seed, crc32(name)])`` for a stable stream name ("data", "init",
"fc1/A", ...), so adding a stream never changes another and runs are reproducible
bit for bit.  After every epoch a checkpoint (``out/checkpoint.pkl``) holds the
network, the algorithm state, every generator's state and the timing totals;
``--resume`` continues from it and reproduces the uninterrupted run exactly.  The
output directory belongs to one run (its identity in ``out/run.json``), and
checkpoints are atomic and checksummed: :mod:`hwsim.training.checkpoint`.
"""
from __future__ import annotations

import dataclasses
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwsim.config.accelerator import accelerator_from_data, load_accelerator
from hwsim.config.experiment import ExperimentConfig, resolve_path
from hwsim.config.params import build_section
from hwsim.config.validate import check_size, estimate_size, line_in, located
from hwsim.devices import load_device
from hwsim.physics.device_array import DEFAULT_PRECISION
from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.energy import TechnologyTable, area_report, estimate
from hwsim.errors import BuildError, ConfigError, HwsimError, NonFiniteError, SimulationError
from hwsim.onnx.reference import network_spec
from hwsim.sim.hardware import Hardware
from hwsim.training.algorithms import algorithm_class
from hwsim.training.algorithms.base import NullHardware
from hwsim.training.checkpoint import (CHECKPOINT, PREVIOUS, check_resumable, claim, identity,
                                       load_checkpoint, remove_partial, save_checkpoint,
                                       write_identity)
from hwsim.training.dataflow import conv_geometry
from hwsim.training.datasets import load_dataset
from hwsim.training.losses import softmax_cross_entropy
from hwsim.training.network import build_network


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream called ``name`` of the run's seed."""
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence([seed, zlib.crc32(name.encode())])))


@dataclass
class Context:
    """What an algorithm needs besides its own parameters."""
    accelerator: object
    device: object
    seed: int
    backend: str
    hw: object = field(default_factory=NullHardware)
    precision: str = DEFAULT_PRECISION      # run.precision: the device state's format
    rngs: dict = field(default_factory=dict)

    def rng(self, name: str) -> np.random.Generator:
        if name not in self.rngs:
            self.rngs[name] = stream(self.seed, name)
        return self.rngs[name]


@dataclass
class Prepared:
    cfg: ExperimentConfig
    accelerator: object
    dataset: object
    algorithm: object
    network: object
    context: Context


def _accelerator(cfg: ExperimentConfig):
    ref = cfg.accelerator
    if isinstance(ref, dict):
        return accelerator_from_data(ref, cfg.accelerator_file or cfg.file)
    try:
        path = resolve_path(ref, cfg.file, "accelerators")
    except ConfigError as exc:
        raise ConfigError(exc.message, file=cfg.file or None, line=line_in(cfg.file, "accelerator"),
                          key="accelerator") from None
    return load_accelerator(path)


def prepare(cfg: ExperimentConfig, data_dir=None, validate_only: bool = False) -> Prepared:
    """Resolve and validate everything an experiment needs; build the network.

    ``hwsim validate`` calls this with ``validate_only`` and ``hwsim run`` without, so both
    refuse the same inputs: every file and name, the algorithm's parameters, the data set
    options, the network against the data (input shape, classes = last layer width,
    batch ≤ training samples), the size budgets of :mod:`hwsim.config.validate`, and —
    for ``validate_only`` — :func:`dry_run`: one mini-batch on the machine a timed run
    builds, priced as its report would be (what fails only once ops run or are priced:
    an op the tiles cannot perform, an action the technology table does not price).
    The returned ``Prepared`` of a validation has trained that batch: discard it.
    """
    acc = _accelerator(cfg)
    allow_large = cfg.run.allow_large
    check_size(estimate_size(acc), file=acc.file, allow_large=allow_large)
    try:
        device = load_device(acc.device, base_dir=os.path.dirname(acc.file) if acc.file else None)
    except ConfigError as exc:            # an unknown preset or a missing file: name the referrer
        raise located(exc, acc.file, "device") from None
    cls = algorithm_class(cfg.training.algorithm, cfg.file)
    params = build_section(cls.Params, cfg.training.params, "training.params")
    _check_blocks(cfg, acc, params)
    cls.check_settings(params, cfg, acc, device)
    seed = cfg.run.seed
    ctx = Context(accelerator=acc, device=device, seed=seed, backend=cfg.run.backend,
                  precision=cfg.run.precision)
    dataset = load_dataset(cfg.workload.dataset, stream(seed, "data-split"), data_dir,
                           key="workload.dataset", file=cfg.file,
                           line=line_in(cfg.file, "workload", "dataset"),
                           base_dir=os.path.dirname(cfg.file) if cfg.file else None)
    if cfg.training.batch > dataset.n_train:
        raise ConfigError(f"a mini-batch of {cfg.training.batch} never fills: the training split "
                          f"has {dataset.n_train} samples", file=cfg.file, key="training.batch")
    spec = cfg.workload.network                  # as read: the items keep their lines
    if isinstance(spec, dict):   # {onnx: model.onnx}
        spec = network_spec(spec, cfg.file, "workload.network", dataset.input_shape)
    spec = spec if isinstance(spec, list) else list(spec)
    where = lambda path: (cfg.file or None, None)              # noqa: E731 (--set items)
    n_out = getattr(dataset, "n_classes", None) or getattr(dataset, "out_features", None)
    shapes = build_network(spec, dataset.input_shape, n_outputs=n_out, where=where,
                           shapes_only=True).layer_shapes()
    check_size(estimate_size(acc, [(s.out_features, s.in_features, s.vectors_per_sample)
                                   for s in shapes], len(cls.ROLES), cfg.training.batch),
               file=cfg.file, allow_large=allow_large)
    try:                      # what the estimate does not foresee (an algorithm's buffers)
        algo = cls(params, cfg.training, ctx)
        algo.check_roles(cfg.file)
        net = build_network(spec, dataset.input_shape, algo.make_backend, stream(seed, "init"))
        prep = Prepared(cfg, acc, dataset, algo, net, ctx)
        if validate_only:
            dry_run(prep)
    except MemoryError as exc:
        raise ConfigError(f"out of memory while building the run ({exc}): reduce the network, "
                          f"the batch or the algorithm's buffers", file=cfg.file) from None
    return prep


def dry_run(prep: Prepared) -> None:
    """One mini-batch, the end of an epoch and a test evaluation of a few samples, on a
    throwaway machine; the ledger and the area priced by the technology table."""
    cfg, ds, n = prep.cfg, prep.dataset, prep.cfg.training.batch
    prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:n], train_y=ds.train_y[:n],
                                       test_x=ds.test_x[:n], test_y=ds.test_y[:n])
    hw = NullHardware()
    if cfg.run.timing:
        acc = prep.accelerator
        machine, mapping = timing_model(prep)
        hw = Hardware(machine, mapping, cache=acc.engine.cache)
    prep.context.hw = hw
    try:
        train_epoch(prep, hw, stream(cfg.run.seed, "data-order"))
        prep.algorithm.end_epoch(0)
        evaluate(prep)
        if cfg.run.timing:
            hw.sync()
            table = TechnologyTable.load(acc.technology, base_dir=os.path.dirname(acc.file)
                                         if acc.file else None)
            estimate(hw.machine.ledger, table)
            area_report(hw.machine.components, table)
    finally:
        prep.dataset, prep.context.hw = ds, NullHardware()


def _check_blocks(cfg: ExperimentConfig, acc, params) -> None:
    """Blocks the algorithm's ops need that the tiles lack (the timing model would stop at
    the first such op, maybe epochs in): a sign flip (``*_chop_prob`` > 0) needs a chopper."""
    if not cfg.run.timing or acc.tile.periphery.chopper is not None:
        return
    for name in ("in_chop_prob", "out_chop_prob"):
        if getattr(params, name, 0) > 0:
            raise ConfigError(f"{cfg.training.algorithm} flips signs with {name} "
                              f"{getattr(params, name)}, but the tiles of "
                              f"{os.path.basename(acc.file)} have no chopper: add "
                              f"tile.periphery.chopper, or set {name}: 0", file=cfg.file,
                              key=f"training.params.{name}")


def timing_model(prep: Prepared):
    """The machine and the layer → tile mapping of a timed run: ``(machine, mapping)``."""
    acc = prep.accelerator
    machine = build_machine(acc)
    try:
        mapping = map_layers([(s.name, s.out_features, s.in_features)
                              for s in prep.network.layer_shapes()],
                             prep.algorithm.ROLES, acc.tile.rows, acc.tile.cols, acc.tile.count)
    except BuildError as exc:          # the network does not fit: name the accelerator
        if exc.file:
            raise
        raise BuildError(exc.message, file=acc.file or None, key=exc.key or "tile.count") from None
    return machine, mapping


def single_threaded_blas():
    """Mini-batch MVMs are small (e.g. 10×784 by 784×256): BLAS threads only add
    synchronisation.  Measured here: 24 ms per product with the default OpenBLAS
    threading vs 0.73 ms with one thread (benchmarks/bench_training.py)."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def train_epoch(prep: Prepared, hw, rng_data, progress=None) -> tuple[float, int]:
    """One epoch of mini-batches; returns (mean training loss, samples)."""
    # overflow/invalid in NumPy is not printed: a step that goes non-finite is caught
    # below and reported as one line (a diverging run), not as a screen of RuntimeWarnings
    with single_threaded_blas(), np.errstate(over="ignore", invalid="ignore",
                                             divide="ignore"):
        try:
            return _train_epoch(prep, hw, rng_data, progress)
        except _Diverged as exc:
            raise SimulationError(f"training diverged {exc}: lower training.lr (or the "
                                  f"algorithm's learning rates); the epochs before it are "
                                  f"kept in the run directory", key="training.lr") from None
        except NonFiniteError as exc:  # a NaN/inf reached the array physics
            raise SimulationError(f"training diverged (the arrays saw {exc}): lower "
                                  f"training.lr (or the algorithm's learning rates); the "
                                  f"epochs before it are kept in the run directory",
                                  key="training.lr") from None


class _Diverged(Exception):
    """The loss of a mini-batch is not finite (its message says where)."""


def _train_epoch(prep: Prepared, hw, rng_data, progress=None) -> tuple[float, int]:
    net, algo, ds = prep.network, prep.algorithm, prep.dataset
    batch = prep.cfg.training.batch
    total, seen = 0.0, 0
    for xb, yb in ds.batches(batch, rng_data):
        moves = net.step_moves(len(xb))       # the data the step stores and re-reads
        z = net.forward(xb, hw=hw, moves=moves)   # MVMs with the activations between them
        loss, grad = softmax_cross_entropy(z, yb)
        if not np.isfinite(loss):
            raise _Diverged(f"after {seen} samples of the epoch (the loss is {loss})")
        hw.digital("loss_grad", grad.size, phase="backward")    # on the digital unit
        moves.loss(hw)
        net.backward(grad, hw=hw, moves=moves)
        moves.update(hw)
        algo.update(net, len(xb))
        net.apply_digital_updates(prep.cfg.training.lr)
        hw.end_step(len(xb))
        hw.flush()                  # timing of this mini-batch (a NullHardware ignores it)
        total += loss * len(xb)
        seen += len(xb)
        if progress is not None:
            progress.update(len(xb))
    return total / max(seen, 1), seen


def evaluate(prep: Prepared) -> tuple[float, float]:
    """(loss, accuracy) on the test split; evaluation issues no training ops."""
    saved = prep.context.hw
    prep.context.hw = NullHardware()
    try:
        with single_threaded_blas():
            return prep.network.evaluate(prep.dataset.test_x, prep.dataset.test_y)
    finally:
        prep.context.hw = saved


def _timing_state(hw) -> dict:
    """Totals of the timing model to carry across a checkpoint."""
    if hw is not None:
        hw.sync()                 # statistics and ledger rows the timing cache deferred
    return {"ticks": hw.now if hw is not None else 0,
            "phase_ticks": dict(hw.phase_ticks) if hw is not None else {},
            "node_ticks": dict(hw.node_ticks) if hw is not None else {},
            "ledger": hw.machine.ledger if hw is not None else None,
            "stats": {p: dict(c.stats.values) for p, c in hw.machine.components.items()}
            if hw is not None else {}}


@dataclass
class RunResult:
    """What a run produced; :mod:`hwsim.report.runs` turns it into the report."""
    cfg: ExperimentConfig
    prep: Prepared
    hw: object                 # Hardware, or None when timing is off
    timing: dict               # merged timing totals (ticks, phase_ticks, stats)
    history: list
    out: Path
    drift: dict | None = None


def run_experiment(cfg: ExperimentConfig, *, resume: bool = False, trace_path=None,
                   timeline: bool = False, data_dir=None, force: bool = False,
                   on_epoch=None) -> RunResult:
    """Train and simulate; checkpoint after every epoch; return a :class:`RunResult`.

    ``run.out`` must not hold another run's results unless ``force``
    (:func:`hwsim.training.checkpoint.claim`); ``resume`` continues its checkpoint
    if that was made by the same configuration, data and code.  ``on_epoch(record)`` is
    called after each epoch (and its checkpoint) with a copy of the epoch's history
    record.  The run first refuses what ``hwsim validate`` refuses (the same
    :func:`prepare` with its dry run), before anything is written."""
    prepare(cfg, data_dir, validate_only=True)
    prep = prepare(cfg, data_dir)
    out = Path(cfg.run.out)
    ident = identity(cfg, prep.accelerator, prep.context.device, prep.dataset)
    claim(out, ident, resume=resume, force=force)
    state = None
    if resume:
        state = load_checkpoint(out / CHECKPOINT)
        check_resumable(out / CHECKPOINT, state, ident)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:           # a parent that is a file, no permission, ...
        raise HwsimError(f"cannot create the output directory: {exc.strerror}",
                         file=str(out)) from None
    remove_partial(out)
    if not resume:                  # a new run: no earlier run's checkpoints to mix in
        for name in (CHECKPOINT, PREVIOUS):
            (out / name).unlink(missing_ok=True)
    write_identity(out, ident)
    acc = prep.accelerator
    algo, net = prep.algorithm, prep.network
    hw = None
    if cfg.run.timing:
        machine, mapping = timing_model(prep)
        recorder = None
        if trace_path:
            from hwsim.trace.format import TraceWriter
            recorder = TraceWriter(trace_path, header=_trace_header(prep, mapping))
        use_cache = acc.engine.cache and not timeline
        hw = Hardware(machine, mapping, timeline=bool(timeline), recorder=recorder,
                      cache=use_cache)
        prep.context.hw = hw
    rng_data = stream(cfg.run.seed, "data-order")
    history, start = [], 0
    ckpt = out / CHECKPOINT
    offset = {"ticks": 0, "phase_ticks": {}, "stats": {}}
    if state is not None:
        start, history = state["epoch"], state["history"]
        prep.network, prep.algorithm = net, algo = state["network"], state["algorithm"]
        rng_data = state["rng_data"]
        prep.context = state["context"]
        if hw is not None:
            prep.context.hw = hw
        algo.ctx = prep.context
        if hasattr(algo, "load_state"):
            algo.load_state(algo.state())
        if hw is not None and state["timing"]["ledger"] is not None:
            hw.machine.ledger.merge(state["timing"]["ledger"])
            offset = state["timing"]
            hw = Hardware(hw.machine, hw.mapping, timeline=bool(timeline), recorder=hw.recorder,
                          start_tick=offset["ticks"], cache=hw.cache is not None)
            prep.context.hw = hw
    progress = _progress(cfg, prep, start)
    for epoch in range(start, cfg.training.epochs):
        loss, seen = train_epoch(prep, hw if hw is not None else NullHardware(), rng_data, progress)
        algo.end_epoch(epoch)
        test_loss, test_acc = evaluate(prep)
        history.append({"epoch": epoch + 1, "train_loss": loss, "test_loss": test_loss,
                        "test_accuracy": test_acc, "samples": seen})
        if cfg.run.checkpoint:
            live_hw, prep.context.hw = prep.context.hw, NullHardware()
            try:   # the context (shared by the backends) is saved without the live engine
                save_checkpoint(ckpt, {"epoch": epoch + 1, "history": history, "network": net,
                                       "algorithm": algo, "rng_data": rng_data,
                                       "context": prep.context, "timing": _merged(hw, offset),
                                       "identity": ident})
            finally:
                prep.context.hw = live_hw
        if on_epoch is not None:
            on_epoch(dict(history[-1]))
    if progress is not None:
        progress.close()
    if hw is not None:
        hw.sync()
        if hw.recorder is not None:
            hw.recorder.close()
    drift = None
    if hasattr(algo, "drift_report"):
        drift = algo.drift_report(prep.network, prep.dataset)
    return RunResult(cfg, prep, hw, _merged(hw, offset), history, out, drift)


def _merged(hw, offset) -> dict:
    """Timing totals of this process plus those carried by a checkpoint (the engine of a
    resumed run starts at the checkpoint's absolute tick, so ``ticks`` is already total)."""
    t = _timing_state(hw)
    for k, v in offset.get("phase_ticks", {}).items():
        t["phase_ticks"][k] = t["phase_ticks"].get(k, 0) + v
    for k, v in offset.get("node_ticks", {}).items():
        t["node_ticks"][k] = t["node_ticks"].get(k, 0) + v
    for p, vals in offset.get("stats", {}).items():
        for k, v in vals.items():
            t["stats"].setdefault(p, {})
            old = t["stats"][p].get(k, 0)
            t["stats"][p][k] = max(old, v) if k == "last_out_tick" else old + v
    return t


def _progress(cfg, prep, start):
    if not cfg.run.progress:
        return None
    from tqdm import tqdm
    total = (cfg.training.epochs - start) * prep.dataset.n_train
    return tqdm(total=total, unit="sample", desc=cfg.name, leave=False, mininterval=0.5)


def _trace_header(prep, mapping) -> dict:
    """The trace header; its ``source`` names the experiment by its file name and
    ``name`` only (a trace is shipped and shared: no machine path in it)."""
    src = os.path.basename(prep.cfg.file) if prep.cfg.file else "inline"
    net = prep.network
    return {"network": [s._asdict() | conv_geometry(x)
                        for s, x in zip(net.layer_shapes(), net.analog_layers())],
            "batch": prep.cfg.training.batch, "algorithm": prep.cfg.training.algorithm,
            "roles": list(prep.algorithm.ROLES),
            "source": f"recorded: {src} (experiment '{prep.cfg.name}')"}
