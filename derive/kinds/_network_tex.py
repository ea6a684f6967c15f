"""Kind `network`, LaTeX pieces of the key: shapes, products, counts in words, sums of counts."""
from __future__ import annotations

import sympy

from ..latex import Latex, chain, decimal_text, group_int

SUM_SHOWN = 8          # terms of a total written out; past it the middle ones are elided
OUT, IN = r"_{\text{out}}", r"_{\text{in}}"


# ---- LaTeX pieces ----------------------------------------------------------------------------------

def dims(shape: tuple) -> Latex:
    """28 × 28 × 192, or 64 for a flat vector."""
    return Latex(r" \times ".join(str(group_int(n)) for n in shape))


def product(*factors: int) -> Latex:
    """3 · 3 · 192 (thousands separators kept)."""
    return Latex(r" \cdot ".join(str(group_int(n)) for n in factors))


def words(n: int) -> Latex | None:
    """≈ 43.4 million: a large count rounded to 3 significant digits in words, or None below a million."""
    if n < 10 ** 6:
        return None
    digits = len(str(n))
    scale = 10 ** max(digits - 3, 0)
    rounded = (n + scale // 2) // scale * scale
    for power, word in ((12, "trillion"), (9, "billion"), (6, "million")):
        if rounded >= 10 ** power:
            value = sympy.Rational(rounded, 10 ** power)
            if value >= 1000:
                power = len(str(rounded)) - 1
                return Latex(r"%s %s \times 10^{%d}" % ("=" if rounded == n else r"\approx",
                                                        _short(sympy.Rational(rounded, 10 ** power)), power))
            return Latex(r"%s %s\text{ %s}" % ("=" if rounded == n else r"\approx", _short(value), word))
    return None  # pragma: no cover


def _short(value: sympy.Rational) -> str:
    """43.4, 120, 1.5: at most 3 significant digits, no trailing zeros."""
    return str(value) if value.is_integer else decimal_text(value, 3).rstrip("0").rstrip(".")


def with_words(n: int) -> Latex:
    """56{,}000{,}000 ≈ 56 million."""
    w = words(n)
    return Latex(group_int(n) + (" " + w if w else ""))


def plain(text: str) -> str:
    """A name from the spec placed inside prose: a `$` stays a dollar sign."""
    return text.replace("$", r"\$")


def label(design: str | None, path: str) -> str:
    """`bottleneck, layer 2` or `Layer 2`."""
    return f"{design}, {path.lower()}" if design else path


def total_line(lhs: str, terms: list[int], total: int) -> Latex:
    """`params = a + b + … = total` (zero terms left out, a long sum elided)."""
    shown = [t for t in terms if t]
    if len(shown) > SUM_SHOWN:
        shown = shown[:3] + [None] + shown[-2:]
    parts = [r"\cdots" if t is None else str(group_int(t)) for t in shown]
    middle = [Latex(" + ".join(parts))] if len(parts) > 1 else []
    return chain(Latex(lhs), *middle, with_words(total))
