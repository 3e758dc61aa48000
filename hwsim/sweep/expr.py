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
means 5·10⁻⁵ m².  Arithmetic is on numbers only (no string or list repetition).

**Bounded.**  Every expression evaluates in bounded time and memory: its text has at
most :data:`MAX_CHARS` characters and :data:`MAX_NODES` syntax nodes, every integer
(constant, name value or intermediate result) has at most :data:`MAX_INT_BITS` bits,
and ``a ** b`` is refused *before* it is computed when its result would exceed that
(``9**9**9**9 > 1``, ``tile.rows ** 1000000``: "integer result too large").  A float
that overflows (``10.0 ** 400``) is an error too, never ``inf``.  All of these are
:class:`ExpressionError`, which the sweep file reader reports at the constraint's line.
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


#: bounds of an expression (see module docstring)
MAX_CHARS = 1000
MAX_NODES = 400
MAX_INT_BITS = 256


class ExpressionError(ValueError):
    """A constraint that is not a valid expression, or names an unknown quantity."""


def _bounded(v):
    """``v`` if it is within the size limits (integers of at most MAX_INT_BITS bits)."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"integer too large (more than {MAX_INT_BITS} bits)")
    return v


def _pow(a, b):
    """``a ** b``, refused before it is computed when an integer result would exceed
    MAX_INT_BITS bits (|a|^b has about b·log2|a| bits)."""
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 \
            and b * math.log2(abs(a)) > MAX_INT_BITS:
        raise ExpressionError(f"integer result too large: {a} ** {b} has more than "
                              f"{MAX_INT_BITS} bits")
    return a ** b


def _arith(op, a, b):
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExpressionError(f"arithmetic needs numbers, got {v!r}")
    try:
        v = _pow(a, b) if op is operator.pow else op(a, b)
    except OverflowError:
        raise ExpressionError("number too large (float overflow)") from None
    if isinstance(v, complex):
        raise ExpressionError(f"{a!r} ** {b!r} is not a real number")
    if isinstance(v, float) and math.isinf(v):
        raise ExpressionError("number too large (float overflow)")
    return _bounded(v)


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
        if len(self.text) > MAX_CHARS:
            raise ExpressionError(f"a constraint has at most {MAX_CHARS} characters, this "
                                  f"one {len(self.text)}")
        try:
            tree = ast.parse(self.text, mode="eval")
        except (SyntaxError, MemoryError, RecursionError) as exc:
            msg = getattr(exc, "msg", None) or "too deeply nested"
            raise ExpressionError(f"cannot parse '{self.text}': {msg}") from None
        if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
            raise ExpressionError(f"a constraint has at most {MAX_NODES} terms and operators")
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
            _bounded(node.value)
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
        except ExpressionError as exc:
            raise ExpressionError(f"cannot evaluate '{self.text}': {exc}") from None
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, UnitError) as exc:
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
        return _bounded(v)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp):
        a, b = _num(_eval(node.left, values), _eval(node.right, values))
        return _arith(_BINOPS[type(node.op)], a, b)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        if isinstance(node.op, ast.Not):
            return not v
        v = units.parse(v) if isinstance(v, str) else v
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExpressionError(f"arithmetic needs numbers, got {v!r}")
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
        return _bounded(_FUNCS[node.func.id](*args))
    raise ExpressionError(f"'{ast.unparse(node)}' is not allowed")  # pragma: no cover
