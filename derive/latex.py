"""SymPy values to LaTeX: numbers, decimals at `digits`, matrices (elided past a size), equation chains."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterable, Iterator

import sympy
from sympy.printing.latex import LatexPrinter

from .values import evaluate

MAX_SHOWN = 10      # rows or columns shown in full; larger matrices are elided with dots
EDGE = 4            # rows/columns kept on each side of the dots
PLAIN_DIGITS = 12   # a terminating decimal of at most this many significant digits is shown as written (§15)
LONG_DENOMINATOR = 10**4   # a rational whose denominator has more digits is shown as a decimal with ≈ (§15)
_DIGITS: ContextVar[int] = ContextVar("display_digits", default=4)


@contextmanager
def display_digits(digits: int) -> Iterator[None]:
    """Set the significant digits of decimals shown for long rationals while a problem is derived."""
    token = _DIGITS.set(digits)
    try:
        yield
    finally:
        _DIGITS.reset(token)


class Latex(str):
    """Text that is already LaTeX: the renderer passes it through unescaped."""

    __slots__ = ()


class Approx(Latex):
    """LaTeX of a value shown by its decimal (a long rational): a chain writes ≈ before it, not =."""

    __slots__ = ()


def join(parts: Iterable[str], sep: str = "") -> Latex:
    """Concatenate LaTeX pieces."""
    return Latex(sep.join(parts))


def group_int(n: int) -> Latex:
    """120{,}422{,}400: an integer with thousands separators."""
    sign = "-" if n < 0 else ""
    digits = f"{abs(n):,}".replace(",", "{,}")
    return Latex(sign + digits)


def is_plain(x: Any) -> bool:
    """True when the exact value needs no decimal beside it (an integer or a short terminating decimal)."""
    if isinstance(x, int) or x is None:
        return True
    if isinstance(x, sympy.Integer):
        return True
    if isinstance(x, sympy.Rational):
        q = int(x.q)
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if q != 1:
            return False
        return len(terminating(x).lstrip("-").replace(".", "").strip("0")) <= PLAIN_DIGITS
    return False


def decimal_text(x: Any, digits: int) -> str:
    """`x` rounded to `digits` significant digits, as plain text (0.6590, -1.828, 12.00)."""
    if x is None:
        return "—"
    if isinstance(x, int) or isinstance(x, sympy.Integer):
        return f"{int(x)}"
    if isinstance(x, sympy.Rational) and is_plain(x) and len(terminating(x).lstrip("-0.").replace(".", "")) <= digits:
        return terminating(x)   # exactly 1.18: no padding zeros that would suggest rounding
    value = evaluate(x, max(digits + 5, 20))
    if value == 0:
        return "0"
    if not value.is_real:
        raise ValueError(f"not a real number: {x}")
    text = f"{float(value):.{digits}g}" if abs(value) < 1e300 else str(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}e{int(exp)}"
    # keep trailing zeros that carry the significant digits (0.6590, not 0.659)
    int_digits = len(text.lstrip("-").split(".")[0].lstrip("0"))
    if "." not in text and int_digits < digits:
        text += "." + "0" * (digits - int_digits)
    elif "." in text:
        whole, frac = text.split(".")
        lead = len(whole.lstrip("-").lstrip("0"))
        sig_frac = len(frac) if lead else len(frac.lstrip("0"))
        need = digits - lead - sig_frac
        text += "0" * max(need, 0)
    return text


def decimal(x: Any, digits: int) -> Latex:
    """The decimal as LaTeX (minus sign and exponent typeset)."""
    text = decimal_text(x, digits)
    if "e" in text:
        mantissa, exp = text.split("e")
        return Latex(rf"{mantissa} \times 10^{{{int(exp)}}}")
    return Latex(text)


def tex(x: Any) -> Latex:
    """Exact value as LaTeX: ints with separators, SymPy through sympy.latex, lists as matrices."""
    if isinstance(x, Latex):
        return x
    if x is None:
        return Latex(r"\text{none}")
    if isinstance(x, bool):
        return Latex(r"\text{%s}" % x)
    if isinstance(x, int):
        return group_int(x)
    if isinstance(x, list):
        return matrix(x, tex)
    if isinstance(x, sympy.Integer) and abs(int(x)) >= 10000:
        return group_int(int(x))
    if isinstance(x, sympy.Float):
        return Latex(decimal_text(x, 15))
    if is_long(x):
        return Approx(decimal(x, _DIGITS.get()))
    return Latex(_PRINTER.doprint(x))


def is_long(x: Any) -> bool:
    """A rational not worth reading exactly: not a short decimal, its denominator over 4 digits (§15)."""
    return isinstance(x, sympy.Rational) and not isinstance(x, sympy.Integer) and x.q >= LONG_DENOMINATOR \
        and not is_plain(x)


def terminating(x: sympy.Rational) -> str:
    """A rational with a short terminating decimal, written exactly (1/8 → 0.125)."""
    sign = "-" if x < 0 else ""
    p, q = abs(int(x.p)), int(x.q)
    scale = 0
    while q * 10 ** scale % q or (p * 10 ** scale) % q:
        scale += 1
    digits = str(p * 10 ** scale // q).rjust(scale + 1, "0")
    return sign + (digits[:-scale] + "." + digits[-scale:] if scale else digits)


def approx(x: Any, digits: int) -> Latex:
    """Exact value, then ≈ decimal when the exact form is not already a plain number."""
    if isinstance(x, list):
        return matrix(x, lambda v: approx(v, digits))
    if isinstance(x, sympy.Float):
        return decimal(x, digits)
    if is_plain(x):
        return tex(x)
    if is_long(x):
        return Approx(decimal(x, digits))
    return Latex(rf"{tex(x)} \approx {decimal(x, digits)}")


def decimals(x: Any, digits: int) -> Latex:
    """Only the decimals (a vector or matrix of them, or one)."""
    if isinstance(x, list):
        return matrix(x, lambda v: decimals(v, digits))
    if is_plain(x):
        return tex(x)
    return decimal(x, digits)


def _elide(items: list, keep: int = EDGE) -> list:
    """Keep the first and last `keep` items with a None marking the gap, past MAX_SHOWN."""
    if len(items) <= MAX_SHOWN:
        return list(items)
    return list(items[:keep]) + [None] + list(items[-keep:])


def matrix(x: list, cell=None, elide: bool = True) -> Latex:
    """A vector (shown as a row) or matrix as a bmatrix; large ones elided with ⋯ and ⋮ (unless `elide` is off)."""
    cell = cell or tex
    keep = _elide if elide else list
    if not x:
        return Latex(r"\begin{bmatrix}\end{bmatrix}")
    if isinstance(x[0], list) and x[0] and isinstance(x[0][0], list):   # a list of matrices
        return join((matrix(m, cell, elide) for m in x), r",\ ")
    if isinstance(x[0], list) and (len({len(r) if isinstance(r, list) else -1 for r in x}) > 1):
        return join((matrix(r, cell, elide) if isinstance(r, list) else cell(r) for r in x), r",\ ")  # ragged
    rows = x if isinstance(x[0], list) else [x]
    lines, approximate = [], False
    for row in keep(rows):
        if row is None:
            lines.append(" & ".join(r"\vdots" if c is not None else r"\ddots" for c in keep(rows[0])))
            continue
        cells = [Latex(r"\cdots") if c is None else cell(c) for c in keep(row)]
        approximate |= any(isinstance(c, Approx) for c in cells)
        lines.append(" & ".join(cells))
    body = r"\begin{bmatrix}" + r" \\ ".join(lines) + r"\end{bmatrix}"
    return Approx(body) if approximate else Latex(body)


def chain(lhs: Any, *rhs: Any, approx_digits: int | None = None) -> Latex:
    """`lhs = r1 = r2 = … ≈ decimal`: formula, substitution, exact value, as a teacher writes them."""
    parts = [tex(r) for r in rhs if r is not None]
    out = tex(lhs) + "".join((r" \approx " if isinstance(p, Approx) else " = ") + p for p in parts)
    last = rhs[-1] if rhs else None
    if approx_digits is not None and last is not None and not isinstance(last, Latex):
        if isinstance(last, list):
            if any(not is_plain(v) and not is_long(v) for v in _flat(last)):
                out += r" \approx " + decimals(last, approx_digits)
        elif not is_plain(last) and not is_long(last):
            out += r" \approx " + decimal(last, approx_digits)
    return Latex(out)


def _flat(x: Any) -> list:
    if isinstance(x, list):
        return [v for item in x for v in _flat(item)]
    return [x]


class _DecimalLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer, but short terminating rationals print as decimals (e^{0.1}, not e^{1/10})."""

    def _print_Rational(self, expr):  # noqa: N802 (SymPy's naming)
        if not isinstance(expr, sympy.Integer) and is_plain(expr):
            return terminating(expr)
        return super()._print_Rational(expr)


_PRINTER = _DecimalLatexPrinter()


def symbol(name: str) -> Latex:
    """A math symbol written as LaTeX by the kind (trusted, not from the spec)."""
    return Latex(name)
