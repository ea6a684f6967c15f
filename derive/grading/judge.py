"""The judging rule (SPEC §5): when a given number, as written, is right for an exact value."""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import sympy

from ..errors import SpecError
from ..numbers import DECIMAL, NotANumber, describe, to_number
from ..rules import Rule
from ..values import as_sympy, evaluate
from ..yamlsafe import Plain

NULL_WORDS = frozenset({"null", "Null", "NULL", "~", ""})
PRECISION = 60          # digits used to compare with an irrational exact value

# ---- the judging rule (SPEC §5) ------------------------------------------------------------------

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


SCALE = sympy.Rational(1, 10**6)   # §12: within 10⁻⁶ of the answer's largest magnitude is always right


def judge(given: Given, exact: Any, rule: Rule, count: bool = False, scale: Any = 0, step: Any = None) -> bool:
    """SPEC §5 and §12: equal; within 10⁻⁶·scale; else the rule's mode. `step`: the exact update, if any."""
    if exact is None or given.value is None:
        return exact is None and given.value is None
    if isinstance(exact, (list, dict, str)):
        return False
    diff, size = gap(given.value, exact)
    if bool(diff == 0):
        return True
    if count:
        return False
    if scale and bool(diff <= SCALE * scale):
        return True
    base = size if step is None else abs(evaluate(step, PRECISION))
    return MODES[rule.mode](given, diff, size, base, rule)


def _digits(given: Given, diff: Any, size: Any, base: Any, rule: Rule) -> bool:
    """§5: ≥ min_digits and rounds to the exact value at the decimals written; or ≥ 3 digits and within rtol."""
    if given.digits is None:
        return False
    if given.digits >= rule.min_digits and bool(diff <= HALF * sympy.Rational(10) ** -given.decimals):
        return True
    return given.digits >= 3 and bool(diff <= rule.rtol * base)


def _relative(given: Given, diff: Any, size: Any, base: Any, rule: Rule) -> bool:
    return bool(diff <= rule.rtol * base)


def _absolute(given: Given, diff: Any, size: Any, base: Any, rule: Rule) -> bool:
    return bool(diff <= rule.atol)


def _sigfig(given: Given, diff: Any, size: Any, base: Any, rule: Rule) -> bool:
    """Half a unit in the `digits`-th significant digit of the exact value (an exact 0: the scale rule only)."""
    if size == 0:
        return False
    exponent = int(sympy.floor(sympy.log(sympy.Float(size, PRECISION), 10)))
    return bool(diff <= HALF * sympy.Rational(10) ** (exponent - rule.digits + 1))


def _decimals(given: Given, diff: Any, size: Any, base: Any, rule: Rule) -> bool:
    """Half a unit at `digits` decimal places (an exact 0: the scale rule only)."""
    return size != 0 and bool(diff <= HALF * sympy.Rational(10) ** -rule.digits)


HALF = sympy.Rational(1, 2)
MODES = {"digits": _digits, "relative": _relative, "absolute": _absolute, "sigfig": _sigfig, "decimals": _decimals}


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
    """The spec's `check:` block, its settings overridden by --min-digits / --rtol."""
    rule = Rule().over(check)
    if min_digits is not None:
        if isinstance(min_digits, bool) or not isinstance(min_digits, int) or min_digits < 1:
            raise SpecError(f"--min-digits must be a positive whole number, got {min_digits!r}")
        rule = replace(rule, min_digits=min_digits)
    if rtol is not None:
        try:
            tol = to_number(Plain(rtol) if isinstance(rtol, str) else rtol)
        except NotANumber as exc:
            raise SpecError(f"--rtol: {exc}") from None
        if tol < 0:
            raise SpecError(f"--rtol must be zero or positive, got {tol}")
        rule = replace(rule, rtol=tol)
    return rule
