"""Kind `pool`: max or average pooling, per channel, with PyTorch's padding and ceil_mode; with `upstream`, the
backward pass (max: to the first maximum in reading order; avg: shared equally)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex
from ..problem import Problem
from ..slipkit import Answers, Slip, Variant, setting
from ..solution import Solution
from . import _conv_grid as R
from . import _images as I
from . import _pool_core as P
from . import _pool_steps as S

FIELDS = F.table(
    image=F.Field(I.stack, required=True),
    size=F.Field(I.pair(F.positive_int), required=True),
    stride=F.Field(I.pair(F.positive_int)),
    mode=F.Field(F.choice("max", "avg"), "max"),
    padding=F.Field(I.pair(F.nonnegative_int), 0),
    ceil_mode=F.Field(F.boolean, False),
    upstream=F.Field(I.stack),
)


def validate(p: Problem) -> None:
    """Padding at most half the window; the window fits in the (padded) image; the upstream has the output's shape."""
    (h, w), (kh, kw), (ph, pw) = P.isize(p), P.size(p), P.padding(p)
    if 2 * ph > kh or 2 * pw > kw:
        most = I.pair_text((kh // 2, kw // 2))
        raise p.error("padding", f"padding {I.pair_text(p.fields.padding)} is more than half the "
                                 f"{I.size_text(kh, kw)} window (at most {most}, as PyTorch)")
    if (kh > h + 2 * ph or kw > w + 2 * pw) and not (p.fields.ceil_mode and min(P.output_size(p)) >= 1):
        if p.fields.ceil_mode:
            raise p.error("size", f"the {I.size_text(kh, kw)} window is larger than the "
                                  f"{'padded ' if (ph, pw) != (0, 0) else ''}image "
                                  f"({I.size_text(h + 2 * ph, w + 2 * pw)}) and even ceil_mode gives it no position")
        if (ph, pw) == (0, 0):
            raise p.error("size", f"the {I.size_text(kh, kw)} window is larger than the {I.size_text(h, w)} image "
                                  "(pooling never pads)")
        raise p.error("size", f"the {I.size_text(kh, kw)} window is larger than the padded image "
                              f"({I.size_text(h + 2 * ph, w + 2 * pw)})")
    if p.fields.upstream is not None:
        oh, ow = P.output_size(p)
        n = len(I.channels(p.fields.image))
        want = (oh, ow) if I.is_bare(p.fields.image) else (n, oh, ow)
        if F.shape(p.fields.upstream) != want:
            what = "rows × columns" if len(want) == 2 else "channels × rows × columns"
            raise p.error("upstream", f"expected the output's shape, {F.shape_text(want)} ({what}), "
                                      f"got {F.shape_text(F.shape(p.fields.upstream))}")


def solve(p: Problem) -> Solution:
    """Sizes, each window and its max or mean (with a figure), the pooled output; with upstream, ∂L/∂X."""
    s = Solution(p)
    chans = I.channels(p.fields.image)
    pooled = [P.pool(ch, p) for ch in chans]
    S.size_step(s, p)
    S.window_step(s, p, chans, pooled)
    bare = I.is_bare(p.fields.image)
    outputs = [v for v, _ in pooled]
    S.output_step(s, p, outputs)
    s.answer("output", outputs[0] if bare else outputs, symbol="Y",
             display=R.answer_display(outputs[0] if bare else outputs, lambda c: f"Y_{{{c}}}", "channel", p.digits))
    if p.fields.upstream is not None:
        grads = [P.backward(ch, g, p) for ch, g in zip(chans, P.upstream_list(p))]
        S.backward_step(s, p, chans, pooled, grads)
        s.answer("grad_image", grads[0] if bare else grads, symbol=r"\partial L/\partial X",
                 display=R.answer_display(grads[0] if bare else grads, lambda c: rf"\partial L/\partial X_{{{c}}}",
                                          "channel", p.digits))
        _check_grads(s, p, grads)
    if p.fields.mode == "max":
        s.check("Every output entry is one of the numbers of its window, and no number of the window is larger.")
    return s


def _check_grads(s: Solution, p: Problem, grads: list) -> None:
    """Max routes every upstream entry whole; an average keeps all but the padding's share."""
    total = sympy.Add(*I.flat(grads))
    upstream = sympy.Add(*I.flat(P.upstream_list(p)))
    if p.fields.mode == "max" or not P.touches_padding(p):
        if total != upstream:
            raise AssertionError(f"{p.id}: the gradient adds to {total}, the upstream to {upstream}")
        s.check(f"The gradient adds up to the upstream's total, {I.value_text(total)}: pooling passes every "
                "upstream entry on whole" + (" (to one entry of its window)." if p.fields.mode == "max" else "."))


# ---- independent recomputation ---------------------------------------------------------------------

def recompute(p: Problem) -> dict[str, Any]:
    """float64 NumPy: pad (−∞ for max, 0 for avg), loop over windows clipped to the padded input, scatter back."""
    x = np.array(I.channels(p.fields.image), dtype=float)
    (kh, kw), (sr, sc), (ph, pw), (oh, ow) = P.size(p), P.stride(p), P.padding(p), P.output_size(p)
    fill = -np.inf if p.fields.mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    y = np.zeros((x.shape[0], oh, ow))
    g = None if p.fields.upstream is None else np.array(p.fields.upstream, dtype=float).reshape(y.shape)
    gp = np.zeros_like(xp)
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * sr:i * sr + kh, j * sc:j * sc + kw]      # numpy clips a window past the padded edge
            flat = win.reshape(win.shape[0], -1)
            if p.fields.mode == "max":
                k = flat.argmax(axis=1)                               # argmax keeps the first of equal values
                y[:, i, j] = flat[np.arange(len(k)), k]
                if g is not None:
                    for c, kk in enumerate(k):
                        gp[c, i * sr + kk // win.shape[2], j * sc + kk % win.shape[2]] += g[c, i, j]
            else:
                y[:, i, j] = flat.sum(axis=1) / flat.shape[1]
                if g is not None:
                    gp[:, i * sr:i * sr + kh, j * sc:j * sc + kw] += (g[:, i, j] / flat.shape[1])[:, None, None]
    out = {"output": y[0] if I.is_bare(p.fields.image) else y}
    if g is not None:
        gx = gp[:, ph:ph + x.shape[1], pw:pw + x.shape[2]]
        out["grad_image"] = gx[0] if I.is_bare(p.fields.image) else gx
    return out


# ---- slips ------------------------------------------------------------------------------------------

MODE_WORDS = {"max": "max pooling", "avg": "average pooling"}


def pool_mode(p: Problem, answers: Answers) -> list[Variant]:
    """Max pooling where average was asked, or the reverse."""
    other = "avg" if p.fields.mode == "max" else "max"
    return [Variant(f"{MODE_WORDS[other]} used instead of {MODE_WORDS[p.fields.mode]}", modify=setting(mode=other))]


def _grads(route: str = "", include_pad: bool = True) -> Callable[[Problem, Answers], Answers]:
    """A transform: ∂L/∂X computed again with another routing of the upstream gradient."""
    def transform(q: Problem, a: Answers) -> Answers:
        """grad_image routed that way."""
        chans = I.channels(q.fields.image)
        grads = [P.backward(ch, g, q, route, include_pad) for ch, g in zip(chans, P.upstream_list(q))]
        return {"grad_image": grads[0] if I.is_bare(q.fields.image) else grads}
    return transform


def max_spread(p: Problem, answers: Answers) -> list[Variant]:
    """The max-pool gradient spread over the window instead of sent to its maximum."""
    if p.fields.mode != "max" or "grad_image" not in answers:
        return []
    return [Variant("the max-pool gradient shared equally over the window (as average pooling) instead of sent to "
                    "the maximum alone", transform=_grads("share")),
            Variant("the max-pool gradient copied to every entry of the window instead of sent to the maximum alone",
                    transform=_grads("copy"))]


def max_ties(p: Problem, answers: Answers) -> list[Variant]:
    """On a tie, the gradient sent to every maximum instead of the first in reading order."""
    if p.fields.mode != "max" or "grad_image" not in answers:
        return []
    if not any(P.has_ties(ch, p) for ch in I.channels(p.fields.image)):
        return []
    return [Variant("on a tie the gradient sent to every maximum of the window instead of the first in reading "
                    "order (PyTorch's rule)", transform=_grads("ties"))]


def avg_undivided(p: Problem, answers: Answers) -> list[Variant]:
    """The avg-pool gradient not divided by the window's count."""
    if p.fields.mode != "avg" or "grad_image" not in answers:
        return []
    return [Variant("the average-pool gradient not divided by the window's count (each entry given the whole "
                    "upstream value)", transform=_grads("copy"))]


def pad_excluded(p: Problem, answers: Answers) -> list[Variant]:
    """An average over the image's entries only (count_include_pad=False), where PyTorch counts the padded zeros."""
    if p.fields.mode != "avg" or not P.touches_padding(p):
        return []

    def transform(q: Problem, a: Answers) -> Answers:
        """The output (and gradient) with the image's entries only counted."""
        chans = I.channels(q.fields.image)
        outputs = [P.pool(ch, q, include_pad=False)[0] for ch in chans]
        out = {"output": outputs[0] if I.is_bare(q.fields.image) else outputs}
        if "grad_image" in a:
            out.update(_grads(include_pad=False)(q, a))
        return out
    return [Variant("the padded zeros left out of the average's count (PyTorch's avg_pool2d counts them)",
                    transform=transform)]


class Pool(Kind):
    """Max or average pooling, per channel, with padding and ceil_mode; with upstream, the backward pass."""

    name = "pool"
    summary = "max or average pooling, per channel, with padding and ceil_mode; with upstream, the backward pass"
    fields = FIELDS
    answers = {"output": AnswerSpec(), "grad_image": AnswerSpec(needs="upstream")}
    # Gradient-only slips come first: where one explains the gradient as well as a slip of the whole pass (the mode
    # swapped), the narrower one is named; a slip that also explains wrong outputs explains more and wins anyway.
    slips = (Slip("pool_max_grad_ties", "the max-pool gradient sent to every tied maximum", max_ties),
             Slip("pool_max_grad_spread", "the max-pool gradient spread over the window", max_spread),
             Slip("pool_avg_grad_undivided", "the avg-pool gradient not divided by the window's count", avg_undivided),
             Slip("pool_pad_excluded", "the padded zeros not counted in an average", pad_excluded),
             Slip("pool_mode", "max pooling for average pooling or the reverse", pool_mode))
    examples = (
        {"image": [[1, 2, 0, 4], [0, 1, 3, 1], [2, 1, 1, 0], [5, 0, 2, 2]], "size": 2},
        {"image": [[[1, 3, 2, 0, 1], [4, 0, 1, 2, 2], [0, 2, 5, 1, 0], [1, 1, 0, 3, 4]],
                   [[2, 0, 1, 1, 3], [0, 1, 0, 2, 1], [3, 1, 2, 0, 0], [1, 4, 1, 1, 2]]],
         "size": [2, 3], "stride": 1, "mode": "avg"},
        {"image": [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]], "size": 3, "padding": 1,
         "stride": 2, "upstream": [[1, 2], [3, 4]]},
        {"image": [[2, 7, 7, 1, 0], [7, 0, 3, 7, 2], [1, 4, 4, 0, 5], [3, 0, 2, 2, 1], [0, 6, 1, 3, 3]],
         "size": 2, "ceil_mode": True, "upstream": [[1, -2, 3], [0.5, 1, 2], [1, 1, -1]]},
        {"image": [[1, 2, 0, 4, 2], [0, 1, 3, 1, 1], [2, 1, 1, 0, 3], [5, 0, 2, 2, 0]], "size": [3, 2],
         "stride": 2, "padding": [1, 0], "mode": "avg", "ceil_mode": True,
         "upstream": [[1, 2, -1], [2, 0, 1], [4, 1, 1]]},
    )
    positional = ("image", "size")

    validate = delegate()
    solve = delegate()
    recompute = delegate()

    def given(self, p: Problem) -> list[tuple[str, Latex]]:
        """The question sheet's data, without padding 0 and ceil_mode false (the defaults)."""
        quiet = {"padding": I.as_pair(p.fields.padding) == (0, 0), "ceil mode": not p.fields.ceil_mode}
        base = [(label, value) for label, value in super().given(p) if not quiet.get(label, False)]
        return R.sheet_given(base, {
            "image": lambda: R.sheet_stack("image", p.fields.image, p.raw.get("image"), "channel"),
            "upstream": lambda: R.sheet_stack("upstream", p.fields.upstream, p.raw.get("upstream"), "channel")})


KIND = Pool()
