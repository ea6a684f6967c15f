"""The slips of kind `optimizer`: each one the whole run again with torch's rule changed as the slip changes it."""
from __future__ import annotations

from typing import Any, Callable

from ..kind import Answers, Slip, Variant
from ..problem import Problem
from . import _optimizer_math as M
from ._layers import settle
from ._optimizer_math import ZERO


def answers_of(p: Problem, flags: M.Flags) -> Answers:
    """Every answer of the problem as the changed rule gives it (params and state after each step)."""
    h = M.hyper(p)
    steps = M.run(h, M.flat(p.fields.params), [M.flat(g) for g in p.fields.grads], flags)
    like = p.fields.params
    out = {"params": settle([M.shaped(st.after, like) for st in steps])[0]}
    for name in M.STATE[h.method]:
        out[name] = settle([M.shaped(st.state[name], like) for st in steps])[0]
    return out


def rerun(**flags: Any) -> Callable[[Problem, Answers], Answers]:
    """A transform: the answers with torch's rule changed by `flags`."""
    return lambda p, _a: answers_of(p, M.Flags(**flags))


def step_sign(p: Problem, answers: Answers) -> list[Variant]:
    """θ + η·u: the step added instead of subtracted."""
    return [Variant("the step added instead of subtracted: θ_t = θ_{t−1} + η·u_t (a step uphill)",
                    transform=rerun(sign=1))]


def momentum_swapped(p: Problem, answers: Answers) -> list[Variant]:
    """θ − η·g where θ − η·v belongs."""
    if p.fields.method != "momentum":
        return []
    return [Variant("the gradient used where the velocity belongs: θ_t = θ_{t−1} − η·g_t instead of "
                    "θ_{t−1} − η·v_t", transform=rerun(use_grad=True))]


def momentum_ema(p: Problem, answers: Answers) -> list[Variant]:
    """v = μv + (1 − μ)g from the first step: the moving-average form, not torch's."""
    if p.fields.method not in ("momentum", "nesterov"):
        return []
    return [Variant("the velocity as a moving average, v_t = μ·v_{t−1} + (1 − μ)·g_t from v_0 = 0, where torch "
                    "adds the whole gradient (v_1 = g_1, then v_t = μ·v_{t−1} + (1 − dampening)·g_t)",
                    transform=rerun(ema=True))]


def nesterov_plain(p: Problem, answers: Answers) -> list[Variant]:
    """Nesterov's look-ahead left out: the plain momentum step."""
    if p.fields.method != "nesterov":
        return []
    return [Variant("plain momentum where Nesterov's belongs: θ_t = θ_{t−1} − η·v_t instead of "
                    "θ_{t−1} − η·(g_t + μ·v_t)", modify=lambda q: q.with_fields(method="momentum"))]


def dampening_ignored(p: Problem, answers: Answers) -> list[Variant]:
    """The dampening left out of v = μv + (1 − τ)g."""
    if p.fields.method != "momentum" or p.fields.dampening == 0:
        return []
    return [Variant("the dampening left out: v_t = μ·v_{t−1} + g_t instead of "
                    "μ·v_{t−1} + (1 − dampening)·g_t", modify=lambda q: q.with_fields(dampening=ZERO))]


def bias_correction(p: Problem, answers: Answers) -> list[Variant]:
    """Adam's m̂ and v̂ left out (or v̂ only)."""
    if p.fields.method not in ("adam", "adamw"):
        return []
    return [Variant("Adam without bias correction: m_t/(√v_t + ε) instead of m̂_t/(√v̂_t + ε)",
                    transform=rerun(correct="none")),
            Variant("only the first moment bias-corrected: m̂_t/(√v_t + ε) instead of m̂_t/(√v̂_t + ε)",
                    transform=rerun(correct="m"))]


def sqrt_forgotten(p: Problem, answers: Answers) -> list[Variant]:
    """Divided by the accumulated squares, not their square root."""
    names = {"adagrad": "the sum S_t", "rmsprop": "the average s_t", "adam": "v̂_t", "adamw": "v̂_t"}
    if p.fields.method not in names:
        return []
    what = names[p.fields.method]
    return [Variant(f"the square root left out: the gradient divided by {what} + ε instead of by √({what}) + ε",
                    transform=rerun(no_sqrt=True))]


def alpha_swapped(p: Problem, answers: Answers) -> list[Variant]:
    """RMSprop's α and 1 − α swapped."""
    if p.fields.method != "rmsprop":
        return []
    return [Variant("α and 1 − α swapped: s_t = (1 − α)·s_{t−1} + α·g_t² instead of "
                    "α·s_{t−1} + (1 − α)·g_t²", transform=rerun(swap_alpha=True))]


def decay_misplaced(p: Problem, answers: Answers) -> list[Variant]:
    """Weight decay coupled where AdamW decouples it, or applied to the params where torch adds it to g."""
    method = p.fields.method
    if p.fields.weight_decay == 0 or method == "sgd":
        return []
    if method == "adamw":
        return [Variant("the weight decay added to the gradient (Adam's L2 penalty) where AdamW decouples it: "
                        "g_t + λ·θ_{t−1} inside m and v", transform=rerun(decay="coupled")),
                Variant("the decoupled decay without the learning rate: θ·(1 − λ) instead of θ·(1 − η·λ)",
                        transform=rerun(decay="no_lr"))]
    return [Variant("the weight decay applied to the params beside the step (θ·(1 − η·λ), as AdamW does) where "
                    f"torch's {method} adds λ·θ to the gradient", transform=rerun(decay="decoupled"))]


def decay_forgotten(p: Problem, answers: Answers) -> list[Variant]:
    """The weight decay left out."""
    if p.fields.weight_decay == 0:
        return []
    return [Variant("the weight decay left out", transform=rerun(decay="none"))]


SLIPS = (
    Slip("optimizer_step_sign", "the optimizer's step added instead of subtracted", step_sign),
    Slip("momentum_swapped", "the gradient used where the velocity belongs", momentum_swapped),
    Slip("momentum_ema", "momentum as a moving average (1 − μ)·g instead of torch's", momentum_ema),
    Slip("nesterov_plain", "plain momentum where Nesterov's look-ahead belongs", nesterov_plain),
    Slip("dampening_ignored", "the dampening left out of the velocity", dampening_ignored),
    Slip("bias_correction_forgotten", "Adam without bias correction", bias_correction),
    Slip("sqrt_forgotten", "the square root left out of an adaptive step", sqrt_forgotten),
    Slip("rmsprop_alpha_swapped", "α and 1 − α swapped in RMSprop's average", alpha_swapped),
    Slip("weight_decay_forgotten", "the weight decay left out", decay_forgotten),
    Slip("weight_decay_misplaced", "weight decay coupled where it is decoupled, or the reverse", decay_misplaced),
)
