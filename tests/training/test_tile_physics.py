"""A layer on several tiles is several tiles in the numbers
(hwsim/training/algorithms/tiles.py): each tile its own DAC scaling, ADC range, bound
management and pulse trains; one tile is the single-array path bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.config.accelerator import AcceleratorConfig
from hwsim.config.params import build_section
from hwsim.devices import DeviceConfig
from hwsim.elaborate.mapping import map_layers
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.periphery import mvm
from hwsim.physics.update import pulsed_update
from hwsim.training.algorithms import tiles
from hwsim.training.algorithms.analog import AnalogArray
from hwsim.training.runner import Context

# noise off, the ADC fine enough to compute by hand: 16 bits, out_bound 1, step
# 1/(2¹⁵−1) = 3.1e-5, so an output is its hand value within half a step times the
# output scale (≤ 2 here): TOL
QUIET = {"inp_noise": 0.0, "out_noise": 0.0, "w_noise": 0.0, "bound_management": "none",
         "out_bound": 1.0}
TOL = 4e-5


def _ctx(rows, cols, forward=None, dac_bits=7, adc_bits=16, device=None, update=None,
         backend="cython"):
    read = {**QUIET, **(forward or {})}
    tile = {"rows": rows, "cols": cols, "count": 64, "forward": read, "backward": read,
            "periphery": {"dac": {"bits": dac_bits}, "adc": {"bits": adc_bits}}}
    if update:
        tile["update"] = update
    acc = build_section(AcceleratorConfig, {"device": {"model": "soft_bounds"}, "tile": tile}, "")
    dev = build_section(DeviceConfig, device or {"model": "soft_bounds"}, "device")
    return Context(accelerator=acc, device=dev, seed=0, backend=backend)


def _array(ctx, w):
    arr = AnalogArray(ctx, "fc", "W", np.shape(w))
    arr.array.w[...] = w                     # exact weights (no bounds or write noise)
    arr.array.reference[...] = 0.0
    arr.note_write(reference=True)
    return arr


W24 = np.array([[0.5, 0.0, 0.5, 0.0],
                [0.0, 0.5, 0.0, 0.5]])


def test_grid_is_the_mappings():
    blocks = tiles.tile_blocks((256, 784), 256, 256)      # fc1 of the MNIST MLP
    slots = map_layers([("fc1", 256, 784)], ("W",), 256, 256, 8)["fc1"].tiles("W")
    assert len(blocks) == 4                  # ceil(784/256) column blocks, one row block
    assert [(b[0].start, b[0].stop, b[1].start, b[1].stop) for b in blocks] == \
        [(s.row0, s.row0 + s.rows, s.col0, s.col0 + s.cols) for s in slots]
    assert blocks[-1] == (slice(0, 256), slice(768, 784))   # the last tile: 16 inputs
    assert _array(_ctx(256, 256), np.zeros((256, 256))).blocks() is None


def test_noise_management_per_tile_by_hand():
    # x = [0.9, 0.3 | 0.06, 0.02] on two 2×2 tiles, 3-bit DAC: step inp_bound/(2²−1) = 1/3.
    x = np.array([[0.9, 0.3, 0.06, 0.02]])
    # tile 0: s = 1/0.9, v = [1, 1/3] (exact codes), u = 0.5·v = [0.5, 1/6], y = u·0.9
    #   = [0.45, 0.15]; tile 1: s = 1/0.06, v = [1, 1/3], y = [0.5, 1/6]·0.06 = [0.03, 0.01];
    #   partial sums added: y = [0.48, 0.16] (= W x: every input survives its DAC)
    y = _array(_ctx(2, 2, dac_bits=3), W24).forward(x)
    assert np.allclose(y, [[0.48, 0.16]], atol=TOL)
    # one array: s = 1/0.9 for all four inputs; 0.06/0.9 = 0.067 and 0.02/0.9 = 0.022 are
    # below half a step (1/6): DAC codes 0, so y = [0.45, 0.15] (tile 1's inputs lost)
    y1 = _array(_ctx(2, 4, dac_bits=3), W24).forward(x)
    assert np.allclose(y1, [[0.45, 0.15]], atol=TOL)


def test_adc_range_and_bound_management_per_tile_by_hand():
    w = np.full((2, 4), 0.3)
    x = np.ones((1, 4))
    # each tile: s = 1, u = 0.3 + 0.3 = 0.6 < out_bound 0.7: no clipping, y = 0.6 + 0.6 = 1.2
    arr = _array(_ctx(2, 2, forward={"out_bound": 0.7}), w)
    y, st = arr._mvm(x, False)
    assert np.allclose(y, 1.2, atol=TOL) and st.saturations == 0
    # one array: u = 1.2 ≥ 0.7 clips at the ADC: y = 0.7 on both outputs (2 saturations)
    y1, st1 = _array(_ctx(2, 4, forward={"out_bound": 0.7}), w)._mvm(x, False)
    assert np.allclose(y1, 0.7, atol=TOL) and st1.saturations == 2
    # bound management: the one array reads again at s/2: the 7-bit DAC (step 1/63) codes
    # 0.5 as 32/63, u = 4·0.3·32/63 = 0.6095 fits, y = 2u = 1.2190; one repeat, 2 + 0
    # saturations; the tiles never saturate, so none
    bm = {"out_bound": 0.7, "bound_management": "iterative"}
    y1, st1 = _array(_ctx(2, 4, forward=bm), w)._mvm(x, False)
    assert np.allclose(y1, 2 * 1.2 * 32 / 63, atol=TOL)
    assert (st1.bm_repeats, st1.saturations) == (1, 2)
    y, st = _array(_ctx(2, 2, forward=bm), w)._mvm(x, False)
    assert np.allclose(y, 1.2, atol=TOL) and (st.bm_repeats, st.saturations) == (0, 0)
    # a tile that saturates alone repeats alone: tile 1 (u = 1.0 ≥ 0.7) once, at s/2
    # (codes 32/63: u = 2·0.5·32/63, y = 2u), tile 0 not (y = 0.6); the layer op carries the
    # longest tile's repeats (1) and the sum of saturations (2)
    w2 = np.array([[0.3, 0.3, 0.5, 0.5], [0.3, 0.3, 0.5, 0.5]])
    y, st = _array(_ctx(2, 2, forward=bm), w2)._mvm(x, False)
    assert np.allclose(y, 0.6 + 2 * 1.0 * 32 / 63, atol=TOL) and (st.bm_repeats, st.saturations) == (1, 2)


def test_transposed_read_and_column_reads_per_tile():
    # backward on two row blocks (4×2 layer on 2×2 tiles): d = [0.9, 0.3 | 0.06, 0.02],
    # Wᵀ d with W = W24ᵀ: the same hand numbers as the forward case, per row-block tile
    d = np.array([[0.9, 0.3, 0.06, 0.02]])
    g = _array(_ctx(2, 2, dac_bits=3), W24.T.copy()).backward(d)
    assert np.allclose(g, [[0.48, 0.16]], atol=TOL)
    # column reads: column 2 lives on tile 1 alone; e_2 through it gives W[:, 2]
    arr = _array(_ctx(2, 2), W24)
    v = arr.read_columns([1, 2])
    assert np.allclose(v, W24[:, [1, 2]].T, atol=TOL)


def test_one_tile_is_the_single_array_path_bit_for_bit():
    rng = np.random.default_rng(4)
    shape = (12, 20)
    init = rng.uniform(-0.3, 0.3, shape)
    x, d = rng.uniform(0, 1, (5, 20)), rng.normal(0, 0.1, (5, 12))
    noisy = {"inp_noise": 0.01, "out_noise": 0.06, "w_noise": 0.02,
             "bound_management": "iterative", "out_bound": 3.0}
    ctx = _ctx(256, 256, forward=noisy, adc_bits=9)
    arr = AnalogArray(ctx, "fc", "W", shape, init_w=init)
    ref = AnalogArray(_ctx(256, 256, forward=noisy, adc_bits=9), "fc", "W", shape, init_w=init)
    y = arr.forward(x)
    y_ref, _ = mvm(ref.array.visible_weights(), x, ref.fwd_cfg, ref.rng("forward"),
                   backend="cython")
    assert np.array_equal(y, y_ref)
    dev = ref.array.copy()
    arr.pulsed_update(x, d, 0.2)
    pulsed_update(dev, x, d, 0.2, ref.update_cfg, ref.rng("update"), "cython")
    assert np.array_equal(arr.array.w, dev.w)


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_update_uses_each_tiles_own_management(backend):
    # a 2×4 layer on two 2×2 tiles: x = [1, 1 | 0.1, 0.1], d = [0.1, 0.1]
    x = np.array([[1.0, 1.0, 0.1, 0.1]])
    d = np.array([[0.1, 0.1]])
    ctx = _ctx(2, 2, device={"model": "constant_step", "dw_min": 0.001, "w_max": 1,
                             "w_min": -1}, update={"bl_max": 31}, backend=backend)
    arr = AnalogArray(ctx, "fc", "W", (2, 4))
    eps = arr.granularity
    lr = 2.5 * eps / (1.0 * 0.1)
    # k = lr·x_m·d_m/ε per tile: tile 0 k = 2.5 → BL = 3; tile 1 (x_m = 0.1) k = 0.25 → BL = 1;
    # one array would use x_m = 1 for both: BL = 3 and tile 1's columns fire ~0.1 as often
    oracle = arr.array.copy()
    parts = []
    rng = np.random.default_rng(9)
    arr.ctx.rngs["fc/W/update"] = np.random.default_rng(9)
    st = arr.pulsed_update(x, d, lr)
    for rs, cs in tiles.tile_blocks((2, 4), 2, 2):
        sub = tiles.tile_device(oracle, rs, cs)
        parts.append(pulsed_update(sub, x[:, cs], d[:, rs], lr, arr.update_cfg, rng, backend))
        tiles.write_back(sub, oracle, rs, cs)
    assert [int(p.bl_used[0]) for p in parts] == [3, 1]
    assert np.array_equal(arr.array.w, oracle.w)       # each tile its own trains, same draws
    assert int(st.bl_used[0]) == 3                     # the layer's slots: the longest train
    assert st.device_pulses == sum(p.device_pulses for p in parts)
    assert st.col_pulse_slots == sum(p.col_pulse_slots for p in parts)
    # the one-array update plans tile 1 with x_m = 1: different trains
    whole = _ctx(2, 4, device={"model": "constant_step", "dw_min": 0.001, "w_max": 1,
                               "w_min": -1}, update={"bl_max": 31}, backend=backend)
    one = AnalogArray(whole, "fc", "W", (2, 4))
    one.ctx.rngs["fc/W/update"] = np.random.default_rng(9)
    st1 = one.pulsed_update(x, d, lr)
    assert st1.col_pulse_slots != st.col_pulse_slots or not np.array_equal(one.array.w,
                                                                            arr.array.w)


def test_tiled_layer_backends_agree():
    rng = np.random.default_rng(5)
    x, d = rng.uniform(0, 1, (6, 7)), rng.normal(0, 0.1, (6, 5))
    init = rng.uniform(-0.3, 0.3, (5, 7))
    out = []
    for backend in ("cython", "numpy"):
        ctx = _ctx(2, 3, forward={"inp_noise": 0.01, "out_noise": 0.05,
                                  "bound_management": "iterative", "out_bound": 1.0},
                   adc_bits=9, backend=backend)
        arr = AnalogArray(ctx, "fc", "W", (5, 7), init_w=init)
        assert len(arr.blocks()) == 9            # 3 row blocks × 3 column blocks
        y, g = arr.forward(x), arr.backward(d)
        arr.pulsed_update(x, d, 0.3)
        out.append((y, g, arr.array.w.copy()))
    for a, b in zip(*out):
        assert np.array_equal(a, b)


def test_tiles_stay_in_sync_with_the_device_state():
    # reusing the tiles' copies between updates (and as read matrices) is exact: the same
    # sequence with every copy rebuilt from the device state gives the same bits
    rng = np.random.default_rng(8)
    x, d = rng.uniform(0, 1, (4, 7)), rng.normal(0, 0.1, (4, 5))
    counts = rng.integers(-2, 3, (5, 7))
    runs = []
    for fresh in (False, True):
        arr = AnalogArray(_ctx(2, 3), "fc", "W", (5, 7), init_w=np.full((5, 7), 0.1))
        out = []
        for _ in range(2):
            if fresh and arr._subs is not None:
                arr._subs = None                   # rebuilt and reloaded from the devices
                arr.note_write()
            arr.pulsed_update(x, d, 0.3)
            if fresh:
                arr.note_write()                   # reads copy the blocks again
            out.append(arr.forward(x))
            arr.apply_pulses(counts)               # a write the tiles did not make
            out.append(arr.forward(x))
        out.append(arr.array.w.copy())
        runs.append(out)
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def _ttv2(rows, cols, params=None):
    from hwsim.config.experiment import TrainingConfig
    from hwsim.training.algorithms import ALGORITHMS
    ctx = _ctx(rows, cols)
    cls = ALGORITHMS["ttv2"]
    training = build_section(TrainingConfig, {"algorithm": "ttv2", "lr": 0.5}, "training")
    algo = cls(build_section(cls.Params, {"auto_granularity": 20, **(params or {})}, "params"),
               training, ctx)
    rec = algo.ctx.hw = _Recorder()
    algo.make_backend("fc", 2, 5, np.zeros((2, 5)))
    return algo, algo.engines["fc"], rec


class _Recorder:
    """Records the hardware calls (kind, layer, n, role, meta) of the algorithm."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, kind):
        return lambda layer, n, *a, **meta: self.calls.append((kind, layer, n, a, meta))


def test_each_tile_has_its_own_transfer_pointer():
    # a 2×5 layer on 2×2 tiles: columns of tiles [0, 2), [2, 4), [4, 5)
    algo, eng, rec = _ttv2(2, 2)
    assert eng.tile_cols == [(0, 2), (2, 2), (4, 1)]
    rng = np.random.default_rng(0)
    x, d = rng.uniform(0, 1, (3, 5)), rng.normal(0, 0.1, (3, 2))
    eng.step(x, d)          # transfer_every 1, n_reads 1: 3 transfers, every tile reads 3
    reads = [(c[4]["col"], c[2], c[4].get("span")) for c in rec.calls
             if c[0] == "read_column" and c[3][0] == "A"]
    # per transfer each column of tiles reads the next of its own columns (in chunks of
    # the narrowest tile's width, 1) at once, one op on all the tiles (span): tile 0
    # reads 0, 1, 0; tile 1 reads 2, 3, 2; tile 2 reads 4, 4, 4
    assert reads == [(0, 1, 1), (1, 1, 1), (0, 1, 1)]
    # a read of unequal numbers of columns per tile: one op per column of tiles
    rec.calls.clear()
    eng.A.read_columns([0, 1, 2])
    reads = [(c[4]["col"], c[2], c[4].get("span")) for c in rec.calls if c[0] == "read_column"]
    assert reads == [(0, 2, None), (2, 1, None)]
    assert list(eng.k_tiles) == [1, 1, 0] and eng.sweeps == 1   # tile 0 wrapped once
    assert eng.stats["reads"] == 9
    # the buffer scale follows the tile's width: s ∝ w·T/(n_reads·G) (ttv2.py _scale)
    assert eng._scale(2) == pytest.approx(eng._scale(5) * 2 / 5)


def test_one_tile_keeps_the_layer_pointer():
    algo, eng, rec = _ttv2(8, 8)
    assert not hasattr(eng, "k_tiles")
    rng = np.random.default_rng(0)
    eng.step(rng.uniform(0, 1, (3, 5)), rng.normal(0, 0.1, (3, 2)))
    reads = [(c[4]["col"], c[2]) for c in rec.calls if c[0] == "read_column" and c[3][0] == "A"]
    assert reads == [(0, 3)] and eng.k == 3         # one read of columns 0, 1, 2


def test_tiles_pulse_in_parallel():
    # two rank-one updates, each on one tile only (a Tiki-Taka v1 transfer of one column
    # per tile): x_0 = e_0 (tile 0), x_1 = e_2 (tile 1), d = 0.1; k = lr·1·0.1/ε = 2.5 → BL 3.
    # Tile 0 runs 3 + 0 slots, tile 1 0 + 3: in parallel the layer op lasts 3 slots
    # (one array: 3 + 3 = 6)
    dev = {"model": "constant_step", "dw_min": 0.001, "w_max": 1, "w_min": -1}
    x = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0]])
    d = np.full((2, 2), 0.1)
    slots = []
    for cols in (2, 4):
        arr = AnalogArray(_ctx(2, cols, device=dev), "fc", "W", (2, 4))
        slots.append(arr.pulsed_update(x, d, 2.5 * arr.granularity / 0.1).pulse_slots)
    assert slots == [3, 6]


SPLIT_MLP = """\
schema_version: 1
name: split-mlp
accelerator: {acc}
workload:
  dataset: {{name: digits, limit_train: 60, limit_test: 30}}
  network: [{{linear: 32, activation: sigmoid}}, {{linear: 10}}]
training: {{algorithm: {algo}, lr: 1.0, batch: 10, epochs: 1, params: {params}}}
run: {{seed: 3, out: {out}, progress: false, checkpoint: false, backend: {backend}}}
"""


@pytest.mark.parametrize("algo", ["sgd", "c-ttv2"])
def test_split_training_equal_on_both_backends(tmp_path, algo):
    # the c-TTv2 tile shrunk to 16 × 16: fc1 (32 × 64) spans 2 × 4 tiles, fc2 (10 × 32) 1 × 2
    from pathlib import Path
    from hwsim.config.experiment import load_experiment
    from hwsim.report.runs import run_report
    from hwsim.training.runner import run_experiment
    root = Path(__file__).resolve().parents[2]
    acc = (root / "configs" / "accelerators" / "cttv2_tile.yaml").read_text()
    acc = acc.replace("  rows: 256", "  rows: 16").replace("  cols: 256", "  cols: 16") \
             .replace("  count: 16", "  count: 64")
    (tmp_path / "acc.yaml").write_text(acc)
    reports = []
    for backend in ("cython", "numpy"):
        exp = tmp_path / f"{backend}.yaml"
        params = "{weight_scale: 4}" if algo == "sgd" else \
            "{weight_scale: 4, auto_granularity: 20, max_pulses: 10}"
        exp.write_text(SPLIT_MLP.format(acc=tmp_path / "acc.yaml", algo=algo, backend=backend,
                                        params=params, out=tmp_path / backend))
        res = run_experiment(load_experiment(str(exp)))
        assert res.hw.mapping["fc1"].grid == (2, 4)
        rep = run_report(res)
        rep["meta"].pop("backend")
        assert rep["extra"]["training"]["history"][0]["samples"] == 60
        rep["meta"] = None          # (names the backend, the files and the output folder)
        reports.append(rep)
    assert reports[0] == reports[1]      # accuracy, loss, ticks, ledger, energy


def test_hic_reads_per_tile():
    # HIC reads its PCM arrays (B and M) through the same split: on 2×2 tiles a 5×7 layer
    # is 3 × 4 tile reads per array; its result is the tiled read of each array's weights
    from types import SimpleNamespace
    from hwsim.training.algorithms.hic import HIC
    acc = _ctx(2, 2, dac_bits=3).accelerator
    ctx = Context(accelerator=acc, device=DeviceConfig(), seed=3, backend="cython")
    training = SimpleNamespace(lr=0.1, batch=10, epochs=1, params={})
    algo = HIC(build_section(HIC.Params, {"pcm": {"prog_noise_scale": 0.0,
                                                  "read_noise": False}}), training, ctx)
    be = algo.make_backend("fc", 5, 7, np.random.default_rng(0).uniform(-0.8, 0.8, (5, 7)))
    calls = []
    real = tiles.tiled_mvm
    tiles.tiled_mvm = lambda blocks, *a, **k: calls.append(len(blocks)) or real(blocks, *a, **k)
    try:
        x = np.random.default_rng(1).uniform(0, 1, (3, 7))
        y = be.forward(x)
    finally:
        tiles.tiled_mvm = real
    assert calls == [12, 12] and y.shape == (3, 5)


def test_ir_drop_per_tile():
    # each tile's lines are its own: the IR drop of a 2×4 layer on 2×2 tiles is that of
    # two 2×2 arrays (hwsim.physics.ir_drop.effective_matrix of each block, the reference
    # model), not of one 2×4 array; inputs on the 7-bit DAC grid (k/63) pass exactly
    from hwsim.physics.ir_drop import effective_matrix
    w = np.array([[0.5, 0.2, 0.4, 0.1], [0.3, 0.6, 0.2, 0.5]])
    x = np.array([[1.0, 21 / 63, 1.0, 42 / 63]])
    ir = {"ir_drop": 0.1}
    y = _array(_ctx(2, 2, forward=ir), w).forward(x)
    ref = sum(effective_matrix(np.ascontiguousarray(w[:, cs]), 0.1) @ x[0, cs]
              for cs in (slice(0, 2), slice(2, 4)))
    assert np.allclose(y[0], ref, atol=TOL)
    one = _array(_ctx(2, 4, forward=ir), w).forward(x)
    assert np.allclose(one[0], effective_matrix(w, 0.1) @ x[0], atol=TOL)
    assert not np.allclose(one, y, atol=1e-3)          # the split changes the drop


def test_summed_arrays_read_per_tile():
    # W̄ = C + γA (residual learning) read in one pass per tile: tile 1's inputs are 0.06
    # and 0.02 (3-bit DAC: lost on the one-array read, kept per tile, as in the hand case
    # above): y = (C + 0.5·A) x = [0.48, 0.16] for C = A = W24/1.5
    from hwsim.training.algorithms.analog import AnalogWeights
    x = np.array([[0.9, 0.3, 0.06, 0.02]])
    for cols, expect in ((2, [0.48, 0.16]), (4, [0.45, 0.15])):
        ctx = _ctx(2, cols, dac_bits=3)
        c, a = _array(ctx, W24 / 1.5), _array(ctx, W24 / 1.5)
        a.role = "A"
        y = AnalogWeights([(c, 1.0), (a, 0.5)]).forward(x)
        assert np.allclose(y, [expect], atol=TOL)


@pytest.mark.parametrize("algorithm", ["sgd", "c-ttv2"])
def test_resume_of_a_split_layer_matches_the_uninterrupted_run(tmp_path, algorithm):
    # the tiles' device copies are rebuilt after a restore, the per-tile pointers kept
    import json
    from hwsim.config.experiment import ExperimentConfig
    from hwsim.config.params import replace
    from hwsim.report import to_json_text
    from hwsim.report.runs import run_report
    from hwsim.training.runner import run_experiment
    from pathlib import Path
    acc = {"technology": "32nm_isaac", "device": "reram_softbounds",
           "tile": {"rows": 16, "cols": 16, "count": 64,
                    "periphery": {"chopper": {"inputs": True}, "accumulator": {}}}}

    def cfg(out, epochs):
        data = {"name": "t", "accelerator": acc,
                "workload": {"dataset": {"name": "digits", "limit_train": 100,
                                         "limit_test": 50},
                             "network": [{"linear": 16, "activation": "sigmoid"},
                                         {"linear": 10}]},
                "training": {"algorithm": algorithm, "lr": 0.1, "batch": 10, "epochs": epochs},
                "run": {"seed": 3, "out": str(out), "progress": False}}
        root = Path(__file__).resolve().parents[2]
        return replace(build_section(ExperimentConfig, data), file=str(root / "configs" / "x.yaml"))

    def report(result):
        rep = json.loads(to_json_text(run_report(result)))
        rep["meta"].pop("config")
        return rep

    full = report(run_experiment(cfg(tmp_path / "full", 2)))
    run_experiment(cfg(tmp_path / "part", 1))
    resumed = report(run_experiment(cfg(tmp_path / "part", 2), resume=True))
    full["meta"].pop("out", None), resumed["meta"].pop("out", None)
    assert resumed == full
