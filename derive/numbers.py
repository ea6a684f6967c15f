"""Exact numbers from spec text: `0.1` is 1/10, `"1/3"` is a third, and nothing is ever evaluated."""
from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import sympy

from .closedform import ClosedFormError, parse_closed_form
from .yamlsafe import Plain

DECIMAL = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")  # YAML 1.2 core schema
FRACTION = re.compile(r"\s*([-+]?[0-9]+)\s*/\s*([0-9]+)\s*")
BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n"}
OTHER_YAML_NUMBERS = re.compile(
    r"[-+]?(0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|\.(nan|NaN|NAN|inf|Inf|INF)|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
    r"|[0-9][0-9_]*\.?[0-9_]*([eE][-+]?[0-9]+)?)")
MAX_EXPONENT = 400
MAX_DIGITS = 100          # digits in one number as written
FLOAT64_MAX = sympy.Rational(179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368, 1)
FLOAT64_TINY = sympy.Rational(1, 2**1022)   # the smallest normal float64, about 2.2e-308


class NotANumber(ValueError):
    """Raised with the reason a value is not an exact number; callers add file and line."""


def describe(value: Any) -> str:
    """A short rendering of a spec value for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "nothing (null)"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = str(value)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def parse_decimal(text: str) -> sympy.Rational:
    """Read a YAML 1.2 decimal (`0.1`, `1e-5`, `.5`, `010`) exactly; within float64's range."""
    mantissa, _, exponent = text.lower().partition("e")
    if sum(c.isdigit() for c in mantissa) > MAX_DIGITS or len(exponent) > 8:
        raise NotANumber(f"{short(text)} has more than {MAX_DIGITS} digits")
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        raise NotANumber(f"exponent of {short(text)} is out of range (at most ±{MAX_EXPONENT})")
    f = Fraction(mantissa)
    if exponent:
        f *= Fraction(10) ** int(exponent)
    return in_float_range(sympy.Rational(f.numerator, f.denominator), text)


def short(text: str) -> str:
    """A number's text for a message, cut to 40 characters."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def in_float_range(x: sympy.Rational, text: str) -> sympy.Rational:
    """Refuse a number float64 cannot hold: derive checks every answer in float64 (SPEC §4's JSON too)."""
    if abs(x) > FLOAT64_MAX:
        raise NotANumber(f"{short(text)} is beyond float64's range (about ±1.8e308); "
                         "derive checks every answer in float64")
    if x != 0 and abs(x) < FLOAT64_TINY:
        raise NotANumber(f"{short(text)} is closer to 0 than float64 can hold (about 2.2e-308); write 0 "
                         "or a larger number")
    return x


def parse_fraction(text: str) -> sympy.Rational | None:
    """Read `p/q` exactly, or return None when `text` is not a fraction."""
    m = FRACTION.fullmatch(text)
    if not m:
        return None
    if len(m.group(1)) + len(m.group(2)) > MAX_DIGITS:
        raise NotANumber(f"{short(text)} has more than {MAX_DIGITS} digits")
    if int(m.group(2)) == 0:
        raise NotANumber(f"{text!r} divides by zero")
    return in_float_range(sympy.Rational(int(m.group(1)), int(m.group(2))), text)


def to_number(value: Any) -> sympy.Expr:
    """An exact SymPy number from a spec or Python value (a rational, or a quoted closed form); NotANumber says why."""
    if isinstance(value, bool) or value is None:
        raise NotANumber(f"expected a number, got {describe(value)}")
    if isinstance(value, Plain):
        return _from_plain(value)
    if isinstance(value, str):
        frac = parse_fraction(value)
        return frac if frac is not None else closed_form(value)
    if isinstance(value, int):
        if value.bit_length() > 3 * MAX_DIGITS + 40:
            raise NotANumber(f"a whole number of more than {MAX_DIGITS} digits is too long")
        return in_float_range(sympy.Integer(value), str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotANumber(f"expected a finite number, got {value!r}")
        return parse_decimal(repr(value))
    if isinstance(value, (Fraction, sympy.Rational)):
        return _rational_value(sympy.Rational(value.numerator, value.denominator))
    if isinstance(value, sympy.Basic) and value.is_number and value.is_rational:
        return _rational_value(sympy.Rational(value))
    raise NotANumber(f"expected a number, got {describe(value)}")


def closed_form(text: str) -> sympy.Expr:
    """A quoted string in derive's closed-form grammar (SPEC §13): `"1 + sqrt(2)/2"`, parsed, never run."""
    try:
        value = parse_closed_form(text)
    except ClosedFormError as exc:
        raise NotANumber(f"expected a number, got the string {describe(text)} (a quoted string is a number only "
                         f"as a fraction \"p/q\" or a closed form such as \"1 + sqrt(2)/2\": {exc})") from None
    return value if not value.is_Rational else in_float_range(value, text)


def _rational_value(x: sympy.Rational) -> sympy.Rational:
    """A rational given from Python, bounded like one written in a spec."""
    if max(abs(x.p), x.q).bit_length() > 3 * MAX_DIGITS + 40:
        raise NotANumber(f"a fraction with more than {MAX_DIGITS} digits is too long")
    return in_float_range(x, str(x))


def _from_plain(text: Plain) -> sympy.Rational:
    """A plain YAML scalar: YAML 1.2 decimals and p/q fractions only."""
    if DECIMAL.fullmatch(text):
        return parse_decimal(text)
    frac = parse_fraction(text)
    if frac is not None:
        return frac
    low = text.lower()
    if low in BOOLEAN_WORDS:
        raise NotANumber(f"expected a number, got the boolean {describe(text)}")
    if low in {"null", "~", ""}:
        raise NotANumber("expected a number, got nothing (null)")
    if low.lstrip("+-") in {"nan", ".nan", "inf", ".inf", "infinity"}:
        raise NotANumber(f"expected a finite number, got {describe(text)}")
    if OTHER_YAML_NUMBERS.fullmatch(text):
        raise NotANumber(f"{describe(text)} is not a decimal number: hex, octal, sexagesimal and underscores "
                         "are not accepted (write it in decimal)")
    raise NotANumber(f"expected a number, got {describe(text)} (nothing in a spec is evaluated)")
