"""Technology tables (layer 1): YAML -> validated, frozen :class:`TechnologyConfig`.

A technology table prices the actions components record and the area of each
component kind.  Format (``schema_version: 1``)::

    schema_version: 1
    name: 32nm_isaac
    node: 32 nm
    source: "ISAAC (Shafiee et al., ISCA 2016)"
    extends: other_table            # optional: start from another table, then override
    constants:                      # named quantities used by derived energies
      v_read: {value: 0.2 V, source: "CiMLoop cell model"}
    entries:
      - kind: ADC                   # component kind (``Component.KIND``)
        match: {type: sar, bits: 8} # attributes the entry applies to (omitted = all)
        energy: {convert: 1.67 pJ}  # per action: a quantity ...
        area: 1200 um^2             # per instance (× count, × area_per attributes)
        static: 0.1 mW              # leakage/bias power per instance (scales like the area)
        source: "ISAAC Table I"
      - kind: Tile
        energy:
          read_cell: {product: [v_read, v_read, g_max, t_int]}   # ... or a derivation
        area: 0.0015 um^2
        area_per: [rows, cols]      # the area is per rows × cols (per cell)
        source: "derived: V_read²·g_max·t_int"
    scaling:                        # explicit rules for attribute values not listed
      - {kind: ADC, match: {type: sar}, attr: bits, rule: exp2, source: "Murmann survey"}

``static`` is the block's static (leakage, bias, clock-tree) power in W, per instance
and multiplied like the area (× ``count`` × the ``area_per`` attributes, e.g. per bit
of a buffer); the estimator charges it for the whole run (``E_static = P × T``).
``static: 0 W`` is allowed only with a source clause saying it is not modelled.

Every entry, constant and scaling rule needs a ``source``.  A ``product`` lists
constant names and plain numbers; its dimension must be energy (checked with
exponents over J, V and s, e.g. V²·S·s = V²·(J·V⁻²·s⁻¹)·s = J).  Scaling rules:
``exp2`` (×2^(q−e), energy ∝ 2^ENOB, Murmann ADC survey), ``linear`` (×q/e),
``quadratic`` (×(q/e)², array multipliers).  With ``extends``, an entry of the
child with the same kind and match replaces the parent's; new ones are added.

Errors (unknown key, bad unit, missing source, missing file) are
:class:`ConfigError` with ``file:line: key.path``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hwsim import units
from hwsim.config.yamlio import file_of, line_of, load_yaml
from hwsim.errors import ConfigError, UnitError

SCHEMA_VERSION = 1
SCALING_RULES = ("exp2", "linear", "quadratic")

#: Dimensions as exponents over (J, V, s): A = J·V⁻¹·s⁻¹, S = A/V, W = J/s, F = J/V².
_DIMS = {
    "": (0, 0, 0), "energy": (1, 0, 0), "voltage": (0, 1, 0), "time": (0, 0, 1),
    "frequency": (0, 0, -1), "power": (1, 0, -1), "current": (1, -1, -1),
    "conductance": (1, -2, -1), "resistance": (-1, 2, 1), "capacitance": (1, -2, 0),
    "cycles": (0, 0, 0), "bits": (0, 0, 0), "ops": (0, 0, 0),
}
_UNIT_RE = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*(.*?)\s*$")
_TOP_KEYS = ("schema_version", "name", "node", "source", "description", "extends",
             "constants", "entries", "scaling")
_ENTRY_KEYS = ("kind", "match", "energy", "area", "area_per", "static", "source")
_RULE_KEYS = ("kind", "match", "attr", "rule", "source")


@dataclass(frozen=True)
class Constant:
    """A named quantity used in derived energies."""
    name: str
    value: float          # SI
    text: str             # as written, e.g. "0.2 V"
    dims: tuple           # exponents over (J, V, s)
    source: str


@dataclass(frozen=True)
class TechnologyEntry:
    """Prices of one component kind for the attributes in ``match``."""
    kind: str
    match: tuple          # sorted (attr, value) pairs
    energy: dict          # action -> J per action (the constant part of a derived energy)
    derivation: dict      # action -> formula text for derived energies
    energy_attrs: dict    # action -> attribute names (SI values) multiplying the energy
    area: float | None    # m² per instance (per unit of ``area_per``)
    area_per: tuple       # attribute names whose product multiplies the area
    source: str
    file: str
    line: int | None
    static: float | None = None   # W per instance (per unit of ``area_per``)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class ScalingRule:
    """Price an attribute value no entry lists from the nearest listed one."""
    kind: str
    match: tuple
    attr: str
    rule: str
    source: str
    file: str
    line: int | None

    def factor(self, query: float, listed: float) -> float:
        """``exp2``: 2^(q−e); ``linear``: q/e; ``quadratic``: (q/e)²."""
        if self.rule == "exp2":
            return 2.0 ** (float(query) - float(listed))
        if self.rule == "linear":
            return float(query) / float(listed)
        return (float(query) / float(listed)) ** 2


@dataclass(frozen=True)
class TechnologyConfig:
    name: str
    node: str
    source: str
    file: str
    constants: dict = field(default_factory=dict)      # name -> Constant
    entries: tuple = ()                                  # TechnologyEntry
    scaling: tuple = ()                                  # ScalingRule
    description: str = ""


def technology_dirs() -> list[Path]:
    """Where named tables live: installed ``hwsim/configs`` or the source tree."""
    root = Path(__file__).resolve().parents[1] / "__init__.py"     # the hwsim package
    return [d / "technology" for d in (root.parent / "configs", root.parents[1] / "configs")
            if (d / "technology").is_dir()]


def list_technologies() -> list[str]:
    return sorted({p.stem for d in technology_dirs() for p in d.glob("*.yaml")})


def resolve_technology_path(ref, base_dir=None) -> Path:
    """A table name (``32nm_isaac``) -> its file; a path -> itself (relative to base_dir)."""
    text = str(ref)
    if isinstance(ref, Path) or "/" in text or "\\" in text or text.endswith((".yaml", ".yml")):
        path = Path(text)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.is_file():
            raise ConfigError("technology table file not found", file=str(path), key="technology")
        return path
    for d in technology_dirs():
        if (d / f"{text}.yaml").is_file():
            return d / f"{text}.yaml"
    raise ConfigError(f"unknown technology table '{text}' (known: "
                      f"{', '.join(list_technologies()) or 'none found'})", key="technology")


def load_technology(ref, base_dir=None) -> TechnologyConfig:
    """Load and validate a technology table by name or path (see module docstring)."""
    if isinstance(ref, TechnologyConfig):
        return ref
    return _load(resolve_technology_path(ref, base_dir), ())


def _load(path: Path, seen: tuple) -> TechnologyConfig:
    key = str(path.resolve())
    if key in seen:
        raise ConfigError("technology tables extend each other in a cycle", file=str(path),
                          key="extends")
    data = load_yaml(str(path))
    f = str(path)
    if not isinstance(data, dict):
        raise ConfigError("a technology table must be a mapping", file=f, line=1)
    _check_keys(data, _TOP_KEYS, "")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise _err(f"expected schema_version: {SCHEMA_VERSION}, got {data.get('schema_version')!r}",
                   data, "schema_version", "schema_version")
    name = _string(data, "name", "name")
    source = _string(data, "source", "source")
    base = None
    if "extends" in data:
        ext = _string(data, "extends", "extends")
        try:
            base = _load(resolve_technology_path(ext, path.parent), seen + (key,))
        except ConfigError as exc:
            if exc.file:
                raise
            raise _err(exc.message, data, "extends", "extends") from None
    constants = dict(base.constants) if base else {}
    constants.update(_constants(data.get("constants") or {}, data))
    entries = list(base.entries) if base else []
    for i, e in enumerate(_seq(data, "entries")):
        entry = _entry(e, i, constants, data["entries"])
        same = [j for j, old in enumerate(entries) if (old.kind, old.match) == (entry.kind, entry.match)]
        if same and entries[same[0]].file == f:
            raise _err(f"duplicate entry for {entry.kind} with match {dict(entry.match)} "
                       f"(first at line {entries[same[0]].line})", data["entries"], i, f"entries[{i}]")
        if same:
            entries[same[0]] = entry
        else:
            entries.append(entry)
    rules = list(base.scaling) if base else []
    for i, r in enumerate(_seq(data, "scaling")):
        rule = _rule(r, i, data["scaling"])
        rules = [o for o in rules if (o.kind, o.match, o.attr) != (rule.kind, rule.match, rule.attr)]
        rules.append(rule)
    return TechnologyConfig(name=name, node=str(data.get("node", base.node if base else "")),
                            source=source, file=f, constants=constants, entries=tuple(entries),
                            scaling=tuple(rules), description=str(data.get("description", "")))


# -- pieces ---------------------------------------------------------------------------------

def _err(msg, container, key, path):
    return ConfigError(msg, file=file_of(container), line=line_of(container, key), key=path)


def _check_keys(data, allowed, path):
    for k in data:
        if k not in allowed:
            raise _err(f"unknown key (known keys: {', '.join(allowed)})", data, k,
                       f"{path}.{k}" if path else str(k))


def _string(data, key, path, required=True) -> str:
    if key not in data:
        if not required:
            return ""
        raise ConfigError("required key is missing", file=file_of(data),
                          line=getattr(data, "line", None), key=path)
    v = data[key]
    if not isinstance(v, str) or not v.strip():
        raise _err(f"expected a non-empty string, got {v!r}", data, key, path)
    return v


def _seq(data, key):
    v = data.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise _err(f"expected a list, got {type(v).__name__}", data, key, key)
    return v


def _mapping(v, container, key, path):
    if not isinstance(v, dict):
        raise _err(f"expected a mapping, got {v!r}", container, key, path)
    return v


def _quantity(v, expect, container, key, path) -> tuple[float, tuple]:
    """Parse a quantity string; returns (SI value, dims).  ``expect`` None = any dimension."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise _err(f"expected a quantity such as '1.2 pJ', got {v!r}", container, key, path)
    if not isinstance(v, str) and v != 0:
        raise _err(f"write the unit: expected a quantity string such as '1.2 pJ', got {v!r}",
                   container, key, path)
    try:
        value = units.parse(v, expect)
        unit = _UNIT_RE.match(v).group(1) if isinstance(v, str) else ""
        dim = units.dimension(unit) if unit else (units.dimension(expect) if expect else "")
    except (UnitError, KeyError, AttributeError) as exc:
        raise _err(getattr(exc, "message", f"cannot parse quantity {v!r}"),
                   container, key, path) from None
    if value < 0:
        raise _err(f"expected a value ≥ 0, got {v!r}", container, key, path)
    return value, _DIMS.get(dim)  # None: a dimension products cannot use (area, bytes...)


def _constants(data, top) -> dict:
    _mapping(data, top, "constants", "constants")
    out = {}
    for name, spec in data.items():
        path = f"constants.{name}"
        _mapping(spec, data, name, path)
        _check_keys(spec, ("value", "source"), path)
        if "value" not in spec:
            raise _err("required key is missing", data, name, f"{path}.value")
        value, dims = _quantity(spec["value"], None, spec, "value", f"{path}.value")
        if dims is None:
            raise _err("constants must be electrical quantities or times (V, S, Ohm, A, F, W, J, "
                       "s, Hz) or plain numbers", spec, "value", f"{path}.value")
        out[name] = Constant(name, value, str(spec["value"]), dims,
                             _string(spec, "source", f"{path}.source"))
    return out


def _match(e, path) -> tuple:
    m = e.get("match") or {}
    _mapping(m, e, "match", f"{path}.match")
    for k, v in m.items():
        if isinstance(v, (dict, list)) or v is None:
            raise _err(f"match values must be scalars, got {v!r}", m, k, f"{path}.match.{k}")
    return tuple(sorted(m.items()))


def _product(spec, constants, container, key, path) -> tuple[float, str, tuple]:
    """A derived energy: the product of constants, numbers and action attributes.

    A term ``{attr: NAME, unit: U}`` is the action's attribute NAME (an SI value in unit
    U, e.g. the tile's ``read_voltage`` in V) taken at pricing time, so one entry
    prices every configuration of a block.  Returns (constant part, text, attr names).
    """
    _check_keys(spec, ("product",), path)
    terms = spec.get("product")
    if not isinstance(terms, list) or not terms:
        raise _err("expected 'product: [constant names, numbers or {attr, unit}]'", spec,
                   "product", path)
    value, dims, text, attrs = 1.0, (0, 0, 0), [], []
    for i, t in enumerate(terms):
        if isinstance(t, (int, float)) and not isinstance(t, bool):
            value *= float(t)
            text.append(repr(t))
            continue
        if isinstance(t, dict):
            _check_keys(t, ("attr", "unit"), f"{path}.product[{i}]")
            name, unit = t.get("attr"), t.get("unit")
            tdims = _DIMS.get(units.dimension(unit)) if isinstance(unit, str) else None
            if not isinstance(name, str) or tdims is None:
                raise _err("an attribute term is {attr: NAME, unit: V|S|s|J|...}", terms, i,
                           f"{path}.product[{i}]")
            dims = tuple(a + b for a, b in zip(dims, tdims))
            attrs.append(name)
            text.append(f"{name} [{unit}, from the action]")
            continue
        if t not in constants:
            raise _err(f"unknown constant '{t}' (declared: {', '.join(sorted(constants)) or 'none'})",
                       terms, i, f"{path}.product[{i}]")
        c = constants[t]
        value *= c.value
        dims = tuple(a + b for a, b in zip(dims, c.dims))
        text.append(f"{t} ({c.text})")
    if dims != _DIMS["energy"]:
        raise _err(f"product is not an energy (exponents over J, V, s: {dims})", container, key, path)
    result = units.format_si(value, "J") if not attrs else "per action"
    return value, "derived: " + " × ".join(text) + f" = {result}", tuple(attrs)


def _entry(e, i, constants, container) -> TechnologyEntry:
    path = f"entries[{i}]"
    _mapping(e, container, i, path)
    _check_keys(e, _ENTRY_KEYS, path)
    kind = _string(e, "kind", f"{path}.kind")
    energy, derivation, energy_attrs = {}, {}, {}
    en = e.get("energy") or {}
    _mapping(en, e, "energy", f"{path}.energy")
    for action, v in en.items():
        apath = f"{path}.energy.{action}"
        if isinstance(v, dict):
            energy[action], derivation[action], names = _product(v, constants, en, action,
                                                                 apath)
            if names:
                energy_attrs[action] = names
        else:
            energy[action] = _quantity(v, "J", en, action, apath)[0]
    area = None
    if "area" in e:
        area = _quantity(e["area"], "m^2", e, "area", f"{path}.area")[0]
    static = None
    if "static" in e:
        static = _quantity(e["static"], "W", e, "static", f"{path}.static")[0]
    per = e.get("area_per") or []
    if not isinstance(per, list) or not all(isinstance(a, str) for a in per):
        raise _err("expected a list of attribute names", e, "area_per", f"{path}.area_per")
    if per and area is None and static is None:
        raise _err("area_per needs an area", e, "area_per", f"{path}.area_per")
    if not energy and area is None and static is None:
        raise _err("entry prices nothing (give energy and/or area)", container, i, path)
    source = _string(e, "source", f"{path}.source")
    return TechnologyEntry(kind=kind, match=_match(e, path), energy=energy, derivation=derivation,
                           energy_attrs=energy_attrs,
                           area=area, area_per=tuple(per), source=source, file=file_of(e, ""),
                           line=line_of(container, i), static=static)


def _rule(r, i, container) -> ScalingRule:
    path = f"scaling[{i}]"
    _mapping(r, container, i, path)
    _check_keys(r, _RULE_KEYS, path)
    rule = _string(r, "rule", f"{path}.rule")
    if rule not in SCALING_RULES:
        raise _err(f"expected one of {', '.join(SCALING_RULES)}; got '{rule}'", r, "rule",
                   f"{path}.rule")
    return ScalingRule(kind=_string(r, "kind", f"{path}.kind"), match=_match(r, path),
                       attr=_string(r, "attr", f"{path}.attr"), rule=rule,
                       source=_string(r, "source", f"{path}.source"), file=file_of(r, ""),
                       line=line_of(container, i))
