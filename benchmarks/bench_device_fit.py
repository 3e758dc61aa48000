"""Fit time of ``hwsim device fit`` per model (issue 19): 32 devices × 5 cycles × 500
pulses per direction (160 000 pulse steps), data made by hwsim's own physics.

    PYTHONPATH=. python benchmarks/bench_device_fit.py [--repeats 3]

One BLAS thread (the fit is NumPy reductions; this makes it a one-core number).  Prints
the median wall time of the CSV read, the step extraction, each model's fit and of
``--model auto`` (all six auto candidates + BIC), and the median CPU time
(time.process_time) of the fit and of auto, which a busy shared machine inflates less.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import statistics  # noqa: E402
import time  # noqa: E402

from _timing import median_time  # noqa: E402

from hwsim.config.params import replace  # noqa: E402
from hwsim.fit import device_sim, select  # noqa: E402
from hwsim.fit.pulse_data import extract_steps, read_pulse_csv, write_pulse_csv  # noqa: E402

#: generating device per model: the presets, step 0.004 so 500 pulses sweep the range
GENERATORS = {"constant_step": "gokmen_vlasov", "linear_step": "ecram",
              "soft_bounds": "reram_softbounds", "exp_step": "reram_expstep",
              "pow_step": "reram_softbounds", "piecewise_step": "reram_expstep"}
# (the piecewise row fits exp_step data: auto then rightly picks exp_step)


def median_cpu(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        ts.append(time.process_time() - t)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--devices", type=int, default=32)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--pulses", type=int, default=500)
    a = ap.parse_args()
    print(f"{a.devices} devices × {a.cycles} cycles × ({a.pulses} up, {a.pulses} down); "
          f"median of {a.repeats}")
    print(f"{'model':16s} {'read CSV':>9s} {'steps':>7s} {'fit':>7s} {'auto':>7s} "
          f"{'fit cpu':>8s} {'auto cpu':>8s}  picked")
    for model, preset in GENERATORS.items():
        cfg = replace(device_sim.load(preset), dw_min=0.004)
        if model == "pow_step":
            cfg = replace(cfg, model="pow_step", pow_gamma=2.0, dw_min=0.012)
        data = device_sim.simulate(cfg, a.devices, a.cycles, a.pulses, seed=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "pulses.csv")
            write_pulse_csv(path, data)
            t_read = median_time(lambda: read_pulse_csv(path), a.repeats)
        steps = extract_steps(data)
        t_steps = median_time(lambda: extract_steps(data), a.repeats)
        t_fit = median_time(lambda: select.fit_model(model, steps), a.repeats)
        picked = []
        t_auto = median_time(lambda: picked.append(select.choose(steps)[0].fit.model),
                             a.repeats)
        c_fit = median_cpu(lambda: select.fit_model(model, steps), a.repeats)
        c_auto = median_cpu(lambda: select.choose(steps), a.repeats)
        print(f"{model:16s} {t_read:8.2f}s {t_steps:6.3f}s {t_fit:6.3f}s {t_auto:6.2f}s "
              f"{c_fit:7.3f}s {c_auto:7.2f}s  {picked[-1]}")


if __name__ == "__main__":
    main()
