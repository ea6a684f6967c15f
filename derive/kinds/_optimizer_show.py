"""How the `optimizer` key writes values: exact while short and readable, else ≈ decimals; equation lines."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Latex, decimal, is_plain, matrix, tex, terminating
from ..render import width
from ._optimizer_math import shaped

MAX_DIGITS = 12      # a terminating decimal of at most this many significant digits is shown as that decimal
MAX_DENOMINATOR = 10 ** 4   # a rational with a denominator of more digits is shown by its decimals (SPEC §15)
MAX_NODES = 16       # an irrational exact value of more nodes is shown by its decimals
MAX_ATOM = 10 ** 6   # likewise one holding a rational with a numerator or denominator this large
SUBSTITUTION_WIDTH = 80   # characters shown past which a substitution is left out of a line
INLINE_STEPS = 3     # the answers box writes at most this many steps in one line …
INLINE_WIDTH = 70    # … and only when they are this short (characters shown) and exact


class Approx(Latex):
    """LaTeX that shows some value by its decimals only (joined with ≈, never =)."""

    __slots__ = ()


def short_decimal(x: sympy.Rational) -> str | None:
    """The exact terminating decimal of a rational, when it has at most MAX_DIGITS significant digits."""
    q = int(x.q)
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    if q != 1:
        return None
    text = terminating(x)
    return text if len(text.lstrip("-").replace(".", "").strip("0")) <= MAX_DIGITS else None


def presentable(x: Any) -> bool:
    """Can the key write this exact value so a reader takes it in (else it shows the decimals)?"""
    if isinstance(x, (int, sympy.Integer)):
        return True
    if isinstance(x, sympy.Float):
        return False
    if isinstance(x, sympy.Rational):
        return x.q < MAX_DENOMINATOR or short_decimal(x) is not None
    nodes = list(sympy.preorder_traversal(x))
    return len(nodes) <= MAX_NODES and all(
        abs(a.p) < MAX_ATOM and a.q < MAX_DENOMINATOR for a in nodes if isinstance(a, sympy.Rational))


def exact_cell(x: Any) -> Latex:
    """One presentable exact value (a long terminating decimal written out)."""
    if isinstance(x, sympy.Rational) and not isinstance(x, sympy.Integer) and not is_plain(x):
        text = short_decimal(x)
        if text is not None:
            return Latex(text)
    return tex(x)


def plain(x: Any) -> bool:
    """A value needing no decimal beside it."""
    return is_plain(x) or (isinstance(x, sympy.Rational) and short_decimal(x) is not None)


def number(x: Any, d: int) -> Latex:
    """A scalar inside a formula: exact when presentable, else its decimal (an Approx)."""
    if presentable(x):
        return exact_cell(x)
    return Approx(decimal(x, d))


def value(values: list, like: Any, d: int) -> Latex:
    """A flat list as a vector or matrix shaped like `like`: exact when every entry is presentable, else decimals."""
    if all(presentable(v) for v in values):
        return Latex(matrix(shaped(values, like), exact_cell))
    return Approx(matrix(shaped(values, like), lambda v: decimal(v, d) if not plain(v) else exact_cell(v)))


def result(values: list, like: Any, d: int) -> Latex:
    """A result: exact, then ≈ decimals where some entry is not plain; only ≈ decimals when not presentable."""
    shown = value(values, like, d)
    if isinstance(shown, Approx):
        return Approx(r"\approx " + shown)
    if all(plain(v) for v in values):
        return shown
    return Latex(shown + r" \approx " + matrix(shaped(values, like), lambda v: decimal(v, d)))


def cat(*pieces: str) -> Latex:
    """Concatenate LaTeX pieces, keeping the mark of a piece shown by its decimals."""
    text = "".join(pieces)
    return Approx(text) if any(isinstance(p, Approx) for p in pieces) else Latex(text)


def line(lhs: str, *parts: str) -> Latex:
    """`lhs = part = part …`: a part holding decimals is joined with ≈; a result already saying ≈ joins bare.
    A substitution too wide for one row of the page is left out (the result never is)."""
    out = str(lhs)
    for k, part in enumerate(parts):
        if k < len(parts) - 1 and width(part) > SUBSTITUTION_WIDTH:
            continue
        if part.startswith(r"\approx"):
            out += " " + part
        else:
            out += (r" \approx " if isinstance(part, Approx) else " = ") + part
    return Latex(out)


def given_number(x: sympy.Rational) -> Latex:
    """A given hyperparameter: 10^{-8} for a small power of ten, else as tex writes it."""
    if x > 0 and x < sympy.Rational(1, 1000) and x.p == 1 and sympy.log(x.q, 10).is_Integer:
        return Latex(r"10^{-%d}" % sympy.log(x.q, 10))
    return exact_cell(x)


def answer_display(per_step: list, d: int, symbol: str) -> Latex:
    """The answers box: a few short exact steps in one line; else one row per step, `θ_t = …` or `θ_t ≈ …`."""
    shown = [result([e for row in v for e in row] if v and isinstance(v[0], list) else list(v), v, d)
             for v in per_step]
    inline = r",\ ".join(shown)
    if len(shown) <= INLINE_STEPS and not any(isinstance(x, Approx) for x in shown) and width(inline) <= INLINE_WIDTH:
        return Latex(inline)
    rows = [f"{symbol}_{{{t}}} " + (x if isinstance(x, Approx) else "= " + x) for t, x in enumerate(shown, 1)]
    return Latex(r"\begin{array}[t]{@{}l@{}}" + r" \\[2pt] ".join(rows) + r"\end{array}")
