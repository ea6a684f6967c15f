"""Numbers are read exactly from their YAML text (SPEC §2)."""
import pytest
import sympy

from derive.numbers import NotANumber, to_number
from derive.yamlsafe import Plain


@pytest.mark.parametrize("text, value", [
    ("0.1", sympy.Rational(1, 10)), ("1e-5", sympy.Rational(1, 100000)), ("1E5", 100000), ("-.5", sympy.Rational(-1, 2)),
    (".5", sympy.Rational(1, 2)), ("010", 10), ("-2.5", sympy.Rational(-5, 2)), ("+3", 3), ("1/3", sympy.Rational(1, 3)),
])
def test_plain_decimals_are_exact(text, value):
    assert to_number(Plain(text)) == value
    assert isinstance(to_number(Plain(text)), sympy.Rational)


def test_quoted_fraction_and_closed_forms_are_numbers_and_other_strings_are_not():
    assert to_number("1/3") == sympy.Rational(1, 3)
    assert to_number("0.5") == sympy.Rational(1, 2)          # SPEC v1.2 §13: a quoted closed form
    assert to_number("1 + sqrt(2)/2") == 1 + sympy.sqrt(2) / 2
    with pytest.raises(NotANumber, match="quoted string is a number only as a fraction \"p/q\" or a closed form"):
        to_number("x + 1")


@pytest.mark.parametrize("text, message", [
    ("0x1F", "'0x1F' is not a decimal number"), ("0o17", "'0o17' is not a decimal number"),
    ("1:30", "'1:30' is not a decimal number"), ("1_000", "'1_000' is not a decimal number"),
    (".nan", "expected a finite number, got '.nan'"), (".inf", "expected a finite number, got '.inf'"),
    ("-.inf", "expected a finite number, got '-.inf'"), ("yes", "expected a number, got the boolean 'yes'"),
    ("true", "expected a number, got the boolean 'true'"), ("sqrt(2)", "expected a number, got 'sqrt(2)'"),
    ("1e999999", "exponent of '1e999999' is out of range"), ("1/0", "'1/0' divides by zero"),
])
def test_other_spellings_are_errors(text, message):
    with pytest.raises(NotANumber, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_number(Plain(text))


def test_python_values():
    assert to_number(0.1) == sympy.Rational(1, 10)
    assert to_number(3) == 3
    with pytest.raises(NotANumber, match="got a boolean"):
        to_number(True)
    with pytest.raises(NotANumber, match="finite"):
        to_number(float("nan"))
