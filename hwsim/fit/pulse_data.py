"""Measured pulse responses: the CSV reader and the steps a fit uses.

Format (one row per applied pulse, in the order applied; a header row; extra columns
ignored; ``#`` lines are comments)::

    device,pulse,direction,value
    0,0,0,0.0012        <- direction 0: a read without a pulse (e.g. the initial state)
    0,1,1,0.0023        <- +1 potentiation, -1 depression; value read after the pulse

``device`` is an integer id, ``pulse`` a running index per device (strictly increasing;
a gap breaks the chain: the step across it is not used), ``value`` the weight read
after the pulse (dimensionless), or a conductance in siemens mapped onto weights
[-1, 1] with ``conductance=(G_MIN, G_MAX)``:  w = 2(G − G_MIN)/(G_MAX − G_MIN) − 1.

Every malformed row is a :class:`~hwsim.errors.DataError` naming file and line.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from hwsim.errors import DataError

COLUMNS = ("device", "pulse", "direction", "value")


@dataclass(frozen=True)
class PulseData:
    """Rows grouped by device (stable: file order within a device)."""
    file: str
    device_ids: np.ndarray      # (D,) the ids of the file, ascending
    dev: np.ndarray             # (R,) device index 0..D-1 of each row
    pulse: np.ndarray           # (R,) int64
    direction: np.ndarray       # (R,) int8: +1, -1 or 0 (read only)
    value: np.ndarray           # (R,) float64 weights
    line: np.ndarray            # (R,) 1-based line in the file

    @property
    def n_devices(self) -> int:
        return len(self.device_ids)

    def first_line(self) -> int:
        return int(self.line.min()) if self.line.size else 1


@dataclass(frozen=True)
class Steps:
    """One entry per used pulse: the weight before it, the signed change, the device."""
    dev: np.ndarray             # (S,) device index
    w: np.ndarray               # (S,) weight before the pulse
    dw: np.ndarray              # (S,) value after − value before (signed)
    up: np.ndarray              # (S,) bool: potentiation
    clipped: np.ndarray         # (S,) bool: ended at the device's observed extreme
    w_hi: np.ndarray            # (D,) observed maximum weight per device
    w_lo: np.ndarray            # (D,) observed minimum weight per device
    n_devices: int

    @property
    def size(self) -> int:
        return self.dw.size

    def counts(self, sel=None) -> np.ndarray:
        """Steps per device (``sel`` a boolean mask over steps)."""
        d = self.dev if sel is None else self.dev[sel]
        return np.bincount(d, minlength=self.n_devices)


def _number(text, kind, file, line, key):
    try:
        v = float(text) if kind is float else int(text)
    except (TypeError, ValueError):
        raise DataError(f"expected {'a number' if kind is float else 'an integer'}, got "
                        f"{text!r}", file=file, line=line, key=key) from None
    if kind is float and not math.isfinite(v):
        raise DataError(f"value is not finite ({text!r})", file=file, line=line, key=key)
    return v


def read_pulse_csv(path: str, conductance: tuple[float, float] | None = None) -> PulseData:
    """Read and check a pulse-response CSV (see the module docstring)."""
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read pulse data: {exc.strerror}", file=path) from None
    rows, header, header_line = [], None, 1
    with fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [f.strip().lower() for f in fields]
                header_line = lineno
                missing = [c for c in COLUMNS if c not in header]
                if missing:
                    raise DataError(f"header lacks column(s) {', '.join(missing)} (expected "
                                    f"{','.join(COLUMNS)})", file=path, line=lineno)
                idx = [header.index(c) for c in COLUMNS]
                continue
            if len(fields) < len(header):
                raise DataError(f"{len(fields)} fields, the header has {len(header)}",
                                file=path, line=lineno)
            dev, pulse, direc, val = (fields[i].strip() for i in idx)
            rows.append((_number(dev, int, path, lineno, "device"),
                         _number(pulse, int, path, lineno, "pulse"),
                         _number(direc, int, path, lineno, "direction"),
                         _number(val, float, path, lineno, "value"), lineno))
            if rows[-1][2] not in (-1, 0, 1):
                raise DataError(f"direction must be +1, -1 or 0 (read only), got {direc!r}",
                                file=path, line=lineno, key="direction")
    if header is None:
        raise DataError("empty file (expected a header device,pulse,direction,value)",
                        file=path, line=1)
    if not rows:
        raise DataError("no data rows after the header", file=path, line=header_line)
    arr = np.array([r[:4] for r in rows], dtype=np.float64)
    lines = np.array([r[4] for r in rows], dtype=np.int64)
    ids, dev = np.unique(arr[:, 0].astype(np.int64), return_inverse=True)
    order = np.argsort(dev, kind="stable")
    value = arr[order, 3]
    if conductance is not None:
        g_lo, g_hi = conductance
        if not g_hi > g_lo:
            raise DataError(f"conductance range needs G_MIN < G_MAX, got {g_lo}:{g_hi}",
                            key="--conductance")
        value = 2.0 * (value - g_lo) / (g_hi - g_lo) - 1.0
    data = PulseData(file=path, device_ids=ids, dev=dev[order].astype(np.int64),
                     pulse=arr[order, 1].astype(np.int64),
                     direction=arr[order, 2].astype(np.int8), value=value, line=lines[order])
    _check_order(data)
    return data


def _check_order(data: PulseData) -> None:
    same = data.dev[1:] == data.dev[:-1]
    bad = np.flatnonzero(same & (data.pulse[1:] <= data.pulse[:-1]))
    if bad.size:
        k = bad[0] + 1
        raise DataError(f"pulses of device {data.device_ids[data.dev[k]]} are not in increasing "
                        f"order (pulse {data.pulse[k]} after {data.pulse[k - 1]})",
                        file=data.file, line=int(data.line[k]), key="pulse")


def extract_steps(data: PulseData, min_steps: int = 3) -> Steps:
    """The steps of consecutive pulses; checks that every device has both directions."""
    prev = np.arange(len(data.value) - 1)
    nxt = prev + 1
    ok = (data.dev[nxt] == data.dev[prev]) & (data.pulse[nxt] == data.pulse[prev] + 1) & \
        (data.direction[nxt] != 0)
    prev, nxt = prev[ok], nxt[ok]
    n_dev = data.n_devices
    w_hi = np.full(n_dev, -np.inf)
    w_lo = np.full(n_dev, np.inf)
    np.maximum.at(w_hi, data.dev, data.value)
    np.minimum.at(w_lo, data.dev, data.value)
    dev = data.dev[nxt]
    up = data.direction[nxt] > 0
    after = data.value[nxt]
    tol = 1e-9 * np.maximum(w_hi - w_lo, 1e-300)[dev]
    clipped = np.where(up, after >= w_hi[dev] - tol, after <= w_lo[dev] + tol)
    for sel, name in ((up, "+1 (potentiation)"), (~up, "-1 (depression)")):
        cnt = np.bincount(dev[sel], minlength=n_dev)
        if cnt.min() < min_steps:
            d = int(np.argmin(cnt))
            rows = np.flatnonzero(data.dev == d)
            other = "-1 (depression)" if sel is up else "+1 (potentiation)"
            raise DataError(f"device {data.device_ids[d]} has {cnt[d]} consecutive {name} "
                            f"pulse step(s); a fit needs at least {min_steps} in each direction "
                            f"(only {other} pulses?)", file=data.file,
                            line=int(data.line[rows[0]]), key="direction")
    return Steps(dev=dev, w=data.value[prev], dw=after - data.value[prev], up=up,
                 clipped=clipped, w_hi=w_hi, w_lo=w_lo, n_devices=n_dev)


def write_pulse_csv(path: str, data: PulseData, comment: str = "", digits: int = 6) -> None:
    """Write ``data`` in the format :func:`read_pulse_csv` reads (``comment`` lines first)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for c in comment.splitlines():
            fh.write(f"# {c}\n" if c else "#\n")
        fh.write(",".join(COLUMNS) + "\n")
        ids = data.device_ids[data.dev]
        fmt = f"{{:d}},{{:d}},{{:d}},{{:.{digits}f}}\n"
        fh.writelines(fmt.format(int(i), int(p), int(d), float(v))
                      for i, p, d, v in zip(ids, data.pulse, data.direction, data.value))
