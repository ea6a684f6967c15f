"""Answer values: exact leaves (SymPy numbers, ints, None) nested in lists or mappings.

The one place that turns a leaf into SymPy or a float. Nothing here ever parses text: a string, a
mapping or any other object where a number belongs is a TypeError, never handed to `sympify`.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import mpmath
import sympy
from sympy.printing.str import StrPrinter

from .fasteval import numeric

Index = tuple  # the position of a leaf inside its answer: (row, col) or (layer, "params")


def as_sympy(x: Any) -> sympy.Expr:
    """An exact leaf as a SymPy number (ints and Fractions converted); anything else is a TypeError."""
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, int):
        return sympy.Integer(x)
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise TypeError(f"not a finite number: {x!r}")
        return sympy.Float(x)
    raise TypeError(f"not a number: a {type(x).__name__}")


def evaluate(x: Any, digits: int = 30) -> sympy.Float:
    """A leaf evaluated to `digits` significant digits (never parses: SymPy values only)."""
    return numeric(as_sympy(x), digits)


def to_float(x: Any) -> Any:
    """Exact value → float64, nested shape kept; None and labels stay; beyond float64 is ±inf."""
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, (list, tuple)):
        return [to_float(v) for v in x]
    if isinstance(x, dict):
        return {k: to_float(v) for k, v in x.items()}
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, (int, float)):
        return x
    x = as_sympy(x)
    if x.is_Rational:
        if max(abs(x.p), x.q) < 2**53:
            return float(x.p) / float(x.q)
        return _rational_float(x)
    return float(evaluate(x, 20))


def _rational_float(x: sympy.Rational) -> float:
    """The float64 nearest a large rational (±inf past the range, as float() of a huge decimal gives)."""
    try:
        return float(Fraction(int(x.p), int(x.q)))
    except OverflowError:
        return math.inf if x.p > 0 else -math.inf


class _SharedStrPrinter(StrPrinter):
    """SymPy's str() printer that prints each large sum once (a softmax repeats its denominator)."""

    def __init__(self) -> None:
        super().__init__({"order": None})
        self.memo: dict[sympy.Expr, str] = {}

    def _print_Add(self, expr: sympy.Add, order: Any = None) -> str:  # noqa: N802 (SymPy's naming)
        if len(expr.args) < 8:
            return super()._print_Add(expr, order)
        if expr not in self.memo:
            if len(self.memo) > 10_000:
                self.memo.clear()
            self.memo[expr] = super()._print_Add(expr, order)
        return self.memo[expr]


_STR = _SharedStrPrinter()


def exact_text(x: Any) -> str:
    """SymPy's str() of an exact leaf (SPEC §4's `exact`), large shared sums printed once."""
    if isinstance(x, sympy.Basic):
        return _STR.doprint(x)
    return str(as_sympy(x))


def leaves(value: Any, index: Index = ()) -> list[tuple[Index, Any]]:
    """Every leaf of an answer in row-major order with its index; text entries (a layer's name) skipped."""
    if isinstance(value, dict):
        return [leaf for key, v in value.items() if not isinstance(v, str) for leaf in leaves(v, index + (key,))]
    if isinstance(value, (list, tuple)):
        return [leaf for i, v in enumerate(value) for leaf in leaves(v, index + (i,))]
    return [(index, value)]


def flat(value: Any) -> list:
    """The leaves of an answer, row-major (mapping entries in their order)."""
    return [leaf for _, leaf in leaves(value)]


def has_mapping(value: Any) -> bool:
    """True when a value holds a mapping somewhere (a network's `layers` answer)."""
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and any(has_mapping(v) for v in value)


def mp(x: Any, digits: int = 30) -> mpmath.mpf:
    """A leaf as an mpmath number at `digits` (for quick comparisons)."""
    with mpmath.workdps(digits):
        return mpmath.mpf(evaluate(x, digits))
