"""pool's worked solution: the output size (floor, or PyTorch's ceil rule), each window and its max or mean with a
figure, the output, and the backward pass (the upstream gradient routed to each maximum or shared over the window)."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Latex, chain, tex
from ..problem import Problem
from ..solution import Solution
from . import _conv_grid as R
from . import _images as I
from . import _pool_core as P

SHOWN_ENTRIES = 16      # entries of channel 0 written out in full; past this, a few representative ones
SHOWN_CHANNELS = 3
LISTED_TAPS = 16        # a window with more numbers is written as a slice, not listed
FIGURE_SIDE = 16
WIDE_SUM = 60           # digits in an average's numerator past which it is written (1/n)(…) over several lines
NEG_INF = Latex(r"-\infty")


def size_step(s: Solution, p: Problem) -> None:
    """⌊(n − k)/s⌋ + 1 (with padding ⌊(n + 2p − k)/s⌋ + 1, or ⌈…⌉ + 1 with ceil_mode) along each axis."""
    (h, w), (kh, kw), (sr, sc), (ph, pw) = P.isize(p), P.size(p), P.stride(p), P.padding(p)
    oh, ow = P.output_size(p)
    axes = [("H", h, kh, sr, ph, oh), ("W", w, kw, sc, pw, ow)]
    if (h, kh, sr, ph) == (w, kw, sc, pw):
        axes = [("H = W", h, kh, sr, ph, oh)]
    lines = []
    for name, n, k, st, pad, o in axes:
        lhs = name.replace("H", r"H_{\text{out}}").replace("W", r"W_{\text{out}}")
        lines += _size_lines(p, lhs, n, k, st, pad, o)
    mode = "maximum" if p.fields.mode == "max" else "average"
    text = (f"Each {I.size_text(kh, kw)} window is replaced by its {mode}; the window moves "
            f"{I.step_text((sr, sc))}" + (" (the stride defaults to the window size)"
                                                     if p.fields.stride is None else "")
            + ("; pooling adds no padding." if (ph, pw) == (0, 0) else "."))
    if (ph, pw) != (0, 0):
        text += (f" Padding {I.pair_text(p.fields.padding)} adds that many rows and columns on each side; "
                 + ("max pooling pads with −∞, so a padded entry never wins (PyTorch's rule)." if p.fields.mode == "max"
                    else "average pooling pads with zeros, and they count in the average (PyTorch's default, "
                         "count_include_pad)."))
    s.step("Output size", *lines, text=text + _leftover(p, h, w, oh, ow))


def _size_lines(p: Problem, lhs: str, n: int, k: int, st: int, pad: int, o: int) -> list[Latex]:
    """The rule, the numbers and the size; with ceil_mode, the last window dropped when it starts in the padding."""
    ceil = bool(p.fields.ceil_mode)
    left, right = (r"\left\lceil ", r" \right\rceil") if ceil else (r"\left\lfloor ", r" \right\rfloor")
    if P.plain(p):
        return [chain(Latex(lhs + r" = \left\lfloor \frac{n - k}{s} \right\rfloor + 1"),
                      Latex(r"\left\lfloor \frac{%d - %d}{%d} \right\rfloor + 1" % (n, k, st)), o)]
    rule = Latex(lhs + " = " + left + r"\frac{n + 2p - k}{s}" + right + " + 1")
    numbers = Latex(left + r"\frac{%d + 2 \cdot %d - %d}{%d}" % (n, pad, k, st) + right + " + 1")
    counted = -(-(n + 2 * pad - k) // st) + 1 if ceil else o
    if counted == o:
        return [chain(rule, numbers, o)]
    return [chain(rule, numbers, counted), Latex(lhs + r" = %d - 1 = %d" % (counted, o))]


def _leftover(p: Problem, h: int, w: int, oh: int, ow: int) -> str:
    """What happens at the far edges: rows and columns no window uses, or a last window that runs past them."""
    (kh, kw), (sr, sc), (ph, pw) = P.size(p), P.stride(p), P.padding(p)
    left_r, left_c = h + 2 * ph - ((oh - 1) * sr + kh), w + 2 * pw - ((ow - 1) * sc + kw)
    text = ""
    if p.fields.ceil_mode:
        text += (" ceil_mode rounds the division up, so a last window that runs past the edge is kept (it covers "
                 "only what is left of the padded input), unless it would start in the right or bottom padding "
                 "(PyTorch's rule).")
        if oh != -(-(h + 2 * ph - kh) // sr) + 1 or ow != -(-(w + 2 * pw - kw) // sc) + 1:
            text += " Here that last window is dropped."
        left_r, left_c = max(left_r, 0), max(left_c, 0)
    if left_r > 0 or left_c > 0:
        what = "" if (ph, pw) == (0, 0) else " of the padded input"
        parts = ([f"the last {left_r} row(s)"] if left_r else []) + ([f"the last {left_c} column(s)"] if left_c else [])
        text += (" A window that would run past the edge is dropped (the floor in the formula, as PyTorch), so "
                 + " and ".join(parts) + what + " are not used.")
    return text


def entries(oh: int, ow: int, few: bool = False) -> list[tuple[int, int]]:
    """The output entries worked in full: all when there are few (and short), else three representative ones."""
    if oh * ow <= SHOWN_ENTRIES and not (few and oh * ow > 3):
        return [(i, j) for i in range(oh) for j in range(ow)]
    return list(dict.fromkeys([(0, 0), (0, 1) if ow > 1 else (1, 0), (oh - 1, ow - 1)]))


def window_step(s: Solution, p: Problem, chans: list, pooled: list) -> None:
    """Each window's numbers and its max (with its position) or mean."""
    oh, ow = P.output_size(p)
    lines = []
    multi = len(chans) > 1
    long = len(_entry_line(p, chans[0], pooled[0], 0, 0, "")) > 1      # a window takes more than a line
    first = entries(oh, ow, few=long)
    for c in range(min(len(chans), SHOWN_CHANNELS)):
        cells = first if c == 0 else [(0, 0)]
        for i, j in cells:
            lines += _entry_line(p, chans[c], pooled[c], i, j, f"{c}," if multi else "")
    shown = len(first) + min(len(chans), SHOWN_CHANNELS) - 1
    text = ("For each output entry, take its window of the input"
            + (" (channel by channel)" if multi else "") + " and "
            + ("keep the largest number; its position (row, column) in the input is shown. On a tie the first "
               "in reading order is taken, as PyTorch's max_pool2d does." if p.fields.mode == "max"
               else "average its numbers."))
    if P.padding(p) != (0, 0):
        text += " A padded entry is written " + ("−∞." if p.fields.mode == "max" else "0.")
    if p.fields.mode == "avg" and not P.plain(p):
        text += (" An average divides by the number of entries of its window inside the padded input (padded "
                 "zeros included)." if P.padding(p) != (0, 0) else
                 " A last window that runs past the edge averages only the entries it covers.")
    if shown < oh * ow * len(chans):
        text += " The other entries follow the same rule; all of them are in the output below."
    s.step("Pool each window", *lines, text=text, figure=_figure(p, chans[0], pooled[0]))


def _cell(ch: list, p: Problem, r: int, c: int, inside: bool) -> Any:
    """A window cell's value: the number, or the padding (−∞ for max, 0 for avg)."""
    if inside:
        return ch[r][c]
    return NEG_INF if p.fields.mode == "max" else 0


def _entry_line(p: Problem, ch: list, pooled: tuple, i: int, j: int, prefix: str) -> list[Latex]:
    """y_{i,j} = max(…) = v (at (r, c)), or (…)/n = mean: on one line, or wrapped over lines that fit the page."""
    cells = P.window(p, i, j)
    lhs = f"y_{{{prefix}{i},{j}}} = "
    values, where = pooled
    at = rf" \quad \text{{at }} ({where[i][j][0]}, {where[i][j][1]})" if p.fields.mode == "max" else ""
    if len(cells) > LISTED_TAPS:
        (kh, kw), (sr, sc) = P.size(p), P.stride(p)
        name = "X" if P.padding(p) == (0, 0) else r"X^{\text{pad}}"
        listed = rf"{name}_{{{prefix}{i * sr}:{i * sr + kh - 1},\ {j * sc}:{j * sc + kw - 1}}}"
        body = (r"\max " if p.fields.mode == "max" else r"\operatorname{mean} ") + listed
        return [Latex(chain(Latex(lhs + body), values[i][j], approx_digits=p.digits) + at)]
    numbers = [_cell(ch, p, r, c, k) for r, c, k in cells]
    if p.fields.mode == "max":
        pieces, joiner, head, close = [str(tex(v)) for v in numbers], ", ", lhs + r"\max(", ")"
    else:
        pieces = [I.signed(v, n == 0) for n, v in enumerate(numbers)]
        joiner, head, close = " ", lhs + r"\frac{1}{%d}(" % len(cells), ")"
        if sum(len(I.plain_text(v)) + 3 for v in numbers) < WIDE_SUM:
            body = Latex(r"\frac{" + " ".join(pieces) + "}{%d}" % len(cells))
            return [Latex(chain(Latex(lhs[:-3]), body, values[i][j], approx_digits=p.digits) + at)]
    lines = I.wrap(head, pieces, [len(x) * 0.9 + 1 for x in pieces], joiner=joiner, cont=r"\quad ")
    value = chain(Latex(""), values[i][j], approx_digits=p.digits)
    if len(lines) == 1:
        return [Latex(chain(Latex(lhs[:-3]), Latex(lines[0][len(lhs):] + close), values[i][j],
                            approx_digits=p.digits) + at)]
    lines[-1] = Latex(lines[-1] + close + value + at)
    return lines


def _figure(p: Problem, ch: list, pooled: tuple) -> Latex | None:
    """The (padded) input with each window coloured (or the first, when windows overlap), maxima boxed; the output."""
    (h, w), (kh, kw), (sr, sc), (ph, pw) = (len(ch), len(ch[0])), P.size(p), P.stride(p), P.padding(p)
    if h + 2 * ph > FIGURE_SIDE or w + 2 * pw > FIGURE_SIDE:
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
            for r, c, _ in P.window(p, i, j):
                in_fills[(r + ph, c + pw)] = color
            out_fills[(i, j)] = color
            box_h, box_w = min(kh, h + 2 * ph - i * sr), min(kw, w + 2 * pw - j * sc)
            boxes.append((i * sr, j * sc, box_h, box_w))
            if where[i][j] is not None:
                marks.add((where[i][j][0] + ph, where[i][j][1] + pw))
    grid = [[_cell(ch, p, r, c, 0 <= r < h and 0 <= c < w) for c in range(-pw, w + pw)] for r in range(-ph, h + ph)]
    faint = {(r, c) for r in range(h + 2 * ph) for c in range(w + 2 * pw)
             if r < ph or r >= h + ph or c < pw or c >= w + pw}
    label = ("X" if I.is_bare(p.fields.image) else "X_{0}") + ("" if (ph, pw) == (0, 0) else r"^{\text{pad}}")
    grids = [I.Grid(label, grid, in_fills, marks=marks, faint=faint, boxes=boxes if overlap else []),
             r"\Rightarrow", I.Grid("Y" if I.is_bare(p.fields.image) else "Y_{0}", values, out_fills)]
    return I.figure(I.Layout([grids]))


def _shown(total: int) -> int:
    """Channels written out: all when at most one more than SHOWN_CHANNELS, else SHOWN_CHANNELS."""
    return total if total <= SHOWN_CHANNELS + 1 else SHOWN_CHANNELS


def _rest(total: int) -> str:
    """`channel 3`, `channels 3 to 5`: those not written out (empty when all are)."""
    return R.span_text("channel", _shown(total), total - 1) if _shown(total) < total else ""


def value_lines(lhs: str, m: list, digits: int) -> list[Latex]:
    """`lhs = M` (a wide matrix in blocks of columns) for rational values, else the exact chain with ≈ decimals."""
    if all(isinstance(v, (int, sympy.Rational)) for v in I.flat(m)):
        return R.matrix_lines(lhs, m, digits)
    return [chain(Latex(lhs), m, approx_digits=digits)]


def output_step(s: Solution, p: Problem, outputs: list) -> None:
    """The pooled matrices (the first few written out)."""
    bare = I.is_bare(p.fields.image)
    lines = [line for c, y in enumerate(outputs[:_shown(len(outputs))])
             for line in value_lines("Y" if bare else f"Y_{{{c}}}", y, p.digits)]
    rest = _rest(len(outputs))
    s.step("The output", *lines,
           text="Pooling works on each channel separately, so the number of channels is unchanged."
           + (f" ({rest[0].upper() + rest[1:]} {'are' if rest.startswith('channels') else 'is'} in the answer.)" if rest
              else ""))


def backward_step(s: Solution, p: Problem, chans: list, pooled: list, grads: list) -> None:
    """Each upstream entry routed to its window's maximum, or shared equally over its window; the gradient."""
    oh, ow = P.output_size(p)
    g = P.upstream_list(p)
    multi, lines = len(chans) > 1, []
    for i, j in entries(oh, ow):
        lines.append(_route_line(p, g[0], pooled[0], i, j, "0," if multi else ""))
    bare = I.is_bare(p.fields.image)
    for c, m in enumerate(grads[:_shown(len(grads))]):
        lines += value_lines(r"\frac{\partial L}{\partial X%s}" % ("" if bare else f"_{{{c}}}"), m, p.digits)
    if p.fields.mode == "max":
        text = ("$G = \\partial L/\\partial Y$ is the upstream gradient. Only the maximum of a window reached the "
                "output, so each $g_{i,j}$ goes to that one entry (the first maximum in reading order on a tie, as "
                "PyTorch) and every other entry of the window gets 0.")
    else:
        text = ("$G = \\partial L/\\partial Y$ is the upstream gradient. Each output is the mean of its window, so "
                "each $g_{i,j}$ is shared equally: every entry of the window gets $g_{i,j}$ divided by the window's "
                "count"
                + (" (a padded entry's share is dropped: the padding is not part of the input)."
                   if P.touches_padding(p) else "."))
    if P.stride(p)[0] < P.size(p)[0] or P.stride(p)[1] < P.size(p)[1]:
        text += " Windows overlap, so an entry in several windows adds up what each sends it."
    if len(entries(oh, ow)) < oh * ow:
        text += " The other entries follow the same rule."
    rest = _rest(len(chans))
    s.step("Backward: the upstream gradient through the pooling", *lines,
           text=text + (f" ({rest[0].upper() + rest[1:]} likewise.)" if rest else ""))


def _route_line(p: Problem, g: list, pooled: tuple, i: int, j: int, prefix: str) -> Latex:
    """`g_{i,j} = 2 → (1, 1)`, or `g_{i,j}/4 = 0.5 → each of the 4 entries`."""
    v = g[i][j]
    if p.fields.mode == "max":
        r, c = pooled[1][i][j]
        return Latex(rf"g_{{{prefix}{i},{j}}} = {tex(v)} \;\to\; ({r}, {c})")
    count = len(P.window(p, i, j))
    return Latex(chain(Latex(rf"g_{{{prefix}{i},{j}}} / {count}"), v / count)
                 + rf" \;\to\; \text{{each of its {count} entries}}")
