"""The slips of dense layers (`forward`, `backprop`): each Slip object is defined once here and listed by both kinds.

A slip that edits a layer works on the typed layer values of `p.fields.layers`, with every drawn weight and bias
written out from the solution's answers first (units × inputs, layout out_in), so that the edited problem draws
nothing and differs from the original only by the slip.
"""
from __future__ import annotations

from typing import Any, Callable

from ..problem import Problem
from ..slipkit import Answers, Slip, Variant, negated, nonzero, setting, transposed
from . import _dense_exact as E
from ._backward import step, stepped
from ._dense_parse import RANDOM


def frozen(layers: list[dict], answers: Answers) -> list[dict]:
    """Copies of the parsed layers with every drawn weight and bias written out (units × inputs, layout out_in).

    Idempotent: layers already written out (by an earlier edit of a pair) are left as they are.
    """
    out = []
    for i, layer in enumerate(layers):
        layer = dict(layer)
        if layer["weights"] == RANDOM or layer["layout"] != "out_in":
            layer.update(weights=answers["weights"][i], layout="out_in")
        if layer["bias"] == RANDOM:
            layer["bias"] = answers["biases"][i]
        out.append(layer)
    return out


def _layer_edit(answers: Answers, i: int, change: Callable[[dict], dict]) -> Callable[[Problem], Problem]:
    """A `modify` that replaces layer i (its drawn values written out) by `change(layer)`."""
    def modify(p: Problem) -> Problem:
        """The problem with layer i changed."""
        layers = frozen(p.fields.layers, answers)
        layers[i] = change(layers[i])
        return p.with_fields(layers=layers)
    return modify


def relu_skipped(p: Problem, answers: Answers) -> list[Variant]:
    """A ReLU (or leaky ReLU) left out: the layer's pre-activation passed on."""
    return [Variant(f"the {layer['activation']} of layers[{i}] skipped (its pre-activation passed on)",
                    modify=_layer_edit(answers, i, lambda l: dict(l, activation="linear", slope=None)))
            for i, layer in enumerate(p.fields.layers) if layer["activation"] in ("relu", "leaky_relu")]


def bias_sign(p: Problem, answers: Answers) -> list[Variant]:
    """The sign of a layer's bias flipped."""
    return [Variant(f"the sign of the bias of layers[{i}] flipped",
                    modify=_layer_edit(answers, i, lambda l, b=bias: dict(l, bias=negated(b))))
            for i, bias in enumerate(answers["biases"]) if nonzero(bias)]


def weight_transpose(p: Problem, answers: Answers) -> list[Variant]:
    """Weight answers written inputs × units, or Wᵀ used for W in the forward pass (a square layer)."""
    out = []
    names = [n for n in ("weights", "grad_weights", "updated_weights") if n in answers]
    if any(transposed(w) != w for w in answers["weights"]):
        out.append(Variant("the weights written inputs × units (the transpose); weight answers are "
                           "units × inputs, as nn.Linear.weight",
                           transform=lambda _p, a: {n: [transposed(w) for w in a[n]] for n in names}))
    for i, w in enumerate(answers["weights"]):
        if len(w) == len(w[0]) and transposed(w) != w:
            out.append(Variant(f"the transpose of the weight matrix of layers[{i}] used (Wᵀ·a instead of W·a)",
                               modify=_layer_edit(answers, i, lambda l, t=transposed(w): dict(l, weights=t))))
    return out


SQUARED = {"mse": "the mean of (ŷ − y)²", "half_mse": "1/2 the mean of (ŷ − y)²", "sse": "the sum of (ŷ − y)²",
           "half_sse": "1/2 the sum of (ŷ − y)²"}


def loss_mean_sum(p: Problem, answers: Answers) -> list[Variant]:
    """The mean instead of the sum (or the reverse), or the ½ forgotten, in a squared-error loss."""
    loss = p.fields.loss
    if loss not in SQUARED:
        return []
    return [Variant(f"the loss taken as {SQUARED[other]} ({other}) instead of {SQUARED[loss]} ({loss})",
                    modify=setting(loss=other)) for other in SQUARED if other != loss]


def _stepped_back(before: Any, after: Any) -> Any:
    """before + (before − after): the step taken the other way (None, no bias, kept)."""
    if before is None or after is None:
        return after
    if isinstance(before, list):
        return [_stepped_back(b, c) for b, c in zip(before, after)]
    return 2 * before - after


def step_sign(p: Problem, answers: Answers) -> list[Variant]:
    """W + η·∂L/∂W: the gradient step added instead of subtracted."""
    if "updated_weights" not in answers:
        return []
    return [Variant("the learning-rate step added instead of subtracted: W + η·∂L/∂W",
                    transform=lambda _p, a: {"updated_weights": _stepped_back(a["weights"], a["updated_weights"]),
                                             "updated_biases": _stepped_back(a["biases"], a["updated_biases"])})]


def _updates(p: Problem, a: Answers, step: Callable[[Any, Any, Any, Any], Any], gw: Any = None,
             gb: Any = None) -> Answers:
    """updated_weights and updated_biases redone as step(before, gradient, η, λ) from the exact answers (the
    gradients `gw`, `gb` when given, else the exact ones)."""
    eta, lam = E.num(p.fields.learning_rate), E.num(p.fields.weight_decay or 0)
    gw = a["grad_weights"] if gw is None else gw
    gb = a["grad_biases"] if gb is None else gb
    return {"updated_weights": E.to_sympy(stepped(a["weights"], gw, eta, lam, step)),
            "updated_biases": E.to_sympy(stepped(a["biases"], gb, eta, lam, step))}


def _plain(b: Any, g: Any, eta: Any, lam: Any) -> Any:
    """b − η·g (no decay)."""
    return E.sub(b, E.mul(eta, g))


def _decay_after(b: Any, g: Any, eta: Any, lam: Any) -> Any:
    """(b − η·g)(1 − ηλ): the decay applied to the stepped value."""
    return E.mul(E.sub(E.ONE, E.mul(eta, lam)), E.sub(b, E.mul(eta, g)))


def _decay_without_lr(b: Any, g: Any, eta: Any, lam: Any) -> Any:
    """b − η·g − λ·b."""
    return E.sub(E.sub(b, E.mul(eta, g)), E.mul(lam, b))


def weight_decay(p: Problem, answers: Answers) -> list[Variant]:
    """Weight decay left out of the update, applied after the step, or not scaled by the learning rate (decay left
    off the biases alone gives, for each bias, what leaving it out gives: the first variant names it)."""
    if "updated_weights" not in answers or not p.fields.weight_decay:
        return []
    return [Variant("weight decay left out of the update: W − η·∂L/∂W instead of W − η·(∂L/∂W + λW)",
                    transform=lambda q, a: _updates(q, a, _plain)),
            Variant("weight decay applied after the step: (W − η·∂L/∂W)(1 − ηλ) instead of W − η·(∂L/∂W + λW)",
                    transform=lambda q, a: _updates(q, a, _decay_after)),
            Variant("weight decay not scaled by the learning rate: W − η·∂L/∂W − λW",
                    transform=lambda q, a: _updates(q, a, _decay_without_lr))]


def l1_sign(p: Problem, answers: Answers) -> list[Variant]:
    """The gradient of |ŷ − y| taken as sign(y − ŷ): every gradient's sign flipped."""
    if p.fields.loss != "l1":
        return []

    def transform(q: Problem, a: Answers) -> Answers:
        """Every gradient negated, and the update taken from the negated ones."""
        flipped = {n: negated(a[n]) for n in ("grad_weights", "grad_biases", "grad_inputs") if n in a}
        return {**flipped, **_updates(q, a, step, flipped["grad_weights"], flipped["grad_biases"])}
    return [Variant("the sign of the l1 gradient reversed: sign(y − ŷ) used for the derivative of |ŷ − y|",
                    transform=transform)]


RELU_SKIPPED = Slip("relu_skipped", "ReLU skipped", relu_skipped)
BIAS_SIGN = Slip("bias_sign", "the sign of a bias flipped", bias_sign)
WEIGHT_TRANSPOSE = Slip("weight_transpose", "the transpose of a weight matrix used", weight_transpose)
LOSS_MEAN_SUM = Slip("loss_mean_sum", "the mean instead of the sum (or the reverse, or 1/2 forgotten) in the loss",
                     loss_mean_sum)
STEP_SIGN = Slip("step_sign", "the learning-rate step added instead of subtracted", step_sign)
WEIGHT_DECAY = Slip("weight_decay", "weight decay left out of the update, applied after the step, not scaled by "
                    "the learning rate", weight_decay)
L1_SIGN = Slip("l1_sign", "the sign of the l1 loss's gradient reversed", l1_sign)
DENSE = (RELU_SKIPPED, BIAS_SIGN, WEIGHT_TRANSPOSE)   # the slips of every dense kind
BACKPROP_SLIPS = DENSE + (LOSS_MEAN_SUM, STEP_SIGN, WEIGHT_DECAY, L1_SIGN)
