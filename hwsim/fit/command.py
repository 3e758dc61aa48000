"""``hwsim device fit`` and ``hwsim device plot``.

:func:`register` adds the ``device`` command to an argparse sub-parser collection;
:func:`run` executes it.  :func:`fit_pulses` is the whole fit as a function (data in,
YAML text out) for scripts and tests.
"""
from __future__ import annotations

import dataclasses
import shlex

from hwsim import units
from hwsim.errors import DataError, UnitError
from hwsim.fit import device_sim, select
from hwsim.fit.models import population, rmse, step_noise
from hwsim.fit.options import DEFAULT, FitOptions, fit_options
from hwsim.fit.plot import plot_device, statistics_text
from hwsim.fit.pulse_data import PulseData, extract_steps, read_pulse_csv
from hwsim.fit.writer import FitReport, check, device_values, render, write

_SPEC = {f.name: f.metadata["param"] for f in dataclasses.fields(FitOptions)}


def _opt(parser, flag, name, **kw):
    """An option whose default, choices and help come from FitOptions."""
    spec = _SPEC[name]
    default = getattr(DEFAULT, name)
    parser.add_argument(flag, dest=name, default=None, choices=spec.choices,
                        help=f"{spec.desc} (default {default})", **kw)


def parse_conductance(text: str | None):
    """``"1 uS:30 uS"`` -> (1e-6, 3e-5) siemens."""
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) != 2:
        raise UnitError(f"expected G_MIN:G_MAX such as '1 uS:30 uS', got {text!r}",
                        key="--conductance")
    try:
        return tuple(units.parse(p.strip(), "S") for p in parts)
    except UnitError as exc:
        raise UnitError(exc.message, key="--conductance") from None


def fit_pulses(data: PulseData, opts: FitOptions | str = DEFAULT,
               command: str = "") -> tuple[str, dict, list[str]]:
    """Fit ``data`` (``opts`` a FitOptions or just a model name); returns (YAML text, the
    values written, lines to print)."""
    if isinstance(opts, str):
        opts = fit_options(model=opts)
    model, dtod = opts.model, opts.dtod
    if dtod == "on" and data.n_devices < 2:
        raise DataError(f"device-to-device spreads need at least two devices; the data hold "
                        f"one (id {data.device_ids[0]}); use --dtod off", file=data.file,
                        line=data.first_line(), key="device")
    steps = extract_steps(data, opts.min_steps)
    scores = []
    if model == "auto":
        best, all_scores = select.choose(steps, opts=opts)
        fit = best.fit
        scores = [(s.fit.model, s.bic - best.bic) for s in all_scores]
    else:
        fit = select.fit_model(model, steps, opts)
    use_dtod = dtod == "on" or (dtod == "auto" and data.n_devices > 1)
    values = device_values(fit, population(fit, use_dtod), step_noise(fit, steps))
    r_up, r_dn = rmse(fit, steps)
    notes = list(fit.notes)
    if not use_dtod:
        notes.append("device-to-device spreads not estimated (one device or --dtod off)")
    rep = FitReport(data_file=data.file, command=command, n_devices=data.n_devices,
                    n_up=int(steps.up.sum()), n_down=int((~steps.up).sum()),
                    rmse_up=r_up, rmse_down=r_dn, scores=scores, notes=notes)
    text = render(values, rep)
    check(text, "<fitted device>")
    out = [f"{data.file}: {data.n_devices} device(s), {steps.size} pulse steps"]
    if scores:
        out.append("model selection (BIC above the best): " +
                   ", ".join(f"{m} {d:+.0f}" for m, d in scores))
    out.append(f"model {fit.model}: dw_min {values['dw_min']:.4g}, bounds "
               f"[{values['w_min']:.4g}, {values['w_max']:.4g}], up_down "
               f"{values['up_down']:+.3f}, dw_min_std {values['dw_min_std']:.3g}")
    out.append(f"RMSE per pulse: up {r_up:.3g}, down {r_dn:.3g} "
               f"({r_up / values['dw_min']:.2f}, {r_dn / values['dw_min']:.2f} dw_min)")
    return text, values, out


def register(subparsers) -> None:
    """Add ``device fit`` and ``device plot`` to an argparse ``add_subparsers()`` object."""
    dev = subparsers.add_parser("device", help="fit device models to measured pulse "
                                "responses; device plots and statistics")
    sub = dev.add_subparsers(dest="device_cmd", required=True)
    f = sub.add_parser("fit", help="fit a device model to a pulse-response CSV "
                       "(columns device,pulse,direction,value)")
    f.add_argument("data", help="CSV: device,pulse,direction,value (one row per pulse)")
    _opt(f, "--model", "model")
    f.add_argument("-o", "--output", required=True, help="device YAML to write")
    f.add_argument("--plot", help="also write a plot of the fit (PNG)")
    f.add_argument("--conductance", metavar="G_MIN:G_MAX",
                   help="values are conductances; map [G_MIN, G_MAX] onto weights [-1, 1]")
    _opt(f, "--dtod", "dtod")
    _opt(f, "--nodes", "piecewise_nodes", type=int, metavar="K")
    _opt(f, "--min-steps", "min_steps", type=int, metavar="N")
    f.set_defaults(func=run)
    p = sub.add_parser("plot", help="pulse response and step size vs weight of a device")
    p.add_argument("device", help="device YAML or preset name")
    p.add_argument("-o", "--output", required=True, help="image to write (PNG)")
    p.add_argument("--data", help="measured pulse-response CSV to overlay")
    p.add_argument("--conductance", metavar="G_MIN:G_MAX", help="as for device fit")
    p.add_argument("--devices", type=int, default=4, help="devices drawn (default 4)")
    p.add_argument("--cycles", type=int, help="up/down cycles (default: from the data, or 2)")
    p.add_argument("--pulses", type=int, help="pulses per direction (default: from the data "
                   "or 1.5 × range/dw_min)")
    p.add_argument("--seed", type=int, default=0, help="seed of the devices drawn (default 0)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.device_cmd == "fit":
        opts = fit_options(model=args.model, dtod=args.dtod, min_steps=args.min_steps,
                           piecewise_nodes=args.piecewise_nodes)
        data = read_pulse_csv(args.data, parse_conductance(args.conductance))
        words = ["hwsim", "device", "fit", args.data, "--model", opts.model, "-o", args.output]
        for flag, value in (("--conductance", args.conductance), ("--dtod", args.dtod),
                            ("--nodes", args.piecewise_nodes), ("--min-steps", args.min_steps)):
            if value is not None:
                words += [flag, str(value)]
        text, _, lines = fit_pulses(data, opts, command=" ".join(shlex.quote(w) for w in words))
        print("\n".join(lines))
        write(text, args.output)
        print(f"wrote {args.output}")
        if args.plot:
            cfg = device_sim.load(args.output)
            plot_device(cfg, args.plot, data=data, n_devices=min(data.n_devices, 4),
                        title=f"{args.output} fitted to {args.data}")
            print(f"wrote {args.plot}")
        return 0
    cfg = device_sim.load(args.device)
    data = read_pulse_csv(args.data, parse_conductance(args.conductance)) if args.data else None
    print("\n".join(statistics_text(cfg)))
    plot_device(cfg, args.output, data=data, n_devices=args.devices, cycles=args.cycles,
                pulses=args.pulses, seed=args.seed, title=str(args.device))
    print(f"wrote {args.output}")
    return 0
