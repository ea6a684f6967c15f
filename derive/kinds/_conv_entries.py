"""conv2d's worked entries, with their numbers (decimals as given): each product of kernel and window written out,
grouped by kernel row; a large filter channel by channel, one entry in full and the others by their channel sums."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Approx, Latex, tex
from ..problem import Problem
from ..solution import Solution
from . import _conv_core as C
from . import _images as I

SMALL_OUTPUT = 16       # entries per filter worked out row by row; larger outputs get representative entries
FIRST_ROW = 4           # entries of the first output row worked in full
SHOWN_FILTERS = 3       # filters whose entries are worked
GROUPED_LINES = 3       # an entry whose products take more lines is worked channel by channel (one in full)


def worked_cells(p: Problem, oh: int, ow: int, focus: tuple[int, int]) -> list[tuple[int, int]]:
    """The entries of filter 0 written out: the first row when small, else a few representative ones."""
    if oh * ow <= SMALL_OUTPUT:
        cells = [(0, j) for j in range(min(ow, FIRST_ROW))]
    else:
        cells = [(0, 0), (oh - 1, ow - 1)]
    if focus not in cells:
        cells.insert(len(cells) if oh * ow <= SMALL_OUTPUT else 1, focus)
    return cells


def _seen(p: Problem, x: list, n: int) -> list:
    """The (padded) channels filter n sees: those of its group."""
    return [x[c] for c in C.group_channels(p, n)]


def entry_steps(s: Solution, p: Problem, x: list, filters: list, responses: list, focus: tuple[int, int]) -> None:
    """Element-wise products and their sums for chosen entries."""
    oh, ow = len(responses[0]), len(responses[0][0])
    big = _long(p, _seen(p, x, 0), filters[0])
    full = focus if big else None
    lines, cells = [], worked_cells(p, oh, ow, focus)
    if big:                                   # the entry written in full first: it says what the sums are
        cells = [focus] + [c for c in cells if c != focus]
    for i, j in cells:
        lines += _lines(p, _seen(p, x, 0), filters[0], i, j, responses[0][i][j], _tag(p, 0), full in (None, (i, j)))
    for n in range(1, min(len(filters), SHOWN_FILTERS)):
        lines += _lines(p, _seen(p, x, n), filters[n], 0, 0, responses[n][0][0], _tag(p, n), not big)
    every = oh * ow * len(filters)
    shown = len(worked_cells(p, oh, ow, focus)) + min(len(filters), SHOWN_FILTERS) - 1
    rest = "" if shown >= every else " The other entries follow the same rule; all of them are in the output below."
    s.step("Worked entries", *lines, text=_text(filters[0], big, focus) + rest)


def _long(p: Problem, x: list, f: list) -> bool:
    """True when entry (0, 0)'s products, grouped by kernel row, would take more than GROUPED_LINES lines."""
    width = sum(I.product_width(terms) for c in range(len(f)) for terms in _products(p, x, f, c, 0, 0))
    return width > GROUPED_LINES * I.LINE_UNITS


def _tag(p: Problem, n: int) -> str:
    """`^{(n)}` with a list of filters, else nothing."""
    return "" if p.fields.kernels is None else f"^{{({n})}}"


def _text(f: list, big: bool, focus: tuple[int, int]) -> str:
    """What the worked entries show."""
    text = "Each entry is the sum of the element-wise products of the kernel and the window of the input it covers"
    if not big:
        return text + (", grouped by kernel row, channel after channel." if len(f) > 1 else ", grouped by kernel row.")
    if len(f) == 1:
        return text + (f". Entry ({focus[0]}, {focus[1]}) is written out in full, grouped by kernel row; the other "
                       "entries give the sum of each kernel row.")
    return text + (f", over all {len(f)} channels. Entry ({focus[0]}, {focus[1]}) of filter 0 is written out in full, "
                   "channel by channel ($s_c$ is the sum of the products of channel c); the other entries give the "
                   "sum of each channel.")


def _lhs(p: Problem, tag: str, i: int, j: int) -> str:
    """r_{i,j} (before a bias or activation) or y_{i,j}, with the filter's tag."""
    return ("r" if C.has_bias_or_act(p) else "y") + tag + f"_{{{i},{j}}}"


def _lines(p: Problem, x: list, f: list, i: int, j: int, z: Any, tag: str, full: bool) -> list[Latex]:
    """One worked entry: grouped by kernel row, channel by channel in full, or by its channel sums."""
    if not _long(p, x, f) or (full and len(f) == 1):
        return _grouped(p, x, f, i, j, z, tag)
    if full:
        return _by_channel(p, x, f, i, j, z, tag)
    return _partial_sums(p, x, f, i, j, z, tag)


def _products(p: Problem, x: list, f: list, c: int, i: int, j: int) -> list[list[tuple[Any, Any]]]:
    """(input, weight) pairs of channel c under output (i, j), one list per kernel row."""
    (sr, sc), (dr, dc) = C.strides(p), C.dilations(p)
    return [[(x[c][i * sr + dr * u][j * sc + dc * v], f[c][u][v]) for v in range(len(f[0][0]))]
            for u in range(len(f[0]))]


def _row_group(terms: list[tuple[Any, Any]]) -> tuple[str, float]:
    """`(x·k + x·k + …)` and its width."""
    return "(" + " + ".join(f"{I.paren(a)} \\cdot {I.paren(k)}" for a, k in terms) + ")", I.product_width(terms)


def _equals(v: Any) -> str:
    """` = v`, or ` ≈ v` when v is shown by its decimal."""
    shown = tex(v)
    return (r" \approx " if isinstance(shown, Approx) else " = ") + shown


def _sum_lines(head: str, values: list, head_width: float | None = None) -> list[Latex]:
    """`head v₀ + v₁ − v₂ …`, wrapped over lines that fit the page."""
    terms = [(str(I.signed(v, first=n == 0)), len(I.plain_text(v)) + 3) for n, v in enumerate(values)]
    return I.wrap(head, [t for t, _ in terms], [w for _, w in terms], joiner=" ", cont=r"\quad ",
                  head_width=head_width)


def _grouped(p: Problem, x: list, f: list, i: int, j: int, z: Any, tag: str) -> list[Latex]:
    """y_{i,j} = (x·k + …) + (…) = row sums = value: wrapped over lines that fit the page."""
    lines, sums = [], []
    for c in range(len(f)):
        groups = [_row_group(terms) for terms in _products(p, x, f, c, i, j)]
        sums += [sympy.Add(*[a * k for a, k in terms]) for terms in _products(p, x, f, c, i, j)]
        head = _lhs(p, tag, i, j) + " = " if c == 0 else r"\quad + "
        lines += I.wrap(head, [g for g, _ in groups], [w for _, w in groups])
    if len(sums) > 1:
        lines += _sum_lines("= ", sums)
    lines[-1] = Latex(lines[-1] + _equals(z))
    return lines


def _by_channel(p: Problem, x: list, f: list, i: int, j: int, z: Any, tag: str) -> list[Latex]:
    """s_c = (x·k + …) + … = value for each channel c, then y_{i,j} = s₀ + s₁ + … = value."""
    lines, sums = [], []
    for c in range(len(f)):
        rows = _products(p, x, f, c, i, j)
        groups = [_row_group(terms) for terms in rows]
        sums.append(sympy.Add(*[a * k for terms in rows for a, k in terms]))
        channel = I.wrap(f"s_{{{c}}} = ", [g for g, _ in groups], [w for _, w in groups])
        channel[-1] = Latex(channel[-1] + _equals(sums[-1]))
        lines += channel
    names = " + ".join(f"s_{{{c}}}" for c in range(len(f)))
    total = _sum_lines(f"{_lhs(p, tag, i, j)} = {names} = ", sums)
    total[-1] = Latex(total[-1] + _equals(z))
    return lines + total


def _partial_sums(p: Problem, x: list, f: list, i: int, j: int, z: Any, tag: str) -> list[Latex]:
    """y_{i,j} = Σ_c Σ(X_{c, window} ⊙ K_c) = s₀ + s₁ + … = value (one sum per channel, or per kernel row)."""
    (sr, sc), (dr, dc), kh, kw = C.strides(p), C.dilations(p), len(f[0]), len(f[0][0])
    xs = r"X^{\text{pad}}" if any(C.pads(p)) else "X"
    rows = _slice_text(i * sr, i * sr + dr * (kh - 1), dr)
    cols = _slice_text(j * sc, j * sc + dc * (kw - 1), dc)
    if len(f) > 1:
        window = rf"\sum_c \sum \left({xs}_{{c,\,{rows},\,{cols}}} \odot K{tag}_{{c}}\right)"
        sums = [sympy.Add(*[a * k for terms in _products(p, x, f, c, i, j) for a, k in terms]) for c in range(len(f))]
    else:
        window = rf"\sum \left({xs}_{{{rows},\,{cols}}} \odot K{tag}\right)"
        sums = [sympy.Add(*[a * k for a, k in terms]) for terms in _products(p, x, f, 0, i, j)]
    lines = _sum_lines(f"{_lhs(p, tag, i, j)} = {window} = ", sums, head_width=4)    # display() breaks at its =s
    lines[-1] = Latex(lines[-1] + _equals(z))
    return lines


def _slice_text(first: int, last: int, step: int) -> str:
    """`0:2`, or `0:4:2` with a step."""
    return f"{first}:{last}" + (f":{step}" if step != 1 else "")
