"""Escaping by type, safe prose, the time limit."""
import time

import pytest
import sympy

from derive.latex import Latex, decimal_text, tex
from derive.prose import UnsafeText, escape, to_latex
from derive.render import display, environment, finalize


def test_finalize_escapes_by_type():
    assert finalize("50% of $x & #1_{}") == r"50\% of \$x \& \#1\_\{\}"
    assert finalize(Latex(r"\frac{1}{2}")) == r"\frac{1}{2}"
    assert finalize(sympy.sqrt(8)) == r"2 \sqrt{2}"
    assert finalize(120422400) == "120{,}422{,}400"


def test_templates_cannot_forget_to_escape():
    template = environment().from_string(r"\VAR{value}")
    assert template.render(value=r"\input{/etc/passwd}") == r"\textbackslash{}input\{/etc/passwd\}"


def test_undefined_variables_fail_loudly():
    import jinja2
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string(r"\VAR{nothing.here}").render()


def test_prose_paragraphs_bullets_and_math():
    out = to_latex("First $\\gamma = 2$.\n\n- one\n- two with $x_i$")
    assert out == "First $\\gamma = 2$.\n\n\\begin{itemize}\\item one\\item two with $x_i$\\end{itemize}"


@pytest.mark.parametrize("math, message", [
    (r"$\input{x}$", r"\input is not allowed in math"), (r"$\write18{x}$", r"\write is not allowed in math"),
    (r"$\catcode`\^=7$", r"\catcode is not allowed in math"), (r"$\openin1$", r"\openin is not allowed in math"),
    (r"$\include{x}$", r"\include is not allowed in math"), (r"$\def\a{b}$", r"\def is not allowed in math"),
    (r"$\csname foo\endcsname$", r"\csname is not allowed in math"), ("$^^5c$", "'^^' is not allowed in math"),
    ("$a & b$", "character '&' is not allowed in math"), ("$a % b$", "character '%' is not allowed in math"),
    ("${a$", "unbalanced braces in math"), ("$a", "unclosed $"),
])
def test_math_whitelist(math, message):
    with pytest.raises(UnsafeText) as info:
        to_latex(math)
    assert str(info.value).startswith(message)


def test_unicode_in_text():
    assert escape("γ = 2 — σ²") == r"\ensuremath{\gamma} = 2 --- \ensuremath{\sigma}\ensuremath{^2}"


def test_decimals_keep_significant_zeros():
    assert decimal_text(sympy.Rational(659001, 1000000), 4) == "0.6590"
    assert decimal_text(1 - 2 * sympy.sqrt(2), 4) == "-1.828"
    assert tex(sympy.Rational(1, 10)) == "0.1" and tex(sympy.exp(sympy.Rational(1, 10))) == "e^{0.1}"
    assert tex(sympy.Rational(1, 3)) == r"\frac{1}{3}"


def test_long_chains_break_into_aligned_rows():
    line = "x = " + " + ".join(["a_{%d}" % i for i in range(40)]) + " = 5"
    assert display(line).startswith(r"\begin{aligned}x &= ")
    assert display("x = 5") == "x = 5"


def test_derivation_time_limit(cli, spec_file, tmp_path, monkeypatch):
    import derive.kinds.softmax as softmax
    monkeypatch.setattr(softmax, "solve", lambda p: time.sleep(5))
    spec = spec_file("title: T\nproblems:\n  - {id: q1, kind: softmax, logits: [1, 2]}\n")
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    result = cli("build", "spec.yaml", "--no-pdf", "--limit", "seconds=1")
    assert time.perf_counter() - start < 4
    assert result.code == 2
    assert result.err.strip() == "spec.yaml:3: q1: derivation took longer than 1 s (limit 'seconds')"
