"""The action ledger (layer 2): what every component did, counted.

Components record *actions* (``("chip.tile3.adc", "convert", bits=8) × count``),
never energy.  The energy layer prices the ledger with a technology table:
``E = Σ count × price(kind, action, attrs)``.  Each entry also carries the *phase*
(forward, backward, update, transfer, ...) that the controller was in, so reports
break energy down per phase.

Alongside, the ledger attributes every action to the network *node* (the op's layer,
``""`` for ops of no layer) and the *part* of the machine whose op it served (analog,
digital, movement: ``OpKind.part`` of the block operation): ``node_rows()`` gives
``(layer, part, ActionKey) → count``, the per-node report's energy.  The attribution is
a second tally; the rows above are unchanged by it.
"""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple


class ActionKey(NamedTuple):
    """Identity of one ledger row (a named tuple: hashed and ordered in C)."""
    path: str      # dotted component path, e.g. "chip.tile0.adc"
    kind: str      # component kind, e.g. "ADC" (selects the technology-table entry)
    action: str    # e.g. "convert"
    attrs: tuple   # sorted (name, value) pairs, e.g. (("bits", 8),)
    phase: str     # e.g. "forward"

    def attr_dict(self) -> dict:
        return dict(self.attrs)


class ActionLedger:
    """Counts of actions per (component, action, attributes, phase)."""

    def __init__(self):
        self._counts: dict[ActionKey, float] = defaultdict(float)
        self._keys: dict = {}       # (path, kind, action, phase, *attrs) → ActionKey
        self._last: dict = {}       # (path, action, phase) → (attrs, ActionKey) last used
        self._nodes: dict = defaultdict(float)   # (layer, part, ActionKey) → count
        self.phase = "idle"

    def record(self, path: str, kind: str, action: str, count: float = 1,
               phase: str | None = None, **attrs) -> None:
        """Add ``count`` actions; ``phase`` defaults to the ledger's current phase."""
        if count < 0:
            raise ValueError(f"{path}: negative action count {count} for '{action}'")
        if count == 0:
            return
        self._counts[self.key(path, kind, action, phase, attrs)] += count

    def record_actions(self, path: str, kind: str, phase: str | None, actions, declared,
                       undeclared, node: tuple | None = None) -> None:
        """:meth:`record` of every ``(action, count, attrs)`` a component's ``actions()``
        yields (one call per operation and block: the hot path of training); an action
        not in ``declared`` calls ``undeclared(action)``, which raises.  The row of
        ``(path, action, phase)`` last used is tried first: the same ``attrs`` object (a
        block yielding attribute dicts it keeps, never mutated) or equal attributes.
        ``node``: ``(layer, part)`` the actions are attributed to."""
        counts, last, nodes = self._counts, self._last, self._nodes
        ph = phase or self.phase
        for action, count, attrs in actions:
            if action not in declared:
                undeclared(action)
            if count < 0:
                raise ValueError(f"{path}: negative action count {count} for '{action}'")
            if count == 0:
                continue
            memo = (path, action, ph)
            seen = last.get(memo)
            if seen is not None and (seen[0] is attrs or seen[0] == attrs):
                key = seen[1]
            else:
                key = self.key(path, kind, action, ph, attrs)
                last[memo] = (attrs, key)
            counts[key] += count
            if node is not None:
                nodes[(*node, key)] += count

    def key(self, path: str, kind: str, action: str, phase: str | None,
            attrs: dict) -> ActionKey:
        """The row an action is counted in (memoised: one ActionKey per distinct row)."""
        ph = phase or self.phase
        memo = (path, kind, action, ph, *attrs.items())
        key = self._keys.get(memo)
        if key is None:
            key = self._keys[memo] = ActionKey(path, kind, action,
                                               tuple(sorted(attrs.items())), ph)
        return key

    def add_rows(self, rows, times: int = 1) -> None:
        """Add ``count × times`` to every ``(ActionKey, count)`` of ``rows``, in order (the
        op memo re-adds the rows of an op whose timing it did not simulate)."""
        counts = self._counts
        if times == 1:
            for key, count in rows:
                counts[key] += count
        else:
            for key, count in rows:
                counts[key] += count * times

    def add_node_rows(self, layer: str, rows, times: int = 1) -> None:
        """:meth:`add_rows` of the node attribution: ``((part, ActionKey), count) × times``
        for ``layer``."""
        nodes = self._nodes
        for (part, key), count in rows:
            nodes[(layer, part, key)] += count * times if times != 1 else count

    def node_rows(self) -> dict:
        """``{(layer, part, ActionKey): count}`` (a copy; see the module doc)."""
        return dict(self._nodes)

    def rows(self) -> dict:
        """``{ActionKey: count}`` (a copy)."""
        return dict(self._counts)

    def items(self):
        """(ActionKey, count) pairs in a deterministic order."""
        return sorted(self._counts.items())

    def count(self, path: str | None = None, action: str | None = None,
              phase: str | None = None) -> float:
        return sum(c for k, c in self._counts.items()
                   if (path is None or k.path == path) and (action is None or k.action == action)
                   and (phase is None or k.phase == phase))

    def merge(self, other: "ActionLedger") -> None:
        for k, c in other._counts.items():
            self._counts[k] += c
        for k, c in getattr(other, "_nodes", {}).items():   # (a ledger pickled before it)
            self._nodes[k] += c

    def __len__(self) -> int:
        return len(self._counts)

    def to_rows(self) -> list[dict]:
        return [{"path": k.path, "kind": k.kind, "action": k.action, "attrs": dict(k.attrs),
                 "phase": k.phase, "count": c} for k, c in self.items()]
