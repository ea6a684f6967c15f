"""conv2d's worked solution: the output size, the flipped kernel, the padding, the sliding sum with its
figure, worked entries, bias and activation, the output, and what a recognised kernel detects."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Latex, chain, matrix, tex
from ..problem import Problem
from ..solution import Solution
from . import _conv_core as C
from . import _conv_grid as G
from . import _images as I
from . import kernels as K

SHOWN_FILTERS = 3       # filters flipped, or given their bias, in writing
SHOWN_CHANNELS = 3      # channels shown when padding
SHOWN_OUTPUTS = 8       # output matrices written out in the last step (all of them are in the answers)


def shown(total: int, limit: int) -> int:
    """How many of `total` items to write out: all when at most one more than `limit`, else `limit`."""
    return total if total <= limit + 1 else limit


def rest_text(word: str, total: int, limit: int) -> str:
    """` (channels 3 to 5 likewise)`, ` (channel 3 likewise)` or nothing, for the items not written out."""
    first = shown(total, limit)
    return f" ({G.span_text(word, first, total - 1)} likewise)" if first < total else ""


def rest_sentence(word: str, total: int, limit: int) -> str:
    """` Filters 3 to 5 likewise.`, ` Filter 3 likewise.` or nothing, for the items not written out."""
    first = shown(total, limit)
    return f" {G.span_text(word, first, total - 1).capitalize()} likewise." if first < total else ""


def value_lines(lhs: str, m: list, digits: int) -> list[Latex]:
    """`lhs = M` (a wide matrix in blocks of columns); `lhs ≈ M` in decimals for values with exp (answers: exact)."""
    return G.matrix_lines(lhs, m, digits)
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
                 f"into {g} groups of {n_f // g}: each filter sees only the {C.count(n_ch // g, 'channel')} of its own group.")
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


def filters_step(s: Solution, p: Problem) -> None:
    """Every filter on a line of its own: its channel matrices side by side, each labelled, and its bias."""
    filters, biases, lines = C.filter_list(p), C.biases(p), []
    several = p.fields.kernels is not None
    for n, f in enumerate(filters):
        tail = rf"\qquad {{b_{{{n}}} = {tex(biases[n])}}}" if several and any(b != 0 for b in biases) else ""
        if len(f) == 1 and C.groups(p) == 1:
            lines.append(Latex(_kname(p, n, 0, 1) + " = " + matrix(f[0]) + tail))
            continue
        labels = [f"channel {c}" for c in C.group_channels(p, n)]
        lines += G.row_lines(_kname(p, n, 0, 1) + " = ", [matrix(m) for m in f], labels, tail)
    (kh, kw), n_ch = C.ksize(p), len(filters[0])
    own = " of its group" if C.groups(p) > 1 else ""
    text = (f"Each filter holds one {kh}×{kw} matrix for each of the {n_ch} image channels{own} it reads; "
            if n_ch > 1 else f"Each filter is one {kh}×{kw} matrix; ")
    text += "filter n gives output channel n" + (", and its bias $b_n$ is added to every entry of it." if tail else ".")
    s.step("The filters" if several else "The kernel", *lines, text=text)


def flip_step(s: Solution, p: Problem, filters: list) -> None:
    """True convolution: rotate each kernel by 180°, then cross-correlate."""
    lines = [line for n, f in enumerate(filters[:shown(len(filters), SHOWN_FILTERS)])
             for line in G.named_lines(_kname(p, n, 0, 1, flipped=True), f if len(f) > 1 else f[0], "channel",
                                       p.digits)]
    several = len(filters[0]) > 1
    s.step("Flip the kernel (true convolution)", *lines,
           text="flip: true asks for true convolution: the kernel is rotated by 180° (rows and columns reversed), "
                "then slid over the image exactly as in cross-correlation"
                + (" (one matrix per channel, each rotated)." if several else ".")
                + rest_sentence("filter", len(filters), SHOWN_FILTERS))


def _kname(p: Problem, n: int, c: int, n_channels: int, flipped: bool = False) -> str:
    """K, K^{(n)}, K_{c}, K^{(n),flipped}_{c}: one superscript and one subscript at most."""
    sup = ([] if p.fields.kernels is None else [f"({n})"]) + ([r"\text{flipped}"] if flipped else [])
    return "K" + ("^{" + ",".join(sup) + "}" if sup else "") + (f"_{{{c}}}" if n_channels > 1 else "")


def pad_step(s: Solution, p: Problem, x: list) -> None:
    """The padded channels (large ones elided)."""
    pt, pb, pl, pr = C.pads(p)
    lines = [line for c, ch in enumerate(x[:shown(len(x), SHOWN_CHANNELS)])
             for line in G.matrix_lines(r"X^{\text{pad}}" + (f"_{{{c}}}" if len(x) > 1 else ""), ch, p.digits)]
    more = rest_text("channel", len(x), SHOWN_CHANNELS)
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


def rule_step(s: Solution, p: Problem, figure: Latex | None, focus: tuple[int, int]) -> None:
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
    if figure is not None:
        text += f" The figure shows the window of output entry ({focus[0]}, {focus[1]})."
    s.step("Slide the kernel", rule, text=text, figure=figure)


def _seen(p: Problem, x: list, n: int) -> list:
    """The (padded) channels filter n sees: those of its group."""
    return [x[c] for c in C.group_channels(p, n)]


def figure(p: Problem, x: list, filters: list, outputs: list, focus: tuple[int, int]) -> Latex | None:
    """Input, kernel and output with the receptive field of `focus` highlighted (small problems only)."""
    x = _seen(p, x, 0)
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


def bias_step(s: Solution, p: Problem, responses: list, biases: list, outputs: list) -> None:
    """Add the bias, then apply the activation."""
    lines = []
    act = {"relu": r"\max(0, z)", "leaky_relu": rf"\max({tex(C.slope(p))}\,z, z)",
           "sigmoid": r"\sigma(z) = \frac{1}{1 + e^{-z}}", "tanh": r"\tanh(z)"}.get(p.fields.activation)
    count = shown(len(responses), SHOWN_FILTERS)
    for n, (r, b, y) in enumerate(zip(responses[:count], biases, outputs)):
        tag = "" if p.fields.kernels is None else f"_{{{n}}}"
        arg = f"R{tag}"
        if b != 0:
            lines += value_lines(f"Z{tag} = R{tag} + {I.paren(b)}", [[v + b for v in row] for row in r], p.digits)
            arg = f"Z{tag}"
        if act:
            lines += value_lines(f"Y{tag} = " + act.split(" = ")[0].replace("z", arg), y, p.digits)
    has_bias = any(b != 0 for b in biases)
    text = ("Add the bias to every entry of R, the sums of products above" if has_bias
            else "R holds the sums of products above")
    text += (f"; then apply the activation {p.fields.activation} entry by entry" if act else "")
    text += rest_text("filter", len(responses), SHOWN_FILTERS) + "."
    if p.fields.activation == "relu":
        text += " ReLU keeps positive values and sets the others to 0."
    s.step(("Bias and activation" if has_bias else "Activation") if act else "Bias", *lines, text=text)


def output_step(s: Solution, p: Problem, outputs: list, oh: int, ow: int) -> None:
    """Every output matrix (the first few written out); with a bias and no activation, Y = R + b."""
    single = p.fields.kernels is None
    n_filters, count = len(outputs), shown(len(outputs), SHOWN_OUTPUTS)
    rest = (f" The output {'matrix' if count == n_filters - 1 else 'matrices'} of "
            f"{G.span_text('filter', count, n_filters - 1)} {'is' if count == n_filters - 1 else 'are'} in the "
            "answers." if count < n_filters else "")
    biased = p.fields.activation == "linear" and any(b != 0 for b in C.biases(p))
    above = 0 if p.fields.activation == "linear" else shown(n_filters, SHOWN_FILTERS)   # written with the activation
    if above:
        rest = (" It is written above, after the activation." if single else
                f" {_outputs_text(above)} written above, after the activation.") + rest
    lines = []
    for n, (y, b) in list(enumerate(zip(outputs[:count], C.biases(p))))[above:]:
        tag = "" if single else f"_{{{n}}}"
        lines += value_lines(f"Y{tag}" + (f" = R{tag}" + (f" + {I.paren(b)}" if b != 0 else "") if biased else ""),
                             y, p.digits)
    text = "Add the bias to every entry of R, the sums of products above. " if biased else ""
    s.step("Bias and output" if biased else "The output", *lines,
           text=text + f"{'The output is' if single else 'Each filter gives one output matrix,'} "
                f"{oh}×{ow}" + ("." if single else f"; {n_filters} filters give an output of shape "
                                                    f"[{n_filters}, {oh}, {ow}].") + rest)


def _outputs_text(count: int) -> str:
    """`Y_0 is`, `Y_0 to Y_2 are`: the outputs already written."""
    return "$Y_0$ is" if count == 1 else f"$Y_0$ to $Y_{count - 1}$ are"


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

