"""All transfers of a mini-batch in one compiled call (hwsim.training.transfer_chain).

Three references, none of them this code's own output:

1. the NumPy oracle ``chain_numpy`` against the kernel, bit for bit, float64 and float32;
2. the chain against the per-transfer code it replaces, written out here from its
   definition (``transfer_accumulate_numpy`` per chunk, the AGAD mean/reference and
   the chopper rules of tt_family.py, the chopper stream drawn chunk by chunk);
3. a training run with the batched transfers against the same run transfer by
   transfer (``TransferEngine.BATCHED = False``): weights, buffers, choppers, the
   ledger (energy) and the ticks (latency) identical.
"""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import build_section
from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.sim.hardware import Hardware
from hwsim.training import transfer_chain as tc
from hwsim.training.algorithms.tt_family import TransferEngine
from hwsim.training.digital_accumulator import transfer_accumulate_numpy
from hwsim.training.runner import prepare, stream, train_epoch

MODES = [  # (agad, chopped, in_mode, out_on)
    (False, False, tc.IN_NONE, False),      # TTv2
    (False, True, tc.IN_RANDOM, True),      # c-TTv2, both choppers
    (True, True, tc.IN_REGULAR, False),     # AGAD
    (True, True, tc.IN_RANDOM, True),
]


def _case(dt, m=6, n=5, chunks=7, seed=0, start=0):
    rng = np.random.default_rng(seed)
    total = n * (chunks - 1) + 3                        # a short last chunk
    cols = (start + np.arange(total)) % n               # pointer starting at ``start``
    bounds = np.array(list(range(0, total, n)) + [total])
    state = dict(H=rng.uniform(-1.5, 1.5, (m, n)).astype(dt),
                 m_mean=rng.normal(0, 0.3, (m, n)).astype(dt),
                 p_ref=rng.normal(0, 0.3, (m, n)).astype(dt),
                 c_in=rng.choice([-1.0, 1.0], n), c_out=rng.choice([-1.0, 1.0], m),
                 reads_col=rng.integers(0, 3, n))
    v = rng.normal(0, 0.5, (total, m)).astype(dt)
    return cols, bounds, v, state


def _run(backend, mode, dt, sweeps=0, start=0):
    agad, chopped, in_mode, out_on = mode
    cols, bounds, v, st = _case(dt, start=start)
    m, n = st["H"].shape
    u = np.random.default_rng(5).random(tc.uniforms_needed(cols, bounds, n, m, in_mode, out_on))
    ch = tc.chain(st["H"], v, cols, bounds, scale=0.7, c_in=st["c_in"], c_out=st["c_out"],
                  chopped=chopped, momentum=0.25, max_pulses=2, agad=agad,
                  m_mean=st["m_mean"], p_ref=st["p_ref"], rho=0.3, sweeps=sweeps,
                  half_period=3, in_mode=in_mode, p_in=0.4, reads_col=st["reads_col"],
                  out_on=out_on, p_out=0.3, u=u, backend=backend)
    return ch, st


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sweeps", [0, 5])
@pytest.mark.parametrize("start", [0, 2])
def test_kernel_equals_oracle_bit_for_bit(dt, mode, sweeps, start):
    a, sa = _run("cython", mode, dt, sweeps, start)
    b, sb = _run("numpy", mode, dt, sweeps, start)
    assert a.sweeps == b.sweeps
    for x, y in zip(a[:4], b[:4]):
        np.testing.assert_array_equal(x, y)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype
        assert sa[k].tobytes() == sb[k].tobytes(), k
    if sweeps or not mode[0]:                              # (AGAD warm-up: no writes)
        assert a.writes.sum() > 0                          # the case does fire


def _per_transfer(mode, sweeps, start):
    """The per-transfer code of tt_family.py (before batching), chunk by chunk; a sweep
    ends when a chunk reaches the last column (issue 16's rule: also inside a chunk
    that wraps round to column 0)."""
    agad, chopped, in_mode, out_on = mode
    cols, bounds, v, st = _case(np.float64, start=start)
    H, c_in, c_out, mm, pr, rc = (st[k] for k in ("H", "c_in", "c_out", "m_mean", "p_ref",
                                                  "reads_col"))
    m, n = H.shape
    u = iter(np.random.default_rng(5).random(1000))      # the chopper stream, in order
    counts, writes = [], []
    for b0, b1 in zip(bounds[:-1], bounds[1:]):
        cc, vv = cols[b0:b1], v[b0:b1]
        vt = vv
        if agad:
            vt = vv - pr[:, cc].T
            mm[:, cc] = (1 - 0.3) * mm[:, cc] + 0.3 * vv.T
        enabled = not (agad and sweeps < 3)
        cnt, wr = transfer_accumulate_numpy(H, cc, vt, 0.7, c_in if chopped else None,
                                            c_out if chopped else None, 0.25, 2, enabled)
        counts.append(cnt)
        writes.append(wr)
        if in_mode != tc.IN_NONE:
            rc[cc] += 1
            if in_mode == tc.IN_RANDOM:
                flip = cc[np.array([next(u) for _ in cc]) < 0.4]
            else:
                flip = cc[rc[cc] >= 3]
            c_in[flip] *= -1
            rc[flip] = 0
            if agad:
                pr[:, flip] = mm[:, flip]
        if cc[0] + cc.size >= n:        # the chunk reaches column n − 1 (tt_family)
            sweeps += 1
            if out_on:
                c_out[np.array([next(u) for _ in range(m)]) < 0.3] *= -1
    return np.concatenate(counts, axis=1), np.array(writes), st, sweeps


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sweeps", [0, 5])
@pytest.mark.parametrize("start", [0, 2])
def test_chain_equals_per_transfer_code(mode, sweeps, start):
    counts, writes, ref, ref_sweeps = _per_transfer(mode, sweeps, start)
    ch, st = _run("cython", mode, np.float64, sweeps, start)
    np.testing.assert_array_equal(ch.counts, counts)
    np.testing.assert_array_equal(ch.writes, writes)
    assert ch.sweeps == ref_sweeps
    for k in ref:
        assert st[k].tobytes() == ref[k].tobytes(), k


def test_bad_uniform_count_is_refused():
    cols, bounds, v, st = _case(np.float64)
    with pytest.raises(ValueError, match="uniforms"):
        tc.chain(st["H"], v, cols, bounds, scale=1.0, c_in=st["c_in"], c_out=st["c_out"],
                 chopped=True, momentum=0.0, max_pulses=1, in_mode=tc.IN_RANDOM, p_in=0.5,
                 reads_col=st["reads_col"], u=np.zeros(3))


def _conv_run(algo, params, batched, monkeypatch):
    monkeypatch.setattr(TransferEngine, "BATCHED", batched)
    cfg = build_section(ExperimentConfig, {
        "accelerator": {"device": {"model": "soft_bounds"},
                        "tile": {"periphery": {"chopper": {"inputs": True},
                                               "accumulator": {}}}},
        "workload": {"dataset": {"name": "digits", "flatten": False},
                     "network": [{"conv": {"out": 4, "kernel": 3}, "activation": "tanh"},
                                 {"flatten": True}, {"linear": 10}]},
        "training": {"algorithm": algo, "lr": 0.5, "batch": 4, "epochs": 1,
                     "params": dict(params, weight_scale=2, auto_granularity=20)},
        "run": {"seed": 0, "timing": True}}, "")
    prep = prepare(cfg)
    import dataclasses
    ds = prep.dataset
    prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:48], train_y=ds.train_y[:48])
    acc = prep.accelerator
    shapes = [(s.name, s.out_features, s.in_features) for s in prep.network.layer_shapes()]
    hw = Hardware(build_machine(acc), map_layers(shapes, prep.algorithm.ROLES, acc.tile.rows,
                                                 acc.tile.cols, acc.tile.count),
                  cache=acc.engine.cache)
    prep.context.hw = hw
    loss, _ = train_epoch(prep, hw, stream(0, "data"))
    hw.flush()
    eng = prep.algorithm.engines
    arrays = {(name, k): np.asarray(getattr(e, k)).tobytes() for name, e in eng.items()
              for k in ("H", "m_mean", "p_ref", "c_in", "c_out", "reads_col")
              if getattr(e, k, None) is not None}
    arrays.update({(name, a.role): a.array.w.tobytes() for name, e in eng.items()
                   for a in e.arrays()})
    stats = {name: (dict(e.stats), e.k, e.sweeps) for name, e in eng.items()}
    return (loss, arrays, stats, sorted(hw.machine.ledger.rows().items()), hw.sim.now,
            sorted(hw.phase_ticks.items()))


@pytest.mark.parametrize("algo, params", [
    ("ttv2", {}),
    ("c-ttv2", {"in_chop_prob": 0.3, "out_chop_prob": 0.2}),
    ("agad", {"in_chop_prob": 0.3}),
])
def test_batched_run_equals_per_transfer_run(algo, params, monkeypatch):
    a = _conv_run(algo, params, True, monkeypatch)
    b = _conv_run(algo, params, False, monkeypatch)
    assert a[2] == b[2]                                   # reads, pulses, flips, sweeps
    assert a[2][next(iter(a[2]))][0]["transfers"] > 48    # conv: many transfers a batch
    assert a[0] == b[0] and a[1] == b[1]                  # loss, every array, bit for bit
    assert a[3] == b[3]                                   # every ledger row (energy)
    assert a[4:] == b[4:]                                 # ticks per phase (latency)
