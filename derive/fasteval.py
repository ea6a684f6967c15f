"""Fast numeric values of exact SymPy expressions: mpmath over the tree, shared subterms evaluated once.

A softmax over 512 logits repeats one 512-term sum in every entry; SymPy's evalf walks it again for
each entry, this walker once. Every value is computed at two precisions and accepted only when they
agree far past the digits asked for; otherwise SymPy's own adaptive evalf decides.
"""
from __future__ import annotations

from functools import lru_cache

import mpmath
import sympy

GUARD = 20                # extra digits of the lower working precision
CACHE = 200_000           # subterms remembered (per precision)


class Unsupported(Exception):
    """A node this walker does not evaluate (SymPy's evalf then does)."""


def numeric(expr: sympy.Expr, digits: int) -> sympy.Float:
    """`expr` to `digits` significant digits, checked at two working precisions."""
    if expr.is_Rational or expr.is_Float:
        return sympy.Float(expr, digits)
    try:
        low = _value(expr, digits + GUARD)
        high = _value(expr, 2 * digits + GUARD)
    except (Unsupported, ZeroDivisionError, ValueError, OverflowError):
        return sympy.N(expr, digits)
    with mpmath.workdps(2 * digits + GUARD):
        if high == 0 or abs(low - high) > abs(high) * mpmath.mpf(10) ** (-digits - 5):
            return sympy.N(expr, digits)
    return sympy.Float(high, digits)


def value(expr: sympy.Expr, dps: int) -> mpmath.mpf:
    """`expr` worked at `dps` digits, every node rounded there (no check: compare two precisions yourself).

    Raises Unsupported for a node it does not evaluate (and mpmath's own errors: a zero division, a complex value).
    """
    return _value(expr, dps)


@lru_cache(maxsize=CACHE)
def _value(expr: sympy.Expr, dps: int) -> mpmath.mpf:
    """The value of one node at `dps` digits (children through the cache)."""
    with mpmath.workdps(dps):
        return _node(expr, dps)


def _node(e: sympy.Expr, dps: int) -> mpmath.mpf:
    """One node from its children's values."""
    if e.is_Integer:
        return mpmath.mpf(int(e))
    if e.is_Rational:
        return mpmath.mpf(int(e.p)) / int(e.q)
    if e.is_Float:
        return mpmath.mpf(e._mpf_)
    if e is sympy.E:
        return +mpmath.e
    if e is sympy.pi:
        return +mpmath.pi
    if e.is_Add:
        return mpmath.fsum(_value(a, dps) for a in e.args)
    if e.is_Mul:
        return mpmath.fprod(_value(a, dps) for a in e.args)
    if e.is_Pow:
        return _power(e, dps)
    func = FUNCTIONS.get(type(e).__name__)
    if func is None or len(e.args) != 1:
        raise Unsupported(type(e).__name__)
    value = func(_value(e.args[0], dps))
    if not isinstance(value, mpmath.mpf):
        raise Unsupported(f"a complex value of {type(e).__name__}")
    return value


def _power(e: sympy.Pow, dps: int) -> mpmath.mpf:
    """b^x (e^x, integer powers, square roots, positive bases)."""
    base, exponent = e.args
    if base is sympy.E:
        return mpmath.exp(_value(exponent, dps))
    b = _value(base, dps)
    if exponent.is_Integer:
        return b ** int(exponent)
    if b < 0:
        raise Unsupported("a negative base to a fractional power")
    if exponent == sympy.Rational(1, 2):
        return mpmath.sqrt(b)
    return mpmath.power(b, _value(exponent, dps))


FUNCTIONS = {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "sqrt": mpmath.sqrt,
             "Abs": abs, "sinh": mpmath.sinh, "cosh": mpmath.cosh, "sin": mpmath.sin, "cos": mpmath.cos}
