"""Study (a): matrix learning on one tile, swept over reference offset σ_r and device states.

One analog layer (M × N tile) learns a fixed random target W* from random inputs
(PHYSICS.md §5; Rasch et al., Nat. Commun. 15:7133, 2024): per vector update
x ~ U[−1, 1]ᴺ, the layer's output ``y = W̄ x`` is read through the tile's forward
periphery (DAC, out noise 0.06, 9-bit ADC), the error ``d = y − W* x`` (the gradient of
½‖W x − W* x‖²) is handed to the algorithm, and after ``updates`` vector updates

    error = std(W̄ − W*) / (w_max − w_min)

with W̄ the visible network weight (C for the Tiki-Taka family, W for SGD).
The algorithms run their own code — :class:`~hwsim.training.algorithms.analog.AnalogArray`
for SGD and :class:`~hwsim.training.algorithms.tt_family.TransferEngine` for TTv2,
c-TTv2 and AGAD — on a :class:`~hwsim.training.runner.Context` with a
:class:`~hwsim.training.algorithms.base.NullHardware` (no timing).

Device: the SoftBounds preset ``configs/devices/reram_softbounds.yaml`` (Gokmen & Vlasov
2016 spreads: 30 % dtod/c2c, bounds ±0.6) with ``dw_min = 1.2/states`` so that
states = (w_max − w_min)/dw_min ∈ {20, 100, 1000}.  Tile: ``configs/accelerators/cttv2_tile.yaml``.

Reference offset σ_r — the error of the zero the fast array is read against:

* TTv2 / c-TTv2: the algorithms' own ``ref_std`` (reference array R programmed to A's
  symmetry point with error σ_r ξ);
* AGAD (no R): a static per-device read offset σ_r ξ on A (``A.array.reference``), the
  offset its on-the-fly reference has to remove;
* SGD (no A): the same read offset on W; SGD compensates it through the gradient, at
  the price of weights pushed σ_r away from the symmetry point.

``--offsets every`` is the literature's setting instead (aihwkit's reference device
on every array, Rasch et al. 2024): the same σ_r as a static, uncompensated read
offset on *every* array of the algorithm (``ref_offsets``: A and C for the Tiki-Taka
family, R programmed to A's symmetry point without error; W for SGD).

Hyperparameters are the literature defaults of the algorithms (fast_lr 0.1,
auto_granularity 1000, BL_t 1, p_in 0.1, ...) except the learning rates (``LR``),
chosen once so that every algorithm converges within the budget at 1000 states.

``--preset aihwkit`` runs the aihwkit 1.1.0 ``build_config`` family of
``configs/presets/aihwkit/`` instead (its device, tile and each algorithm's params,
mixed precision included), at the learning rates ``LR_AIHWKIT``.

    python examples/matrix_learning.py                         # the full sweep
    python examples/matrix_learning.py --updates 20000 --size 32
    python examples/matrix_learning.py --offsets every         # offsets on every array
    python examples/matrix_learning.py --preset aihwkit --sigmas 0 --states 100,1000

writes ``examples/results/matrix_learning.csv`` (``matrix_learning_every.csv``,
``matrix_learning_aihwkit.csv``) and ``docs/matrix_learning.png`` (the default sweep
only; matplotlib, the optional ``plot`` extra).
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:            # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

ALGOS = ("sgd", "ttv2", "c-ttv2", "agad")
SIGMAS = (0.0, 0.1, 0.2, 0.3, 0.5)
STATES = (20, 100, 1000)
#: learning rate η of each algorithm (SGD: of W per vector update; Tiki-Taka family: the
#: transfer scale s = η·N·T/(ε_A·G), i.e. η = 1 fills H in G updates at one state of A)
LR = {"sgd": 0.02, "ttv2": 0.3, "c-ttv2": 0.3, "agad": 0.3}
TARGET_RANGE = 0.3           # W* ~ U[−0.3, 0.3]: half the nominal bound (synthetic.py)
PRESETS = ROOT / "configs" / "presets" / "aihwkit"
#: the aihwkit family's experiment of each algorithm (its training.params are used)
AIHWKIT = {"sgd": "digits_sgd.yaml", "ttv2": "digits_ttv2.yaml", "c-ttv2": "digits_c_ttv2.yaml",
           "agad": "digits_agad.yaml", "mixed-precision": "digits_mp.yaml"}
#: learning rates of the aihwkit family on this task (auto_granularity 0: the transfer
#: scale is s = η/ε_A per read): the best of η ∈ {0.003, 0.01, 0.03, 0.1, 0.3} in 20 000-update
#: runs at σ_r = 0, 100 states (examples/README.md)
LR_AIHWKIT = {"sgd": 0.003, "ttv2": 0.003, "c-ttv2": 0.01, "agad": 0.01, "mixed-precision": 0.003}
ROLES = {"sgd": ("W",), "mixed-precision": ("W",), "ttv2": ("A", "C"), "c-ttv2": ("A", "C"),
         "agad": ("A", "C")}


def aihwkit_params(name: str) -> dict:
    """The training.params of the aihwkit preset experiment of ``name``."""
    from hwsim.config.yamlio import load_yaml
    return dict(load_yaml(str(PRESETS / AIHWKIT[name]))["training"]["params"])


def make_algorithm(name: str, states: float, sigma_r: float, *, lr: float | None = None,
                   params: dict | None = None, seed: int = 0, device: str = "reram_softbounds",
                   accelerator: str = "cttv2_tile.yaml", offsets: str = "one"):
    """An algorithm object bound to a NullHardware context with a ``states``-state device.
    ``offsets``: ``one`` (σ_r on R's programming for TTv2/c-TTv2, see learn_matrix for the
    others) or ``every`` (``ref_offsets`` σ_r on every array of the algorithm)."""
    from hwsim.config.accelerator import load_accelerator
    from hwsim.devices import load_device
    from hwsim.config.experiment import TrainingConfig
    from hwsim.config.params import build_section, replace
    from hwsim.training.algorithms import ALGORITHMS
    from hwsim.training.runner import Context

    acc_path = Path(accelerator)
    if not acc_path.is_absolute():
        acc_path = ROOT / "configs" / "accelerators" / accelerator
    acc = load_accelerator(str(acc_path))
    dev = load_device(device, base_dir=str(acc_path.parent))
    dev = replace(dev, dw_min=(dev.w_max - dev.w_min) / float(states))
    ctx = Context(accelerator=acc, device=dev, seed=seed, backend="cython")
    cls = ALGORITHMS[name]
    p = dict(params or {})
    if offsets == "every":
        if sigma_r > 0:
            p["ref_offsets"] = {role: sigma_r for role in ROLES[name]}
    elif name in ("ttv2", "c-ttv2"):
        p["ref_std"] = sigma_r
    training = build_section(TrainingConfig, {"algorithm": name, "lr": lr or LR[name]},
                             "training")
    return cls(build_section(cls.Params, p, "params"), training, ctx)


class _Layer:
    """The one layer an algorithm's ``update`` reads (its last input and error)."""
    name = "fc"
    last_input = last_delta = None


class _Net:
    def __init__(self):
        self.layer = _Layer()

    def analog_layers(self):
        return [self.layer]


def learn_matrix(name: str, states: float, sigma_r: float, *, updates: int = 100000,
                 size: int = 16, batch: int = 10, seed: int = 0, lr: float | None = None,
                 params: dict | None = None, curve_every: int = 0, offsets: str = "one",
                 preset: str | None = None) -> dict:
    """Train one tile on W*; returns ``error`` (std(W̄ − W*)/range) and the curve.
    ``preset: aihwkit``: the aihwkit family's device, tile and params (offsets on every
    array)."""
    if preset == "aihwkit":
        tile = "tile_sgd.yaml" if name in ("sgd", "mixed-precision") else "tile_transfer.yaml"
        algo = make_algorithm(name, states, sigma_r, lr=lr or LR_AIHWKIT[name],
                              params={**aihwkit_params(name), **(params or {})}, seed=seed,
                              device="soft_bounds_reference.yaml",
                              accelerator=str(PRESETS / tile), offsets="every")
        offsets = "every"
    else:
        algo = make_algorithm(name, states, sigma_r, lr=lr, params=params, seed=seed,
                              offsets=offsets)
    ctx = algo.ctx
    rng = ctx.rng("study/data")
    target = ctx.rng("study/target").uniform(-TARGET_RANGE, TARGET_RANGE, (size, size))
    backend = algo.make_backend("fc", size, size, np.zeros((size, size)))
    net = _Net() if name == "mixed-precision" else None
    if name in ("sgd", "mixed-precision"):
        arr, eng = algo.arrays["fc"], None
    else:
        eng = algo.engines["fc"]
        arr = eng.A
    if offsets == "one" and name in ("sgd", "agad") and sigma_r > 0:   # static read offset of
        # the un-referenced array
        arr.array.reference = arr.array.reference + \
            sigma_r * ctx.rng("study/offset").standard_normal(arr.shape)
    span = ctx.device.w_max - ctx.device.w_min
    curve = []
    steps = -(-updates // batch)
    for i in range(steps):
        x = rng.uniform(-1.0, 1.0, (batch, size))
        d = backend.forward(x) - x @ target.T             # d = (W̄ − W*) x, read through the tile
        if net is not None:                               # mixed precision: its own update
            net.layer.last_input, net.layer.last_delta = x, d
            algo.update(net, batch)
        elif eng is None:
            arr.pulsed_update(x, d, algo.lr)
            arr.end_of_batch()
        else:
            eng.step(x, d)
        if curve_every and (i + 1) % max(curve_every // batch, 1) == 0:
            curve.append(((i + 1) * batch, float(np.std(backend.weights() - target) / span)))
    err = float(np.std(backend.weights() - target) / span)
    out = {"algorithm": name, "states": states, "sigma_r": sigma_r, "error": err,
           "updates": steps * batch, "size": size, "curve": curve}
    if eng is not None:
        out.update(eng.stats)
    else:
        out["A_pulses"], out["C_pulses"] = 0, arr.pulses
    return out


def plot(rows, path: Path, updates: int, size: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    states = sorted({r["states"] for r in rows})
    fig, axes = plt.subplots(1, len(states), figsize=(4.2 * len(states), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    marks = {"sgd": "o", "ttv2": "s", "c-ttv2": "^", "agad": "D"}
    for ax, n in zip(axes, states):
        for a in ALGOS:
            pts = sorted((r["sigma_r"], r["error"]) for r in rows
                         if r["algorithm"] == a and r["states"] == n)
            if pts:
                ax.plot(*zip(*pts), marker=marks[a], label=a)
        ax.set_title(f"{n} states")
        ax.set_xlabel("reference offset σ_r")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("std(W − W*) / range")
    axes[0].legend()
    fig.suptitle(f"Matrix learning, {size}×{size} tile, {updates} vector updates, SoftBounds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="matrix-learning sweep (study a)")
    ap.add_argument("--updates", type=int, default=100000)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--algos", default=None, help="default: sgd,ttv2,c-ttv2,agad (aihwkit: "
                                                   "and mixed-precision)")
    ap.add_argument("--offsets", choices=("one", "every"), default="one",
                    help="σ_r on the one array of today's study, or on every array")
    ap.add_argument("--preset", choices=("aihwkit",), default=None,
                    help="the aihwkit build_config family of configs/presets/aihwkit")
    ap.add_argument("--sigmas", default=",".join(map(str, SIGMAS)))
    ap.add_argument("--states", default=",".join(map(str, STATES)))
    ap.add_argument("--lr", type=float, default=None, help="one learning rate for all")
    args = ap.parse_args(argv)
    algos = args.algos or ",".join(ALGOS + (("mixed-precision",) if args.preset else ()))
    rows, t0 = [], time.perf_counter()
    for n in map(int, args.states.split(",")):
        for a in algos.split(","):
            for s in map(float, args.sigmas.split(",")):
                t = time.perf_counter()
                r = learn_matrix(a, n, s, updates=args.updates, size=args.size, seed=args.seed,
                                 offsets=args.offsets, preset=args.preset, lr=args.lr)
                r["wall_s"] = time.perf_counter() - t
                rows.append(r)
                print(f"states {n:5d}  {a:7s}  σ_r {s:.1f}  error {r['error']:.4f}  "
                      f"({r['wall_s']:.1f} s)", flush=True)
    tag = f"_{args.preset}" if args.preset else ("_every" if args.offsets == "every" else "")
    out = ROOT / "examples" / "results" / f"matrix_learning{tag}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = ("algorithm", "states", "sigma_r", "error", "updates", "size", "A_pulses", "C_pulses",
            "reads", "flips", "wall_s")
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    if tag:
        print(f"wrote {out.relative_to(ROOT)} ({time.perf_counter() - t0:.0f} s)")
        return
    plot(rows, ROOT / "docs" / "matrix_learning.png", args.updates, args.size)
    print(f"wrote {out.relative_to(ROOT)} and docs/matrix_learning.png "
          f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
