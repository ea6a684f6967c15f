"""How the key writes values, shared by `forward`, `backprop` and other kinds: exact where short and readable,
else by decimals joined with ≈ (SPEC §15), inside chains `formula = substitution = result`; factors and terms
broken into rows where they do not fit the line. (The dense kinds' steps are in `_dense_steps`, their answers in
`_dense_answers`, their question sheet in `_dense_given`.)"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import sympy

from ..latex import Approx as _Rounded
from ..latex import MAX_SHOWN, Latex, _elide, decimal, decimals, is_plain, tex
from . import _dense_exact as E
from . import _dense_fit as F

LONG_EXACT = 360      # characters of LaTeX past which another kind shows a matrix of exact values by its decimals
LONG_CELL = 70        # characters of LaTeX of one entry past which likewise
READABLE = 600        # characters of LaTeX past which the dense kinds stop printing an exact form (unreadable)
READABLE_CELL = 100   # … and of one entry


class Approx(_Rounded):
    """LaTeX of a substitution that shows some value by its decimals only (joined with ≈, not =)."""

    __slots__ = ()


def _flat(x: Any) -> list:
    """The entries of nested lists."""
    if isinstance(x, list):
        return [v for item in x for v in _flat(item)]
    return [x]


def grid(x: Any, cell: Callable[[Any], Latex]) -> Latex:
    """`matrix` of a value as `visible` leaves it (None is the gap: ⋮ ⋱ ⋯), marked ≈ when a cell is."""
    if not isinstance(x, list):
        return cell(x)
    if x and isinstance(x[0], list) and x[0] and isinstance(x[0][0], list):
        parts = [grid(m, cell) for m in x]
        return _mark(r",\ ".join(parts), parts)
    rows = x if x and isinstance(x[0], list) else [x]
    width = next((r for r in rows if r is not None), [])
    cells: list[Latex] = []
    lines = []
    for row in rows:
        if row is None:
            lines.append(" & ".join(r"\vdots" if c is not None else r"\ddots" for c in width))
            continue
        shown_row = [Latex(r"\cdots") if c is None else cell(c) for c in row]
        cells += shown_row
        lines.append(" & ".join(shown_row))
    return _mark(r"\begin{bmatrix}" + r" \\ ".join(lines) + r"\end{bmatrix}", cells)


def _mark(text: str, pieces: list[str]) -> Latex:
    """LaTeX marked rounded (≈) when one of its pieces is."""
    return _Rounded(text) if any(isinstance(p, _Rounded) for p in pieces) else Latex(text)


@lru_cache(maxsize=1 << 16)
def _decimals(v: Any, d: int) -> Latex:
    """One number's decimals, made once (a gradient is shown in the steps, the graph and the answers)."""
    return decimals(v, d)


@lru_cache(maxsize=1 << 16)
def _decimal(v: Any, d: int) -> Latex:
    """One number rounded to `d` digits, made once."""
    return decimal(v, d)


def rounded(x: Any, d: int) -> Latex:
    """Decimals (short terminating ones as written); every entry rounded to `d` digits when that is too wide."""
    x = E.to_sympy(visible(x))
    text = grid(x, lambda v: _decimals(v, d))
    return text if F.fits(text) else grid(x, lambda v: _decimal(v, d))


def visible(x: Any) -> Any:
    """The entries the key shows: past MAX_SHOWN rows or columns the middle is a None gap, as `matrix` elides."""
    if not isinstance(x, list):
        return x
    keep = _elide(x) if len(x) > MAX_SHOWN else x
    return [None if v is None and len(x) > MAX_SHOWN else visible(v) for v in keep]


def shown(x: Any, d: int) -> tuple[Latex, bool]:
    """A value as the key writes it inside a chain: (LaTeX, True when some of it is a rounded decimal: ≈)."""
    x = E.to_sympy(visible(x))
    flat = [v for v in _flat(x) if v is not None]
    if all(is_plain(v) for v in flat):
        text = grid(x, tex)
        return (text, False) if F.fits(text) else (rounded(x, d), True)
    if any(isinstance(v, sympy.Float) for v in flat):
        return rounded(x, d), True
    exact = _short_exact(x, READABLE, READABLE_CELL)
    if exact is None or not F.fits(exact):
        return rounded(x, d), True
    return exact, isinstance(exact, _Rounded)


def _short_exact(x: Any, limit: int = LONG_EXACT, cell_limit: int | None = LONG_CELL) -> Latex | None:
    """The exact LaTeX of a value, or None once it is too long to read (printing stops there)."""
    state = {"total": 0, "long": False}

    def cell(v: Any) -> Latex:
        """One entry's LaTeX, measured; nothing once the whole is too long."""
        if state["long"]:
            return Latex("")
        text = tex(v)
        state["total"] += len(text)
        state["long"] = (cell_limit is not None and len(text) > cell_limit) or state["total"] > limit
        return text
    text = grid(x, cell)
    return None if state["long"] or len(text) > limit else text


def _irrational(x: Any) -> bool:
    """True when some entry is neither rational nor a carried decimal (its exact form needs decimals beside)."""
    return any(not isinstance(v, (sympy.Rational, sympy.Float)) for v in _flat(E.to_sympy(x)) if v is not None)


def results(x: Any, d: int) -> list[tuple[str, Latex]]:
    """The end of a chain as (relation, LaTeX) pairs: `= exact`, `= exact ≈ decimals` or `≈ decimals`."""
    text, approximate = shown(x, d)
    if approximate:
        return [(r"\approx", text)]
    if not _irrational(x):
        return [("=", text)]
    return [("=", text), (r"\approx", rounded(E.to_sympy(x), d))]


def result(x: Any, d: int) -> str:
    """The end of a chain with its relations, as one string (` = exact ≈ decimals`)."""
    return "".join(f" {rel} {text}" for rel, text in results(x, d))


def value(x: Any, d: int) -> Latex:
    """An exact result shown house style: exact, then ≈ decimals (only ≈ decimals for long or carried values)."""
    end = result(x, d)
    return Latex(end[len(" = "):] if end.startswith(" = ") else end.lstrip())


def eq(*parts: Any, d: int) -> Latex:
    """`formula = substitution = … = result` (≈ before a part shown by rounded decimals), stacked if too wide."""
    # parts after the first may be exact values; the last is the result (exact ≈ decimals). When the formula and
    # the widest part do not fit one line side by side, the formula stands on a row of its own, the parts below.
    head, pieces = str(parts[0]), []
    for i, part in enumerate(parts[1:], 1):
        if i == len(parts) - 1 and not isinstance(part, str):
            pieces += results(part, d)
        elif isinstance(part, str):
            pieces.append((r"\approx" if isinstance(part, _Rounded) else "=", part))
        else:
            text, approximate = shown(part, d)
            pieces.append((r"\approx" if approximate else "=", text))
    if not pieces or F.width(head) + max(F.width(text) for _, text in pieces) <= F.BUDGET:
        return Latex(head + "".join(f" {rel} {text}" for rel, text in pieces))
    rows = [r"\displaystyle " + head] + [rf"\displaystyle\quad {rel} {text}" for rel, text in pieces]
    return Latex(F.stacked(rows))


def sub(x: Any, d: int) -> Latex:
    """A value inside a product or sum of a substitution (its decimals when the exact form is long)."""
    text, approximate = shown(x, d)
    return Approx(text) if approximate else Latex(text)


def cat(*pieces: str) -> Latex:
    """Concatenate LaTeX pieces, keeping the mark of a piece shown by its decimals."""
    text = "".join(pieces)
    return Approx(text) if any(isinstance(p, _Rounded) for p in pieces) else Latex(text)


INLINE = {"": r"\,", r"\cdot": r"\,"}


def joined(first: str, *rest: tuple[str, str]) -> Latex:
    """`first`, then (operator, piece) pairs ("" a product): side by side if they fit, else a row each (· for "")."""
    approximate = any(isinstance(p, _Rounded) for p in (first, *(piece for _, piece in rest)))
    inline = first + "".join(INLINE.get(op, f" {op} ") + piece for op, piece in rest)
    if F.fits(inline, F.BUDGET - 40):
        text = inline
    else:
        text = F.stacked([first] + ["{}" + (op or r"\cdot") + " " + piece for op, piece in rest])
    return Approx(text) if approximate else Latex(text)


def transposed(x: Any, d: int) -> Latex:
    """Aᵀ written as the matrix A with ⊤ (tall, not wide: N × units stays N rows high)."""
    piece = sub(x, d)
    return (Approx if isinstance(piece, _Rounded) else Latex)(piece + r"^{\top}")


def sup(name: str, layer: int) -> str:
    """`W^{[2]}`."""
    return f"{name}^{{[{layer}]}}"


def transpose(m: list[list]) -> list[list]:
    """Columns as rows."""
    return [list(col) for col in zip(*m)]


def shaped(rows: list[list], vector: bool) -> list:
    """N × units rows as shown: a column for one sample given as a vector, else the rows."""
    return [[v] for v in rows[0]] if vector else rows


def per_layer(values: list[list[list]], vector: bool) -> list:
    """Per-layer N × units values as answers: a vector per layer for one sample given as a vector."""
    return [E.to_sympy(v[0] if vector else v) for v in values]


def answer(s: Any, name: str, value_: Any, symbol: str, per_layer: bool = False) -> None:
    """Record an answer as the other kinds' answers box writes it (a long or carried value by `… ≈` decimals)."""
    value_, approximate = E.settle(value_)
    parts = value_ if per_layer else [value_]
    shown_parts = [_decimals_only(v, s.problem.digits) if v is not None else (tex(None), False) for v in parts]
    display = None
    if any(short for _, short in shown_parts):
        display = Latex(r",\ ".join(
            (r"\ldots \approx " + text) if short else str(box(v, s.problem.digits))
            for (text, short), v in zip(shown_parts, parts)))
    s.answer(name, value_, approximate=approximate, symbol=symbol, display=display)


def _decimals_only(x: Any, d: int) -> tuple[Latex, bool]:
    """(LaTeX, True when only decimals are shown): the exact form unless carried or too long to print."""
    x = E.to_sympy(visible(x))
    flat = [v for v in _flat(x) if v is not None]
    if all(is_plain(v) for v in flat):
        return grid(x, tex), False
    exact = None if any(isinstance(v, sympy.Float) for v in flat) else _short_exact(x)
    return (grid(x, lambda v: decimals(v, d)), True) if exact is None else (exact, False)


def box(x: Any, d: int) -> Latex:
    """One value for the answers box: exact, then ≈ decimals where it is not a plain number."""
    if x is None:
        return tex(None)
    return value(x, d)
