"""Kind `conv2d`: cross-correlation (as PyTorch's conv2d) of a channels-first image with one or more filters.

The geometry and exact arithmetic live in `_conv_core`, the worked steps in `_conv_steps`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..errors import SpecError
from ..kind import AnswerSpec, Kind
from ..problem import Problem
from ..slipkit import Answers, Slip, Variant, negated, nonzero, setting
from ..solution import Solution
from . import _conv_core as C
from . import _conv_steps as S
from . import _images as I
from ._activations import ELEMENTWISE


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
    if I.depth(value) == 2:
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
    activation=F.Field(F.choice(*ELEMENTWISE), "linear"),
    slope=F.Field(F.number),
    flip=F.Field(F.boolean, False),
)


def validate(p: Problem) -> None:
    """One of kernel/kernels; channels, sizes, bias count, slope, `same` with stride 1, fits, output limit."""
    v = p.fields
    if (v.kernel is None) == (v.kernels is None):
        if v.kernel is None:
            raise p.error("kernel", "required: give kernel (one filter) or kernels (a list of filters)")
        raise p.error("kernels", "give either kernel (one filter) or kernels (a list of filters), not both")
    n_channels = len(I.channels(v.image))
    filters = C.filter_list(p)
    for i, f in enumerate(filters):
        if len(f) != n_channels:
            what = "the kernel" if v.kernels is None else f"filter {i}"
            raise p.error(C.kernel_path(p, i), f"{what} has {C.count(len(f), 'channel')} but the image has "
                                               f"{n_channels}; give one kernel matrix per image channel")
        if (len(f[0]), len(f[0][0])) != C.ksize(p):
            raise p.error(C.kernel_path(p, i), f"filter {i} is {I.size_text(len(f[0]), len(f[0][0]))}, filter 0 "
                                               f"is {I.size_text(*C.ksize(p))}: all filters must have the same size")
    if isinstance(v.bias, list) and len(v.bias) != len(filters):
        if v.kernels is None:
            raise p.error("bias", f"one kernel takes one bias (a number), got a list of {len(v.bias)}")
        raise p.error("bias", f"expected one bias per filter ({len(filters)}), got {len(v.bias)}")
    if v.slope is not None and v.activation != "leaky_relu":
        raise p.error("slope", "slope only applies to activation leaky_relu")
    if v.padding == "same" and C.strides(p) != (1, 1):
        raise p.error("padding", f"padding 'same' needs stride 1, as in PyTorch (got stride {I.pair_text(v.stride)}); "
                                 "give the padding as a number to use a larger stride")
    _check_fit(p, filters)


def _check_fit(p: Problem, filters: list) -> None:
    """The kernel must fit in the padded image; the padded image and the output stay within the limits."""
    (h, w), (kh, kw) = C.isize(p), C.ksize(p)
    pt, pb, pl, pr = C.pads(p)
    side = p.ctx.limits.matrix_side
    if max(h + pt + pb, w + pl + pr) > side:
        raise p.error("padding", f"the padded image would be {I.size_text(h + pt + pb, w + pl + pr)}, more than the "
                                 f"limit of {side} rows or columns (limit 'matrix_side')")
    if kh > h + pt + pb or kw > w + pl + pr:
        raise p.error(C.kernel_path(p, 0), f"the {I.size_text(kh, kw)} kernel is larger than the padded image "
                                           f"({I.size_text(h + pt + pb, w + pl + pr)}: the image is "
                                           f"{I.size_text(h, w)}, padding {C.pad_text(p)})")
    oh, ow = C.output_size(p)
    total = oh * ow * len(filters)
    if total > p.ctx.limits.numbers:
        raise p.error("image", f"the output would have {total:,} numbers, more than the limit of "
                               f"{p.ctx.limits.numbers:,} (limit 'numbers')")


# ---- the derivation ------------------------------------------------------------------------------

def solve(p: Problem) -> Solution:
    """Output size, padding, the sliding sum with worked entries and a figure, bias and activation, meaning."""
    s = Solution(p)
    filters = [[C.rot180(ch) for ch in f] if p.fields.flip else f for f in C.filter_list(p)]
    oh, ow = C.output_size(p)
    S.size_step(s, p, oh, ow)
    if p.fields.flip:
        S.flip_step(s, p, filters)
    x = C.padded(p)
    if any(C.pads(p)):
        S.pad_step(s, p, x)
    responses = [C.correlate(x, f, C.strides(p), (oh, ow)) for f in filters]
    biases = C.biases(p)
    outputs = [[[C.activate(z + b, p) for z in row] for row in r] for r, b in zip(responses, biases)]
    focus = S.focus_entry(responses[0])
    S.rule_step(s, p, x, filters, outputs, focus)
    S.entry_steps(s, p, x, filters, responses, biases, focus)
    if C.has_bias_or_act(p):
        S.bias_step(s, p, responses, biases, outputs)
    S.output_step(s, p, outputs, oh, ow)
    s.answer("output", outputs[0] if p.fields.kernels is None else outputs, symbol="Y")
    s.answer("output_shape", [len(filters), oh, ow], symbol=r"\text{shape}")
    S.notes(s, p, filters, responses, biases)
    return s


# ---- independent recomputation ---------------------------------------------------------------------

def recompute(p: Problem) -> dict[str, Any]:
    """float64 NumPy: pad, sliding windows, einsum, bias, activation."""
    x = np.array(I.channels(p.fields.image), dtype=float)
    pt, pb, pl, pr = C.pads(p)
    x = np.pad(x, ((0, 0), (pt, pb), (pl, pr)))
    w = np.array(C.filter_list(p), dtype=float)
    if p.fields.flip:
        w = w[:, :, ::-1, ::-1]
    (sr, sc), (kh, kw) = C.strides(p), w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sr, ::sc]
    z = np.einsum("chwuv,fcuv->fhw", windows, w) + np.array([float(b) for b in C.biases(p)])[:, None, None]
    slope = float(C.slope(p))
    y = {"linear": lambda a: a, "relu": lambda a: np.maximum(a, 0.0),
         "leaky_relu": lambda a: np.where(a > 0, a, slope * a),
         "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)), "tanh": np.tanh}[p.fields.activation](z)
    return {"output": y[0] if p.fields.kernels is None else y, "output_shape": list(y.shape)}


# ---- slips ------------------------------------------------------------------------------------------

def kernel_flip(p: Problem, answers: Answers) -> list[Variant]:
    """True convolution where cross-correlation was asked, or the reverse."""
    if p.fields.flip:
        return [Variant("the kernel not flipped (cross-correlation) where true convolution was asked",
                        modify=setting(flip=False))]
    return [Variant("the kernel flipped (true convolution) where cross-correlation was asked (PyTorch's conv2d "
                    "does not flip)", modify=setting(flip=True))]


def bias_sign(p: Problem, answers: Answers) -> list[Variant]:
    """The sign of the conv bias flipped."""
    if not nonzero(p.fields.bias):
        return []
    return [Variant("the sign of the bias flipped", modify=setting(bias=negated(p.fields.bias)))]


def activation_skipped(p: Problem, answers: Answers) -> list[Variant]:
    """The activation of a conv layer left out."""
    if str(p.fields.activation) not in ("relu", "leaky_relu"):
        return []
    return [Variant(f"the {p.fields.activation} skipped (the raw cross-correlation plus bias given)",
                    modify=setting(activation="linear", slope=None))]


def size_off_by_one(p: Problem, answers: Answers) -> list[Variant]:
    """(n + 2p − k)/s instead of (n + 2p − k)/s + 1, or one too many."""
    out = []
    for delta in (-1, 1):
        def transform(_p: Problem, a: Answers, d: int = delta) -> Answers:
            f, h, w = a["output_shape"]
            return {"output_shape": [f, h + d, w + d]}
        out.append(Variant(f"the output size off by one ((n + 2p − k)/s + 1 {'− 1' if delta < 0 else '+ 1'})",
                           transform=transform))
    return out


class Conv2d(Kind):
    """Cross-correlation (or, with flip, true convolution) of a channels-first image with one or more filters."""

    name = "conv2d"
    summary = "2-D cross-correlation (PyTorch's conv2d) with stride, padding, bias and activation"
    fields = FIELDS
    answers = {"output": AnswerSpec(),
               "output_shape": AnswerSpec(count=True, shape=True)}
    slips = (
        Slip("kernel_flip", "the kernel flipped or not", kernel_flip),
        Slip("conv_bias_sign", "the sign of the conv bias flipped", bias_sign),
        Slip("conv_activation_skipped", "ReLU skipped after a convolution", activation_skipped),
        Slip("conv_size_off_by_one", "an off-by-one in the conv output size", size_off_by_one),
    )
    examples = (
        {"image": [[10, 10, 10, 0, 0, 0]] * 6, "kernel": [[1, 0, -1]] * 3},
        {"image": [[[1, 2, 0, 1], [0, 1, 3, 2], [2, 1, 1, 0], [1, 0, 2, 3]],
                   [[0, 1, 1, 0], [2, 0, 1, 1], [1, 3, 0, 2], [0, 1, 2, 1]]],
         "kernels": [[[[1, -1], [0, 2]], [[0, 1], [-1, 1]]], [[[2, 0], [1, -1]], [[1, 1], [0, -2]]]],
         "stride": 2, "padding": 1, "bias": [1, -2], "activation": "relu"},
        {"image": [[1, -2, 0.5], [0, 3, -1], [2, -1, 1]], "kernel": [[1, 2], [-1, 0.5]],
         "padding": "same", "bias": -1, "activation": "leaky_relu", "slope": 0.1, "flip": True},
    )
    positional = ("image", "kernel")

    validate = staticmethod(validate)
    solve = staticmethod(solve)
    recompute = staticmethod(recompute)


KIND = Conv2d()
