"""Technology table lookups (layer 3): action -> joules, component -> m².

:class:`TechnologyTable` answers two questions from a validated
:class:`~hwsim.config.technology.TechnologyConfig`:

* ``price(kind, action, attrs)`` — energy of one action in J;
* ``area(kind, attrs)`` — area of one component in m²:
  ``A = A_entry × Π attrs[a] for a in area_per × attrs.get('count', 1)``
  (e.g. one ADC × converters; one cell × rows × cols);
* ``static(kind, attrs)`` — static (leakage/bias) power of one component in W, from
  the entries with a ``static`` power, multiplied like the area:
  ``P = P_entry × Π attrs[a] for a in area_per × count`` (e.g. leakage per bit ×
  bits).  A kind no entry gives a static power for is *not modelled*
  (:meth:`TechnologyTable.lookup_static` returns None; the estimator lists it).

Lookup, for energy (entries that price the action) and for area (entries with an
area) alike:

1. **exact** — the entries of ``kind`` whose every ``match`` pair equals the
   attribute of the query (attributes the entry does not name are ignored); the
   most specific (most ``match`` pairs) wins, two equally specific matches are an
   ambiguity error;
2. **scaled** — otherwise a scaling rule of ``kind`` whose ``match`` fits the query
   and whose ``attr`` the query has (most specific rule first): the entry listing
   the nearest value of ``attr`` (others matching) is scaled by the rule's factor, e.g. ``exp2`` for an 11-bit SAR
   ADC from the 10-bit row: ``E = 2.38 pJ × 2^(11−10)`` (Murmann ADC survey);
3. otherwise :class:`UnpricedError` naming kind, action, attributes and the table
   file.  Nothing is ever silently zero: a free action is an explicit ``0 J`` row
   with a source.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hwsim.config.technology import TechnologyConfig, TechnologyEntry, load_technology
from hwsim.errors import ConfigError


class UnpricedError(ConfigError):
    """An action or component the technology table does not price."""


def _short(path: str) -> str:
    """``technology/32nm_isaac.yaml`` for a table file: sources name the table, not where
    it is installed, so a report reads the same from a source tree and an installation."""
    return "/".join(Path(path).parts[-2:]) if path else path


@dataclass(frozen=True)
class Price:
    """One resolved table value and where it came from."""
    value: float          # J per action, or m² per unit of area_per (before multipliers)
    source: str           # the entry's source (+ derivation / scaling note)
    where: str            # file:line of the entry

    def __float__(self) -> float:
        return self.value


def _attrs_key(attrs) -> tuple:
    if attrs is None:
        return ()
    if isinstance(attrs, tuple):
        return tuple(sorted(attrs))
    return tuple(sorted(dict(attrs).items()))


def _fits(match: tuple, attrs: dict, skip: str | None = None) -> bool:
    return all(k in attrs and attrs[k] == v for k, v in match if k != skip)


def _numeric(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: the "action" that selects an entry's static power (never an action name: a tuple)
STATIC = ("static",)


class TechnologyTable:
    """Prices actions and areas from one technology table (see module docstring)."""

    def __init__(self, config: TechnologyConfig):
        self.config = config
        self.name = config.name
        self.file = config.file
        self._cache: dict = {}

    @classmethod
    def load(cls, ref, base_dir=None) -> "TechnologyTable":
        """A table by name (``32nm_isaac``) or path, validated."""
        return cls(load_technology(ref, base_dir))

    def __repr__(self) -> str:
        return f"TechnologyTable({self.name!r}, {self.file!r})"

    # -- public -----------------------------------------------------------------------------
    def lookup(self, kind: str, action: str, attrs=None) -> Price:
        """The :class:`Price` of one ``action`` of a ``kind`` component with ``attrs``."""
        key = ("E", kind, action, _attrs_key(attrs))
        if key not in self._cache:
            self._cache[key] = self._resolve(kind, dict(key[3]), action)
        return self._cache[key]

    def price(self, kind: str, action: str, attrs=None) -> float:
        """Energy of one action in J."""
        return self.lookup(kind, action, attrs).value

    def lookup_area(self, kind: str, attrs=None) -> Price:
        """Area entry of ``kind`` for ``attrs``: m² per instance per unit of ``area_per``."""
        key = ("A", kind, None, _attrs_key(attrs))
        if key not in self._cache:
            self._cache[key] = self._resolve(kind, dict(key[3]), None)
        return self._cache[key]

    def area(self, kind: str, attrs=None) -> float:
        """Area in m² of a component: entry × Π area_per attributes × ``count``."""
        attrs = dict(attrs or {})
        p = self.lookup_area(kind, attrs)
        return p.value * self.area_multiplier(kind, attrs)

    def lookup_static(self, kind: str, attrs=None) -> Price | None:
        """Static power entry of ``kind`` (W per instance per unit of ``area_per``), or None
        when the table gives ``kind`` no static power (not modelled)."""
        key = ("S", kind, None, _attrs_key(attrs))
        if key not in self._cache:
            try:
                self._cache[key] = self._resolve(kind, dict(key[3]), STATIC)
            except UnpricedError:
                self._cache[key] = None
        return self._cache[key]

    def static_multiplier(self, kind: str, attrs=None) -> float:
        """``Π attrs[a] for a in area_per × count`` of the entry giving the static power."""
        return self.area_multiplier(kind, attrs, STATIC)

    def static(self, kind: str, attrs=None) -> float:
        """Static power in W of a component (0 when not modelled)."""
        p = self.lookup_static(kind, attrs)
        return 0.0 if p is None else p.value * self.static_multiplier(kind, attrs)

    def area_multiplier(self, kind: str, attrs=None, what=None) -> float:
        """``Π attrs[a] for a in area_per × count`` for the entry that prices the area
        (``what=STATIC``: the static power)."""
        attrs = dict(attrs or {})
        entry = self._area_entry(kind, attrs, what)
        m = float(attrs.get("count", 1))
        for a in entry.area_per:
            if a not in attrs:
                raise UnpricedError(f"the area of {kind} is per {' × '.join(entry.area_per)}, but "
                                    f"the component's area attributes {attrs} have no '{a}'",
                                    file=entry.file, line=entry.line, key=f"{kind}.area_per")
            m *= float(attrs[a])
        return m

    def source_of(self, kind: str, action: str | None = None, attrs=None) -> str:
        """Source string of the energy of ``action`` (or of the area when ``action`` is None)."""
        p = self.lookup(kind, action, attrs) if action else self.lookup_area(kind, attrs)
        return p.source

    def kinds(self) -> list[str]:
        return sorted({e.kind for e in self.config.entries})

    # -- resolution -------------------------------------------------------------------------
    def _prices(self, e: TechnologyEntry, action: str | None) -> bool:
        if action is STATIC:
            return e.static is not None
        return e.area is not None if action is None else action in e.energy

    def _value(self, e: TechnologyEntry, action: str | None, attrs=None) -> float:
        if action is STATIC:
            return e.static
        if action is None:
            return e.area
        value = e.energy[action]
        for name in e.energy_attrs.get(action, ()):
            v = (attrs or {}).get(name)
            if not _numeric(v):
                raise ConfigError(f"{e.kind}.{action} is priced per {name}, but the action "
                                  f"carries no numeric '{name}' attribute ({e.where})",
                                  file=self.file, key=f"{e.kind}.{action}")
            value *= float(v)
        return value

    def _source(self, e: TechnologyEntry, action: str | None) -> str:
        deriv = e.derivation.get(action) if isinstance(action, str) else None
        return f"{e.source} [{deriv}]" if deriv else e.source

    def _exact(self, kind, attrs, action):
        cands = [e for e in self.config.entries
                 if e.kind == kind and self._prices(e, action) and _fits(e.match, attrs)]
        if not cands:
            return None
        best = max(len(e.match) for e in cands)
        top = [e for e in cands if len(e.match) == best]
        if len(top) > 1:
            raise ConfigError(f"ambiguous: {len(top)} equally specific entries price "
                              f"{self._what(kind, action, attrs)} "
                              f"({', '.join(e.where for e in top)})", file=self.file,
                              key=f"{kind}.{self._label(action)}")
        return top[0]

    def _area_entry(self, kind, attrs, what=None) -> TechnologyEntry:
        e = self._exact(kind, attrs, what)
        if e is None:
            e = self._scaled(kind, attrs, what)[0]
        if e is None:
            raise self._unpriced(kind, what, attrs)
        return e

    def _scaled(self, kind, attrs, action):
        # most specific rule first; among equals, the one declared last (child tables)
        rules = sorted(enumerate(self.config.scaling), key=lambda ir: (-len(ir[1].match), -ir[0]))
        for _, rule in rules:
            if rule.kind != kind or rule.attr not in attrs or not _fits(rule.match, attrs):
                continue
            q = attrs[rule.attr]
            if not _numeric(q):
                continue
            base = [e for e in self.config.entries
                    if e.kind == kind and self._prices(e, action)
                    and _numeric(dict(e.match).get(rule.attr))
                    and _fits(e.match, attrs, skip=rule.attr)]
            if not base:
                continue
            e = min(base, key=lambda e: (abs(dict(e.match)[rule.attr] - q),
                                         -dict(e.match)[rule.attr]))
            return e, rule
        return None, None

    def _resolve(self, kind, attrs, action) -> Price:
        e = self._exact(kind, attrs, action)
        if e is not None:
            return Price(self._value(e, action, attrs), self._source(e, action), e.where)
        e, rule = self._scaled(kind, attrs, action)
        if e is None:
            raise self._unpriced(kind, action, attrs)
        listed = dict(e.match)[rule.attr]
        f = rule.factor(attrs[rule.attr], listed)
        note = (f"scaled by rule {rule.rule} ({_short(rule.file)}:{rule.line}: {rule.source}) from "
                f"{rule.attr}={listed} to {rule.attr}={attrs[rule.attr]}, factor {f:g}")
        return Price(self._value(e, action, attrs) * f, f"{self._source(e, action)}; {note}",
                     e.where)

    def _what(self, kind, action, attrs) -> str:
        a = ", ".join(f"{k}={v}" for k, v in sorted(attrs.items())) or "no attributes"
        if action is STATIC:
            return f"the static power of {kind} ({a})"
        return f"{kind}.{action} ({a})" if action else f"the area of {kind} ({a})"

    def _unpriced(self, kind, action, attrs) -> UnpricedError:
        listed = [dict(e.match) for e in self.config.entries
                  if e.kind == kind and self._prices(e, action)]
        hint = (f"entries for {kind} cover {listed}" if listed
                else f"the table has no {kind} entry {'for ' + self._label(action) if action else 'with an area'}")
        return UnpricedError(f"technology table '{self.name}' does not price "
                             f"{self._what(kind, action, attrs)}: {hint}; add an entry (an "
                             f"explicit 0 with a source if it is free) or a scaling rule",
                             file=self.file, key=f"{kind}.{self._label(action)}")

    @staticmethod
    def _label(action) -> str:
        return "static" if action is STATIC else (action or "area")
