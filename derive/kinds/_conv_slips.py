"""conv2d's slips (forward: the kernel flipped or not, the bias's sign, the activation skipped, the size off by one;
backward: the kernel not flipped in ∂L/∂X, f′ left out of δ, ∂L/∂b averaged) and its follow-through."""
from __future__ import annotations

from typing import Any, Callable

import sympy

from ..problem import Problem
from ..slipkit import Answers, Variant, negated, nonzero, setting
from . import _conv_core as C
from . import _conv_grad as G
from . import _images as I


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
    """The activation of a conv layer left out of the forward pass (its output only)."""
    if str(p.fields.activation) not in ("relu", "leaky_relu"):
        return []
    return [Variant(f"the {p.fields.activation} skipped (the raw cross-correlation plus bias given)",
                    modify=setting(activation="linear", slope=None, upstream=None))]


def size_off_by_one(p: Problem, answers: Answers) -> list[Variant]:
    """(n + 2p − k)/s instead of (n + 2p − k)/s + 1, or one too many."""
    out = []
    for delta in (-1, 1):
        def transform(_p: Problem, a: Answers, d: int = delta) -> Answers:
            """The shape with both sizes off by d."""
            f, h, w = a["output_shape"]
            return {"output_shape": [f, h + d, w + d]}
        out.append(Variant(f"the output size off by one ((n + 2p − k)/s + 1 {'− 1' if delta < 0 else '+ 1'})",
                           transform=transform))
    return out


# ---- the backward pass --------------------------------------------------------------------------------

def _redone(flipped: bool = True, ones: bool = False) -> Callable[[Problem, Answers], Answers]:
    """A transform: the gradients computed again with the kernel unflipped in ∂L/∂X, or with f′ taken as 1."""
    def transform(q: Problem, a: Answers) -> Answers:
        """The gradients of the backward pass done that way."""
        if q.fields.upstream is None:         # another slip (the activation skipped) dropped the backward pass
            return {}
        x, used, _, pre, _ = C.forward(q)
        derivs = [[[sympy.Integer(1) for _ in row] for row in zf] for zf in pre] if ones else None
        back = G.backward(q, x, used, pre, derivs=derivs, flipped=flipped)
        return {name: value for name, (value, _) in G.answers(q, back).items()}
    return transform


def grad_kernel_unflipped(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂X as the full cross-correlation of δ with the kernel itself, not the flipped kernel."""
    if "grad_image" not in answers or all(ch == C.rot180(ch) for f in C.filter_list(p) for ch in f):
        return []
    only = _only("grad_image")
    return [Variant("the kernel not flipped in ∂L/∂X: δ slid over with K itself instead of the kernel rotated "
                    "by 180° (the full convolution)", transform=only(_redone(flipped=False)))]


def derivative_skipped(p: Problem, answers: Answers) -> list[Variant]:
    """δ = G: the upstream gradient not multiplied by the activation's derivative."""
    if "grad_image" not in answers or p.fields.activation == "linear":
        return []
    return [Variant(f"the upstream gradient not multiplied by the {p.fields.activation}'s derivative "
                    "(δ = G instead of G ⊙ f′(Z))", transform=_redone(ones=True))]


def bias_grad_averaged(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂b as the mean of δ over the positions, not the sum."""
    oh, ow = C.output_size(p)
    if "grad_bias" not in answers or oh * ow == 1:
        return []
    n = oh * ow

    def transform(_q: Problem, a: Answers) -> Answers:
        """grad_bias divided by the number of positions."""
        if "grad_bias" not in a:
            return {}
        value = a["grad_bias"]
        return {"grad_bias": [v / n for v in value] if isinstance(value, list) else value / n}
    return [Variant(f"∂L/∂b averaged over the {n} output positions instead of summed", transform=transform)]


def _only(*names: str) -> Callable:
    """Keep only some answers of a transform (the slip reaches those and no other)."""
    def wrap(transform: Callable[[Problem, Answers], Answers]) -> Callable[[Problem, Answers], Answers]:
        """The transform restricted to those answers."""
        return lambda q, a: {k: v for k, v in transform(q, a).items() if k in names}
    return wrap


# ---- follow-through ------------------------------------------------------------------------------------

def follow(p: Problem, answer: str, given: Answers) -> Any:
    """A gradient redone from the student's own output: δ = G ⊙ f′ written through y (y(1 − y), 1 − y², y > 0)."""
    if "output" not in given or p.fields.activation == "linear" or answer not in G.grad_names(p):
        return None
    outputs = [given["output"]] if p.fields.kernels is None else list(given["output"])
    derivs = [[[G.derivative_from_output(y, p) for y in row] for row in yf] for yf in outputs]
    if any(v is None for v in I.flat(derivs)):
        return None
    x, used, _, pre, _ = C.forward(p)
    return G.answers(p, G.backward(p, x, used, pre, derivs=derivs))[answer][0]
