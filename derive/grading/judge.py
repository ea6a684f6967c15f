"""The judging rule (SPEC §5): when a given number, as written, is right for an exact value."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from ..errors import SpecError
from ..numbers import DECIMAL, NotANumber, describe, to_number
from ..values import as_sympy, evaluate
from ..yamlsafe import Plain

NULL_WORDS = frozenset({"null", "Null", "NULL", "~", ""})
DEFAULT_MIN_DIGITS = 2
DEFAULT_RTOL = sympy.Rational(1, 100)
PRECISION = 60          # digits used to compare with an irrational exact value

# ---- the judging rule (SPEC §5) ------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """How precisely a number must be written: `min_digits` for rounding, `rtol` for 3+ digits."""

    min_digits: int = DEFAULT_MIN_DIGITS
    rtol: sympy.Rational = DEFAULT_RTOL


@dataclass(frozen=True)
class Given:
    """One given number: its text as written, its exact value, and its precision."""

    written: str
    value: sympy.Rational | None     # None for a given null (no value)
    digits: int | None = None        # significant digits as written; None: a fraction (equality only)
    decimals: int | None = None      # decimals as written (`1.5e3` has −2)


def precision(text: str) -> tuple[int, int]:
    """(significant digits, decimals) of a decimal as written: `0.0099` (2, 4), `30` (2, 0), `30.0` (3, 1)."""
    mantissa, _, exponent = text.lstrip("+-").lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    return len((whole + frac).lstrip("0")), len(frac) - int(exponent or 0)


def read_given(value: Any) -> Given:
    """A given number from YAML or Python (floats through their shortest repr); NotANumber says why not."""
    if value is None or (isinstance(value, Plain) and str(value) in NULL_WORDS):
        return Given("null", None)
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (Fraction, sympy.Rational)) and not isinstance(value, sympy.Integer):
        text = f"{value.numerator}/{value.denominator}" if isinstance(value, Fraction) else f"{value.p}/{value.q}"
    elif isinstance(value, (int, sympy.Integer)) and not isinstance(value, bool):
        text = str(int(value))
    elif isinstance(value, (str, bool)):
        text = str(value)
    else:
        raise NotANumber(f"expected a number, got {describe(value)}")
    number = to_number(value)
    if DECIMAL.fullmatch(text.strip()):
        digits, decimals = precision(text.strip())
        return Given(text.strip(), number, digits, decimals)
    return Given(text.strip(), number)


def as_exact(x: Any) -> Any:
    """An exact answer leaf as a SymPy number (Python ints become Integers)."""
    if isinstance(x, int) and not isinstance(x, bool):
        return sympy.Integer(x)
    return as_sympy(x) if isinstance(x, (float, Fraction)) else x


def gap(value: sympy.Rational, exact: Any) -> tuple[Any, Any]:
    """(|given − exact|, |exact|): exact rationals when the key is rational, else 60-digit decimals (0 if equal)."""
    exact = as_exact(exact)
    if isinstance(exact, sympy.Rational):
        return abs(value - exact), abs(exact)
    size = abs(evaluate(exact, PRECISION))
    diff = abs(evaluate(value - exact, PRECISION))
    if diff <= sympy.Float(10, PRECISION) ** (10 - PRECISION) * max(size, 1):
        return sympy.Integer(0), size
    return diff, size


def judge(given: Given, exact: Any, rule: Rule, count: bool = False) -> bool:
    """SPEC §5: equal; or ≥ min_digits and rounds to the exact value; or ≥ 3 digits and within rtol."""
    if exact is None or given.value is None:
        return exact is None and given.value is None
    if isinstance(exact, (list, dict, str)):
        return False
    diff, size = gap(given.value, exact)
    if bool(diff == 0):
        return True
    if count or given.digits is None:
        return False
    if given.digits >= rule.min_digits and bool(diff <= sympy.Rational(1, 2) * sympy.Rational(10) ** -given.decimals):
        return True
    return given.digits >= 3 and bool(diff <= rule.rtol * size)


def rounded_count(given: Given, exact: Any) -> bool:
    """Is a wrong count the exact count rounded (43352000 for 43,352,064; 4.34e7)?"""
    if given.value is None or given.digits is None or not isinstance(as_exact(exact), sympy.Integer):
        return False
    place = -given.decimals                        # power of ten of the last digit written
    mantissa = given.written.lstrip("+-").lower().partition("e")[0]
    if "." not in mantissa and "e" not in given.written.lower():
        place += len(mantissa) - len(mantissa.rstrip("0")) if mantissa.strip("0") else 0
    kept = given.digits - (place + given.decimals)  # significant digits left after the rounding zeros
    half_step = sympy.Rational(1, 2) * sympy.Integer(10) ** place
    return place >= 1 and kept >= 2 and abs(given.value - as_exact(exact)) <= half_step


def make_rule(check: dict | None, min_digits: Any = None, rtol: Any = None) -> Rule:
    """The spec's `check:` block, overridden by --min-digits / --rtol."""
    check = check or {}
    digits = min_digits if min_digits is not None else check.get("min_digits") or DEFAULT_MIN_DIGITS
    tol = rtol if rtol is not None else check.get("rtol")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise SpecError(f"--min-digits must be a positive whole number, got {digits!r}")
    if tol is None:
        return Rule(digits, DEFAULT_RTOL)
    try:
        tol = to_number(Plain(tol) if isinstance(tol, str) else tol)
    except NotANumber as exc:
        raise SpecError(f"--rtol: {exc}") from None
    if tol < 0:
        raise SpecError(f"--rtol must be zero or positive, got {tol}")
    return Rule(digits, tol)


