"""Channel matrices laid out to be read at real sizes (SPEC §15), for conv2d and pool: each matrix with its label,
as many side by side as fit a line and the rest on the next, one filter per line, a long list of matrices as rows
of a block; the question sheet's stacks (image, kernels, upstream) as written, never elided."""
from __future__ import annotations

import re
from typing import Any, Callable

import sympy

from ..latex import EDGE, MAX_SHOWN, Approx, Latex, decimal, is_long, is_plain, matrix, tex
from ..sheet import MATRIX_COLUMNS, MATRIX_ROWS, given_entries, written
from . import _images as I

LINE = 108          # digit widths one display may take (the page holds about 85 at full size, 121 at 70 %)
BLOCK_ROWS = 40     # matrix rows (and half a row's gap each) one answer block may hold: one box, one page
COLUMN_GAP = 1.8    # a bmatrix's gap between columns, in digit widths
BRACKETS = 2.6      # its brackets and their padding
SEPARATOR = 2.0     # the \quad between two matrices side by side

Cell = Callable[[Any], Latex]


def span_text(word: str, first: int, last: int) -> str:
    """`channel 3`, `channels 3 and 4`, `channels 3 to 5`: never `channels 3 to 3`."""
    if first == last:
        return f"{word} {first}"
    return f"{word}s {first} {'and' if last == first + 1 else 'to'} {last}"


# ---- widths ------------------------------------------------------------------------------------------

def units(text: str) -> float:
    """A rough width of one cell's LaTeX in digit widths (a minus sign 1.4, a point or comma 0.5)."""
    text = text.replace(r"\infty", "XX").replace(r"\cdots", "XX").replace(r"\vdots", "X").replace(r"\ddots", "XX")
    frac = re.fullmatch(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", text.lstrip("-"))
    if frac:
        return max(units(frac.group(1)), units(frac.group(2))) * 0.75 + (1.4 if text.startswith("-") else 0.5)
    text = re.sub(r"\\[A-Za-z]+", "X", text).replace("{", "").replace("}", "").replace(" ", "")
    return sum(1.4 if ch == "-" else 0.5 if ch in ".," else 1.0 for ch in text)


def matrix_units(m: str) -> float:
    """The width of a bmatrix's LaTeX in digit widths: its widest cell per column, the gaps and the brackets."""
    body = m.split(r"\begin{bmatrix}", 1)[-1].rsplit(r"\end{bmatrix}", 1)[0]
    rows = [[units(c.strip()) for c in row.split("&")] for row in body.split(r"\\")]
    columns = [max(r[k] for r in rows if k < len(r)) for k in range(max(len(r) for r in rows))]
    return sum(columns) + COLUMN_GAP * (len(columns) - 1) + BRACKETS


def matrix_rows(m: str) -> int:
    """The number of rows of the first bmatrix in some LaTeX."""
    body = m.split(r"\begin{bmatrix}", 1)[-1].split(r"\end{bmatrix}", 1)[0]
    return body.count(r"\\") + 1


# ---- matrices side by side, each with its label ------------------------------------------------------

def labelled(label: str, m: Latex) -> tuple[Latex, float]:
    """A matrix with a small label above it, and its width."""
    width = max(matrix_units(m), units(label) * 0.75)
    return Latex(rf"\overset{{\text{{{label}}}}}{{{m}}}"), width


def pack(pieces: list[tuple[Latex, float]], room: float) -> list[list[Latex]]:
    """Pieces left to right, as many per line as fit in `room` digit widths (at least one per line)."""
    lines: list[list[Latex]] = []
    used = room + 1
    for piece, width in pieces:
        if lines and used + SEPARATOR + width <= room:
            lines[-1].append(piece)
            used += SEPARATOR + width
        else:
            lines.append([piece])
            used = width
    return lines


def row_lines(lhs: str, mats: list[Latex], labels: list[str], tail: str = "") -> list[Latex]:
    """`lhs` then the matrices with their labels, as many per line as fit; the rest on lines of their own."""
    head = units(re.sub(r"[_^]", "", lhs)) * 0.8 + 2
    pieces = [labelled(label, m) for label, m in zip(labels, mats)]
    groups = pack(pieces, LINE - head)
    out = [Latex((lhs if k == 0 else r"\quad ") + r"\quad ".join(g)) for k, g in enumerate(groups)]
    if tail:
        out[-1] = Latex(out[-1] + tail)
    return out


def stack_lines(lhs: str, stack: list, word: str, cell: Cell = tex, tail: str = "") -> list[Latex]:
    """A list of matrices (channels, filters) in the key: `lhs M` for one, else labelled, as many per line as fit."""
    mats = [matrix(m, cell) for m in stack]
    if len(mats) == 1:
        return [Latex(lhs + mats[0] + tail)]
    return row_lines(lhs, mats, [f"{word} {k}" for k in range(len(mats))], tail)


# ---- values in the key: = exact, or ≈ decimals -------------------------------------------------------------

def relation(value: Any, digits: int) -> tuple[str, Cell]:
    """` = ` and exact cells when all numbers are rational (a long one ≈ in its cell), else ` ≈ ` and decimals."""
    numbers = I.flat(value)
    if all(is_plain(v) for v in numbers):
        return " = ", tex
    if all(isinstance(v, (int, sympy.Rational)) for v in numbers):
        return (r" \approx " if any(is_long(v) for v in numbers) else " = "), tex
    return r" \approx ", lambda v: tex(v) if is_plain(v) else decimal(v, digits)


def column_blocks(m: list, cell: Cell, room: float = LINE) -> list[Latex]:
    """A matrix as one bmatrix when it fits `room` digit widths, else its columns in labelled blocks that do."""
    whole = matrix(m, cell)
    if matrix_units(whole) <= room:
        return [whole]
    n = len(m[0])
    shown = list(range(n)) if n <= MAX_SHOWN else list(range(EDGE)) + list(range(n - EDGE, n))
    widths = [max(units(str(cell(row[c]))) for row in m) + COLUMN_GAP for c in shown]
    blocks: list[list[int]] = [[]]
    used = BRACKETS
    for c, w in zip(shown, widths):
        if blocks[-1] and (used + w > room or c != blocks[-1][-1] + 1):
            blocks.append([])
            used = BRACKETS
        blocks[-1].append(c)
        used += w
    return [labelled(span_text("column", b[0], b[-1]), matrix([[row[c] for c in b] for row in m], cell))[0]
            for b in blocks]


def matrix_lines(lhs: str, m: list, digits: int, tail: str = "") -> list[Latex]:
    """`lhs = M` on one line, or, for a matrix wider than a line, its columns in blocks, a line each (labelled)."""
    rel, cell = relation(m, digits)
    lines = [Latex(lhs + rel + b) for b in column_blocks(m, cell, LINE - units(lhs) * 0.8 - 2)]
    lines[-1] = Latex(lines[-1] + tail)
    return lines


def named_lines(name: str, value: Any, word: str, digits: int, tail: str = "") -> list[Latex]:
    """`name = M`, or `name = M₀ M₁ …` with each channel labelled, as many per line as fit."""
    if I.depth(value) < 3:
        return matrix_lines(name, value, digits, tail)
    rel, cell = relation(value, digits)
    return stack_lines(name + rel, value, word, cell, tail)


# ---- a long answer as a block of rows ------------------------------------------------------------------

def block(entries: list[tuple[str, Any]], word: str, digits: int) -> Latex:
    """Named values as the rows of one array after a brace, one per row; past BLOCK_ROWS rows the middle ones elided."""
    groups = [named_lines(name, v, word, digits) for name, v in entries]
    heights = [sum(matrix_rows(line) + 0.5 for line in g) for g in groups]
    if sum(heights) > BLOCK_ROWS and len(groups) > 2:
        keep = max(1, int(BLOCK_ROWS // max(heights)))
        head, tail = (keep + 1) // 2, keep // 2
        if head + tail < len(groups):
            groups = groups[:head] + [[Latex(r"\vdots")]] + (groups[-tail:] if tail else [])
    body = rows_apart([line for g in groups for line in g])
    return Latex(r"\left\{\begin{array}{@{}l@{}}" + body + r"\end{array}\right.")


def rows_apart(lines: list[str]) -> str:
    r"""Lines as the rows of an array, each `\\[…]` deep enough to clear its matrix (a tall row absorbs a plain one)."""
    return "".join(line + (r" \\[%.1fpt] " % (8.2 * matrix_rows(line) + 2) if k < len(lines) - 1 else "")
                   for k, line in enumerate(lines))


def wide(stack: list, cell: Cell = tex) -> bool:
    """True when a list of matrices does not fit one line side by side."""
    return sum(matrix_units(matrix(m, cell)) + SEPARATOR for m in stack) > LINE - 6


def answer_display(value: Any, name: Callable[[int], str], word: str, digits: int) -> Latex | None:
    """The answers box's rows for a matrix or a list of matrices too wide for one line (an Approx if in decimals)."""
    if I.depth(value) == 2:
        rel, cell = relation(value, digits)
        blocks = column_blocks(value, cell, LINE - 16)
        if len(blocks) == 1:
            return None
        shown = Latex(r"\begin{array}{@{}l@{}}" + rows_apart(blocks) + r"\end{array}")
        return Approx(shown) if "approx" in rel else shown
    if I.depth(value) < 2:
        return None
    flat_mats = [m for v in value for m in (v if I.depth(v) == 3 else [v])]
    if not wide(flat_mats):
        return None
    return block([(name(k), v) for k, v in enumerate(value)], word, digits)


# ---- the question sheet: stacks as written ---------------------------------------------------------------

def _aligned(raw: Any, value: Any) -> Any:
    """The spec's own text of each number where the raw value has the value's shape (else None)."""
    if isinstance(value, list):
        raws = raw if isinstance(raw, list) and len(raw) == len(value) else [None] * len(value)
        return [_aligned(r, v) for r, v in zip(raws, value)]
    return raw if not isinstance(raw, (list, dict)) else None


def _as_written(m: list, raw: list) -> Latex:
    """A matrix with every entry as the spec wrote it, never elided."""
    cells = [[Latex(written(v, r)) for v, r in zip(row, raw_row)] for row, raw_row in zip(m, raw)]
    return matrix(cells, lambda c: c, elide=False)


def _small(m: list) -> bool:
    """True when a matrix may be shown as a matrix on the sheet (not as rows of text), if it fits the line."""
    return len(m) <= MATRIX_ROWS and len(m[0]) <= 2 * MATRIX_COLUMNS


def _as_text(label: str, value: list, raw: list, word: str) -> list[tuple[str, Any]]:
    """The sheet's rows of text for each matrix of a stack (too large to be set as matrices)."""
    if len(value) == 1:
        return given_entries(label, value[0], raw[0])
    return [e for k, (m, r) in enumerate(zip(value, raw)) for e in given_entries(f"{label}, {word} {k}", m, r)]


def sheet_stack(label: str, value: list, raw: Any, word: str) -> list[tuple[str, Any]]:
    """The sheet's lines for a stack of matrices: labelled matrices side by side as fit, or rows of text."""
    raw = _aligned(raw, value)
    if I.depth(value) == 2:
        value, raw = [value], [raw]
    if not all(_small(m) for m in value):
        return _as_text(label, value, raw, word)
    mats = [_as_written(m, r) for m, r in zip(value, raw)]
    if any(matrix_units(m) > LINE for m in mats):
        return _as_text(label, value, raw, word)
    if len(mats) == 1:
        return [(label, mats[0])]
    groups = pack([labelled(f"{word} {k}", m) for k, m in enumerate(mats)], LINE - units(label) - 4)
    if len(groups) == 1:
        return [(label, Latex(r"\quad ".join(groups[0])))]
    out, first = [], 0
    for g in groups:
        last = first + len(g) - 1
        shown = mats[first] if first == last else Latex(r"\quad ".join(g))   # one per line: its label says which
        out.append((f"{label}, {span_text(word, first, last)}", shown))
        first = last + 1
    return out


def filter_sheet(label: str, filters: list, raw: Any) -> list[tuple[str, Any]]:
    """Every filter of a conv problem, one per line (its channels side by side, labelled)."""
    raws = raw if isinstance(raw, list) and len(raw) == len(filters) else [None] * len(filters)
    return [e for n, (f, r) in enumerate(zip(filters, raws))
            for e in sheet_stack(f"{label}[{n}]", f, r, "channel")]


def sheet_given(base: list[tuple[str, Any]], stacks: dict[str, Callable[[], list]]) -> list[tuple[str, Any]]:
    """The base sheet's lines with each stack field's own lines (`stacks[field]()`) in its place, in field order."""
    out, done = [], set()
    for label, value in base:
        field = label.split("[")[0].split(",")[0]
        if field not in stacks:
            out.append((label, value))
        elif field not in done:
            done.add(field)
            out += stacks[field]()
    return out
