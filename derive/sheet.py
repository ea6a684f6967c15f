"""Given data as the question sheet shows it (SPEC §15): every number a student needs, as written, never elided.

A decimal from the spec is shown as its own text (1.62434536); a drawn or computed value as its shortest decimal;
small vectors and matrices as matrices, larger ones as rows of text that wrap and break across pages.
"""
from __future__ import annotations

from typing import Any

import sympy

from .latex import Latex, is_plain, matrix, terminating, tex
from .numbers import DECIMAL
from .render import Prose, Rows

MATRIX_ROWS = 12    # a given matrix with more rows is written as rows of text
MATRIX_COLUMNS = 10  # … and one with more columns
ROW_CHARACTERS = 60  # a vector whose entries take more characters is written as text


def written(value: Any, raw: Any = None) -> str:
    """One number as the sheet writes it: the spec's own text when it is a decimal, else exact and short."""
    text = str(raw).strip() if isinstance(raw, str) else None
    if text is not None and DECIMAL.fullmatch(text):
        return text.replace("+", "") if text.startswith("+") else text
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int) or isinstance(value, sympy.Integer):
        return str(int(value))
    if isinstance(value, sympy.Rational):
        return terminating(value) if is_plain(value) else f"{value.p}/{value.q}"
    return str(value)


def _math(value: Any, raw: Any) -> Latex:
    """A number for a matrix cell: as written, or the exact value's LaTeX (a closed form)."""
    if isinstance(value, sympy.Basic) and not isinstance(value, sympy.Rational):
        return tex(value)
    return Latex(written(value, raw))


def _aligned(raw: Any, value: Any) -> Any:
    """The raw spec value when it has the value's shape (else None, leaf by leaf)."""
    if isinstance(value, list):
        raws = raw if isinstance(raw, list) and len(raw) == len(value) else [None] * len(value)
        return [_aligned(r, v) for r, v in zip(raws, value)]
    return raw if not isinstance(raw, (list, dict)) else None


def depth(value: Any) -> int:
    """0 for a number, 1 for a vector, 2 for a matrix, 3 for a list of matrices, …"""
    d = 0
    while isinstance(value, list) and value:
        d, value = d + 1, value[0]
    return d


def given_entries(label: str, value: Any, raw: Any) -> list[tuple[str, Any]]:
    """The sheet's lines for one numeric field: (label, LaTeX math) or (label, Rows of text)."""
    raw = _aligned(raw, value)
    d = depth(value)
    if d == 0:
        return [(label, _math(value, raw))]
    if d == 1:
        if sum(len(written(v, r)) + 2 for v, r in zip(value, raw)) <= ROW_CHARACTERS:
            return [(label, _grid([value], [raw]))]
        return [(label, Rows([_text_row(value, raw)]))]
    if d == 2:
        if len(value) <= MATRIX_ROWS and len(value[0]) <= MATRIX_COLUMNS:
            return [(label, _grid(value, raw))]
        return [(label, Rows([f"row {i}: " + _text_row(v, r) for i, (v, r) in enumerate(zip(value, raw))]))]
    return [entry for i, (v, r) in enumerate(zip(value, raw)) for entry in given_entries(f"{label}[{i}]", v, r)]


def _grid(rows: list, raws: list) -> Latex:
    """A matrix (a vector as one row) with every entry, as written."""
    cells = [[_math(v, r) for v, r in zip(row, raw_row)] for row, raw_row in zip(rows, raws)]
    return matrix(cells if len(cells) > 1 else cells[0], lambda c: c, elide=False)


def _text_row(values: list, raws: list) -> str:
    """`[1.5, -2, 0.25]` as plain text that wraps."""
    return "[" + ", ".join(written(v, r) for v, r in zip(values, raws)) + "]"


__all__ = ["given_entries", "written", "Prose", "Rows"]
