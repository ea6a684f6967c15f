"""The computational graph of a dense network as a TikZ figure, left to right, as micrograd's draw_dot.

Value nodes (boxes) carry a name and shape; operation nodes (circles) join them; parameters and targets
enter their operation from above. One small sample shows its numbers inside the nodes; a batch names its
values in the nodes and tabulates each node's forward value and gradient beside the figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..latex import Latex, decimal, is_plain, tex
from . import _dense_exact as E
from . import _dense_fit as F

ROW_WIDTH = 16.8     # cm of one row of the figure before it wraps to the next
VALUE_W, OP_W, GAP = 1.1, 0.62, 0.3
ROW_PITCH = 3.1
NARROW_OPS = {r"$\times$", "$+$", r"$\sigma$", "CE"}
TABLE_ROWS_OF = 4    # rows of a value small enough to tabulate, …
TABLE_COLUMNS = 8    # … its columns (a vector's entries) …
TABLE_ENTRIES = 16   # … and its numbers
TABLE_ROWS = 7       # nodes per table (the tables stand one below the other, so a page may break between them)
TABLE_WIDTH = 330.0  # pt left for the value and gradient columns side by side


@dataclass
class Val:
    """A value node: name (LaTeX), shape, exact value and gradient (None: not needed)."""

    key: str
    name: str
    value: Any
    grad: Any = None
    role: str = "value"          # value, param (trained), data (inputs, targets), loss


@dataclass
class Op:
    """An operation node."""

    key: str
    label: str


def _shape(x: Any) -> tuple[int, ...]:
    """The shape of nested lists."""
    dims = []
    while isinstance(x, list):
        dims.append(len(x))
        x = x[0] if x else None
    return tuple(dims)


def _shape_tex(x: Any) -> str:
    """`2 \\times 3` (1 for a number)."""
    dims = _shape(x)
    return r"\times ".join(str(d) for d in dims) if dims else "1"


def _cell(v: Any, d: int) -> str:
    """One number: exact when plain, else its decimal."""
    v = E.sym(v)
    return tex(v) if is_plain(v) else decimal(v, d)


def small(x: Any, d: int) -> str:
    """A value as a compact matrix of decimals (exact where plain)."""
    if x is None:
        return "—"
    if not isinstance(x, list):
        return f"${_cell(x, d)}$"
    rows = x if isinstance(x[0], list) else [x]
    body = r" \\ ".join(" & ".join(_cell(v, d) for v in row) for row in rows)
    return rf"$\left[\begin{{smallmatrix}}{body}\end{{smallmatrix}}\right]$"


def _fits_table(x: Any) -> bool:
    """Small enough to write in the table."""
    if x is None:
        return True
    dims = _shape(x)
    rows, columns = (dims[0], dims[-1]) if len(dims) == 2 else (1, dims[0] if dims else 1)
    return rows <= TABLE_ROWS_OF and columns <= TABLE_COLUMNS and len(flat(x)) <= TABLE_ENTRIES


def _inline(nodes: list[Val]) -> bool:
    """True when every value is tiny (≤ 2 numbers): the numbers go inside the nodes."""
    return all(len(flat(n.value)) <= 2 and len(flat(n.grad)) <= 2 for n in nodes)


def flat(x: Any) -> list:
    """The numbers of a nested value (None left out)."""
    if isinstance(x, list):
        return [v for item in x for v in flat(item)]
    return [] if x is None else [x]


STYLES = (r"val/.style={draw=blue!55!black, fill=blue!5, rounded corners=2pt, align=center, minimum width=%(vw)scm,"
          r" minimum height=0.8cm, inner sep=2pt, font=\small},"
          r"param/.style={val, draw=green!45!black, fill=green!7},"
          r"data/.style={val, draw=black!60, fill=black!4},"
          r"loss/.style={val, draw=red!55!black, fill=red!6},"
          r"op/.style={draw=orange!70!black, fill=orange!15, circle, minimum size=%(ow)scm, inner sep=1pt,"
          r" font=\footnotesize},"
          r"edge/.style={-{Stealth[length=4pt]}, semithick, draw=black!70},"
          r"wire/.style={semithick, draw=black!70, line cap=round},"
          r"corner/.style={inner sep=0pt, minimum size=0pt}")


def _label(node: Val, inline: bool, d: int) -> str:
    """A value node's text: its name, then its numbers or its shape."""
    head = f"${node.name}$"
    if inline:
        grad = "" if node.grad is None else r"\\{\scriptsize grad " + small(node.grad, d) + "}"
        return head + r"\\{\scriptsize " + small(node.value, d) + "}" + grad
    return head + r"\\{\scriptsize $" + _shape_tex(node.value) + "$}"


def figure(chain: list, side: dict[str, Val], digits: int) -> Latex:
    """The TikZ picture of the graph, then (for anything but tiny values) the table of values and gradients."""
    values = [n for n in chain if isinstance(n, Val)] + list(side.values())
    inline = _inline(values)
    vw = VALUE_W + (0.5 if inline else 0)
    pos = _place(chain, vw)
    lines = [r"\begin{tikzpicture}[" + STYLES % {"vw": f"{vw:g}", "ow": f"{OP_W:g}"} + "]"]
    for node in chain:
        px, py = pos[node.key]
        if isinstance(node, Val):
            lines.append(rf"\node[{node.role if node.role != 'value' else 'val'}] ({node.key}) at ({px:.2f},{py:.2f}) "
                         f"{{{_label(node, inline, digits)}}};")
        else:
            lines.append(rf"\node[op] ({node.key}) at ({px:.2f},{py:.2f}) {{{node.label}}};")
    for op_key, node in side.items():
        px, py = pos[op_key]
        lines.append(rf"\node[{node.role}] ({node.key}) at ({px:.2f},{py + 1.45:.2f}) "
                     f"{{{_label(node, inline, digits)}}};")
        lines.append(rf"\draw[edge] ({node.key}) -- ({op_key});")
    for a, b in zip(chain, chain[1:]):
        if pos[a.key][1] == pos[b.key][1]:
            lines.append(rf"\draw[edge] ({a.key}) -- ({b.key});")
        else:
            lines += _wrap(a, b, pos, vw)
    lines.append(r"\end{tikzpicture}")
    out = _fit("\n".join(lines))
    listed = [n for n in values if _fits_table(n.value) and _fits_table(n.grad)]
    if not inline and listed:
        out += "\n\\par\\medskip\n" + table(listed, digits)
    return Latex(out)


def untabulated(chain: list, side: dict[str, Val]) -> list[Val]:
    """The value nodes too big for the table (their values and gradients are in the steps)."""
    values = [n for n in chain if isinstance(n, Val)] + list(side.values())
    return [] if _inline(values) else [n for n in values if not (_fits_table(n.value) and _fits_table(n.grad))]


def _wrap(a: Val | Op, b: Val | Op, pos: dict[str, tuple[float, float]], vw: float) -> list[str]:
    """The edge from the end of one row to the start of the next, through corner nodes (the HTML export reads it)."""
    (ax, ay), (bx, by) = pos[a.key], pos[b.key]
    drop, left = ay - 0.4 - 0.75, bx - _width(b, vw) / 2 - 0.3
    corners = [(f"{a.key}to{b.key}{i}", x, y) for i, (x, y) in enumerate(((ax, drop), (left, drop), (left, by)))]
    out = [rf"\node[corner] ({name}) at ({x:.2f},{y:.2f}) {{}};" for name, x, y in corners]
    ends = [f"{a.key}.south"] + [name for name, _, _ in corners]
    out += [rf"\draw[wire] ({p}) -- ({q});" for p, q in zip(ends, ends[1:])]
    return out + [rf"\draw[edge] ({ends[-1]}) -- ({b.key}.west);"]


def _place(chain: list, vw: float) -> dict[str, tuple[float, float]]:
    """Centres of the chain's nodes, left to right; rows wrap only when one row would be far too wide."""
    total = sum(_width(n, vw) for n in chain) + GAP * (len(chain) - 1)
    limit = ROW_WIDTH if total > 1.25 * ROW_WIDTH else total + 1
    pos, x, y, prev_w = {}, 0.0, 0.0, None
    for node in chain:
        w = _width(node, vw)
        if prev_w is not None:
            step = prev_w / 2 + GAP + w / 2
            if x + step + w / 2 > limit:
                x, y = 0.0, y - ROW_PITCH
            else:
                x += step
        pos[node.key] = (x, y)
        prev_w = w
    return pos


def _width(node: Val | Op, vw: float) -> float:
    """The room a node takes on its row (a name such as `Z = Ŷ` is wider)."""
    if isinstance(node, Op):
        return OP_W if node.label in NARROW_OPS else OP_W + 0.35
    return vw + (0.55 if "=" in node.name else 0)


def _fit(body: str) -> str:
    """Scale a block down to the line width only when it is wider."""
    return (r"\ifdefined\derivegraphbox\else\newsavebox{\derivegraphbox}\fi"
            r"\sbox{\derivegraphbox}{" + body + "}%\n"
            r"\ifdim\wd\derivegraphbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\derivegraphbox}}"
            r"\else\usebox{\derivegraphbox}\fi")


def _cells(n: Val, digits: int) -> tuple[str, str]:
    """A node's value and gradient for the table."""
    return small(n.value, digits), small(n.grad, digits)


def _cell_width(cell: str) -> float:
    """The width of a table cell in points (a smallmatrix is about 70 % of its displayed bmatrix)."""
    return 0.7 * F.width(cell.replace("smallmatrix", "bmatrix").strip("$")) if "$" in cell else 4.5 * len(cell)


SPACER = r"\\ \\[-6pt]"   # a row's end and an empty row: a gap even below a tall matrix (\\[7pt] adds none there)
HEAD = r"\renewcommand{\arraystretch}{1.3}\begin{tabular}[t]{@{}l c c c@{}}"


GRAD = r"$\partial\mathcal{L}/\partial(\cdot)$"
HEADS = {True: rf"node & shape & value & {GRAD} \\", False: rf"node & shape & & value, then {GRAD} \\"}


def _rows(n: Val, val: str, grad: str, side: bool) -> list[str]:
    """One node's rows: value and gradient side by side, or the gradient on a row below the value."""
    head = rf"${n.name}$ & ${_shape_tex(n.value)}$ & "
    if side:
        return [head + rf"{val} & {grad} \\[7pt]"]
    return [head + f"value & {val} {SPACER}", f" & & {GRAD} & {grad} {SPACER}"]


def table(nodes: list[Val], digits: int) -> str:
    """node | shape | value | gradient: TABLE_ROWS nodes a table, one below the other, each fitting the line."""
    cells = [_cells(n, digits) for n in nodes]
    side = max(_cell_width(v) + _cell_width(g) for v, g in cells) <= TABLE_WIDTH
    blocks = []
    for start in range(0, len(nodes), TABLE_ROWS):
        rows = [HEAD, r"\toprule", HEADS[side], r"\midrule"]
        for n, (val, grad) in zip(nodes[start:start + TABLE_ROWS], cells[start:start + TABLE_ROWS]):
            rows += _rows(n, val, grad, side)
        rows += [r"\bottomrule", r"\end{tabular}"]
        blocks.append(_fit("\n".join(rows)))
    return "\n\\par\\medskip\n".join(blocks)


def zero_positions(z: list[list]) -> list[tuple[int, int]]:
    """(sample, unit) where a pre-activation is exactly 0."""
    return [(n, j) for n, row in enumerate(z) for j, v in enumerate(row) if E.sign(v) == 0]


def as_sym(x: Any) -> Any:
    """Values as SymPy for display."""
    return E.to_sympy(x) if x is not None else None

