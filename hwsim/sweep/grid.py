"""Axes of a sweep file -> the grid of design points (layer 6).

An axis is a dotted key with a list of values or a **range**:

* ``{start, stop, step}``, ``scale: lin`` (default): start, start+step, … while
  ≤ stop (a tolerance of 10⁻⁹ steps keeps a stop that float steps reach);
* ``{start, stop, step}``, ``scale: log``: ``step`` is a factor, start·stepᵏ ≤ stop
  (64, 128, … 1024 for step 2);
* ``{start, stop, num}``: ``num`` values evenly (lin, ``numpy.linspace``) or
  geometrically (log, ``numpy.geomspace``) spaced, both ends included.

Quantity strings (``1 ns``) become SI floats; a range of integers whose values are
all integral stays integer; other floats are rounded to 12 significant digits, so a
point's canonical JSON (and its id) does not depend on float noise.

A **zip group** is one axis whose values are the tuples of equal-length lists (its
lists may repeat values, its tuples may not).  The grid is the Cartesian product of
the plain axes (file order, first slowest) and then the zip groups.  One key may be
set by one axis only, and never together with a key inside it (``tile`` and
``tile.rows``): "conflicting axes".  Errors are :class:`ConfigError` with the file,
line and key path of the offending axis.

**Budget.**  A grid of more than :data:`MAX_POINTS` points (or an axis of more values)
is refused before it is built, naming the size (16 × 10⁵ × 10⁵ points would take
gigabytes just to list); ``--allow-large`` lifts the limit.
"""
from __future__ import annotations

import itertools
import json
import math

import numpy as np

from hwsim.config.params import ANY_UNIT, build_section, param, section
from hwsim.config.yamlio import YDict, file_of, line_of
from hwsim.errors import ConfigError


@section("range", "A numeric axis given as a range")
class RangeSection:
    start: int | float = param(desc="first value (number or quantity string)", unit=ANY_UNIT)
    stop: int | float = param(desc="last value, included when the steps reach it", unit=ANY_UNIT)
    step: int | float | None = param(None, desc="increment (lin) or factor > 1 (log)",
                                     unit=ANY_UNIT)
    num: int | None = param(None, desc="number of values instead of step", lo=1)
    scale: str = param("lin", desc="linear or logarithmic spacing", choices=("lin", "log"))


#: the most points (and values of one axis) a sweep may have without --allow-large;
#: every point is a simulation, so 10⁵ is already far more work than a sweep can do
MAX_POINTS = 100_000


def _budget(n: int, what: str, container, key, path, allow_large: bool) -> None:
    if n > MAX_POINTS and not allow_large:
        raise yaml_error(f"{what} has {n:.4g} values, more than the budget of {MAX_POINTS} "
                         "(use --allow-large to run it anyway)", container, key, path)


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def yaml_error(msg, container, key, path) -> ConfigError:
    """A ConfigError at the file and line of ``key`` in a YAML container."""
    return ConfigError(msg, file=file_of(container), line=line_of(container, key), key=path)


def _tidy(v):
    """Canonical scalar: integral floats of integer ranges -> int, others to 12 digits."""
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(f"{float(v):.12g}")
    return v


def _range_values(data, container, key, path, allow_large: bool = False) -> list:
    r = build_section(RangeSection, data, path)
    if (r.step is None) == (r.num is None):
        raise yaml_error("a range needs exactly one of step or num", container, key, path)
    ints = all(isinstance(x, int) for x in (r.start, r.stop, r.step if r.num is None else 1))
    if r.scale == "log":
        if r.start <= 0 or r.stop <= 0:
            raise yaml_error("a log range needs start and stop > 0", container, key, path)
        if r.num is not None:
            _budget(r.num, "the range", container, key, path, allow_large)
            vals = np.geomspace(r.start, r.stop, r.num)
        else:
            if r.step <= 0 or r.step == 1:
                raise yaml_error("a log range's step is a factor > 0 and != 1", container, key, path)
            n = _count(np.log(r.stop / r.start) / np.log(r.step), container, key, path)
            _budget(n, "the range", container, key, path, allow_large)
            vals = r.start * float(r.step) ** np.arange(max(n, 0))
    elif r.num is not None:
        _budget(r.num, "the range", container, key, path, allow_large)
        vals = np.linspace(r.start, r.stop, r.num)
    else:
        if r.step == 0:
            raise yaml_error("a range's step must not be 0", container, key, path)
        n = _count((r.stop - r.start) / r.step, container, key, path)
        _budget(n, "the range", container, key, path, allow_large)
        vals = r.start + r.step * np.arange(max(n, 0))
    out = [_tidy(v) for v in vals]
    if ints and all(float(v) == round(float(v)) for v in out):
        out = [int(round(float(v))) for v in out]
    return out


def _count(steps, container, key, path) -> int:
    """Values of a range that takes ``steps`` steps (floor, tolerance 10⁻⁹, +1)."""
    if not np.isfinite(steps):
        raise yaml_error("a range must have finite start, stop and step", container, key, path)
    return int(np.floor(steps + 1e-9)) + 1


def _axis_values(value, container, key, path, unique: bool = True,
                 allow_large: bool = False) -> list:
    if isinstance(value, dict):
        vals = _range_values(value, container, key, path, allow_large)
    elif isinstance(value, list):
        vals = [_tidy(v) for v in value]
    else:
        raise yaml_error("an axis is a list of values or a range {start, stop, step|num}",
                   container, key, path)
    if not vals:
        raise yaml_error("empty axis: no values", container, key, path)
    seen = set()
    for v in vals:
        c = canonical(v)
        if c in seen and unique:
            raise yaml_error(f"value {v!r} appears twice", container, key, path)
        seen.add(c)
    return vals


def _check_key(key, container, path, taken: dict):
    if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
        raise yaml_error(f"'{key}' is not a dotted key", container, key, path)
    for other, where in taken.items():
        if other == key or other.startswith(key + ".") or key.startswith(other + "."):
            raise yaml_error(f"conflicting axes: '{key}' and '{other}' (at {where}) set the same "
                       "value", container, key, path)
    taken[key] = f"line {line_of(container, key)}"


def expand_grid(data, file, allow_large: bool = False) -> tuple[list, list, dict]:
    """(keys, list of value tuples, key -> (container, yaml key, path)) of the product;
    refused before it is built when it exceeds :data:`MAX_POINTS` (unless ``allow_large``)."""
    taken, where, dims = {}, {}, []
    axes = data.get("axes") or YDict()
    for key, value in axes.items():
        _check_key(key, axes, f"axes.{key}", taken)
        dims.append(([key], [(v,) for v in _axis_values(value, axes, key, f"axes.{key}",
                                                        allow_large=allow_large)]))
        where[key] = (axes, key, f"axes.{key}")
    for g, group in enumerate(data.get("zip") or ()):
        zl = data["zip"]
        if not isinstance(group, dict) or not group:
            raise yaml_error("a zip group is a mapping of keys to equal-length lists", zl, g, f"zip[{g}]")
        keys, cols = [], []
        for key, value in group.items():
            path = f"zip[{g}].{key}"
            _check_key(key, group, path, taken)
            if not isinstance(value, list):
                raise yaml_error("a zipped axis is a list of values", group, key, path)
            cols.append(_axis_values(value, group, key, path, unique=False))
            keys.append(key)
            where[key] = (group, key, path)
        if len({len(c) for c in cols}) != 1:
            lens = ", ".join(f"{k}: {len(c)}" for k, c in zip(keys, cols))
            raise yaml_error(f"zipped lists must have equal lengths ({lens})", zl, g, f"zip[{g}]")
        rows = list(zip(*cols))
        if len({canonical(r) for r in rows}) != len(rows):
            raise yaml_error("two entries of the zip group are identical", zl, g, f"zip[{g}]")
        dims.append((keys, rows))
    if not dims:
        raise ConfigError("a sweep needs at least one axis (axes or zip)", file=file, key="axes")
    keys = [k for ks, _ in dims for k in ks]
    size = math.prod(len(vals) for _, vals in dims)
    if size > MAX_POINTS and not allow_large:
        shape = " × ".join(str(len(vals)) for _, vals in dims)
        raise ConfigError(f"the grid has {shape} = {size:.4g} points, more than the budget of "
                          f"{MAX_POINTS} (use --allow-large to run it anyway)", file=file,
                          key="axes")
    combos = [tuple(x for part in prod for x in part)
              for prod in itertools.product(*[vals for _, vals in dims])]
    return keys, combos, where
