"""In-memory training algorithms as hardware programs (PHYSICS.md §4–§5)."""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.config.accelerator import AcceleratorConfig
from hwsim.devices import DeviceConfig
from hwsim.config.experiment import ExperimentConfig, TrainingConfig
from hwsim.config.params import build_section
from hwsim.sim.hardware import Hardware
from hwsim.sim.program import Op
from hwsim.training.algorithms import ALGORITHMS
from hwsim.training.runner import Context, evaluate, prepare, stream, train_epoch

SOFT = {"model": "soft_bounds"}                       # the default soft-bounds device
CHOP_TILE = {"device": SOFT, "tile": {"periphery": {"chopper": {"inputs": True},
                                                    "accumulator": {}}}}
# digits hyperparameters of configs/digits_*.yaml
TUNED = {"weight_scale": 4, "auto_granularity": 20, "max_pulses": 10}


def _algo(name, params, acc=None, lr=1.0, seed=0):
    acc_cfg = build_section(AcceleratorConfig, acc or CHOP_TILE, "")
    dev = build_section(DeviceConfig, (acc or CHOP_TILE)["device"], "device")
    ctx = Context(accelerator=acc_cfg, device=dev, seed=seed, backend="cython")
    cls = ALGORITHMS[name]
    known = {f for f in cls.Params.__dataclass_fields__}
    params = {k: v for k, v in params.items() if k in known}      # variant's own keys only
    training = build_section(TrainingConfig, {"algorithm": name, "lr": lr}, "training")
    return cls(build_section(cls.Params, params, "params"), training, ctx)


# -- (1) chopper math on one 8×8 tile ----------------------------------------------------
PERFECT_TILE = {"device": SOFT, "tile": {"forward": {"is_perfect": True},
                                         "periphery": {"chopper": {"inputs": True},
                                                       "accumulator": {}}}}


def _drift(name, offset=0.05, sweeps=100):
    """|ΔC| after ``sweeps`` transfer sweeps with zero gradient and A offset by ``offset``."""
    algo = _algo(name, {"auto_granularity": 0, "in_chop_random": False, "in_chop_prob": 0.1},
                 PERFECT_TILE)
    algo.make_backend("fc", 8, 8, np.zeros((8, 8)))
    eng = algo.engines["fc"]
    # a constant offset on what a read of A sees: reference error / symmetry-point mismatch
    eng.A.array.reference -= offset
    eng.A.note_write(reference=True)
    c0 = eng.C.weights()
    eng._transfers(8 * sweeps)
    return float(np.mean(np.abs(eng.C.weights() - c0)))


def test_choppers_cancel_a_static_offset_ttv2_drifts():
    ttv2 = _drift("ttv2")
    cttv2 = _drift("c-ttv2")
    agad = _drift("agad")
    # measured: TTv2 0.096, c-TTv2 0.0026, AGAD 0.0011 (mean |ΔC| after 100 sweeps)
    # TTv2 integrates the offset: one pulse per read (BL_t = 1), ~100 pulses ≈ 0.1
    assert ttv2 > 0.05
    # the chopper sign alternates every 10 reads: |Σ c| ≤ 10 pulses; AGAD subtracts p
    assert cttv2 < 0.15 * ttv2
    assert agad < 0.05 * ttv2


@pytest.mark.parametrize("name", ["ttv2", "c-ttv2", "agad"])
def test_matrix_learning_small_target(name):
    rng = np.random.default_rng(1)
    target = rng.uniform(-0.3, 0.3, (8, 8))
    algo = _algo(name, {"auto_granularity": 50, "max_pulses": 5, "in_chop_prob": 0.1},
                 PERFECT_TILE, lr=0.5)
    backend = algo.make_backend("fc", 8, 8, np.zeros((8, 8)))
    eng = algo.engines["fc"]
    err0 = np.std(backend.weights() - target)
    for _ in range(600):
        x = rng.uniform(-1, 1, (10, 8))
        d = (x @ (backend.weights() - target).T) / 10.0
        eng.step(x, d)
    err = np.std(backend.weights() - target)
    assert err < 0.5 * err0, (name, err0, err)


# -- (2) digits MLP through the runner -----------------------------------------------------
def _digits(name, lr, params, epochs):
    cfg = build_section(ExperimentConfig, {
        "accelerator": CHOP_TILE,
        "workload": {"dataset": "digits",
                     "network": [{"linear": 32, "activation": "sigmoid"}, {"linear": 10}]},
        "training": {"algorithm": name, "lr": lr, "batch": 10, "epochs": epochs,
                     "params": params},
        "run": {"seed": 0, "timing": False}}, "")
    prep = prepare(cfg)
    rng = stream(0, "data")
    accs = []
    for _ in range(epochs):
        train_epoch(prep, prep.context.hw, rng)
        accs.append(evaluate(prep)[1])
    return accs


@pytest.mark.parametrize("name", ["c-ttv2", "agad"])
def test_digits_chopped_algorithms_learn(name):
    accs = _digits(name, 1.0, dict(TUNED, in_chop_prob=0.2 if name == "agad" else 0.1), 3)
    # measured (seed 0, cython): c-TTv2 0.40/0.63/0.68, AGAD 0.34/0.61/0.42 (chance 0.1;
    # AGAD 0.14/0.50/0.42 while its sweeps were undercounted, issue 16); bounds set below
    # the measurement with margin for the AGAD epoch-to-epoch noise
    assert accs[-1] > (0.5 if name == "c-ttv2" else 0.3)
    assert max(accs[1:]) > accs[0] + 0.1


def test_digits_analog_sgd_learns():
    accs = _digits("sgd", 0.5, {"weight_scale": 4}, 2)
    # measured (seed 0): 0.54, 0.72
    assert accs[-1] > 0.55


# -- (3) mixed precision: χ bookkeeping ----------------------------------------------------
def test_mixed_precision_chi_accounting_exact():
    algo = _algo("mixed-precision", {"chi_bits": 16, "chi_frac_bits": 6, "max_pulses": 1000}, CHOP_TILE, lr=0.5)
    algo.make_backend("fc", 6, 5, np.zeros((6, 5)))
    rng = np.random.default_rng(3)

    class L:
        name = "fc"

    class Net:
        def analog_layers(self):
            return [layer]
    layer = L()
    for _ in range(40):
        layer.last_input = rng.uniform(-1, 1, (4, 5))
        layer.last_delta = rng.normal(0, 0.05, (4, 6))
        algo.update(Net(), 4)
    chi, eps = algo.chi["fc"], algo.arrays["fc"].granularity
    np.testing.assert_allclose(algo.written["fc"] + chi, algo.accumulated["fc"], atol=1e-12)
    assert np.all(np.abs(chi) < eps)                  # everything ≥ ε was written
    assert algo.arrays["fc"].pulses > 0
    lsb = eps / 2 ** 6
    np.testing.assert_allclose(chi / lsb, np.round(chi / lsb), atol=1e-6)   # on the χ grid


# -- (4) ops issued by one mini-batch --------------------------------------------------------
class RecordingHardware:
    """The operations API of :class:`Hardware` (same methods, same Op records), recording only."""

    def __init__(self):
        self.ops = []

    def issue(self, op):
        self.ops.append(op)

    def end_step(self, samples):
        pass

    _op = Hardware._op
    forward, backward, read_column = Hardware.forward, Hardware.backward, Hardware.read_column
    update, serial_write, accumulate = Hardware.update, Hardware.serial_write, Hardware.accumulate
    flip, transfer = Hardware.flip, Hardware.transfer

    def digital(self, kind, n, layer="", phase="digital"):
        # (Hardware.digital passes kind= twice to _op at the time of writing: reported)
        if n > 0:
            self.issue(Op("digital", int(n), layer, "-", phase, (("kind", kind),)))


@pytest.mark.parametrize("name,expect,absent", [
    ("sgd", {"forward", "backward", "update"}, {"read_column", "flip", "accumulate"}),
    ("ttv2", {"forward", "backward", "update", "read_column", "accumulate"}, {"flip"}),
    ("c-ttv2", {"forward", "backward", "update", "read_column", "accumulate", "flip"}, set()),
    # AGAD flips regularly every max(ceil(1/p_in), 2) = 2 reads: none in the first batch
    ("agad", {"update", "read_column", "accumulate", "digital"}, {"flip"}),
    ("mixed-precision", {"forward", "accumulate", "serial_write", "digital"}, {"read_column"}),
])
def test_ops_of_one_minibatch(name, expect, absent):
    cfg = build_section(ExperimentConfig, {
        "accelerator": CHOP_TILE,
        "workload": {"dataset": "digits",
                     "network": [{"linear": 32, "activation": "sigmoid"}, {"linear": 10}]},
        "training": {"algorithm": name, "lr": 1.0, "batch": 10, "epochs": 1,
                     "params": dict(TUNED, in_chop_prob=1.0) if name in ("c-ttv2", "agad")
                     else ({"weight_scale": 4} if name in ("sgd", "mixed-precision") else TUNED)},
        "run": {"seed": 0}}, "")
    prep = prepare(cfg)
    rec = prep.context.hw = RecordingHardware()
    xb, yb = prep.dataset.train_x[:10], prep.dataset.train_y[:10]
    from hwsim.training.losses import softmax_cross_entropy
    z = prep.network.forward(xb)
    prep.network.backward(softmax_cross_entropy(z, yb)[1])
    prep.algorithm.update(prep.network, 10)
    kinds = {op.op for op in rec.ops}
    assert expect <= kinds, kinds
    assert not (absent & kinds), kinds
    fwd = [op for op in rec.ops if op.op == "forward" and op.layer == "fc1"]
    assert fwd and fwd[0].n >= 10                      # 10 vectors (+ bound-management repeats)
    if name in ("ttv2", "c-ttv2", "agad"):
        reads = [op for op in rec.ops if op.op == "read_column" and op.role == "A"]
        # transfer_every = 1, n_reads = 1: one column read per vector update, per layer
        assert sum(op.n for op in reads if op.layer == "fc1") >= 10
        acc_ops = [op for op in rec.ops if op.op == "accumulate" and op.layer == "fc1"]
        assert sum(op.n for op in acc_ops) == 10 * 32   # M elements of H per read
    if name == "c-ttv2":
        flips = [op for op in rec.ops if op.op == "flip"]
        assert sum(op.n for op in flips) == 20          # p_in = 1: every read column flips
    if name == "mixed-precision":
        macs = [op for op in rec.ops if op.op == "digital" and op.meta_dict().get("kind") == "mac"]
        assert sum(op.n for op in macs) == 10 * (32 * 64 + 10 * 32)   # O(MN) per sample
