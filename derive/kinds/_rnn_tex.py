"""How the `rnn` key writes exact values: SymPy's LaTeX, but 1/(1 + e^{−a}) written σ(a), as the equations
write the gates; short terminating decimals as decimals; a value shown by its decimals alone once its exact
form is long (the rules of `_dense_show`, with this printer)."""
from __future__ import annotations

from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter

import re

from ..latex import Latex, decimal, decimals, is_plain, matrix, terminating
from ..render import WIDE, width
from . import _dense_exact as E
from ._dense_show import LONG_CELL, LONG_EXACT, Approx, cat  # noqa: F401 (cat is this module's too)

__all__ = ["ex", "shown", "value", "eq", "sub", "cat", "col", "mat", "visible"]
WIDE_COMMANDS = re.compile(r"\\(sigma|tanh|odot|approx|delta|left|right)(?![A-Za-z])")


def sigmoid_argument(e: Any) -> Any:
    """a when e is 1/(1 + e^{−a}) (as SymPy keeps it), else None."""
    if not (isinstance(e, sympy.Pow) and e.exp == -1 and isinstance(e.base, sympy.Add) and len(e.base.args) == 2):
        return None
    one, other = sorted(e.base.args, key=lambda a: a != 1)
    if one != 1:
        return None
    if other == sympy.E:
        return sympy.Integer(-1)
    return -other.args[0] if isinstance(other, sympy.exp) else None


class _Printer(LatexPrinter):
    """SymPy's printer with σ(a) for the logistic function and decimals for short terminating rationals."""

    def _print_Rational(self, expr: sympy.Rational) -> str:  # noqa: N802 (SymPy's naming)
        """A short terminating decimal as a decimal."""
        if not isinstance(expr, sympy.Integer) and is_plain(expr):
            return terminating(expr)
        return super()._print_Rational(expr)

    def _print_Pow(self, expr: sympy.Pow) -> str:  # noqa: N802
        """1/(1 + e^{−a}) as σ(a)."""
        arg = sigmoid_argument(expr)
        if arg is None:
            return super()._print_Pow(expr)
        if arg.is_Atom:
            return r"\sigma(%s)" % self._print(arg)
        return r"\sigma\left(%s\right)" % self._print(arg)

    def _print_Mul(self, expr: sympy.Mul) -> str:  # noqa: N802
        """A product with σ factors: the rest, then the σs."""
        sig = [f for f in expr.args if sigmoid_argument(f) is not None]
        if not sig:
            return super()._print_Mul(expr)
        rest = sympy.Mul(*[f for f in expr.args if sigmoid_argument(f) is None])
        head = ""
        if rest.could_extract_minus_sign():
            head, rest = "-", -rest
        parts = [self._print(f) for f in sig]
        if rest != 1:
            text = self._print(rest)
            parts.insert(0, r"\left(%s\right)" % text if isinstance(rest, sympy.Add) else text)
        return head + r"\,".join(parts)


_PRINTER = _Printer()


def ex(x: Any) -> Latex:
    """An exact value (or nested list of them) as LaTeX."""
    if isinstance(x, list):
        return matrix(x, ex)
    x = E.sym(x)
    if x is None:
        return Latex(r"\text{none}")
    if isinstance(x, sympy.Float):
        return decimal(x, 15)
    return Latex(_PRINTER.doprint(x))


def _flat(x: Any) -> list:
    """The leaves of a nested list."""
    if isinstance(x, list):
        return [v for item in x for v in _flat(item)]
    return [x]


def shown(x: Any, d: int) -> tuple[Latex, bool]:
    """(LaTeX, True when only the decimals are shown): exact while short, else its decimals."""
    x = E.to_sympy(x)
    flat = [v for v in _flat(x) if v is not None]
    if all(is_plain(v) for v in flat):
        return ex(x), False
    if any(isinstance(v, sympy.Float) for v in flat):
        return decimals(x, d), True
    text = ex(x)
    if len(text) > LONG_EXACT or max(len(ex(v)) for v in flat) > LONG_CELL:
        return decimals(x, d), True
    return text, False


def value(x: Any, d: int) -> Latex:
    """A result: exact ≈ decimals, or ≈ decimals alone when long or carried."""
    text, approximate = shown(x, d)
    if approximate:
        return Latex(r"\approx " + text)
    if all(is_plain(v) for v in _flat(E.to_sympy(x)) if v is not None):
        return text
    return Latex(text + r" \approx " + decimals(E.to_sympy(x), d))


def sub(x: Any, d: int) -> Latex:
    """A value inside a substitution (its decimals, marked, when the exact form is long)."""
    text, approximate = shown(x, d)
    return Approx(text) if approximate else Latex(text)


def visible(line: str) -> int:
    """A rough count of the characters a display shows (σ, tanh, ⊙ and ≈ counted, as they take room)."""
    return width(WIDE_COMMANDS.sub(lambda m: "" if m.group(1) in ("left", "right") else "xx", line))


def eq(*parts: Any, d: int) -> Latex:
    """`formula = substitution = … = result`; a part shown by its decimals joins with ≈; a long chain is set as
    aligned rows, one part per row."""
    head, *rest = str(parts[0]).split(" = ")
    pieces = [head] + ["= " + p for p in rest]
    for i, part in enumerate(parts[1:], 1):
        if i == len(parts) - 1 and not isinstance(part, str):
            last = value(part, d)
            if last.startswith(r"\approx"):
                pieces.append(last)
            else:
                pieces += ["= " + p for p in last.split(r" \approx ", 1)[:1]] + [
                    r"\approx " + p for p in last.split(r" \approx ", 1)[1:]]
        elif isinstance(part, str):
            pieces.append((r"\approx " if isinstance(part, Approx) else "= ") + part)
        else:
            text, approximate = shown(part, d)
            pieces.append((r"\approx " if approximate else "= ") + text)
    line = " ".join(pieces)
    if visible(line) <= WIDE or len(pieces) < 3:
        return Latex(line)
    return Latex(r"\begin{aligned}" + pieces[0] + " &" + pieces[1] + "".join(r" \\ &" + p for p in pieces[2:])
                 + r"\end{aligned}")


def col(v: list) -> list[list]:
    """A vector as a column."""
    return [[x] for x in v]


def mat(x: list) -> Latex:
    """Exact data (Fractions) as a matrix."""
    return ex(E.to_sympy(x))
