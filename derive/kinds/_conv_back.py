"""conv2d's backward pass worked as a teacher writes it: δ through the activation, ∂L/∂b as a sum, ∂L/∂K as the
input cross-correlated with δ, ∂L/∂X as the full convolution of δ with the flipped kernel, and a check."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Latex, chain, decimal, decimals, is_plain
from ..problem import Problem
from ..solution import Solution
from . import _conv_core as C
from . import _conv_grad as G
from . import _conv_grid as R
from . import _images as I

SHOWN = 3               # filters (and channels) whose backward matrices are written out
LISTED_TERMS = 16       # a sum with more terms is written by its rule and its value only
SHOWN_SIDE = 14         # larger intermediate matrices (dilated, padded δ) are described, not written
DL = r"\frac{\partial L}{\partial %s}"
SYMBOLS = {"grad_image": r"\partial L/\partial X", "grad_kernel": r"\partial L/\partial K",
           "grad_kernels": r"\partial L/\partial K", "grad_bias": r"\partial L/\partial b"}
DERIVATIVES = {
    "relu": "$\\operatorname{{relu}}'(z)$ is 1 where $z > 0$ and 0 elsewhere ($\\operatorname{{relu}}'(0) = 0$, as "
            "PyTorch).",
    "leaky_relu": "$\\operatorname{{lrelu}}'(z)$ is 1 where $z > 0$ and the slope {slope} elsewhere "
                  "($\\operatorname{{lrelu}}'(0) = {slope}$, as PyTorch).",
    "sigmoid": "$\\sigma'(z) = \\sigma(z)(1 - \\sigma(z)) = y(1 - y)$.",
    "tanh": "$\\tanh'(z) = 1 - \\tanh^2(z) = 1 - y^2$.",
}


def backward_steps(s: Solution, p: Problem, x: list, used: list, pre: list, responses: list,
                   back: G.Backward) -> None:
    """The four backward steps and the check."""
    delta_step(s, p, pre, back)
    bias_step(s, p, back)
    kernel_step(s, p, x, back)
    image_step(s, p, used, back)
    check(s, p, x, used, responses, back)


def _tag(p: Problem, n: int) -> str:
    """`_{n}` with several filters, else nothing."""
    return "" if p.fields.kernels is None else f"_{{{n}}}"


def mat_line(lhs: str, m: Any, digits: int) -> Latex:
    """`lhs = M` when every entry is a plain number, else `lhs ≈ M` in decimals (the exact values are answers)."""
    if all(is_plain(v) for v in I.flat(m)):
        return chain(Latex(lhs), m)
    return Latex(lhs + r" \approx " + decimals(m, digits))


def value_line(lhs: Latex, listed: Latex | None, v: Any, digits: int) -> Latex:
    """`lhs = listed = v` for a plain number, else `lhs ≈ decimal` (the exact value is in the answers)."""
    if is_plain(v):
        return chain(lhs, listed, v)
    return Latex(lhs + r" \approx " + decimal(v, digits))


def kname(p: Problem, n: int, c: int | None, *marks: str) -> str:
    """K with the filter (n) and marks as one superscript and the channel as the subscript: K^{(0),flipped}_{1}."""
    sup = ([] if p.fields.kernels is None else [f"({n})"]) + [rf"\text{{{m}}}" for m in marks]
    sub = f"_{{{c}}}" if c is not None and len(C.filter_list(p)[0]) > 1 else ""
    return "K" + ("^{" + ",".join(sup) + "}" if sup else "") + sub


def _count(total: int) -> int:
    """How many filters (or channels) are written out: all when at most one more than SHOWN, else SHOWN."""
    return total if total <= SHOWN + 1 else SHOWN


def _shown(items: list) -> list:
    """The filters or channels written out."""
    return items[:_count(len(items))]


def delta_step(s: Solution, p: Problem, pre: list, back: G.Backward) -> None:
    """δ = G ⊙ f'(Z), filter by filter."""
    act, lines = p.fields.activation, []
    for n, g in enumerate(_shown(back.upstream)):
        t = _tag(p, n)
        if back.derivs is None:
            lines.append(chain(Latex(rf"\delta{t} = \frac{{\partial L}}{{\partial Z{t}}} = G{t}"), g))
            continue
        lines.append(mat_line(f"f'(Z{t})", back.derivs[n], p.digits))
        lines.append(mat_line(rf"\delta{t} = G{t} \odot f'(Z{t})", back.deltas[n], p.digits))
    rest = _rest(len(back.upstream), "filters")
    if back.derivs is None:
        text = ("$G = \\partial L/\\partial Y$ is the upstream gradient, given at the output. The activation is "
                "linear ($f' = 1$), so $\\delta = \\partial L/\\partial Z = G$.")
    else:
        text = ("G = ∂L/∂Y is the upstream gradient, given at the output, after the activation. Each output entry "
                "is $y = f(z)$, so the chain rule multiplies G entry by entry by $f'(z)$: "
                "$\\delta = \\partial L/\\partial Z = G \\odot f'(Z)$. "
                + DERIVATIVES[act].format(slope=I.value_text(C.slope(p))) + _kinks(p, pre))
    s.step("Backward: through the activation", *lines, text=text + rest)


def _kinks(p: Problem, pre: list) -> str:
    """Where Z is exactly 0 under a ReLU, which derivative was taken there (as PyTorch)."""
    if p.fields.activation not in ("relu", "leaky_relu"):
        return ""
    at = [(n, i, j) for n, zf in enumerate(pre) for i, row in enumerate(zf) for j, z in enumerate(row) if z == 0]
    if not at:
        return ""
    where = ", ".join(f"({i}, {j})" if p.fields.kernels is None else f"filter {n} ({i}, {j})" for n, i, j in at[:4])
    more = f" and {len(at) - 4} more" if len(at) > 4 else ""
    value = "0" if p.fields.activation == "relu" else I.value_text(C.slope(p))
    return f" Here Z is exactly 0 at {where}{more}: the derivative there is taken as {value}."


def _rest(total: int, what: str) -> str:
    """` (Filters 3 to 5 likewise.)`, ` (Filter 3 likewise.)` when some are not written out."""
    if _count(total) == total:
        return ""
    return f" ({R.span_text(what.rstrip('s'), SHOWN, total - 1).capitalize()} likewise.)"


def bias_step(s: Solution, p: Problem, back: G.Backward) -> None:
    """∂L/∂b = Σ δ over every position."""
    lines = []
    for n, (d, gb) in enumerate(zip(_shown(back.deltas), back.grad_bias)):
        sup = "" if p.fields.kernels is None else f"^{{({n})}}"
        lhs = DL % f"b{_tag(p, n)}" + rf" = \sum_{{i,j}} \delta{sup}_{{i,j}}"
        terms = I.flat(d)
        listed = None
        if len(terms) <= LISTED_TERMS and all(is_plain(v) for v in terms):
            listed = Latex(" ".join(I.signed(v, k == 0) for k, v in enumerate(terms)))
        lines.append(value_line(Latex(lhs), listed, gb, p.digits))
    oh, ow = C.output_size(p)
    s.step("Gradient of the bias", *lines,
           text=f"The bias is added to every entry of its filter's output, so ∂L/∂b collects δ from all {oh * ow} "
                "positions: their sum (not their mean)." + _rest(len(back.deltas), "filters"))


def _index(step: int, var: str, dil: int, tap: str) -> str:
    """`2i + u`, `i + 2u`: where tap `tap` of window `var` reads the padded input."""
    return ("" if step == 1 else str(step)) + var + " + " + ("" if dil == 1 else str(dil)) + tap


def kernel_step(s: Solution, p: Problem, x: list, back: G.Backward) -> None:
    """∂L/∂K[c, u, v] = Σ_ij δ[i, j]·X^pad[c, s·i + d·u, s·j + d·v]: the input cross-correlated with δ."""
    (sr, sc), (dr, dc) = C.strides(p), C.dilations(p)
    xs = r"X^{\text{pad}}" if any(C.pads(p)) else "X"
    several = len(back.grad_used[0]) > 1
    ch = "c," if several else ""
    rule = Latex(DL % f"K_{{{ch}u,v}}" + rf" = \sum_{{i,j}} \delta_{{i,j}}\, {xs}_{{{ch}{_index(sr, 'i', dr, 'u')},\,"
                 rf"{_index(sc, 'j', dc, 'v')}}}")
    lines = [rule, _kernel_entry(p, x, back)]
    marks = ("flipped",) if p.fields.flip else ()
    for n, f in enumerate(_shown(back.grad_used)):
        lines += R.named_lines(DL % kname(p, n, None, *marks), f if len(f) > 1 else f[0], "channel", p.digits)
    text = ("Each weight K[c, u, v] multiplied one input entry in every window, so its gradient adds δ times that "
            "entry over all window positions: ∂L/∂K is the cross-correlation of the "
            + ("padded " if any(C.pads(p)) else "") + "input with δ (δ is the window, slid over the input).")
    if (sr, sc) != (1, 1):
        text += (f" With stride {I.pair_text(p.fields.stride)} neighbouring δ entries read input entries "
                 f"{I.step_text(p.fields.stride)} apart (δ dilated by the stride).")
    if (dr, dc) != (1, 1):
        text += (f" With dilation {I.pair_text(p.fields.dilation)} neighbouring taps start "
                 f"{I.step_text(p.fields.dilation)} apart.")
    if C.groups(p) > 1:
        text += " Each filter's gradient uses only the channels of its own group."
    if p.fields.flip:
        text += (" The forward pass slid the flipped kernel, so these are its gradients; the kernel as given gets "
                 "them rotated back by 180°.")
        lines += [mat_line(DL % kname(p, n, None) + r" = \operatorname{rot180}\left("
                           + DL % kname(p, n, None, "flipped") + r"\right)", f if several else f[0], p.digits)
                  for n, f in enumerate(_shown(back.grad_kernels))]
    s.step("Gradient of the kernel: the input cross-correlated with δ", *lines, text=text + _rest(
        len(back.grad_used), "filters"))


def _kernel_entry(p: Problem, x: list, back: G.Backward) -> Latex:
    """∂L/∂K[0, 0, 0] of filter 0 written out as δ·x products (or its value alone when long)."""
    (sr, sc), c0 = C.strides(p), C.group_channels(p, 0)[0]
    d = back.deltas[0]
    terms = [(d[i][j], x[c0][i * sr][j * sc]) for i in range(len(d)) for j in range(len(d[0]))]
    several = len(back.grad_used[0]) > 1
    name = kname(p, 0, None, *(("flipped",) if p.fields.flip else ())) + ("_{0,0,0}" if several else "_{0,0}")
    lhs, value = Latex(DL % name), back.grad_used[0][0][0][0]
    if len(terms) > LISTED_TERMS or not all(is_plain(a) for a, _ in terms):
        return value_line(lhs, None, value, p.digits)
    body = " + ".join(f"{I.paren(a)} \\cdot {I.paren(b)}" for a, b in terms)
    return value_line(lhs, Latex(body), value, p.digits)


def image_step(s: Solution, p: Problem, used: list, back: G.Backward) -> None:
    """∂L/∂X: δ dilated by the stride and padded, the kernel flipped, the full convolution, the padding cropped."""
    (sr, sc), (eh, ew) = C.strides(p), C.span(p)
    lines, readers = [], G.readers(p, 0)
    n0 = readers[0][0]
    t = _tag(p, n0)
    if (sr, sc) != (1, 1):
        lines.append(_maybe(rf"\tilde{{\delta}}{t} = \operatorname{{dilate}}_{{s}}(\delta{t})",
                            G.dilate(back.deltas[n0], (sr, sc)), p.digits))
    spread = G.spread(p, back.deltas[n0])
    lines.append(_maybe(rf"\tilde{{\delta}}{t}^{{\text{{pad}}}}", spread, p.digits))
    marks = (("flipped",) if p.fields.flip else ()) + (("dil",) if C.dilations(p) != (1, 1) else ())
    pairs = [pair for c in range(_count(len(back.grad_image))) for pair in G.readers(p, c)]
    for n, k in _shown(list(dict.fromkeys(pairs))):
        lines.append(chain(Latex(rf"\operatorname{{rot180}}({kname(p, n, k, *marks)})"),
                           G.flipped_kernel(p, used[n][k])))
    lines += _image_results(p, back)
    s.step("Gradient of the image: full convolution with the flipped kernel", *lines, text=_image_text(p, back))


def _maybe(lhs: str, m: list, digits: int) -> Latex:
    """A matrix line, or its size alone when it is too large to be worth writing."""
    if len(m) > SHOWN_SIDE or len(m[0]) > SHOWN_SIDE:
        return Latex(lhs + r" \in \mathbb{R}^{%d \times %d}" % (len(m), len(m[0])))
    return mat_line(lhs, m, digits)


def _image_results(p: Problem, back: G.Backward) -> list[Latex]:
    """Per image channel: the full convolution (in the padded frame) and the cropped gradient."""
    lines, multi = [], len(back.grad_image) > 1
    padded = any(C.pads(p))
    for c in range(_count(len(back.grad_image))):
        sub = f"_{{{c}}}" if multi else ""
        pairs = G.readers(p, c)
        marks = ("flipped",) if p.fields.flip else ()
        terms = " + ".join(rf"\tilde{{\delta}}{_tag(p, n)}^{{\text{{pad}}}} \star \operatorname{{rot180}}"
                           rf"({kname(p, n, k, *marks)})" for n, k in pairs) if len(pairs) <= 3 else \
            r"\sum_{f} \tilde{\delta}_{f}^{\text{pad}} \star \operatorname{rot180}(K_{f})"
        target = (r"X^{\text{pad}}" if padded else "X") + sub
        lines.append(mat_line(DL % target + " = " + terms, back.grad_padded[c], p.digits))
        if padded:
            lines.append(mat_line(DL % f"X{sub}", back.grad_image[c], p.digits))
    if _count(len(back.grad_image)) < len(back.grad_image):
        lines.append(Latex(r"\text{%s likewise}" % R.span_text("channel", SHOWN, len(back.grad_image) - 1)))
    return lines


def _image_text(p: Problem, back: G.Backward) -> str:
    """What the full convolution does, and what stride, dilation, groups and padding add."""
    (sr, sc), (eh, ew) = C.strides(p), C.span(p)
    text = ("Each input entry fed every window that covers it, through the weight at its place in that window, so "
            "∂L/∂X adds δ times that weight over those windows. As one operation this is the full convolution of δ "
            f"with the kernel: pad δ with {'the span' if C.dilations(p) != (1, 1) else 'k'} − 1 zeros on every side "
            f"({C.count(eh - 1, 'row')}, {C.count(ew - 1, 'column')}), then slide "
            "the kernel rotated by 180° over it (cross-correlation with the flipped kernel).")
    if (sr, sc) != (1, 1):
        text += (f" With stride {I.pair_text(p.fields.stride)}, δ is first dilated by the stride (s − 1 zeros between "
                 "its entries), so each δ sits where its window started.")
    if C.dilations(p) != (1, 1):
        text += (" The kernel is dilated too (d − 1 zeros between its taps) before it is rotated, so it spans "
                 f"{eh}×{ew}.")
    if any(len(G.readers(p, c)) > 1 for c in range(len(back.grad_image))):
        text += " Every filter that reads a channel adds its own term."
    elif C.groups(p) > 1:
        text += " Each channel is read by the filters of its group only, so only their terms appear."
    rows, cols = len(back.grad_padded[0]) - len(back.full[0]), len(back.grad_padded[0][0]) - len(back.full[0][0])
    if rows or cols:
        text += (" The last " + " and ".join(([f"{rows} row(s)"] if rows else []) + ([f"{cols} column(s)"] if cols
                                                                                       else []))
                 + " of the input were in no window, so their gradient is 0.")
    if p.fields.flip:
        text += " (The forward pass used the flipped kernel; flipping it again gives the kernel as given.)"
    if any(C.pads(p)):
        text += (" This is the gradient of the padded input; the padding is not part of the input, so it is "
                 "cropped off.")
    return text


def check(s: Solution, p: Problem, x: list, used: list, responses: list, back: G.Backward) -> None:
    """Σ δ·(Z − b) = Σ K·∂L/∂K = Σ X·∂L/∂X: each is Σ δ·K·x over every product of the forward pass."""
    values = I.flat(back.deltas) + I.flat(back.grad_used) + I.flat(back.grad_padded)
    if not all(isinstance(v, (int, sympy.Rational)) for v in values):
        return
    by_delta = sum((a * b for d, r in zip(back.deltas, responses) for a, b in zip(I.flat(d), I.flat(r))),
                   sympy.Integer(0))
    by_kernel = sum((a * b for k, g in zip(used, back.grad_used) for a, b in zip(I.flat(k), I.flat(g))),
                    sympy.Integer(0))
    by_image = sum((a * b for a, b in zip(I.flat(x), I.flat(back.grad_padded))), sympy.Integer(0))
    if not by_delta == by_kernel == by_image:
        raise AssertionError(f"{p.id}: the backward pass is inconsistent ({by_delta}, {by_kernel}, {by_image})")
    total = I.value_text(by_delta)
    s.check(f"$\\sum \\delta \\odot (Z - b) = \\sum K \\odot \\partial L/\\partial K = \\sum X \\odot \\partial L/"
            f"\\partial X$ {'' if total.startswith('≈') else '= '}{total}: each adds δ·k·x over every product of the "
            "forward pass.")
