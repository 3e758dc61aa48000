"""Quantity strings <-> SI floats (layer 0).

In YAML, every quantity with a unit is a string: ``"10 ns"``, ``"1.2 pJ"``,
``"1 GHz"``, ``"25 uS"``, ``"0.17 um^2"``, ``"4.4 mW"``, ``"256 KiB"``,
``"64 B/cycle"``.  Inside hwsim every quantity is a float in SI base units
(s, J, Hz, S, m^2, W, B...).  :func:`parse` converts one way, :func:`format_si`
the other.
"""
from __future__ import annotations

import math
import re

from hwsim.errors import UnitError

#: SI prefixes (``u`` and ``µ`` both mean micro).
PREFIXES = {
    "y": -24, "z": -21, "a": -18, "f": -15, "p": -12, "n": -9, "u": -6, "µ": -6,
    "μ": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15,
}  # decimal exponents, so that "25 uS" parses to exactly 25e-6
#: Binary prefixes for capacities.
BINARY_PREFIXES = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}

#: Base units hwsim knows, with the dimension name used in error messages.
BASE_UNITS = {
    "s": "time", "Hz": "frequency", "J": "energy", "W": "power", "S": "conductance",
    "Ohm": "resistance", "ohm": "resistance", "Ω": "resistance", "V": "voltage",
    "A": "current", "F": "capacitance", "m": "length", "m^2": "area", "m2": "area",
    "B": "bytes", "b": "bits", "bit": "bits", "cycles": "cycles", "cycle": "cycles",
    "B/cycle": "bandwidth", "b/cycle": "bandwidth", "bit/cycle": "bandwidth",
    "B/s": "bandwidth", "ops": "ops", "OPS": "ops", "flops": "ops",
}
#: Canonical unit of each dimension (what :func:`format_si` prints).
CANONICAL = {
    "time": "s", "frequency": "Hz", "energy": "J", "power": "W", "conductance": "S",
    "resistance": "Ohm", "voltage": "V", "current": "A", "capacitance": "F",
    "length": "m", "area": "m^2", "bytes": "B", "bits": "b", "cycles": "cycles",
    "bandwidth": "B/cycle", "ops": "ops",
}

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RE = re.compile(rf"^\s*({_NUM})\s*([A-Za-zµμΩ^/0-9]*)\s*$")


def _split_unit(text: str) -> tuple[float | int, str, bool]:
    """Return (scale, base unit, scale_is_decimal_exponent) of a unit text."""
    if text in BASE_UNITS:
        return 0, text, True
    for bp, scale in BINARY_PREFIXES.items():
        if text.startswith(bp) and text[len(bp):] in ("B", "b", "bit"):
            return scale, text[len(bp):], False
    for p, exp in PREFIXES.items():
        if p and text.startswith(p) and text[len(p):] in BASE_UNITS:
            base = text[len(p):]
            if base in ("m^2", "m2"):  # area prefixes square: um^2 = 1e-12 m^2
                exp = 2 * exp
            return exp, base, True
    raise UnitError(f"unknown unit '{text}'")


def dimension(unit: str) -> str:
    """Dimension name of a unit (``'pJ'`` -> ``'energy'``); '' for dimensionless."""
    if unit in ("", None):
        return ""
    return BASE_UNITS[_split_unit(unit)[1]]


def parse(value, expect: str | None = None) -> float:
    """Parse a quantity into an SI float.

    ``expect`` is a unit (``'s'``, ``'J'``, ``'m^2'``...) or a dimension name; when
    given, the quantity must have that dimension.  Plain numbers are accepted as
    already being in SI units (``expect`` unit); a plain number for a quantity that
    has a unit is allowed because YAML users write ``0`` for zero.
    """
    if isinstance(value, bool):
        raise UnitError(f"expected a quantity, got boolean {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            raise UnitError(f"quantity is not finite: {value!r}")
        return v
    if not isinstance(value, str):
        raise UnitError(f"expected a quantity string such as '10 ns', got {value!r}")
    m = _RE.match(value)
    if not m:
        raise UnitError(f"cannot parse quantity '{value}' (expected e.g. '10 ns')")
    number, unit = float(m.group(1)), m.group(2)
    if unit == "":
        return number
    scale, base, decimal = _split_unit(unit)
    if expect:
        want = expect if expect in CANONICAL else dimension(expect)
        got = BASE_UNITS[base]
        if got != want:
            raise UnitError(f"'{value}' is {_a(got)}, expected {_a(want)} (unit {CANONICAL.get(want, expect)})")
    if decimal:
        return float(f"{m.group(1)}e{scale}") if "e" not in m.group(1).lower() else number * 10.0 ** scale
    return number * scale


def format_si(value: float, unit: str, digits: int = 4) -> str:
    """Format an SI float with the best SI prefix: ``format_si(1.2e-12, 'J') == '1.2 pJ'``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    area = unit in ("m^2", "m2")
    exp = math.floor(math.log10(abs(value)))
    step = 6 if area else 3
    e3 = int(max(-24 if not area else -24, min(15, (exp // step) * step)))
    prefix_scale = 10.0 ** e3
    prefix_names = {1e-24: "y", 1e-21: "z", 1e-18: "a", 1e-15: "f", 1e-12: "p", 1e-9: "n",
                    1e-6: "u", 1e-3: "m", 1.0: "", 1e3: "k", 1e6: "M", 1e9: "G",
                    1e12: "T", 1e15: "P"}
    if area:
        lin = 10.0 ** (e3 // 2)
        name = prefix_names.get(lin)
        if name is None:
            return f"{value:.{digits}g} {unit}"
        return f"{value / prefix_scale:.{digits}g} {name}{unit}"
    name = prefix_names.get(prefix_scale, None)
    if name is None:
        return f"{value:.{digits}g} {unit}"
    return f"{value / prefix_scale:.{digits}g} {name}{unit}"


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word
