"""Constraint expressions of a sweep file, parsed with :mod:`ast`, never ``eval`` (layer 6).

A constraint is one boolean expression over *names*: the dotted keys of the sweep
axes (``tile.rows``, ``tile.periphery.adc.bits``) and the metrics of a finished
point (``area_mm2``, ``energy_per_sample``, ``accuracy``…)::

    tile.rows * tile.cols <= 65536
    area_mm2 <= 50 and accuracy >= 0.9
    energy_per_sample < '2 uJ'          # a quoted quantity is converted to SI (J)
    device != 'pcm'                     # a quoted word compares as a string

Allowed: numbers, quoted strings, names (dotted), ``+ - * / // % **``, unary ``-``
``+`` ``not``, comparisons (chains too: ``4 <= bits <= 8``), ``and``/``or``,
``in``/``not in`` a literal list or tuple, and the functions ``abs``, ``min``,
``max``, ``log2``, ``log10``.  Anything else (attribute calls, subscripts,
lambdas, comprehensions…) is rejected when the sweep file is read.  A quoted
string meets a number only through :func:`hwsim.units.parse`, so ``'50 mm^2'``
means 5·10⁻⁵ m².
"""
from __future__ import annotations

import ast
import math
import operator

from hwsim import units
from hwsim.errors import UnitError

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_CMPOPS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Eq: operator.eq, ast.NotEq: operator.ne,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_FUNCS = {"abs": abs, "min": min, "max": max, "log2": math.log2, "log10": math.log10}


class ExpressionError(ValueError):
    """A constraint that is not a valid expression, or names an unknown quantity."""


def _dotted(node) -> str | None:
    """``tile.periphery.adc.bits`` from nested :class:`ast.Attribute` nodes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class Expression:
    """A parsed, checked constraint; ``names`` are the quantities it reads."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text.strip():
            raise ExpressionError("a constraint must be a non-empty expression string")
        self.text = text.strip()
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"cannot parse '{self.text}': {exc.msg}") from None
        self.tree = tree.body
        self.names: set[str] = set()
        self._check(self.tree)

    def _check(self, node) -> None:
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = _dotted(node)
            if name is None or name in _FUNCS:
                raise ExpressionError(f"'{ast.unparse(node)}' is not a quantity name")
            self.names.add(name)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, str)) or isinstance(node.value, bool):
                raise ExpressionError(f"constant {node.value!r} is not a number or a string")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            self._check(node.operand)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self._check(v)
        elif isinstance(node, ast.Compare) and all(type(o) in _CMPOPS for o in node.ops):
            for v in (node.left, *node.comparators):
                self._check(v)
        elif isinstance(node, (ast.List, ast.Tuple)):
            for v in node.elts:
                self._check(v)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in _FUNCS and not node.keywords):
            for v in node.args:
                self._check(v)
        else:
            raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in a constraint "
                                  "(numbers, names, arithmetic, comparisons, and/or/not, "
                                  f"{', '.join(_FUNCS)})")

    def evaluate(self, values: dict) -> bool:
        """True when the constraint holds for ``values`` (name -> number or string).

        A name whose value is ``None`` (a metric the evaluation did not produce) makes
        the constraint unsatisfiable: the point is reported infeasible.
        """
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ExpressionError(f"unknown name(s) {', '.join(sorted(missing))} in '{self.text}'")
        try:
            return bool(_eval(self.tree, values))
        except _Undefined:
            return False
        except (TypeError, ValueError, ZeroDivisionError, UnitError) as exc:
            msg = exc.message if isinstance(exc, UnitError) else str(exc)
            raise ExpressionError(f"cannot evaluate '{self.text}': {msg}") from None


class _Undefined(Exception):
    pass


def _num(a, b):
    """Bring a quoted quantity next to a number into SI: ``'50 mm^2'`` -> 5e-5."""
    if isinstance(a, str) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return units.parse(a), b
    if isinstance(b, str) and isinstance(a, (int, float)) and not isinstance(a, bool):
        return a, units.parse(b)
    return a, b


def _eval(node, values):
    if isinstance(node, (ast.Name, ast.Attribute)):
        v = values[_dotted(node)]
        if v is None:
            raise _Undefined()
        return v
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp):
        a, b = _num(_eval(node.left, values), _eval(node.right, values))
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        if isinstance(node.op, ast.Not):
            return not v
        v = units.parse(v) if isinstance(v, str) else v
        return -v if isinstance(node.op, ast.USub) else +v
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, values) for v in node.values)
        return any(_eval(v, values) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, values)
            if isinstance(op, (ast.In, ast.NotIn)):
                ok = _CMPOPS[type(op)](left, right)
            else:
                ok = _CMPOPS[type(op)](*_num(left, right))
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, (ast.List, ast.Tuple)):
        return tuple(_eval(v, values) for v in node.elts)
    if isinstance(node, ast.Call):
        args = [_eval(a, values) for a in node.args]
        args = [units.parse(a) if isinstance(a, str) else a for a in args]
        return _FUNCS[node.func.id](*args)
    raise ExpressionError(f"'{ast.unparse(node)}' is not allowed")  # pragma: no cover
