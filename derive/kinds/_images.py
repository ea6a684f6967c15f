"""Helpers shared by the image kinds (conv2d, pool, dropout): channel stacks, pair fields, sizes, grid figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from .. import fields as F
from ..latex import Latex, decimal, decimal_text, is_long, is_plain, terminating, tex
from ..values import as_sympy

Matrix = list[list[Any]]


# ---- fields ------------------------------------------------------------------------------------

def depth(value: Any) -> int:
    """How deeply the first items nest: 1 for a vector, 2 for a matrix, 3 for a list of matrices."""
    levels = 0
    while isinstance(value, list) and value:
        levels += 1
        value = value[0]
    return levels


def stack(value: Any, ctx: F.Ctx) -> list:
    """A matrix (one channel) or a list of channel matrices of one size ([channel][row][col])."""
    if depth(value) < 3:
        return F.matrix(value, ctx)
    if len(value) > ctx.limits.matrix_side:
        raise ctx.error(f"{len(value)} channels is more than the limit of {ctx.limits.matrix_side} "
                        "(limit 'matrix_side')")
    mats = [F.matrix(m, ctx.child(i)) for i, m in enumerate(value)]
    first = F.shape(mats[0])
    for i, m in enumerate(mats):
        if F.shape(m) != first:
            raise ctx.child(i).error(f"channel {i} is {F.shape_text(F.shape(m))}, channel 0 is "
                                     f"{F.shape_text(first)}: all channels must have the same size")
    return mats


def channels(x: list) -> list[Matrix]:
    """A parsed stack as a list of channel matrices (a bare matrix is one channel)."""
    return x if depth(x) >= 3 else [x]


def is_bare(x: list) -> bool:
    """True when the stack was given as one matrix."""
    return depth(x) < 3


def pair(item: Any) -> Callable[[Any, F.Ctx], int | list[int]]:
    """A parser for `n` or `[rows, cols]`: kept as written (an int, or a list of two); read with `as_pair`."""
    def parse(value: Any, ctx: F.Ctx) -> int | list[int]:
        """One item, or a pair of them."""
        if isinstance(value, (list, tuple)):
            if len(value) != 2 or any(isinstance(v, list) for v in value):
                raise ctx.error("expected one whole number or two, [rows, cols]")
            return [item(value[0], ctx.child(0)), item(value[1], ctx.child(1))]
        return item(value, ctx)
    parse.__doc__ = "one whole number, or [rows, cols]"
    return parse


def as_pair(value: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    """(rows, cols) from `n` or `[rows, cols]`."""
    return (value[0], value[1]) if isinstance(value, (list, tuple)) else (value, value)


def pair_text(p: int | list[int] | tuple[int, int]) -> str:
    """`2` for (2, 2), `[2, 1]` otherwise."""
    a, b = as_pair(p)
    return str(a) if a == b else f"[{a}, {b}]"


def step_text(p: int | list[int] | tuple[int, int]) -> str:
    """`2 at a time` for (2, 2), `2 rows down and 3 columns across` otherwise."""
    a, b = as_pair(p)
    if a == b:
        return f"{a} at a time"
    return f"{a} row{'s' if a != 1 else ''} down and {b} column{'s' if b != 1 else ''} across"


def size_text(rows: int, cols: int) -> str:
    """`3×3`."""
    return f"{rows}×{cols}"


def value_text(x: Any) -> str:
    """A number for prose: 30, 2.5, 1/3, −0.5 (a true minus sign); a long rational as ≈ its decimal (SPEC §15)."""
    x = as_sympy(x)
    if is_long(x):
        text = "≈ " + decimal_text(x, 4)
    elif isinstance(x, sympy.Rational):
        text = terminating(x) if is_plain(x) else str(x)
    else:
        text = f"{float(x):.4g}"
    return text.replace("-", "−")


# ---- exact arithmetic ----------------------------------------------------------------------------

def common_denominator(values: list) -> int:
    """The least common multiple of the denominators of exact rationals."""
    d = 1
    for v in values:
        q = int(sympy.Rational(v).q)
        d = d * q // sympy.igcd(d, q) if d % q else d
    return d


def flat(x: Any) -> list:
    """All numbers of a nested list, row-major."""
    if isinstance(x, list):
        return [v for item in x for v in flat(item)]
    return [x]


# ---- long sums on display lines ---------------------------------------------------------------------

LINE_UNITS = 96         # rough width of a display line, in digit widths


def plain_text(v: Any) -> str:
    """A number's LaTeX with the markup removed (to estimate its width)."""
    return str(tex(v)).replace(r"\frac", "").replace("{", "").replace("}", "")


def product_width(terms: list[tuple]) -> float:
    """A rough width of `(a·k + …)` in digit widths."""
    return sum(len(plain_text(a)) + len(plain_text(k)) + 2.3 + (2 if k < 0 else 0) + (2 if a < 0 else 0)
               for a, k in terms) + 3.3 * (len(terms) - 1) + 2


def paren(v: Any) -> str:
    """A factor, parenthesized when negative."""
    return f"({tex(v)})" if v < 0 else str(tex(v))


def signed(v: Any, first: bool) -> str:
    """`+ 10`, `- 10` (the first without a plus)."""
    if first:
        return str(tex(v))
    return f"- {tex(-v)}" if v < 0 else f"+ {tex(v)}"


def wrap(head: str, pieces: list[str], widths: list[float], joiner: str = " + ",
         cont: str = r"\quad + ", head_width: float | None = None) -> list[Latex]:
    """Pack pieces into display lines of about LINE_UNITS digit widths (continuation lines start with `cont`)."""
    lines, current, used = [], head, len(head) * 0.8 if head_width is None else head_width
    for n, (piece, w) in enumerate(zip(pieces, widths)):
        if n and used + w > LINE_UNITS:
            lines.append(Latex(current))
            current, used = cont, 4.0
            piece_join = ""
        else:
            piece_join = joiner if n else ""
        current += piece_join + piece
        used += w + (3.3 if piece_join else 0)
    lines.append(Latex(current))
    return lines


# ---- figures -------------------------------------------------------------------------------------

PALETTE = ("blue!18", "orange!35", "green!22", "red!18")
HIGHLIGHT = "orange!40"
PAD_FILL = "black!8"
MAX_WIDTH_CM = 15.0


@dataclass
class Grid:
    """A matrix drawn as cells: a label above, fills and thick borders on chosen cells."""

    label: str                                   # LaTeX math for the label (trusted: made by the kind)
    values: Matrix
    fills: dict[tuple[int, int], str] = field(default_factory=dict)
    marks: set[tuple[int, int]] = field(default_factory=set)
    faint: set[tuple[int, int]] = field(default_factory=set)   # drawn gray (padding)
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)   # (row0, col0, rows, cols) outlined


def cell_text(v: Any) -> str:
    """The LaTeX of one cell: exact when short, else its decimal (4 significant digits); a Latex cell (−∞) as is."""
    if isinstance(v, Latex):
        return str(v)
    if isinstance(v, (int, sympy.Rational)) and is_plain(v):
        return str(tex(v))
    return str(decimal(v, 4))


def _visible_len(text: str) -> float:
    """A rough width in digits of a cell's LaTeX (commands count as one glyph)."""
    import re
    text = text.replace(r"\infty", "XX")        # ∞ is about two digits wide
    if r"\frac" in text:
        return max(len(re.sub(r"\\[a-z]+|[{}]", "", part)) for part in text.split("}{")) * 0.75 + 0.5
    return len(re.sub(r"\\[A-Za-z]+", "X", text).replace("{", "").replace("}", ""))


@dataclass
class Layout:
    """Grids and operator symbols placed left to right, each row of grids a band."""

    rows: list[list[Any]]            # each row: a sequence of Grid or str (math operator, e.g. r"\star")
    right: list[Any] = field(default_factory=list)   # items after the rows, vertically centred (e.g. "=", Y)


def figure(layout: Layout) -> Latex | None:
    """A TikZ picture of the layout, sized to fit the page width; None when it cannot fit legibly."""
    for font, digit, side in ((r"\small", 0.19, 0.5), (r"\footnotesize", 0.16, 0.42), (r"\scriptsize", 0.13, 0.42)):
        cw = _cell_width(digit, side)
        gap = 0.75
        if _width(layout, cw, gap) <= MAX_WIDTH_CM:
            return _draw(layout, font, cw, side, gap)
    return None


def _cell_width(digit: float, least: float) -> Callable[[Grid], float]:
    """The cell width of each grid (cm), from its widest number."""
    def width(grid: Grid) -> float:
        """This grid's cell width (cm)."""
        longest = max(_visible_len(cell_text(v)) for r in grid.values for v in r)
        return max(least, digit * longest + 0.22)
    return width


def _item_width(item: Any, cw, gap: float) -> float:
    """The width of one grid or operator (cm)."""
    return len(item.values[0]) * cw(item) if isinstance(item, Grid) else gap


def _width(layout: Layout, cw, gap: float) -> float:
    """The layout's total width (cm)."""
    left = max(sum(_item_width(i, cw, gap) + 0.3 for i in row) for row in layout.rows)
    return left + sum(_item_width(i, cw, gap) + 0.3 for i in layout.right)


def _height(row: list, ch: float) -> float:
    """The height of one band of grids (cm)."""
    return max((len(i.values) * ch + 0.6 for i in row if isinstance(i, Grid)), default=ch)


def _draw(layout: Layout, font: str, cw, ch: float, gap: float) -> Latex:
    """Emit the TikZ commands (coordinates in cm, y growing downwards as rows do)."""
    out = [r"\begin{tikzpicture}[x=1cm,y=-1cm,font=" + font + "]"]
    heights = [_height(row, ch) for row in layout.rows]
    total = sum(heights) + 0.3 * (len(heights) - 1)
    y = 0.0
    right_x = 0.0
    for row, h in zip(layout.rows, heights):
        x = 0.0
        for item in row:
            x = _place(out, item, x, y + h / 2, cw, ch, gap)
        right_x = max(right_x, x)
        y += h + 0.3
    x = right_x
    for item in layout.right:
        x = _place(out, item, x, total / 2, cw, ch, gap)
    out.append(r"\end{tikzpicture}")
    return Latex("\n".join(out))


def _place(out: list[str], item: Any, x: float, mid: float, width, ch: float, gap: float) -> float:
    """Draw one grid or operator with its vertical centre at `mid`; return the next free x."""
    if not isinstance(item, Grid):
        out.append(rf"\node at ({x + gap / 2:.3f},{mid + 0.15:.3f}) {{${item}$}};")
        return x + gap + 0.3
    cw = width(item)
    rows, cols = len(item.values), len(item.values[0])
    top = mid - rows * ch / 2 + 0.15
    out.append(rf"\node[anchor=south] at ({x + cols * cw / 2:.3f},{top - 0.05:.3f}) {{${item.label}$}};")
    for r, row in enumerate(item.values):
        for c, v in enumerate(row):
            x0, y0 = x + c * cw, top + r * ch
            fill = item.fills.get((r, c), PAD_FILL if (r, c) in item.faint else None)
            if fill:
                out.append(rf"\fill[{fill}] ({x0:.3f},{y0:.3f}) rectangle ({x0 + cw:.3f},{y0 + ch:.3f});")
            out.append(rf"\draw[black!45] ({x0:.3f},{y0:.3f}) rectangle ({x0 + cw:.3f},{y0 + ch:.3f});")
            color = "[black!55]" if (r, c) in item.faint else ""
            out.append(rf"\node{color} at ({x0 + cw / 2:.3f},{y0 + ch / 2:.3f}) {{${cell_text(v)}$}};")
    for r, c in sorted(item.marks):
        x0, y0 = x + c * cw, top + r * ch
        out.append(rf"\draw[very thick] ({x0:.3f},{y0:.3f}) rectangle ({x0 + cw:.3f},{y0 + ch:.3f});")
    for r, c, h, w in item.boxes:
        x0, y0 = x + c * cw, top + r * ch
        out.append(rf"\draw[very thick] ({x0:.3f},{y0:.3f}) rectangle ({x0 + w * cw:.3f},{y0 + h * ch:.3f});")
    return x + cols * cw + 0.3

