"""Study (b): analog SGD on least squares — closed-form response dynamics vs pulses, and floors.

Problem (PHYSICS.md §5; the ``least_squares`` task of :mod:`hwsim.training.synthetic`):
``min_W ½ mean‖W aᵢ − bᵢ‖²`` with aᵢ ~ U[−1, 1]ᴺ, bᵢ = W_true aᵢ + ε, ε ~ N(0, noise²).
Per step one sample, gradient ``d = W a − b`` from the *visible* weights (exact read,
so only the update dynamics is studied), intended update ``ΔW = −η d aᵀ``.

1. **Tracking.**  The analog-SGD dynamics of Wu et al. (NeurIPS 2024, "Towards exact
   gradient-based training on analog in-memory computing") in closed form,

       W ← W + ΔW ⊙ F(W) − |ΔW| ⊙ G(W),    F = (q₋ + q₊)/2,   G = (q₋ − q₊)/2,

   with the device's own response functions q±(w) = (Δ±/dw_min)·q_step(±, w) of
   :func:`hwsim.physics.device_models.q_step` (per-device gains and bounds of the same
   :class:`~hwsim.physics.device_array.DeviceArray`), against the pulse-level
   simulation of the same array and sample stream: stochastic pulse trains of
   :meth:`~hwsim.training.algorithms.analog.AnalogArray.pulsed_update` (Gokmen & Vlasov
   2016, BL/update management, 30 % cycle-to-cycle step noise).  The curves must track.
2. **Floors.**  Mean excess loss (loss − least-squares minimum) over the last third of
   the run, analog (pulse-level) vs digital SGD (``W ← W + ΔW`` in float), swept over
   the step size η, the target noise (gradient noise at the optimum) and the
   saturation ``max|W_true|/w_max``.  Digital SGD's floor is ∝ η·noise² and vanishes
   as η → 0; analog SGD's floor is set by the asymmetric term ``|ΔW|⊙G(W)``, which
   pulls W towards the symmetry point in proportion to the gradient noise and to how
   far W* sits from it, so it does not vanish with η (Wu et al. 2024).

Device: the SoftBounds preset ``reram_softbounds`` (dw_min 0.001, bounds ±0.6 with 30 %
spread) on the plain analog tile.  Writes ``examples/results/least_squares_tracking.csv``,
``examples/results/least_squares_floors.csv`` and ``docs/least_squares.png``.

    python examples/least_squares.py               # ~2 min on a shared 2-core machine
    python examples/least_squares.py --plot-only   # redraw docs/least_squares.png from the CSVs
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


def least_squares_task(n_in: int, n_out: int, target_range: float, noise: float, seed: int):
    """The synthetic least-squares task of hwsim.training.datasets (10·N train rows)."""
    from hwsim.training.datasets import load_dataset
    from hwsim.training.runner import stream
    return load_dataset({"name": "least_squares", "in": n_in, "out": n_out,
                         "target_range": target_range, "noise": noise, "n_test": 200},
                        stream(seed, "study/least_squares"))


def analog_array(shape, seed: int, device: str = "reram_softbounds",
                 accelerator: str = "analog_tile.yaml", precision: str | None = None,
                 **device_changes):
    """An :class:`AnalogArray` (role W) on a NullHardware context (``precision``: the
    device state's, run.precision; default float32)."""
    from hwsim.config.accelerator import load_accelerator
    from hwsim.devices import load_device
    from hwsim.config.params import replace
    from hwsim.training.algorithms.analog import AnalogArray
    from hwsim.training.runner import Context

    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / accelerator))
    dev = load_device(device)
    if device_changes:
        dev = replace(dev, **device_changes)
    ctx = Context(accelerator=acc, device=dev, seed=seed, backend="cython")
    if precision:
        ctx.precision = precision
    return AnalogArray(ctx, "ls", "W", shape, init_w=np.zeros(shape))


def response_functions(array, w):
    """(F, G) of the device array at weights w: q± including each device's gain Δ±/dw_min."""
    from hwsim.physics import device_models as dm
    a = array
    args = (a.p_up, a.p_down, a.b_min, a.b_max, a.scalars)
    # in float64 whatever the state precision (float32 state is widened exactly)
    up, dn = a.dw_up.astype(np.float64), a.dw_down.astype(np.float64)
    q_up = up / a.cfg.dw_min * dm.q_step(a.model_code, True, w, *args, a.nodes_up)
    q_dn = dn / a.cfg.dw_min * dm.q_step(a.model_code, False, w, *args, a.nodes_down)
    return 0.5 * (q_dn + q_up), 0.5 * (q_dn - q_up)


def closed_form_step(array, w, dw):
    """One step of W ← W + ΔW⊙F(W) − |ΔW|⊙G(W), clipped to the device bounds."""
    f, g = response_functions(array, w)
    return np.clip(w + dw * f - np.abs(dw) * g, array.b_min, array.b_max)


def run_sgd(task, lr: float, steps: int, seed: int, *, mode: str, record_every: int = 0,
            tail: float = 1 / 3):
    """SGD on the least-squares task; mode 'pulsed', 'closed_form' or 'digital'.

    The sample order is the same stream for every mode.  Returns the loss curve (step,
    training loss) and the mean excess training loss over the last ``tail`` of the run.
    """
    n_out, n_in = task.target.shape
    arr = analog_array((n_out, n_in), seed)
    dev = arr.array
    rng = np.random.default_rng([seed, 7])
    w = np.zeros((n_out, n_in)) - dev.reference      # visible weights (reference 0 here)
    curve, tail_losses = [], []
    start_tail = int(steps * (1 - tail))
    for t in range(steps):
        i = rng.integers(task.n_train)
        a, b = task.train_x[i:i + 1], task.train_y[i:i + 1]
        vis = arr.weights() if mode == "pulsed" else w
        d = a @ vis.T - b                                       # (1, out)
        if mode == "pulsed":
            arr.pulsed_update(a, d, lr)
        else:
            dw = -lr * d.T @ a
            if mode == "digital":
                w = w + dw
            else:
                w = closed_form_step(dev, w + dev.reference, dw) - dev.reference
        rec = bool(record_every) and (t + 1) % record_every == 0
        in_tail = t >= start_tail and (t - start_tail) % 10 == 0
        if rec or in_tail:
            loss = task.loss(arr.weights() if mode == "pulsed" else w, "train")
            if rec:
                curve.append((t + 1, loss))
            if in_tail:
                tail_losses.append(loss - task.min_train_loss)
    return {"curve": curve, "excess": float(np.mean(tail_losses)),
            "final_w": arr.weights() if mode == "pulsed" else w}


def tracking(seed: int = 0, steps: int = 4000, lr: float = 0.05, n_in: int = 8, n_out: int = 4,
             target_range: float = 0.4, noise: float = 0.1, record_every: int = 100) -> dict:
    """Loss curves of the closed form and the pulse-level run, same device and samples."""
    task = least_squares_task(n_in, n_out, target_range, noise, seed)
    out = {}
    for mode in ("closed_form", "pulsed", "digital"):
        out[mode] = run_sgd(task, lr, steps, seed, mode=mode, record_every=record_every)
    out["task"] = task
    return out


def floors(seed: int = 0, lrs=(0.003, 0.01, 0.03, 0.1), noises=(0.0, 0.1, 0.3),
           ranges=(0.1, 0.4), n_in: int = 8, n_out: int = 4) -> list[dict]:
    rows = []
    for tr in ranges:
        for noise in noises:
            task = least_squares_task(n_in, n_out, tr, noise, seed)
            for lr in lrs:
                steps = int(max(3000, 40 / lr))
                for mode in ("digital", "pulsed"):
                    t0 = time.perf_counter()
                    r = run_sgd(task, lr, steps, seed, mode=mode)
                    rows.append({"mode": "analog" if mode == "pulsed" else "digital",
                                 "target_range": tr, "saturation": tr / 0.6, "noise": noise,
                                 "lr": lr, "steps": steps, "excess_loss": r["excess"],
                                 "min_train_loss": task.min_train_loss,
                                 "wall_s": time.perf_counter() - t0})
                    print(f"range {tr}  noise {noise}  η {lr}  {rows[-1]['mode']:7s} "
                          f"excess {r['excess']:.3e}", flush=True)
    return rows


def plot(curves: dict, min_loss: float, rows: list[dict], path: Path) -> None:
    """Left: the loss curves ``curves[mode] = [(step, loss), ...]``; right: the floors."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ranges = sorted({r["target_range"] for r in rows})
    fig, axes = plt.subplots(1, 1 + len(ranges), figsize=(4.4 * (1 + len(ranges)), 3.8))
    ax = axes[0]
    labels = {"closed_form": "closed form F, G", "pulsed": "pulse level", "digital": "digital SGD"}
    for mode, style in (("closed_form", "-"), ("pulsed", "--"), ("digital", ":")):
        s, loss = zip(*curves[mode])
        ax.plot(s, np.asarray(loss) - min_loss, style, label=labels[mode])
    ax.set_yscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss − least-squares minimum")
    ax.set_title("closed form vs pulse level (η 0.05)")
    ax.legend()
    noises = sorted({r["noise"] for r in rows})
    for ax, tr in zip(axes[1:], ranges):
        for k, noise in enumerate(noises):
            for mode, style in (("analog", "-o"), ("digital", ":s")):
                pts = sorted((r["lr"], max(r["excess_loss"], 1e-7)) for r in rows
                             if r["mode"] == mode and r["noise"] == noise
                             and r["target_range"] == tr)
                ax.plot(*zip(*pts), style, color=f"C{k}", label=f"{mode}, noise {noise}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(5e-8, 0.3)
        ax.set_xlabel("step size η")
        ax.set_title(f"error floor, max|W*| = {tr} ({tr / 0.6:.2f}·w_max)")
        ax.legend(fontsize=7)
    axes[1].set_ylabel("mean excess loss, last third (floored at 1e-7)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def _plot_from_csv(res: Path) -> None:
    with open(res / "least_squares_tracking.csv") as fh:
        rec = list(csv.DictReader(fh))
    curves = {m: [(int(r["step"]), float(r[f"{m}_loss"])) for r in rec]
              for m in ("closed_form", "pulsed", "digital")}
    with open(res / "least_squares_floors.csv") as fh:
        rows = [{k: (v if k == "mode" else float(v)) for k, v in r.items()}
                for r in csv.DictReader(fh)]
    plot(curves, float(rec[0]["min_train_loss"]), rows, ROOT / "docs" / "least_squares.png")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="least-squares study (b)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure from the CSVs")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = ROOT / "examples" / "results"
    res.mkdir(parents=True, exist_ok=True)
    if args.plot_only:
        _plot_from_csv(res)
        return
    track = tracking(args.seed)
    with open(res / "least_squares_tracking.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "closed_form_loss", "pulsed_loss", "digital_loss", "min_train_loss"])
        for (s, c), (_, p), (_, g) in zip(track["closed_form"]["curve"], track["pulsed"]["curve"],
                                          track["digital"]["curve"]):
            w.writerow([s, c, p, g, track["task"].min_train_loss])
    diff = np.abs(track["closed_form"]["final_w"] - track["pulsed"]["final_w"])
    print(f"tracking: final excess loss closed form {track['closed_form']['excess']:.3e}, "
          f"pulse level {track['pulsed']['excess']:.3e}; max |ΔW| {diff.max():.4f}")
    rows = floors(args.seed)
    with open(res / "least_squares_floors.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    _plot_from_csv(res)
    print(f"wrote examples/results/least_squares_*.csv and docs/least_squares.png "
          f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
