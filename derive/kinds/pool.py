"""Kind `pool`: max or average pooling, per channel, windows without padding (a partial window is dropped)."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind
from ..latex import Latex, chain, tex
from ..problem import Problem
from ..slipkit import Answers, Slip, Variant, setting
from ..solution import Solution
from . import _images as I
from ._geometry import out_size

SHOWN_ENTRIES = 16      # entries of channel 0 written out in full; past this, a few representative ones
SHOWN_CHANNELS = 3
LISTED_TAPS = 16        # a window with more numbers is written as a slice, not listed
FIGURE_SIDE = 16

FIELDS = F.table(
    image=F.Field(I.stack, required=True),
    size=F.Field(I.pair(F.positive_int), required=True),
    stride=F.Field(I.pair(F.positive_int)),
    mode=F.Field(F.choice("max", "avg"), "max"),
)


def _stride(p: Problem) -> tuple[int, int]:
    """The stride, defaulting to the window size (as PyTorch)."""
    return I.as_pair(p.fields.stride if p.fields.stride is not None else p.fields.size)


def _size(p: Problem) -> tuple[int, int]:
    """(window rows, window columns)."""
    return I.as_pair(p.fields.size)


def _isize(p: Problem) -> tuple[int, int]:
    first = I.channels(p.fields.image)[0]
    return len(first), len(first[0])


def _out_size(p: Problem) -> tuple[int, int]:
    (h, w), (kh, kw), (sr, sc) = _isize(p), _size(p), _stride(p)
    return out_size(h, kh, sr), out_size(w, kw, sc)


def validate(p: Problem) -> None:
    """The window must fit in the image."""
    (h, w), (kh, kw) = _isize(p), _size(p)
    if kh > h or kw > w:
        raise p.error("size", f"the {I.size_text(kh, kw)} window is larger than the {I.size_text(h, w)} image "
                              "(pooling never pads)")


def _window(ch: list, i: int, j: int, p: Problem) -> list[tuple[int, int, Any]]:
    """(row, col, value) of the window of output (i, j), row-major."""
    (kh, kw), (sr, sc) = _size(p), _stride(p)
    return [(i * sr + u, j * sc + v, ch[i * sr + u][j * sc + v]) for u in range(kh) for v in range(kw)]


def _pool(ch: list, p: Problem) -> tuple[list[list], list[list]]:
    """The pooled matrix and, for max, the (row, col) of each maximum (first in reading order on a tie)."""
    oh, ow = _out_size(p)
    values, where = [], []
    for i in range(oh):
        vrow, wrow = [], []
        for j in range(ow):
            cells = _window(ch, i, j, p)
            if p.fields.mode == "max":
                best = max(cells, key=lambda t: t[2])          # max() keeps the first of equal values
                vrow.append(best[2])
                wrow.append((best[0], best[1]))
            else:
                vrow.append(sympy.Add(*[c[2] for c in cells]) / len(cells))
                wrow.append(None)
        values.append(vrow)
        where.append(wrow)
    return values, where


def solve(p: Problem) -> Solution:
    """Sizes, each window and its max or mean (with a figure), the pooled output."""
    s = Solution(p)
    chans = I.channels(p.fields.image)
    pooled = [_pool(ch, p) for ch in chans]
    _size_step(s, p)
    _window_step(s, p, chans, pooled)
    bare = I.is_bare(p.fields.image)
    outputs = [v for v, _ in pooled]
    s.step("The output", *[chain(Latex("Y" if bare else f"Y_{{{c}}}"), y, approx_digits=p.digits)
                           for c, y in enumerate(outputs[:SHOWN_CHANNELS])],
           text="Pooling works on each channel separately, so the number of channels is unchanged."
           + (f" (Channels {SHOWN_CHANNELS} to {len(chans) - 1} are in the answer.)"
              if len(chans) > SHOWN_CHANNELS else ""))
    s.answer("output", outputs[0] if bare else outputs, symbol="Y")
    if p.fields.mode == "max":
        s.check("Every output entry is one of the numbers of its window, and no number of the window is larger.")
    return s


def _size_step(s: Solution, p: Problem) -> None:
    """⌊(n − k)/s⌋ + 1 along each axis, and what a partial window means."""
    (h, w), (kh, kw), (sr, sc) = _isize(p), _size(p), _stride(p)
    oh, ow = _out_size(p)
    axes = [("H", h, kh, sr, oh), ("W", w, kw, sc, ow)]
    if (h, kh, sr) == (w, kw, sc):
        axes = [("H = W", h, kh, sr, oh)]
    lines = []
    for name, n, k, st, o in axes:
        lhs = name.replace("H", r"H_{\text{out}}").replace("W", r"W_{\text{out}}")
        lines.append(chain(Latex(lhs + r" = \left\lfloor \frac{n - k}{s} \right\rfloor + 1"),
                           Latex(r"\left\lfloor \frac{%d - %d}{%d} \right\rfloor + 1" % (n, k, st)), o))
    mode = "maximum" if p.fields.mode == "max" else "average"
    text = (f"Each {I.size_text(kh, kw)} window is replaced by its {mode}; the window moves "
            f"{I.step_text((sr, sc))}" + (" (the stride defaults to the window size)"
                                                     if p.fields.stride is None else "") + "; pooling adds no padding.")
    left_r, left_c = h - ((oh - 1) * sr + kh), w - ((ow - 1) * sc + kw)
    if left_r or left_c:
        parts = ([f"the last {left_r} row(s)"] if left_r else []) + ([f"the last {left_c} column(s)"] if left_c else [])
        text += (" A window that would run past the edge is dropped (the floor in the formula, as PyTorch), so "
                 + " and ".join(parts) + " are not used.")
    s.step("Output size", *lines, text=text)


def _entries(oh: int, ow: int) -> list[tuple[int, int]]:
    if oh * ow <= SHOWN_ENTRIES:
        return [(i, j) for i in range(oh) for j in range(ow)]
    return [(0, 0), (0, 1), (oh - 1, ow - 1)]


def _window_step(s: Solution, p: Problem, chans: list, pooled: list) -> None:
    """Each window's numbers and its max (with its position) or mean."""
    oh, ow = _out_size(p)
    lines = []
    multi = len(chans) > 1
    for c in range(min(len(chans), SHOWN_CHANNELS)):
        cells = _entries(oh, ow) if c == 0 else [(0, 0)]
        for i, j in cells:
            lines.append(_entry_line(p, chans[c], pooled[c], i, j, f"{c}," if multi else ""))
    shown = len(_entries(oh, ow)) + min(len(chans), SHOWN_CHANNELS) - 1
    text = ("For each output entry, take its window of the input"
            + (" (channel by channel)" if multi else "") + " and "
            + ("keep the largest number; its position (row, column) in the input is shown. On a tie the first "
               "in reading order is taken, as PyTorch's max_pool2d does." if p.fields.mode == "max"
               else "average its numbers."))
    if shown < oh * ow * len(chans):
        text += " The other entries follow the same rule; all of them are in the output below."
    s.step("Pool each window", *lines, text=text, figure=_figure(p, chans[0], pooled[0]))


def _entry_line(p: Problem, ch: list, pooled: tuple, i: int, j: int, prefix: str) -> Latex:
    """y_{i,j} = max(…) = v (at (r, c)), or (… )/n = mean."""
    (kh, kw), (sr, sc) = _size(p), _stride(p)
    cells = _window(ch, i, j, p)
    lhs = Latex(f"y_{{{prefix}{i},{j}}}")
    values, where = pooled
    if len(cells) > LISTED_TAPS:
        listed = rf"X_{{{prefix}{i * sr}:{i * sr + kh - 1},\ {j * sc}:{j * sc + kw - 1}}}"
        body = Latex((r"\max " if p.fields.mode == "max" else r"\operatorname{mean} ") + listed)
    elif p.fields.mode == "max":
        body = Latex(r"\max(" + ", ".join(str(tex(v)) for _, _, v in cells) + ")")
    else:
        body = Latex(r"\frac{" + " ".join(I.signed(v, n == 0) for n, (_, _, v) in enumerate(cells))
                     + "}{%d}" % len(cells))
    line = chain(lhs, body, values[i][j], approx_digits=p.digits)
    if p.fields.mode == "max":
        r, c = where[i][j]
        line = Latex(line + rf" \quad \text{{at }} ({r}, {c})")
    return line


def _figure(p: Problem, ch: list, pooled: tuple) -> Latex | None:
    """The input with each window coloured (or the first, when windows overlap), maxima boxed; the output."""
    (h, w), (kh, kw), (sr, sc) = (len(ch), len(ch[0])), _size(p), _stride(p)
    if h > FIGURE_SIDE or w > FIGURE_SIDE:
        return None
    values, where = pooled
    oh, ow = len(values), len(values[0])
    overlap = sr < kh or sc < kw
    in_fills, out_fills, marks, boxes = {}, {}, set(), []
    for i in range(oh):
        for j in range(ow):
            if overlap and (i, j) != (0, 0):
                continue
            color = I.PALETTE[(i % 2) * 2 + (j % 2)]
            for r, c, _ in _window(ch, i, j, p):
                in_fills[(r, c)] = color
            out_fills[(i, j)] = color
            boxes.append((i * sr, j * sc, kh, kw))
            if where[i][j] is not None:
                marks.add(where[i][j])
    label = "X" if I.is_bare(p.fields.image) else "X_{0}"
    grids = [I.Grid(label, ch, in_fills, marks=marks, boxes=boxes if overlap else []), r"\Rightarrow",
             I.Grid("Y" if I.is_bare(p.fields.image) else "Y_{0}", values, out_fills)]
    return I.figure(I.Layout([grids]))


def recompute(p: Problem) -> dict[str, Any]:
    """float64 NumPy: strided sliding windows, then max or mean over each."""
    x = np.array(I.channels(p.fields.image), dtype=float)
    (kh, kw), (sr, sc) = _size(p), _stride(p)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sr, ::sc]
    y = windows.max(axis=(3, 4)) if p.fields.mode == "max" else windows.mean(axis=(3, 4))
    return {"output": y[0] if I.is_bare(p.fields.image) else y}


# ---- slips ------------------------------------------------------------------------------------------

MODE_WORDS = {"max": "max pooling", "avg": "average pooling"}


def pool_mode(p: Problem, answers: Answers) -> list[Variant]:
    """Max pooling where average was asked, or the reverse."""
    other = "avg" if p.fields.mode == "max" else "max"
    return [Variant(f"{MODE_WORDS[other]} used instead of {MODE_WORDS[p.fields.mode]}", modify=setting(mode=other))]


class Pool(Kind):
    """Max or average pooling, per channel, without padding."""

    name = "pool"
    summary = "max or average pooling, per channel, windows without padding"
    fields = FIELDS
    answers = {"output": AnswerSpec()}
    slips = (Slip("pool_mode", "max pooling for average pooling or the reverse", pool_mode),)
    examples = (
        {"image": [[1, 2, 0, 4], [0, 1, 3, 1], [2, 1, 1, 0], [5, 0, 2, 2]], "size": 2},
        {"image": [[[1, 3, 2, 0, 1], [4, 0, 1, 2, 2], [0, 2, 5, 1, 0], [1, 1, 0, 3, 4]],
                   [[2, 0, 1, 1, 3], [0, 1, 0, 2, 1], [3, 1, 2, 0, 0], [1, 4, 1, 1, 2]]],
         "size": [2, 3], "stride": 1, "mode": "avg"},
    )
    positional = ("image", "size")

    validate = staticmethod(validate)
    solve = staticmethod(solve)
    recompute = staticmethod(recompute)


KIND = Pool()
