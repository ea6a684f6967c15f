"""conv2d's worked solution: the output size, the flipped kernel, the padding, the sliding sum with its
figure, worked entries, bias and activation, the output, and what a recognised kernel detects."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Latex, chain, tex
from ..problem import Problem
from ..solution import Solution
from . import _conv_core as C
from . import _images as I
from . import kernels as K

SMALL_OUTPUT = 16       # entries per filter worked out row by row; larger outputs get representative entries
FIRST_ROW = 4           # entries of the first output row worked in full
SHOWN_FILTERS = 3       # filters whose entries are worked
SHOWN_CHANNELS = 3      # channels shown when padding
SHOWN_OUTPUTS = 8       # output matrices written out in the last step (all of them are in the answers)
FIGURE_SIDE = 12        # largest padded image (rows or columns) drawn as a figure


def size_step(s: Solution, p: Problem, oh: int, ow: int) -> None:
    """⌊(n + 2p − k)/s⌋ + 1 (with a dilation, ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1), for the height and the width."""
    (h, w), (kh, kw), (sr, sc), (dr, dc) = C.isize(p), C.ksize(p), C.strides(p), C.dilations(p)
    pt, pb, pl, pr = C.pads(p)
    lines = []
    axes = [("H", h, pt, pb, kh, sr, dr, oh), ("W", w, pl, pr, kw, sc, dc, ow)]
    if (h, pt, pb, kh, sr, dr) == (w, pl, pr, kw, sc, dc):
        axes = [("H = W", h, pt, pb, kh, sr, dr, oh)]
    dilated = (dr, dc) != (1, 1)
    for name, n, a, b, k, st, d, o in axes:
        lhs = name.replace("H", r"H_{\text{out}}").replace("W", r"W_{\text{out}}")
        numbers = _size_numbers(n, a, b, k, st, d, dilated)
        lines.append(chain(Latex(lhs + " = " + _size_formula(a == b, dilated)), Latex(numbers), o))
    n_ch, n_f = len(I.channels(p.fields.image)), len(C.filter_list(p))
    per_filter = len(C.filter_list(p)[0])
    text = (f"The image is {n_ch} × {h}×{w} (channels × rows × columns), each filter {per_filter} × {kh}×{kw}; "
            f"stride {I.pair_text(p.fields.stride)}, padding {C.pad_text(p)}"
            + (f", dilation {I.pair_text(p.fields.dilation)}" if dilated else "") + ". A window position is counted "
            "for every place the kernel fits inside the padded image.")
    if dilated:
        eh, ew = C.span(p)
        text += (f" Dilation spreads the kernel's taps apart (d − 1 skipped rows or columns between neighbours), so "
                 f"the {kh}×{kw} kernel spans d(k − 1) + 1: {eh}×{ew} positions of the image.")
    if p.fields.padding == "same":
        text += (f" Same padding (stride 1) adds {'d(k − 1)' if dilated else 'k − 1'} zeros in total along each "
                 f"axis, {pt} before and {pb} after the rows, " f"{pl} before and {pr} after the columns"
                 + (" (an even kernel puts the extra one at the bottom and right, as PyTorch)" if pt != pb or pl != pr
                    else "") + ", so the output keeps the input's size.")
    if C.groups(p) > 1:
        g = C.groups(p)
        text += (f" With {g} groups the {n_ch} channels are split into {g} groups of {n_ch // g} and the {n_f} filters "
                 f"into {g} groups of {n_f // g}: each filter sees only the {n_ch // g} channels of its own group.")
    s.step("Output size", *lines, text=text + f" With {C.count(n_f, 'filter')} the output shape is "
                                            f"[{n_f}, {oh}, {ow}] (filters, rows, columns).")


def _size_formula(even: bool, dilated: bool) -> str:
    """The output-size rule: with equal padding on both sides or not, with the kernel's span or its size."""
    k = "d(k - 1) - 1" if dilated else "k"
    if even:
        return r"\left\lfloor \frac{n + 2p - %s}{s} \right\rfloor + 1" % k
    return r"\left\lfloor \frac{n + p_{\text{before}} + p_{\text{after}} - %s}{s} \right\rfloor + 1" % k


def _size_numbers(n: int, a: int, b: int, k: int, st: int, d: int, dilated: bool) -> str:
    """The rule with this axis's numbers."""
    taps = r"%d \cdot (%d - 1) - 1" % (d, k) if dilated else str(k)
    if a == b:
        return r"\left\lfloor \frac{%d + 2 \cdot %d - %s}{%d} \right\rfloor + 1" % (n, a, taps, st)
    return r"\left\lfloor \frac{%d + %d + %d - %s}{%d} \right\rfloor + 1" % (n, a, b, taps, st)


def flip_step(s: Solution, p: Problem, filters: list) -> None:
    """True convolution: rotate each kernel by 180°, then cross-correlate."""
    lines = [chain(Latex(_kname(p, n, 0, 1, flipped=True)), f if len(f) > 1 else f[0])
             for n, f in enumerate(filters[:SHOWN_FILTERS])]
    several = len(filters[0]) > 1
    rest = f" Filters {SHOWN_FILTERS} to {len(filters) - 1} likewise." if len(filters) > SHOWN_FILTERS else ""
    s.step("Flip the kernel (true convolution)", *lines,
           text="flip: true asks for true convolution: the kernel is rotated by 180° (rows and columns reversed), "
                "then slid over the image exactly as in cross-correlation"
                + (" (one matrix per channel, each rotated)." if several else ".") + rest)


def _kname(p: Problem, n: int, c: int, n_channels: int, flipped: bool = False) -> str:
    """K, K^{(n)}, K_{c}, K^{(n),flipped}_{c}: one superscript and one subscript at most."""
    sup = ([] if p.fields.kernels is None else [f"({n})"]) + ([r"\text{flipped}"] if flipped else [])
    return "K" + ("^{" + ",".join(sup) + "}" if sup else "") + (f"_{{{c}}}" if n_channels > 1 else "")


def pad_step(s: Solution, p: Problem, x: list) -> None:
    """The padded channels (large ones elided)."""
    pt, pb, pl, pr = C.pads(p)
    lines = [chain(Latex(r"X^{\text{pad}}" + (f"_{{{c}}}" if len(x) > 1 else "")), ch)
             for c, ch in enumerate(x[:SHOWN_CHANNELS])]
    more = f" (channels {SHOWN_CHANNELS} to {len(x) - 1} likewise)" if len(x) > SHOWN_CHANNELS else ""
    sides = [f"{n} {what}{'s' if n != 1 else ''} at the {where}" for n, what, where in
             ((pt, "row", "top"), (pb, "row", "bottom"), (pl, "column", "left"), (pr, "column", "right")) if n]
    s.step("Pad the input with zeros", *lines,
           text=f"Add zeros around {'every channel' if len(x) > 1 else 'the image'}{more}: " + ", ".join(sides) + ".")


def focus_entry(response: list[list]) -> tuple[int, int]:
    """The entry whose receptive field the figure shows: the strongest response (first in reading order)."""
    peak = max(abs(v) for row in response for v in row)
    for i, row in enumerate(response):
        for j, v in enumerate(row):
            if abs(v) == peak:
                return i, j
    return 0, 0


def rule_step(s: Solution, p: Problem, x: list, filters: list, outputs: list, focus: tuple[int, int]) -> None:
    """The sliding sum as a formula, and the figure of one receptive field."""
    (sr, sc), (dr, dc), stride = C.strides(p), C.dilations(p), p.fields.stride
    multi = len(C.filter_list(p)[0]) > 1
    row, col = ("i" if sr == 1 else f"{sr}i"), ("j" if sc == 1 else f"{sc}j")
    u, v = ("u" if dr == 1 else f"{dr}u"), ("v" if dc == 1 else f"{dc}v")
    ch_sum, ch_idx = (r"\sum_{c}", "c,") if multi else ("", "")
    z = r"r_{i,j}" if C.has_bias_or_act(p) else r"y_{i,j}"
    xs = r"X^{\text{pad}}" if any(C.pads(p)) else "X"
    rule = Latex(rf"{z} = {ch_sum}\sum_{{u,v}} {xs}_{{{ch_idx}{row}+{u},\,{col}+{v}}}\, K_{{{ch_idx}u,v}}")
    text = ("Slide the kernel over the " + ("padded " if any(C.pads(p)) else "") + "input"
            + (f" with stride {I.pair_text(stride)} ({I.step_text(stride)})" if (sr, sc) != (1, 1) else "")
            + ": at each position multiply the overlapping numbers element by element and add them up"
            + (" over all channels" if multi else "")
            + ". This is cross-correlation, as PyTorch's conv2d computes it"
            + (" (here with the flipped kernel)." if p.fields.flip else " (the kernel is not flipped).")
            + (f" With dilation {I.pair_text(p.fields.dilation)} the kernel's taps sit {I.step_text(p.fields.dilation)}"
               " apart in the image." if (dr, dc) != (1, 1) else "")
            + (f" With {C.groups(p)} groups, c runs over the channels of the filter's own group only."
               if C.groups(p) > 1 else ""))
    figure = _figure(p, _seen(p, x, 0), filters, outputs, focus)
    if figure is not None:
        text += f" The figure shows the window of output entry ({focus[0]}, {focus[1]})."
    s.step("Slide the kernel", rule, text=text, figure=figure)


def _seen(p: Problem, x: list, n: int) -> list:
    """The (padded) channels filter n sees: those of its group."""
    return [x[c] for c in C.group_channels(p, n)]


def _figure(p: Problem, x: list, filters: list, outputs: list, focus: tuple[int, int]) -> Latex | None:
    """Input, kernel and output with the receptive field of `focus` highlighted (small problems only)."""
    if len(x[0]) > FIGURE_SIDE or len(x[0][0]) > FIGURE_SIDE or len(x) > SHOWN_CHANNELS:
        return None
    (i, j), (sr, sc), (kh, kw), (dr, dc) = focus, C.strides(p), C.ksize(p), C.dilations(p)
    pt, pb, pl, pr = C.pads(p)
    height, width = len(x[0]), len(x[0][0])
    padding = {(r, c) for r in range(height) for c in range(width)
               if r < pt or r >= height - pb or c < pl or c >= width - pr}
    window = {(i * sr + dr * u, j * sc + dc * v): I.HIGHLIGHT for u in range(kh) for v in range(kw)}
    eh, ew = C.span(p)
    multi = len(x) > 1
    rows = []
    for c, ch in enumerate(x):
        channel = C.group_channels(p, 0)[c]
        xname = "X" + (f"_{{{channel}}}" if multi or C.groups(p) > 1 else "") + \
            (r"^{\text{pad}}" if any(C.pads(p)) else "")
        kname = _kname(p, 0, c, len(x), flipped=p.fields.flip)
        rows.append([I.Grid(xname, ch, dict(window), faint=padding, boxes=[(i * sr, j * sc, eh, ew)]),
                     r"\star", I.Grid(kname, filters[0][c])])
    yname = "Y" if p.fields.kernels is None else "Y_{0}"
    out = I.Grid(yname, outputs[0], {focus: I.HIGHLIGHT}, boxes=[(i, j, 1, 1)])
    return I.figure(I.Layout(rows, [r"\Rightarrow" if multi else "=", out]))


def _worked(p: Problem, oh: int, ow: int, focus: tuple[int, int]) -> list[tuple[int, int]]:
    """The entries of filter 0 written out: the first row when small, else a few representative ones."""
    if oh * ow <= SMALL_OUTPUT:
        cells = [(0, j) for j in range(min(ow, FIRST_ROW))]
    else:
        cells = [(0, 0), (oh - 1, ow - 1)]
    if focus not in cells:
        cells.insert(len(cells) if oh * ow <= SMALL_OUTPUT else 1, focus)
    return cells


def entry_steps(s: Solution, p: Problem, x: list, filters: list, responses: list, biases: list,
                focus: tuple[int, int]) -> None:
    """Element-wise products and their sums for chosen entries."""
    oh, ow = len(responses[0]), len(responses[0][0])
    lines = []
    for i, j in _worked(p, oh, ow, focus):
        lines += _entry_lines(p, _seen(p, x, 0), filters[0], i, j, responses[0][i][j],
                              "" if p.fields.kernels is None else "^{(0)}")
    for n in range(1, min(len(filters), SHOWN_FILTERS)):
        lines += _entry_lines(p, _seen(p, x, n), filters[n], 0, 0, responses[n][0][0], f"^{{({n})}}")
    every = oh * ow * len(filters)
    shown = len(_worked(p, oh, ow, focus)) + min(len(filters), SHOWN_FILTERS) - 1
    rest = "" if shown >= every else " The other entries follow the same rule; all of them are in the output below."
    s.step("Worked entries", *lines,
           text="Each entry is the sum of the element-wise products of the kernel and the window under it"
                + (", grouped by kernel row" if _taps(filters[0]) <= 27 else "")
                + (" and channel" if len(filters[0]) > 1 else "") + "." + rest)


def _taps(f: list) -> int:
    """The number of weights of a filter (channels × rows × columns)."""
    return len(f) * len(f[0]) * len(f[0][0])


def _entry_lines(p: Problem, x: list, f: list, i: int, j: int, z: Any, tag: str) -> list[Latex]:
    """y_{i,j} = (x·k + …) + (…) = row sums = value: wrapped over lines that fit the page."""
    (sr, sc), (dr, dc), kh, kw = C.strides(p), C.dilations(p), len(f[0]), len(f[0][0])
    lhs = ("r" if C.has_bias_or_act(p) else "y") + tag + f"_{{{i},{j}}}"
    if _taps(f) > 27:
        xs = r"X^{\text{pad}}" if any(C.pads(p)) else "X"
        ch = "" if len(x) == 1 else r"\sum_c "
        rows = _slice_text(i * sr, i * sr + dr * (kh - 1), dr)
        cols = _slice_text(j * sc, j * sc + dc * (kw - 1), dc)
        window = Latex(rf"{ch}\sum \left({xs}_{{{rows},\ {cols}}} \odot K\right)")
        return [chain(Latex(lhs), window, z)]
    lines, sums = [], []
    for c in range(len(f)):
        groups = []
        for u in range(kh):
            terms = [(x[c][i * sr + dr * u][j * sc + dc * v], f[c][u][v]) for v in range(kw)]
            groups.append(("(" + " + ".join(f"{I.paren(a)} \\cdot {I.paren(k)}" for a, k in terms) + ")",
                           I.product_width(terms)))
            sums.append(sympy.Add(*[a * k for a, k in terms]))
        head = lhs + " = " if c == 0 else r"\quad + "
        lines += I.wrap(head, [g for g, _ in groups], [w for _, w in groups])
    sum_terms = [(str(I.signed(v, first=n == 0)), len(I.plain_text(v)) + 3) for n, v in enumerate(sums)]
    if len(sums) > 1:
        lines += I.wrap("= ", [t for t, _ in sum_terms], [w for _, w in sum_terms], joiner=" ", cont=r"\quad ")
    lines[-1] = Latex(lines[-1] + " = " + tex(z))
    return lines


def _slice_text(first: int, last: int, step: int) -> str:
    """`0:2`, or `0:4:2` with a step."""
    return f"{first}:{last}" + (f":{step}" if step != 1 else "")


def bias_step(s: Solution, p: Problem, responses: list, biases: list, outputs: list) -> None:
    """Add the bias, then apply the activation."""
    lines = []
    act = {"relu": r"\max(0, z)", "leaky_relu": rf"\max({tex(C.slope(p))}\,z, z)",
           "sigmoid": r"\sigma(z) = \frac{1}{1 + e^{-z}}", "tanh": r"\tanh(z)"}.get(p.fields.activation)
    for n, (r, b, y) in enumerate(zip(responses[:SHOWN_FILTERS], biases, outputs)):
        tag = "" if p.fields.kernels is None else f"_{{{n}}}"
        arg = f"R{tag}"
        if b != 0:
            lines.append(chain(Latex(f"Z{tag} = R{tag} + {I.paren(b)}"), [[v + b for v in row] for row in r]))
            arg = f"Z{tag}"
        if act:
            lines.append(chain(Latex(f"Y{tag} = " + act.split(" = ")[0].replace("z", arg)), y,
                               approx_digits=p.digits))
    has_bias = any(b != 0 for b in biases)
    text = ("Add the bias to every entry of R, the sums of products above" if has_bias
            else "R holds the sums of products above")
    text += (f"; then apply the activation {p.fields.activation} entry by entry." if act else ".")
    if p.fields.activation == "relu":
        text += " ReLU keeps positive values and sets the others to 0."
    s.step(("Bias and activation" if has_bias else "Activation") if act else "Bias", *lines, text=text)


def output_step(s: Solution, p: Problem, outputs: list, oh: int, ow: int) -> None:
    """Every output matrix (the first few written out)."""
    single = p.fields.kernels is None
    n_filters = len(outputs)
    rest = (f" The output matrices of filters {SHOWN_OUTPUTS} to {n_filters - 1} are in the answers."
            if n_filters > SHOWN_OUTPUTS else "")
    s.step("The output", *[chain(Latex("Y" if single else f"Y_{{{n}}}"), y, approx_digits=p.digits)
                           for n, y in enumerate(outputs[:SHOWN_OUTPUTS])],
           text=f"{'The output is' if single else 'Each filter gives one output matrix,'} "
                f"{oh}×{ow}" + ("." if single else f"; {n_filters} filters give an output of shape "
                                                    f"[{n_filters}, {oh}, {ow}].") + rest)


def notes(s: Solution, p: Problem, filters: list, responses: list, biases: list) -> None:
    """For each filter recognised in the catalogue, what it detects and where it responds in this image."""
    if C.dilations(p) != (1, 1):
        return
    pt, pb, pl, pr = C.pads(p)
    window = (*C.strides(p), pt, pl) + C.ksize(p)
    plain = p.fields.activation == "linear"
    for n, f in enumerate(filters):
        if any(ch != f[0] for ch in f):
            continue
        seen = [I.channels(p.fields.image)[c] for c in C.group_channels(p, n)]
        image = [[sympy.Add(*vals) for vals in zip(*rows)] for rows in zip(*seen)]
        m = K.match(f[0])
        if m is None:
            continue
        sentence = K.story(m, image, responses[n], window, plain and biases[n] == 0)
        if len(f) > 1:
            sentence = sentence.replace("The kernel is", "Each channel of the filter is", 1) + \
                " (The same kernel on every channel acts on the sum of the channels.)"
        if len(filters) > 1:
            sentence = f"Filter {n}: " + sentence[0].lower() + sentence[1:]
        s.note(sentence)

