"""Kind `conv2d`: cross-correlation (as PyTorch's conv2d) of a channels-first image with one or more filters."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..errors import SpecError
from ..latex import Latex, chain, tex
from ..problem import Problem
from ..solution import Solution
from . import _images as I
from . import kernels as K

ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh")
SMALL_OUTPUT = 16       # entries per filter worked out row by row; larger outputs get representative entries
FIRST_ROW = 4           # entries of the first output row worked in full
SHOWN_FILTERS = 3       # filters whose entries are worked
SHOWN_CHANNELS = 3      # channels shown when padding
SHOWN_OUTPUTS = 8       # output matrices written out in the last step (all of them are in the answers)
FIGURE_SIDE = 12        # largest padded image (rows or columns) drawn as a figure


def _padding(value: Any, ctx: F.Ctx) -> Any:
    """`valid`, `same`, a whole number ≥ 0, or [rows, cols]; returns the word or a (rows, cols) pair."""
    if isinstance(value, str) and str(value) in ("valid", "same"):
        return str(value)
    return I.pair(_amount)(value, ctx)


def _amount(value: Any, ctx: F.Ctx) -> int:
    """One padding amount: a whole number ≥ 0."""
    try:
        n = F.integer(value, ctx)
    except SpecError:
        raise ctx.error(f"expected a whole number, valid or same, got {F.describe(value)}"
                        f"{F.suggest(str(value), ('valid', 'same'))}") from None
    if n < 0:
        raise ctx.error(f"must be zero or a positive whole number (or valid or same), got {n}")
    return n


def _filters(value: Any, ctx: F.Ctx) -> list:
    """A non-empty list of filters, each a matrix or a list of channel matrices."""
    if not isinstance(value, list) or not value:
        raise ctx.error(f"expected a list of filters (each a matrix, or a list of channel matrices), "
                        f"got {F.describe(value) if value != [] else '[]'}")
    if I._depth(value) == 2:
        raise ctx.error("expected a list of filters, got one matrix; write kernel: for one filter, "
                        "or kernels: [[[…]]] for a list of one")
    if len(value) > ctx.limits.matrix_side:
        raise ctx.error(f"{len(value)} filters is more than the limit of {ctx.limits.matrix_side} "
                        "(limit 'matrix_side')")
    return [I.stack(f, ctx.child(i)) for i, f in enumerate(value)]


FIELDS = F.table(
    image=F.Field(I.stack, required=True),
    kernel=F.Field(I.stack),
    kernels=F.Field(_filters),
    stride=F.Field(I.pair(F.positive_int), 1),
    padding=F.Field(_padding, 0),
    bias=F.Field(F.scalar_or_vector, sympy.Integer(0)),
    activation=F.Field(F.choice(*ACTIVATIONS), "linear"),
    slope=F.Field(F.number),
    flip=F.Field(F.boolean, False),
)


# ---- shapes ------------------------------------------------------------------------------------

def _filter_list(p: Problem) -> list[list]:
    """Each filter as a list of channel matrices."""
    return [I.channels(p.kernel)] if p.kernels is None else [I.channels(f) for f in p.kernels]


def _kernel_path(p: Problem, i: int) -> tuple:
    return ("kernel",) if p.kernels is None else ("kernels", i)


def _pads(p: Problem) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zeros added; `same` splits k − 1 with the extra at the bottom/right."""
    if p.padding == "valid":
        return 0, 0, 0, 0
    if p.padding == "same":
        kh, kw = _ksize(p)
        return (kh - 1) // 2, kh - 1 - (kh - 1) // 2, (kw - 1) // 2, kw - 1 - (kw - 1) // 2
    ph, pw = I.as_pair(p.padding)
    return ph, ph, pw, pw


def _strides(p: Problem) -> tuple[int, int]:
    """(row stride, column stride)."""
    return I.as_pair(p.stride)


def _ksize(p: Problem) -> tuple[int, int]:
    first = _filter_list(p)[0][0]
    return len(first), len(first[0])


def _isize(p: Problem) -> tuple[int, int]:
    first = I.channels(p.image)[0]
    return len(first), len(first[0])


def _out_size(p: Problem) -> tuple[int, int]:
    (h, w), (kh, kw), (sr, sc) = _isize(p), _ksize(p), _strides(p)
    pt, pb, pl, pr = _pads(p)
    return I.out_size(h, pt + pb, kh, sr), I.out_size(w, pl + pr, kw, sc)


def _pad_text(p: Problem) -> str:
    if isinstance(p.padding, str):
        return p.padding
    return I.pair_text(p.padding)


def validate(p: Problem) -> None:
    """One of kernel/kernels; channels, sizes, bias count, slope, `same` with stride 1, fits, output limit."""
    if (p.kernel is None) == (p.kernels is None):
        if p.kernel is None:
            raise p.error("kernel", "required: give kernel (one filter) or kernels (a list of filters)")
        raise p.error("kernels", "give either kernel (one filter) or kernels (a list of filters), not both")
    n_channels = len(I.channels(p.image))
    filters = _filter_list(p)
    for i, f in enumerate(filters):
        if len(f) != n_channels:
            what = "the kernel" if p.kernels is None else f"filter {i}"
            raise p.error(_kernel_path(p, i), f"{what} has {_count(len(f), 'channel')} but the image has "
                                              f"{n_channels}; give one kernel matrix per image channel")
        if (len(f[0]), len(f[0][0])) != _ksize(p):
            raise p.error(_kernel_path(p, i), f"filter {i} is {I.size_text(len(f[0]), len(f[0][0]))}, filter 0 is "
                                              f"{I.size_text(*_ksize(p))}: all filters must have the same size")
    if isinstance(p.bias, list) and len(p.bias) != len(filters):
        if p.kernels is None:
            raise p.error("bias", f"one kernel takes one bias (a number), got a list of {len(p.bias)}")
        raise p.error("bias", f"expected one bias per filter ({len(filters)}), got {len(p.bias)}")
    if p.slope is not None and p.activation != "leaky_relu":
        raise p.error("slope", "slope only applies to activation leaky_relu")
    if p.padding == "same" and _strides(p) != (1, 1):
        raise p.error("padding", f"padding 'same' needs stride 1, as in PyTorch (got stride {I.pair_text(p.stride)}); "
                                 "give the padding as a number to use a larger stride")
    _check_fit(p, filters)


def _check_fit(p: Problem, filters: list) -> None:
    """The kernel must fit in the padded image; the padded image and the output stay within the limits."""
    (h, w), (kh, kw) = _isize(p), _ksize(p)
    pt, pb, pl, pr = _pads(p)
    side = p.ctx.limits.matrix_side
    if max(h + pt + pb, w + pl + pr) > side:
        raise p.error("padding", f"the padded image would be {I.size_text(h + pt + pb, w + pl + pr)}, more than the "
                                 f"limit of {side} rows or columns (limit 'matrix_side')")
    if kh > h + pt + pb or kw > w + pl + pr:
        raise p.error(_kernel_path(p, 0), f"the {I.size_text(kh, kw)} kernel is larger than the padded image "
                                          f"({I.size_text(h + pt + pb, w + pl + pr)}: the image is "
                                          f"{I.size_text(h, w)}, padding {_pad_text(p)})")
    oh, ow = _out_size(p)
    total = oh * ow * len(filters)
    if total > p.ctx.limits.numbers:
        raise p.error("image", f"the output would have {total:,} numbers, more than the limit of "
                               f"{p.ctx.limits.numbers:,} (limit 'numbers')")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


# ---- exact arithmetic ----------------------------------------------------------------------------

def _padded(p: Problem) -> list[list[list]]:
    """The image channels with zeros added around them."""
    pt, pb, pl, pr = _pads(p)
    out = []
    for ch in I.channels(p.image):
        w = len(ch[0]) + pl + pr
        zero = sympy.Integer(0)
        rows = [[zero] * w for _ in range(pt)]
        rows += [[zero] * pl + list(r) + [zero] * pr for r in ch]
        rows += [[zero] * w for _ in range(pb)]
        out.append(rows)
    return out


def _rot180(m: list[list]) -> list[list]:
    return [list(reversed(r)) for r in reversed(m)]


def _to_int_array(stack: list, d: int) -> np.ndarray:
    """Exact rationals times their common denominator d, as a Python-int object array."""
    return np.array([[[int(v * d) for v in row] for row in ch] for ch in stack], dtype=object)


def _correlate(x: list, f: list, stride: tuple[int, int], out: tuple[int, int]) -> list[list[sympy.Rational]]:
    """Exact Σ_c Σ_u,v x[c, s·i+u, s·j+v]·f[c, u, v]: integers over one common denominator, slice by slice."""
    dx, df = I.common_denominator(I.flat(x)), I.common_denominator(I.flat(f))
    xi, fi = _to_int_array(x, dx), _to_int_array(f, df)
    big = max(abs(int(v)) for v in xi.flat) * max(abs(int(v)) for v in fi.flat) * fi.size
    if big < 2**62:
        xi, fi = xi.astype(np.int64), fi.astype(np.int64)
    (oh, ow), (sr, sc) = out, stride
    acc = np.zeros((oh, ow), dtype=xi.dtype)
    if acc.dtype == object:
        acc[:] = 0
    for c in range(fi.shape[0]):
        for u in range(fi.shape[1]):
            for v in range(fi.shape[2]):
                k = fi[c, u, v]
                if k:
                    acc = acc + k * xi[c, u:u + sr * (oh - 1) + 1:sr, v:v + sc * (ow - 1) + 1:sc]
    d = dx * df
    return [[sympy.Rational(int(a), d) for a in row] for row in acc]


def _activate(z: Any, p: Problem) -> Any:
    """The activation of one exact value."""
    if p.activation == "relu":
        return z if z > 0 else sympy.Integer(0)
    if p.activation == "leaky_relu":
        return z if z > 0 else _slope(p) * z
    if p.activation == "sigmoid":
        return 1 / (1 + sympy.exp(-z))
    if p.activation == "tanh":
        return sympy.tanh(z)
    return z


def _slope(p: Problem) -> sympy.Rational:
    return p.slope if p.slope is not None else sympy.Rational(1, 100)


def _has_bias_or_act(p: Problem) -> bool:
    """True when the output differs from the sum of products (a bias or a nonlinear activation)."""
    return any(b != 0 for b in _biases(p)) or p.activation != "linear"


def _biases(p: Problem) -> list:
    n = len(_filter_list(p))
    return list(p.bias) if isinstance(p.bias, list) else [p.bias] * n


# ---- the derivation ------------------------------------------------------------------------------

def solve(p: Problem) -> Solution:
    """Output size, padding, the sliding sum with worked entries and a figure, bias and activation, meaning."""
    s = Solution(p)
    filters = [[_rot180(ch) for ch in f] if p.flip else f for f in _filter_list(p)]
    oh, ow = _out_size(p)
    _size_step(s, p, oh, ow)
    if p.flip:
        _flip_step(s, p, filters)
    x = _padded(p)
    if any(_pads(p)):
        _pad_step(s, p, x)
    responses = [_correlate(x, f, _strides(p), (oh, ow)) for f in filters]
    biases = _biases(p)
    outputs = [[[_activate(z + b, p) for z in row] for row in r] for r, b in zip(responses, biases)]
    focus = _focus(responses[0])
    _rule_step(s, p, x, filters, outputs, focus)
    _entry_steps(s, p, x, filters, responses, biases, focus)
    if _has_bias_or_act(p):
        _bias_step(s, p, responses, biases, outputs)
    single = p.kernels is None
    rest = (f" The output matrices of filters {SHOWN_OUTPUTS} to {len(filters) - 1} are in the answers."
            if len(filters) > SHOWN_OUTPUTS else "")
    s.step("The output", *[chain(Latex("Y" if single else f"Y_{{{n}}}"), y, approx_digits=p.digits)
                           for n, y in enumerate(outputs[:SHOWN_OUTPUTS])],
           text=f"{'The output is' if single else 'Each filter gives one output matrix,'} "
                f"{oh}×{ow}" + ("." if single else f"; {len(filters)} filters give an output of shape "
                                                    f"[{len(filters)}, {oh}, {ow}].") + rest)
    s.answer("output", outputs[0] if single else outputs, symbol="Y")
    s.answer("output_shape", [len(filters), oh, ow], symbol=r"\text{shape}")
    _notes(s, p, filters, responses, biases)
    return s


def _size_step(s: Solution, p: Problem, oh: int, ow: int) -> None:
    """⌊(n + 2p − k)/s⌋ + 1, substituted, for the height and the width."""
    (h, w), (kh, kw), (sr, sc) = _isize(p), _ksize(p), _strides(p)
    pt, pb, pl, pr = _pads(p)
    lines = []
    axes = [("H", h, pt, pb, kh, sr, oh), ("W", w, pl, pr, kw, sc, ow)]
    if (h, pt, pb, kh, sr) == (w, pl, pr, kw, sc):
        axes = [("H = W", h, pt, pb, kh, sr, oh)]
    for name, n, a, b, k, st, o in axes:
        lhs = name.replace("H", r"H_{\text{out}}").replace("W", r"W_{\text{out}}")
        if a == b:
            formula = r"\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1"
            sub = r"\left\lfloor \frac{%d + 2 \cdot %d - %d}{%d} \right\rfloor + 1" % (n, a, k, st)
        else:
            formula = r"\left\lfloor \frac{n + p_{\text{before}} + p_{\text{after}} - k}{s} \right\rfloor + 1"
            sub = r"\left\lfloor \frac{%d + %d + %d - %d}{%d} \right\rfloor + 1" % (n, a, b, k, st)
        lines.append(chain(Latex(lhs + " = " + formula), Latex(sub), o))
    n_ch, n_f = len(I.channels(p.image)), len(_filter_list(p))
    text = (f"The image is {n_ch} × {h}×{w} (channels × rows × columns), each filter {n_ch} × {kh}×{kw}; "
            f"stride {I.pair_text(p.stride)}, padding {_pad_text(p)}. A window position is counted for every "
            "place the kernel fits inside the padded image.")
    if p.padding == "same":
        text += (f" Same padding (stride 1) adds k − 1 zeros in total along each axis, {pt} before and {pb} after "
                 "the rows, " f"{pl} before and {pr} after the columns"
                 + (" (an even kernel puts the extra one at the bottom and right, as PyTorch)" if pt != pb or pl != pr
                    else "") + ", so the output keeps the input's size.")
    s.step("Output size", *lines, text=text + f" With {_count(n_f, 'filter')} the output shape is "
                                            f"[{n_f}, {oh}, {ow}] (filters, rows, columns).")


def _flip_step(s: Solution, p: Problem, filters: list) -> None:
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
    sup = ([] if p.kernels is None else [f"({n})"]) + ([r"\text{flipped}"] if flipped else [])
    return "K" + ("^{" + ",".join(sup) + "}" if sup else "") + (f"_{{{c}}}" if n_channels > 1 else "")


def _pad_step(s: Solution, p: Problem, x: list) -> None:
    """The padded channels (large ones elided)."""
    pt, pb, pl, pr = _pads(p)
    lines = [chain(Latex(r"X^{\text{pad}}" + (f"_{{{c}}}" if len(x) > 1 else "")), ch)
             for c, ch in enumerate(x[:SHOWN_CHANNELS])]
    more = f" (channels {SHOWN_CHANNELS} to {len(x) - 1} likewise)" if len(x) > SHOWN_CHANNELS else ""
    sides = [f"{n} {what}{'s' if n != 1 else ''} at the {where}" for n, what, where in
             ((pt, "row", "top"), (pb, "row", "bottom"), (pl, "column", "left"), (pr, "column", "right")) if n]
    s.step("Pad the input with zeros", *lines,
           text=f"Add zeros around {'every channel' if len(x) > 1 else 'the image'}{more}: " + ", ".join(sides) + ".")


def _focus(response: list[list]) -> tuple[int, int]:
    """The entry whose receptive field the figure shows: the strongest response (first in reading order)."""
    peak = max(abs(v) for row in response for v in row)
    for i, row in enumerate(response):
        for j, v in enumerate(row):
            if abs(v) == peak:
                return i, j
    return 0, 0


def _rule_step(s: Solution, p: Problem, x: list, filters: list, outputs: list, focus: tuple[int, int]) -> None:
    """The sliding sum as a formula, and the figure of one receptive field."""
    (sr, sc), multi = _strides(p), len(x) > 1
    row = "i" if sr == 1 else f"{sr}i"
    col = "j" if sc == 1 else f"{sc}j"
    ch_sum, ch_idx = (r"\sum_{c}", "c,") if multi else ("", "")
    z = r"r_{i,j}" if _has_bias_or_act(p) else r"y_{i,j}"
    xs = r"X^{\text{pad}}" if any(_pads(p)) else "X"
    rule = Latex(rf"{z} = {ch_sum}\sum_{{u,v}} {xs}_{{{ch_idx}{row}+u,\,{col}+v}}\, K_{{{ch_idx}u,v}}")
    text = ("Slide the kernel over the " + ("padded " if any(_pads(p)) else "") + "input"
            + (f" with stride {I.pair_text(p.stride)} ({I.step_text(p.stride)})" if _strides(p) != (1, 1) else "")
            + ": at each position multiply the overlapping numbers element by element and add them up"
            + (" over all channels" if multi else "")
            + ". This is cross-correlation, as PyTorch's conv2d computes it"
            + (" (here with the flipped kernel)." if p.flip else " (the kernel is not flipped)."))
    figure = _figure(p, x, filters, outputs, focus)
    if figure is not None:
        text += f" The figure shows the window of output entry ({focus[0]}, {focus[1]})."
    s.step("Slide the kernel", rule, text=text, figure=figure)


def _figure(p: Problem, x: list, filters: list, outputs: list, focus: tuple[int, int]) -> Latex | None:
    """Input, kernel and output with the receptive field of `focus` highlighted (small problems only)."""
    if len(x[0]) > FIGURE_SIDE or len(x[0][0]) > FIGURE_SIDE or len(x) > SHOWN_CHANNELS:
        return None
    (i, j), (sr, sc), (kh, kw) = focus, _strides(p), _ksize(p)
    pt, pb, pl, pr = _pads(p)
    height, width = len(x[0]), len(x[0][0])
    padding = {(r, c) for r in range(height) for c in range(width)
               if r < pt or r >= height - pb or c < pl or c >= width - pr}
    window = {(i * sr + u, j * sc + v): I.HIGHLIGHT for u in range(kh) for v in range(kw)}
    multi = len(x) > 1
    rows = []
    for c, ch in enumerate(x):
        xname = "X" + (f"_{{{c}}}" if multi else "") + (r"^{\text{pad}}" if any(_pads(p)) else "")
        kname = _kname(p, 0, c, len(x), flipped=p.flip)
        rows.append([I.Grid(xname, ch, dict(window), faint=padding, boxes=[(i * sr, j * sc, kh, kw)]),
                     r"\star", I.Grid(kname, filters[0][c])])
    yname = "Y" if p.kernels is None else "Y_{0}"
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


def _entry_steps(s: Solution, p: Problem, x: list, filters: list, responses: list, biases: list,
                 focus: tuple[int, int]) -> None:
    """Element-wise products and their sums for chosen entries."""
    oh, ow = len(responses[0]), len(responses[0][0])
    lines = []
    for i, j in _worked(p, oh, ow, focus):
        lines += _entry_lines(p, x, filters[0], i, j, responses[0][i][j],
                              "" if p.kernels is None else "^{(0)}")
    for n in range(1, min(len(filters), SHOWN_FILTERS)):
        lines += _entry_lines(p, x, filters[n], 0, 0, responses[n][0][0], f"^{{({n})}}")
    every = oh * ow * len(filters)
    shown = len(_worked(p, oh, ow, focus)) + min(len(filters), SHOWN_FILTERS) - 1
    rest = "" if shown >= every else " The other entries follow the same rule; all of them are in the output below."
    s.step("Worked entries", *lines,
           text="Each entry is the sum of the element-wise products of the kernel and the window under it"
                + (", grouped by kernel row" if _taps(filters[0]) <= 27 else "")
                + (" and channel" if len(x) > 1 else "") + "." + rest)


def _taps(f: list) -> int:
    return len(f) * len(f[0]) * len(f[0][0])


def _entry_lines(p: Problem, x: list, f: list, i: int, j: int, z: Any, tag: str) -> list[Latex]:
    """y_{i,j} = (x·k + …) + (…) = row sums = value: wrapped over lines that fit the page."""
    (sr, sc), kh, kw = _strides(p), len(f[0]), len(f[0][0])
    lhs = ("r" if _has_bias_or_act(p) else "y") + tag + f"_{{{i},{j}}}"
    if _taps(f) > 27:
        xs = r"X^{\text{pad}}" if any(_pads(p)) else "X"
        ch = "" if len(x) == 1 else r"\sum_c "
        window = Latex(rf"{ch}\sum \left({xs}_{{{i * sr}:{i * sr + kh - 1},\ {j * sc}:{j * sc + kw - 1}}} "
                       r"\odot K\right)")
        return [chain(Latex(lhs), window, z)]
    lines, sums = [], []
    for c in range(len(f)):
        groups = []
        for u in range(kh):
            terms = [(x[c][i * sr + u][j * sc + v], f[c][u][v]) for v in range(kw)]
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


def _bias_step(s: Solution, p: Problem, responses: list, biases: list, outputs: list) -> None:
    """Add the bias, then apply the activation."""
    lines = []
    act = {"relu": r"\max(0, z)", "leaky_relu": rf"\max({tex(_slope(p))}\,z, z)",
           "sigmoid": r"\sigma(z) = \frac{1}{1 + e^{-z}}", "tanh": r"\tanh(z)"}.get(p.activation)
    for n, (r, b, y) in enumerate(zip(responses[:SHOWN_FILTERS], biases, outputs)):
        tag = "" if p.kernels is None else f"_{{{n}}}"
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
    text += (f"; then apply the activation {p.activation} entry by entry." if act else ".")
    if p.activation == "relu":
        text += " ReLU keeps positive values and sets the others to 0."
    s.step(("Bias and activation" if has_bias else "Activation") if act else "Bias", *lines, text=text)


def _notes(s: Solution, p: Problem, filters: list, responses: list, biases: list) -> None:
    """For each filter recognised in the catalogue, what it detects and where it responds in this image."""
    image = [[sympy.Add(*vals) for vals in zip(*rows)] for rows in zip(*I.channels(p.image))]
    pt, pb, pl, pr = _pads(p)
    window = (*_strides(p), pt, pl) + _ksize(p)
    plain = p.activation == "linear"
    for n, f in enumerate(filters):
        if any(ch != f[0] for ch in f):
            continue
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


# ---- independent recomputation ---------------------------------------------------------------------

def recompute(p: Problem) -> dict[str, Any]:
    """float64 NumPy: pad, sliding windows, einsum, bias, activation."""
    x = np.array(I.channels(p.image), dtype=float)
    pt, pb, pl, pr = _pads(p)
    x = np.pad(x, ((0, 0), (pt, pb), (pl, pr)))
    w = np.array(_filter_list(p), dtype=float)
    if p.flip:
        w = w[:, :, ::-1, ::-1]
    (sr, sc), (kh, kw) = _strides(p), w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sr, ::sc]
    z = np.einsum("chwuv,fcuv->fhw", windows, w) + np.array([float(b) for b in _biases(p)])[:, None, None]
    slope = float(_slope(p))
    y = {"linear": lambda a: a, "relu": lambda a: np.maximum(a, 0.0),
         "leaky_relu": lambda a: np.where(a > 0, a, slope * a),
         "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)), "tanh": np.tanh}[p.activation](z)
    return {"output": y[0] if p.kernels is None else y, "output_shape": list(y.shape)}
