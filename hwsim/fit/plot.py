"""Device plots (matplotlib, the optional extra ``plot``) and device statistics.

Left: the pulse response — N up then N down pulses, several cycles, several devices
drawn from the device model (hwsim's own physics), with the measurement overlaid when
given.  Right: the mean step size against the weight for each direction (nominal
device), with the measured steps as dots.
"""
from __future__ import annotations

import numpy as np

from hwsim.errors import HwsimError
from hwsim.fit import device_sim
from hwsim.fit.pulse_data import PulseData, extract_steps


def statistics_text(cfg) -> list[str]:
    s = device_sim.statistics(cfg)
    sym = "none (steps do not depend on w)" if not np.isfinite(s["symmetry_point"]) else \
        f"{s['symmetry_point']:.4g}"
    return [f"model {cfg.model}: {s['states']:.0f} states (range/granularity "
            f"{s['granularity']:.4g})",
            f"symmetry point w⋄ = {sym}",
            f"steps at w = 0: up {s['up_step_at_0']:.4g}, down {s['down_step_at_0']:.4g} "
            f"(asymmetry (up − down)/(up + down) = {s['asymmetry']:+.3f})",
            f"dynamic range [{s['w_min']:.4g}, {s['w_max']:.4g}] = {s['dynamic_range']:.4g} "
            f"(weight units; device-to-device spread of the bounds "
            f"{cfg.w_min_dtod:.3g}/{cfg.w_max_dtod:.3g})"]


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise HwsimError("plots need matplotlib (pip install .[plot])") from None
    return plt


def plot_device(cfg, out: str, data: PulseData | None = None, n_devices: int = 4,
                cycles: int | None = None, pulses: int | None = None, seed: int = 0,
                title: str = "") -> str:
    """Write the two-panel device figure to ``out`` (PNG, SVG, PDF by suffix).  Without
    ``pulses``/``cycles`` they follow the data (else 1.5 × range/dw_min, 2 cycles)."""
    plt = _pyplot()
    if pulses is None:
        pulses = _pulses_from(data) if data is not None else \
            int(min(max(1.5 * (cfg.w_max - cfg.w_min) / cfg.dw_min, 20), 2000))
    if cycles is None:
        n0 = int(np.sum((data.dev == 0) & (data.direction != 0))) if data is not None else 0
        cycles = max(1, -(-n0 // (2 * pulses))) if n0 else 2
    sim = device_sim.simulate(cfg, n_devices, cycles, pulses, seed=seed)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    n_rows = len(sim.value) // n_devices
    if data is not None:
        for d in range(min(data.n_devices, n_devices)):
            m = data.dev == d
            ax1.plot(np.arange(m.sum()), data.value[m], ".", ms=1.5, color="0.55",
                     label="measured" if d == 0 else None)
    for d in range(n_devices):
        ax1.plot(np.arange(n_rows), sim.value[sim.dev == d], lw=0.9,
                 label="model" if d == 0 else None)
    ax1.set_xlabel("pulse number")
    ax1.set_ylabel("weight")
    ax1.set_title(f"pulse response: {cycles} × ({pulses} up, {pulses} down), {n_devices} devices")
    ax1.legend(loc="best", fontsize=8)
    grid = np.linspace(cfg.w_min, cfg.w_max, 201)
    up, dn = device_sim.mean_steps(cfg, grid)
    if data is not None:
        st = extract_steps(data, min_steps=1)
        ax2.plot(st.w[st.up], st.dw[st.up], ".", ms=1, color="tab:red", alpha=0.25)
        ax2.plot(st.w[~st.up], -st.dw[~st.up], ".", ms=1, color="tab:blue", alpha=0.25)
    ax2.plot(grid, up, color="darkred", lw=2, label="up step (model)")
    ax2.plot(grid, dn, color="navy", lw=2, label="down step |Δw| (model)")
    ax2.set_xlabel("weight before the pulse")
    ax2.set_ylabel("step size")
    ax2.set_title("mean step size vs weight" + (" (dots: measured)" if data is not None else ""))
    ax2.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _pulses_from(data: PulseData) -> int:
    """The length of the first run of equal directions of device 0 (the sweep length)."""
    d = data.direction[data.dev == 0]
    d = d[d != 0]
    if d.size == 0:
        return 100
    change = np.flatnonzero(d[1:] != d[:-1])
    return int(change[0] + 1) if change.size else int(d.size)
