"""Kind `conv2d`: cross-correlation (as PyTorch's conv2d) of a channels-first image with one or more filters.

The geometry and exact arithmetic live in `_conv_core`, the worked steps in `_conv_steps`.
"""
from __future__ import annotations

from typing import Any

import sympy

from .. import fields as F
from ..errors import SpecError
from ..kind import AnswerSpec, Kind, delegate
from ..problem import Problem
from ..latex import Latex
from ..slipkit import Answers, Slip
from ..solution import Solution
from . import _conv_back as B
from . import _conv_core as C
from . import _conv_entries as E
from . import _conv_grid as R
from . import _conv_grad as G
from . import _conv_numeric as N
from . import _conv_slips as L
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
    dilation=F.Field(I.pair(F.positive_int), 1),
    groups=F.Field(F.positive_int, 1),
    bias=F.Field(F.scalar_or_vector, sympy.Integer(0)),
    activation=F.Field(F.choice(*ELEMENTWISE), "linear"),
    slope=F.Field(F.number),
    flip=F.Field(F.boolean, False),
    upstream=F.Field(I.stack),
)


def validate(p: Problem) -> None:
    """One of kernel/kernels; groups, channels, sizes, bias count, slope, `same` with stride 1, fits, output limit,
    the upstream's shape."""
    v = p.fields
    if (v.kernel is None) == (v.kernels is None):
        if v.kernel is None:
            raise p.error("kernel", "required: give kernel (one filter) or kernels (a list of filters)")
        raise p.error("kernels", "give either kernel (one filter) or kernels (a list of filters), not both")
    n_channels = len(I.channels(v.image))
    filters = C.filter_list(p)
    _check_groups(p, n_channels, len(filters))
    for i, f in enumerate(filters):
        if len(f) != n_channels // v.groups:
            what = "the kernel" if v.kernels is None else f"filter {i}"
            if v.groups == 1:
                raise p.error(C.kernel_path(p, i), f"{what} has {C.count(len(f), 'channel')} but the image has "
                                                   f"{n_channels}; give one kernel matrix per image channel")
            raise p.error(C.kernel_path(p, i), f"{what} has {C.count(len(f), 'channel')} but groups {v.groups} "
                                               f"gives each filter {n_channels} / {v.groups} = {n_channels // v.groups}"
                                               " of the image's channels; give one kernel matrix per channel of its "
                                               "group")
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
    _check_upstream(p, len(filters))


def _check_groups(p: Problem, n_channels: int, n_filters: int) -> None:
    """groups must divide the image's channels and the number of filters."""
    g = p.fields.groups
    if n_channels % g:
        raise p.error("groups", f"groups {g} does not divide the image's {C.count(n_channels, 'channel')}: "
                                "each group needs the same number of channels")
    if n_filters % g:
        one = " (kernel: is one filter; give kernels: for more)" if p.fields.kernels is None else ""
        raise p.error("groups", f"groups {g} does not divide the {C.count(n_filters, 'filter')}{one}: "
                                "each group needs the same number of filters")


def _check_upstream(p: Problem, n_filters: int) -> None:
    """The upstream gradient has the output's shape: a matrix for kernel, one matrix per filter for kernels."""
    if p.fields.upstream is None:
        return
    oh, ow = C.output_size(p)
    want = (oh, ow) if p.fields.kernels is None else (n_filters, oh, ow)
    got = F.shape(p.fields.upstream)
    if got != want:
        what = "rows × columns" if len(want) == 2 else "filters × rows × columns"
        raise p.error("upstream", f"expected the output's shape, {F.shape_text(want)} ({what}), "
                                  f"got {F.shape_text(got)}")


def _check_fit(p: Problem, filters: list) -> None:
    """The kernel must fit in the padded image; the padded image and the output stay within the limits."""
    (h, w), (kh, kw), (eh, ew) = C.isize(p), C.ksize(p), C.span(p)
    pt, pb, pl, pr = C.pads(p)
    side = p.ctx.limits.matrix_side
    if max(h + pt + pb, w + pl + pr) > side:
        raise p.error("padding", f"the padded image would be {I.size_text(h + pt + pb, w + pl + pr)}, more than the "
                                 f"limit of {side} rows or columns (limit 'matrix_side')")
    spans = "" if (eh, ew) == (kh, kw) else f" (dilation {I.pair_text(p.fields.dilation)}: it spans " \
                                              f"{I.size_text(eh, ew)})"
    if eh > h + pt + pb or ew > w + pl + pr:
        raise p.error(C.kernel_path(p, 0), f"the {I.size_text(kh, kw)} kernel{spans} is larger than the padded image "
                                           f"({I.size_text(h + pt + pb, w + pl + pr)}: the image is "
                                           f"{I.size_text(h, w)}, padding {C.pad_text(p)})")
    oh, ow = C.output_size(p)
    total = oh * ow * len(filters)
    if total > p.ctx.limits.numbers:
        raise p.error("image", f"the output would have {total:,} numbers, more than the limit of "
                               f"{p.ctx.limits.numbers:,} (limit 'numbers')")


# ---- the derivation ------------------------------------------------------------------------------

def solve(p: Problem) -> Solution:
    """Output size, padding, the sliding sum with worked entries and a figure, bias and activation, meaning; with
    upstream, the backward pass."""
    s = Solution(p)
    x, filters, responses, pre, outputs = C.forward(p)
    oh, ow = C.output_size(p)
    S.size_step(s, p, oh, ow)
    focus = S.focus_entry(responses[0])
    figure = S.figure(p, x, filters, outputs, focus)
    if p.fields.kernels is not None or figure is None:
        S.filters_step(s, p)
    if p.fields.flip:
        S.flip_step(s, p, filters)
    if any(C.pads(p)):
        S.pad_step(s, p, x)
    biases = C.biases(p)
    S.rule_step(s, p, figure, focus)
    E.entry_steps(s, p, x, filters, responses, focus)
    if p.fields.activation != "linear":
        S.bias_step(s, p, responses, biases, outputs)
    S.output_step(s, p, outputs, oh, ow)
    s.answer("output", outputs[0] if p.fields.kernels is None else outputs, symbol="Y",
             display=R.answer_display(outputs if p.fields.kernels is not None else outputs[0], lambda n: f"Y_{{{n}}}",
                                      "channel", p.digits))
    s.answer("output_shape", [len(filters), oh, ow], symbol=r"\text{shape}")
    if p.fields.upstream is not None:
        back = G.backward(p, x, filters, pre)
        B.backward_steps(s, p, x, filters, pre, responses, back)
        for name, (value, approximate) in G.answers(p, back).items():
            s.answer(name, value, approximate=approximate, symbol=B.SYMBOLS[name],
                     display=_grad_display(p, name, value))
    S.notes(s, p, filters, responses, biases)
    return s


def _grad_display(p: Problem, name: str, value: Any) -> Latex | None:
    """The answers box's rows for a gradient too wide for one line (per image channel, or per filter)."""
    if name == "grad_image":
        return R.answer_display(value, lambda c: rf"\partial L/\partial X_{{{c}}}", "channel", p.digits)
    if name == "grad_kernel":
        return R.answer_display(value, lambda c: rf"\partial L/\partial K_{{{c}}}", "channel", p.digits)
    if name == "grad_kernels":
        return R.answer_display(value, lambda n: rf"\partial L/\partial K^{{({n})}}", "channel", p.digits)
    return None


class Conv2d(Kind):
    """Cross-correlation (or, with flip, true convolution) of a channels-first image with one or more filters."""

    name = "conv2d"
    summary = "2-D cross-correlation (PyTorch's conv2d) with stride, padding, bias and activation"
    fields = FIELDS
    answers = {"output": AnswerSpec(),
               "output_shape": AnswerSpec(count=True, shape=True),
               "grad_image": AnswerSpec(depends=("output",)),
               "grad_kernel": AnswerSpec(depends=("output",)),
               "grad_kernels": AnswerSpec(depends=("output",)),
               "grad_bias": AnswerSpec(depends=("output",))}
    slips = (
        Slip("kernel_flip", "the kernel flipped or not", L.kernel_flip),
        Slip("conv_bias_sign", "the sign of the conv bias flipped", L.bias_sign),
        Slip("conv_activation_skipped", "ReLU skipped after a convolution", L.activation_skipped),
        Slip("conv_size_off_by_one", "an off-by-one in the conv output size", L.size_off_by_one),
        Slip("conv_grad_kernel_unflipped", "the kernel not flipped in the full convolution of ∂L/∂X",
             L.grad_kernel_unflipped),
        Slip("conv_grad_derivative_skipped", "the upstream gradient not multiplied by the activation's derivative",
             L.derivative_skipped),
        Slip("conv_grad_bias_averaged", "∂L/∂b averaged over the positions instead of summed", L.bias_grad_averaged),
    )
    examples = (
        {"image": [[10, 10, 10, 0, 0, 0]] * 6, "kernel": [[1, 0, -1]] * 3},
        {"image": [[[1, 2, 0, 1], [0, 1, 3, 2], [2, 1, 1, 0], [1, 0, 2, 3]],
                   [[0, 1, 1, 0], [2, 0, 1, 1], [1, 3, 0, 2], [0, 1, 2, 1]]],
         "kernels": [[[[1, -1], [0, 2]], [[0, 1], [-1, 1]]], [[[2, 0], [1, -1]], [[1, 1], [0, -2]]]],
         "stride": 2, "padding": 1, "bias": [1, -2], "activation": "relu"},
        {"image": [[1, -2, 0.5], [0, 3, -1], [2, -1, 1]], "kernel": [[1, 2], [-1, 0.5]],
         "padding": "same", "bias": -1, "activation": "leaky_relu", "slope": 0.1, "flip": True},
        {"image": [[1, 2, 0, 1], [0, 1, 3, 2], [2, 1, 1, 0], [1, 0, 2, 3]], "kernel": [[1, -1], [2, 0]],
         "bias": 1, "activation": "relu", "upstream": [[1, -1, 2], [0, 1, 1], [2, 0, -1]]},
        {"image": [[[1, 2, 0, 1, 1], [0, 1, 3, 2, 0], [2, 1, 1, 0, 1], [1, 0, 2, 3, 2], [0, 1, 1, 0, 1]],
                   [[0, 1, 1, 0, 2], [2, 0, 1, 1, 0], [1, 3, 0, 2, 1], [0, 1, 2, 1, 0], [1, 0, 0, 1, 2]]],
         "kernels": [[[1, -1], [0, 2]], [[0, 1], [-1, 1]]], "groups": 2, "stride": 2, "padding": 1,
         "dilation": [1, 2], "bias": [0.5, -1], "activation": "sigmoid", "flip": True,
         "upstream": [[[1, 0, -1], [2, 1, 0], [0, 1, 1]], [[1, 1, 0], [0, -1, 2], [1, 0, 1]]]},
    )
    positional = ("image", "kernel")

    validate = delegate()
    solve = delegate()
    recompute = delegate(N)

    def answer_names(self, p: Problem) -> list[str]:
        """The forward answers; with upstream, the gradients too (grad_kernel or grad_kernels)."""
        return ["output", "output_shape"] + (G.grad_names(p) if p.fields.upstream is not None else [])

    follow = delegate(L)   # SPEC §12: redo an answer from the student's own earlier ones

    def given(self, p: Problem) -> list[tuple[str, Latex]]:
        """The question sheet's data, without dilation 1 and groups 1 (the defaults a plain conv never mentions)."""
        quiet = {"dilation": I.as_pair(p.fields.dilation) == (1, 1), "groups": p.fields.groups == 1}
        base = [(label, value) for label, value in super().given(p) if not quiet.get(label, False)]
        v, raw = p.fields, p.raw
        word = "channel" if p.fields.kernels is None else "filter"
        return R.sheet_given(base, {
            "image": lambda: R.sheet_stack("image", v.image, raw.get("image"), "channel"),
            "kernel": lambda: R.sheet_stack("kernel", v.kernel, raw.get("kernel"), "channel"),
            "kernels": lambda: R.filter_sheet("kernels", v.kernels, raw.get("kernels")),
            "upstream": lambda: R.sheet_stack("upstream", v.upstream, raw.get("upstream"), word)})


KIND = Conv2d()
