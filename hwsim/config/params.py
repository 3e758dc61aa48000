"""Parameters declared once, with type, default, unit, description and range.

A configuration section is a frozen dataclass whose fields are made with
:func:`param`::

    @section("adc", "An ADC bank")
    class ADCParams:
        bits: int = param(9, desc="resolution", lo=1, hi=16)
        latency: float = param("1 cycles"...)

:func:`build_section` turns a YAML mapping into an instance, checking unknown keys,
types, units and ranges, and raises :class:`ConfigError` with file, line and key
path.  :func:`describe_section` and :func:`json_schema` read the same
declarations, so documentation, editor schemas and validation never disagree.

Quantities with a ``unit`` are strings in YAML (``"10 ns"``) and SI floats inside.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass

from hwsim import units
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import ConfigError, UnitError


@dataclass(frozen=True)
class ParamSpec:
    """How one parameter is declared: its unit, meaning and allowed values."""
    desc: str
    unit: str = ""            # SI unit of the value inside hwsim ('s', 'J', 'Hz', ...)
    lo: float | None = None   # inclusive lower bound
    hi: float | None = None   # inclusive upper bound
    lo_open: bool = False     # lower bound exclusive
    hi_open: bool = False     # upper bound exclusive
    choices: tuple | None = None
    cite: str = ""            # source of the default value
    why: str = ""             # reason for a bound that is not the physics' own (plausibility)
    key: str = ""             # the YAML key when it cannot be the field name (``in``)


#: Plausibility bounds of a quantity by unit, used where a declaration states none (the
#: reason is printed with the error and shown by ``hwsim describe``).  Times and sizes
#: outside these are not circuit values, and the engine counts int64 ticks of 1 ps.
PLAUSIBLE = {
    "s": (None, 1.0, "a block time over 1 s is not a circuit time (the engine counts ticks "
                     "of 1 ps; 1 s = 10¹² ticks per operation)"),
    "B": (None, float(1 << 40), "an on-chip memory over 1 TiB"),
    "B/cycle": (None, float(1 << 20), "an on-chip port over 1 MiB per cycle (an HBM3 stack "
                                      "moves ≈ 800 B per 1 GHz cycle)"),
}
#: The ``unit`` of a number that may be a quantity of any dimension (a sweep range over
#: any key: the key's own declaration checks each value); a parameter without a unit
#: takes plain numbers only, never "1 GHz".
ANY_UNIT = "any"
#: Largest magnitude of a number without a stated upper bound: beyond it float64 products
#: of two such values overflow or lose every digit of the quantities they are added to.
MAGNITUDE = 1e12
MAGNITUDE_WHY = ("a magnitude over 10¹² is outside every physical or numerical range hwsim "
                 "models")


def param(default=MISSING, *, desc: str, unit: str = "", lo=None, hi=None,
          lo_open: bool = False, hi_open: bool = False, choices=None, cite: str = "",
          factory=None, why: str = "", key: str = ""):
    """Declare a parameter field.  ``default`` may be a quantity string.

    A quantity whose ``unit`` has a :data:`PLAUSIBLE` bound takes it when ``hi`` is not
    given; ``why`` states the reason of a plausibility bound."""
    if hi is None and unit in PLAUSIBLE:
        hi, why = PLAUSIBLE[unit][1], why or PLAUSIBLE[unit][2]
    spec = ParamSpec(desc=desc, unit=unit, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open,
                     choices=tuple(choices) if choices is not None else None, cite=cite,
                     why=why, key=key)
    if isinstance(default, str) and unit:
        default = units.parse(default, None if unit == ANY_UNIT else unit)
    if factory is not None:
        return field(default_factory=factory, metadata={"param": spec})
    if isinstance(default, (list, dict, set)):
        val = default
        return field(default_factory=lambda: type(val)(val), metadata={"param": spec})
    return field(default=default, metadata={"param": spec})


def section(name: str, desc: str):
    """Class decorator: a frozen dataclass that is one YAML section."""
    def wrap(cls):
        cls = dataclass(frozen=True)(cls)
        cls.__section_name__ = name
        cls.__section_desc__ = desc
        return cls
    return wrap


def _spec(f) -> ParamSpec:
    return f.metadata.get("param") or ParamSpec(desc="")


_HINTS: dict = {}


def _hints(cls):
    """The class's resolved annotations (cached: a machine of thousands of blocks builds
    one section per block; a class's annotations do not change once it is declared)."""
    h = _HINTS.get(cls)
    if h is None:
        h = _HINTS[cls] = typing.get_type_hints(cls)
    return dict(h)


def _err(msg, container, key, path):
    return ConfigError(msg, file=file_of(container), line=line_of(container, key), key=path)


def _convert(value, typ, spec: ParamSpec, container, key, path, ctx):
    """Validate and convert one YAML value to the declared type."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        last = None
        for a in non_none:
            try:
                return _convert(value, a, spec, container, key, path, ctx)
            except ConfigError as exc:
                last = exc
        raise last
    if is_dataclass(typ):
        if not isinstance(value, dict):
            raise _err(f"expected a mapping for section '{key}', got {value!r}", container, key, path)
        return build_section(typ, value, path, ctx)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _err(f"expected a list, got {value!r}", container, key, path)
        item_t = args[0] if args else typing.Any
        return tuple(_convert(v, item_t, spec, value, i, f"{path}[{i}]", ctx)
                     for i, v in enumerate(value))
    if typ in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _err(f"expected a list, got {value!r}", container, key, path)
        return value   # kept as read: a YAML sequence remembers the lines of its items
    if origin is dict or typ is dict:
        if not isinstance(value, dict):
            raise _err(f"expected a mapping, got {value!r}", container, key, path)
        return value   # kept as read: a YAML mapping remembers its file and lines
    if typ is typing.Any:
        return value
    if typ is bool:
        if not isinstance(value, bool):
            raise _err(f"expected true or false, got {value!r}", container, key, path)
        return value
    if typ is int:
        if isinstance(value, str) and spec.unit:
            try:
                f = units.parse(value, spec.unit)
            except UnitError as exc:
                raise _err(exc.message, container, key, path) from None
            if f != int(f):
                raise _err(f"expected a whole number of {spec.unit}, got {value!r}", container, key, path)
            value = int(f)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _err(f"expected an integer{_range_text(spec)}, got {value!r}", container, key, path)
        _check_range(value, spec, container, key, path)
        return value
    if typ is float:
        if isinstance(value, bool):
            raise _err(f"expected a number, got {value!r}", container, key, path)
        if isinstance(value, str):
            try:
                parsed = units.parse(value, None if spec.unit in ("", ANY_UNIT) else spec.unit)
            except UnitError as exc:
                raise _err(exc.message, container, key, path) from None
            if not spec.unit:
                try:
                    float(value)
                except ValueError:
                    raise _err(f"expected a plain number (this parameter has no unit), got "
                               f"{value!r}", container, key, path) from None
            value = parsed
        elif not isinstance(value, (int, float)):
            raise _err(f"expected a number{(' in ' + spec.unit) if spec.unit else ''}, got {value!r}",
                       container, key, path)
        value = float(value)
        if not math.isfinite(value):
            raise _err(f"expected a finite number{_range_text(spec)}, got {value!r}",
                       container, key, path)
        _check_range(value, spec, container, key, path)
        return value
    if typ is str:
        if not isinstance(value, str):
            raise _err(f"expected a string, got {value!r}", container, key, path)
        if spec.choices is not None and value not in spec.choices:
            raise _err(f"expected one of {', '.join(map(str, spec.choices))}; got '{value}'",
                       container, key, path)
        return value
    return value


def _range_text(spec: ParamSpec) -> str:
    if spec.lo is not None and spec.hi is not None:
        if spec.lo_open or spec.hi_open:
            return (f" in {'(' if spec.lo_open else '['}{spec.lo}, {spec.hi}"
                    f"{')' if spec.hi_open else ']'}")
        return f" {spec.lo}–{spec.hi}"
    if spec.lo is not None:
        return f" > {spec.lo}" if spec.lo_open else f" ≥ {spec.lo}"
    if spec.hi is not None:
        return f" < {spec.hi}" if spec.hi_open else f" ≤ {spec.hi}"
    return ""


def range_problem(value, spec: ParamSpec) -> str | None:
    """Why ``value`` (a number) is outside what ``spec`` declares, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number{_range_text(spec)}, got {value!r}"
    unit = f" {spec.unit}" if spec.unit and spec.unit != ANY_UNIT else ""
    if ((spec.lo is not None and (value < spec.lo or (spec.lo_open and value == spec.lo)))
            or (spec.hi is not None and (value > spec.hi or (spec.hi_open and value == spec.hi)))):
        why = f" ({spec.why})" if spec.why and spec.hi is not None and value >= spec.hi else ""
        what = "an integer" if isinstance(value, int) and not spec.unit else "a value"
        return f"expected {what}{_range_text(spec)}{unit}, got {value!r}{why}"
    if spec.hi is None and abs(value) > MAGNITUDE and spec.unit != ANY_UNIT:
        return f"expected |value| ≤ {MAGNITUDE:g}{unit}, got {value!r} ({MAGNITUDE_WHY})"
    if spec.choices is not None and value not in spec.choices:
        return f"expected one of {spec.choices}, got {value!r}"
    return None


def _check_range(value, spec, container, key, path):
    problem = range_problem(value, spec)
    if problem:
        raise _err(problem, container, key, path)


def check_fields(obj, name: str | None = None) -> None:
    """Check a section built in Python (not from YAML) against its declarations: numbers
    finite and in range, strings among their choices.  Raises :class:`ConfigError` with
    the key ``name.field``; one declaration serves both paths."""
    name = name or getattr(type(obj), "__section_name__", type(obj).__name__)
    for f in fields(obj):
        spec, v = f.metadata.get("param"), getattr(obj, f.name)
        if spec is None or v is None:
            continue
        problem = None
        if isinstance(v, bool):
            pass
        elif isinstance(v, (int, float)):
            problem = range_problem(v, spec)
        elif isinstance(v, str) and spec.choices is not None and v not in spec.choices:
            problem = f"expected one of {', '.join(map(str, spec.choices))}; got {v!r}"
        if problem:
            raise ConfigError(problem, key=f"{name}.{f.name}")


def spec_of(cls, name: str) -> ParamSpec:
    """The declaration of field ``name`` of section ``cls``."""
    return next(_spec(f) for f in fields(cls) if f.name == name)


def build_section(cls, data, path: str = "", ctx=None):
    """Build a frozen ``cls`` from a YAML mapping; unknown keys are errors.

    ``ctx`` is passed to a ``__post_build__(self, data, path, ctx)`` hook if the
    class defines one (cross-field checks).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping, got {data!r}", file=file_of(data),
                          line=getattr(data, "line", None), key=path or None)
    hints = _hints(cls)
    known = {yaml_key(f): f for f in fields(cls) if f.init}
    for key in data:
        if key not in known:
            close = [k for k in known if k.startswith(str(key)[:3])]
            hint = f" (did you mean {', '.join(close)}?)" if close else \
                   f" (known keys: {', '.join(sorted(known))})"
            raise _err(f"unknown key{hint}", data, key, _join(path, key))
    kwargs = {}
    for name, f in known.items():
        sub = _join(path, name)
        if name in data:
            kwargs[f.name] = _convert(data[name], hints[f.name], _spec(f), data, name, sub, ctx)
        elif f.default is MISSING and f.default_factory is MISSING:
            if is_dataclass(hints[f.name]):
                kwargs[f.name] = build_section(hints[f.name], {}, sub, ctx)
            else:
                raise ConfigError("required key is missing", file=file_of(data),
                                  line=getattr(data, "line", None), key=sub)
    try:
        obj = cls(**kwargs)
    except ConfigError as exc:      # a __post_init__ check (hic.m_range > s_b ...): locate it
        if exc.file is not None:
            raise
        name = (exc.key or "").rsplit(".", 1)[-1]
        key = next((k for k, f in known.items() if f.name == name), None)
        raise ConfigError(exc.message, file=file_of(data),
                          line=line_of(data, key) if key in data else getattr(data, "line", None),
                          key=_join(path, key) if key else (path or None)) from None
    hook = getattr(obj, "__post_build__", None)
    if hook is not None:
        hook(data, path, ctx)
    return obj


def yaml_key(f) -> str:
    """The key of field ``f`` in YAML: its declared ``key`` or its name."""
    return _spec(f).key or f.name


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def iter_params(cls, prefix: str = ""):
    """Yield ``(dotted_name, type, default, ParamSpec)`` for every parameter, recursively
    (``default`` is :data:`dataclasses.MISSING` for a required key)."""
    hints = _hints(cls)
    for f in fields(cls):
        typ = hints[f.name]
        name = _join(prefix, yaml_key(f))
        if is_dataclass(typ):
            yield from iter_params(typ, name)
            continue
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else MISSING)
        yield name, typ, default, _spec(f)


def _type_name(typ) -> str:
    return getattr(typ, "__name__", None) or str(typ).replace("typing.", "")


def format_default(default, spec: ParamSpec) -> str:
    if isinstance(default, float) and spec.unit and spec.unit not in ("cycles",):
        return units.format_si(default, spec.unit)
    return repr(default)


def describe_section(cls, prefix: str = "") -> list[str]:
    """Human-readable lines: name, type, default (with unit), range, description."""
    lines = []
    for name, typ, default, spec in iter_params(cls, prefix):
        rng = _range_text(spec).strip()
        if spec.choices:
            rng = "one of " + ", ".join(map(str, spec.choices))
        unit = f" [{spec.unit}]" if spec.unit else ""
        cite = f" (source: {spec.cite})" if spec.cite else ""
        cite += f" (bound: {spec.why})" if spec.why else ""
        value = "(required)" if default is MISSING else f"= {format_default(default, spec)}"
        lines.append(f"  {name}: {_type_name(typ)}{unit} {value}"
                     f"{'  ' + rng if rng else ''}\n      {spec.desc}{cite}")
    return lines


def json_schema(cls) -> dict:
    """A JSON Schema (draft 2020-12) of one section, for editors."""
    hints = _hints(cls)
    props = {}
    required = []
    for f in fields(cls):
        if not f.init:
            continue
        typ = hints[f.name]
        spec = _spec(f)
        props[yaml_key(f)] = _type_schema(typ, spec)
        if f.default is MISSING and f.default_factory is MISSING and not is_dataclass(typ):
            required.append(yaml_key(f))
    out = {"type": "object", "additionalProperties": False, "properties": props}
    desc = getattr(cls, "__section_desc__", None)
    if desc:
        out["description"] = desc
    if required:
        out["required"] = required
    return out


def _type_schema(typ, spec: ParamSpec) -> dict:
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_type_schema(a, spec) for a in args]}
    if typ is type(None):
        return {"type": "null"}
    if is_dataclass(typ):
        return json_schema(typ)
    desc = spec.desc + (f" [{spec.unit}]" if spec.unit else "")
    if origin in (tuple, list):
        return {"type": "array", "description": desc,
                "items": _type_schema(args[0], ParamSpec(desc="")) if args else {}}
    if typ is bool:
        return {"type": "boolean", "description": desc}
    if typ is int or typ is float:
        num = {"type": "integer" if typ is int else "number"}
        if spec.lo is not None:
            num["exclusiveMinimum" if spec.lo_open else "minimum"] = spec.lo
        if spec.hi is not None:
            num["exclusiveMaximum" if spec.hi_open else "maximum"] = spec.hi
        if spec.unit:
            return {"description": desc, "anyOf": [num, {"type": "string",
                    "pattern": r"^\s*[-+]?[0-9.eE+-]+\s*[A-Za-zµ^/0-9]*\s*$"}]}
        num["description"] = desc
        return num
    if typ is str:
        s = {"type": "string", "description": desc}
        if spec.choices:
            s["enum"] = list(spec.choices)
        return s
    return {"description": desc}


def replace(obj, **changes):
    """``dataclasses.replace`` re-exported: configs are frozen, derive new ones."""
    return dataclasses.replace(obj, **changes)
