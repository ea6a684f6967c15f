"""pool's geometry and exact arithmetic: window size, stride, padding, the output size (floor or PyTorch's ceil
rule), the cells of each window, the max (first in reading order) or the average (padded zeros counted, the window
clipped to the padded input), and the backward pass that routes or shares the upstream gradient."""
from __future__ import annotations

from typing import Any

import sympy

from ..problem import Problem
from . import _images as I
from ._geometry import out_size

Cell = tuple[int, int, bool]        # (row, col) in the input's coordinates (negative in the padding), real or padding


def size(p: Problem) -> tuple[int, int]:
    """(window rows, window columns)."""
    return I.as_pair(p.fields.size)


def stride(p: Problem) -> tuple[int, int]:
    """The stride, defaulting to the window size (as PyTorch)."""
    return I.as_pair(p.fields.stride if p.fields.stride is not None else p.fields.size)


def padding(p: Problem) -> tuple[int, int]:
    """(rows, columns) of padding on each side."""
    return I.as_pair(p.fields.padding)


def isize(p: Problem) -> tuple[int, int]:
    """(image rows, image columns)."""
    first = I.channels(p.fields.image)[0]
    return len(first), len(first[0])


def output_size(p: Problem) -> tuple[int, int]:
    """(output rows, output columns): floor, or PyTorch's ceil rule with ceil_mode."""
    (h, w), (kh, kw), (sr, sc), (ph, pw) = isize(p), size(p), stride(p), padding(p)
    ceil = bool(p.fields.ceil_mode)
    return out_size(h, kh, sr, 2 * ph, ceil_mode=ceil), out_size(w, kw, sc, 2 * pw, ceil_mode=ceil)


def plain(p: Problem) -> bool:
    """True for pooling without padding or ceil_mode (the original kind, worded as before)."""
    return padding(p) == (0, 0) and not p.fields.ceil_mode


def window(p: Problem, i: int, j: int) -> list[Cell]:
    """The cells of output (i, j)'s window that lie inside the padded input, in reading order."""
    (h, w), (kh, kw), (sr, sc), (ph, pw) = isize(p), size(p), stride(p), padding(p)
    r0, c0 = i * sr - ph, j * sc - pw
    return [(r, c, 0 <= r < h and 0 <= c < w) for r in range(r0, min(r0 + kh, h + ph))
            for c in range(c0, min(c0 + kw, w + pw))]


def real(cells: list[Cell]) -> list[tuple[int, int]]:
    """The cells of a window inside the image itself."""
    return [(r, c) for r, c, inside in cells if inside]


def pool(ch: list, p: Problem, include_pad: bool = True) -> tuple[list[list], list[list]]:
    """The pooled matrix and, for max, the (row, col) of each maximum (the first in reading order on a tie)."""
    oh, ow = output_size(p)
    values, where = [], []
    for i in range(oh):
        vrow, wrow = [], []
        for j in range(ow):
            cells = window(p, i, j)
            inside = real(cells)
            if p.fields.mode == "max":
                best = max(inside, key=lambda rc: ch[rc[0]][rc[1]])     # max() keeps the first of equal values
                vrow.append(ch[best[0]][best[1]])
                wrow.append(best)
            else:
                count = len(cells) if include_pad else len(inside)
                vrow.append(sympy.Add(*[ch[r][c] for r, c in inside]) / count)
                wrow.append(None)
        values.append(vrow)
        where.append(wrow)
    return values, where


def upstream_list(p: Problem) -> list:
    """G = ∂L/∂Y, one matrix per channel."""
    return [p.fields.upstream] if I.is_bare(p.fields.image) else list(p.fields.upstream)


def backward(ch: list, g: list[list], p: Problem, route: str = "", include_pad: bool = True) -> list[list]:
    """∂L/∂X of one channel. route: `first` (max: to the first maximum), `ties` (to every maximum), `share`
    (g/count to each cell, padding's share dropped), `copy` (g to each cell); by default the mode's own rule."""
    route = route or ("first" if p.fields.mode == "max" else "share")
    (h, w), (oh, ow) = isize(p), output_size(p)
    grad = [[sympy.Integer(0)] * w for _ in range(h)]
    for i in range(oh):
        for j in range(ow):
            cells = window(p, i, j)
            for (r, c), share in _shares(ch, cells, g[i][j], route, include_pad):
                grad[r][c] += share
    return grad


def _shares(ch: list, cells: list[Cell], g: Any, route: str, include_pad: bool) -> list[tuple[tuple[int, int], Any]]:
    """Which image cells receive what of one upstream entry g."""
    inside = real(cells)
    if route in ("first", "ties"):
        top = max(ch[r][c] for r, c in inside)
        maxima = [rc for rc in inside if ch[rc[0]][rc[1]] == top]
        return [(rc, g) for rc in (maxima[:1] if route == "first" else maxima)]
    if route == "copy":
        return [(rc, g) for rc in inside]
    count = len(cells) if include_pad else len(inside)
    return [(rc, g / count) for rc in inside]


def has_ties(ch: list, p: Problem) -> bool:
    """True when some window's maximum appears more than once."""
    oh, ow = output_size(p)
    for i in range(oh):
        for j in range(ow):
            inside = real(window(p, i, j))
            values = [ch[r][c] for r, c in inside]
            if values.count(max(values)) > 1:
                return True
    return False


def touches_padding(p: Problem) -> bool:
    """True when some window holds padded cells (so counting them or not changes an average)."""
    oh, ow = output_size(p)
    return any(not inside for i in range(oh) for j in range(ow) for _, _, inside in window(p, i, j))
