"""Kind `backprop`: forward pass on a batch, the loss, the backward pass by the chain rule, one SGD step."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .. import fields as F
from ..kind import AnswerSpec, Kind
from ..latex import Latex, tex
from ..problem import Problem
from ..solution import Solution
from . import _backprop_steps as S
from . import _dense_show as D
from . import _layers as L
from . import forward as FW
from ._backward import backward, update
from ._dense_slips import DENSE, LOSS_MEAN_SUM, STEP_SIGN

LOSSES = ("mse", "sse", "half_sse", "cross_entropy", "bce")

FIELDS = F.table(
    inputs=F.Field(F.matrix, required=True),
    targets=F.Field(F.vector_or_matrix, required=True),
    layers=F.Field(L.parse_layers, required=True),
    loss=F.Field(F.choice(*LOSSES), required=True),
    learning_rate=F.Field(F.positive, required=True),
    init=F.Field(L.parse_init),
)


def validate(p: Problem) -> None:
    """Layer shapes; the loss against the last activation; targets against the batch and the outputs."""
    n = len(p.fields.inputs)
    layers = L.resolve(p, len(p.fields.inputs[0]))
    last, k = layers[-1], layers[-1].units
    if p.fields.loss == "cross_entropy" and last.activation != "linear":
        extra = (" (it applies the softmax itself: a softmax layer would apply it twice)"
                 if last.activation == "softmax" else " (it applies the softmax to the logits itself)")
        raise p.error("loss", f"cross_entropy needs a linear last layer{extra}; the last layer has "
                              f"activation: {last.activation}")
    if p.fields.loss == "bce" and last.activation != "sigmoid":
        raise p.error("loss", f"bce needs a sigmoid last layer (its output is a probability); the last layer has "
                              f"activation: {last.activation}")
    _check_targets(p, n, k)


def _check_targets(p: Problem, n: int, k: int) -> None:
    t = p.fields.targets
    is_matrix = isinstance(t[0], list)
    if p.fields.loss == "cross_entropy":
        if is_matrix:
            raise p.error("targets", f"cross_entropy takes one class index per sample (a list of {n} whole "
                                     "numbers), got a matrix")
        if len(t) != n:
            raise p.error("targets", f"expected {n} targets (one per row of inputs), got {len(t)}")
        for i, y in enumerate(t):
            if not y.is_integer or y < 0:
                raise p.error(("targets", i), f"expected a class index (a whole number from 0 to {k - 1}), got {y}")
            if y >= k:
                raise p.error(("targets", i), f"class index {y} is out of range: there are {k} classes, 0 to {k - 1}")
        return
    if not is_matrix:
        if k != 1:
            raise p.error("targets", f"the last layer has {k} units: give targets as a {n}×{k} matrix "
                                     "(one row per sample)")
        if len(t) != n:
            raise p.error("targets", f"expected {n} targets (one per row of inputs), got {len(t)}")
    else:
        if len(t) != n:
            raise p.error("targets", f"expected {n} rows of targets (one per row of inputs), got {len(t)}")
        if len(t[0]) != k:
            raise p.error("targets", f"expected {n}×{k} targets (samples × outputs), got {F.shape_text(F.shape(t))}")
    if p.fields.loss == "bce":
        for i, y in enumerate(t):
            for j, v in enumerate(y if is_matrix else [y]):
                if not 0 <= v <= 1:
                    raise p.error(("targets", i, j) if is_matrix else ("targets", i),
                                  f"bce targets must lie between 0 and 1, got {v}")


def target_rows(p: Problem) -> list[list[Fraction]]:
    """Targets as N × K Fractions (class indices for cross_entropy stay a list of ints)."""
    t = p.fields.targets
    rows = t if isinstance(t[0], list) else [[v] for v in t]
    return [[L.frac(v) for v in row] for row in rows]


# ---- the worked solution ----------------------------------------------------------------------------

def solve(p: Problem) -> Solution:
    """Forward, loss, backward (δ, ∂L/∂W = δᵀa, ∂L/∂b), the graph, the update."""
    s = Solution(p)
    d = p.digits
    x = L.inputs_as_fractions(p.fields.inputs)
    layers = L.resolve(p, len(x[0]))
    D.show_network(s, p, layers, False, len(x))
    zs, acts = L.forward_pass(layers, x)
    prev = x
    for layer, z, a in zip(layers, zs, acts):
        D.show_layer(s, layer, prev, z, a, False, d)
        prev = a
    classes = [int(v) for v in p.fields.targets] if p.fields.loss == "cross_entropy" else None
    y = None if classes is not None else target_rows(p)
    back = backward(layers, x, zs, acts, y, p.fields.loss, classes)
    S.show_loss(s, p, acts[-1], zs[-1], y, classes, back)
    S.show_backward(s, p, layers, x, zs, acts, back)
    new_w, new_b = update(layers, back, p.fields.learning_rate)
    S.show_update(s, p, layers, back, new_w, new_b)
    s.step("The computational graph",
           text="Each box is a value, each circle an operation; parameters and targets enter from above. Data "
                "flows left to right; gradients flow right to left, and each node's gradient is "
                "$\\partial\\mathcal{L}/\\partial(\\text{node})$ (the table lists the values and the gradients).",
           figure=S.graph(layers, x, zs, acts, y, classes, back, p))
    S.answers(s, layers, acts, back, new_w, new_b)
    S.notes(s, layers, zs, back)
    return s


def given(p: Problem) -> list[tuple[str, Latex]]:
    """The data of the problem for the question sheet."""
    layers = L.resolve(p, len(p.fields.inputs[0]))
    f = p.fields
    return ([("inputs", tex(f.inputs)), ("targets", tex(f.targets))] + D.given_layers(p, layers)
            + [("loss", Latex(r"\text{%s}" % f.loss.replace("_", r"\_"))), ("learning rate", tex(f.learning_rate))])


# ---- independent float64 recomputation ---------------------------------------------------------------

def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 forward, loss, backward and update (NumPy, textbook matrix formulas)."""
    x = np.array(p.fields.inputs, dtype=float)
    layers = L.resolve(p, x.shape[1])
    params = FW.np_layers(layers)
    zs, acts = FW.np_forward(params, x)
    out, z = acts[-1], zs[-1]
    n, k = out.shape
    if p.fields.loss == "cross_entropy":
        c = np.array([int(v) for v in p.fields.targets])
        m = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
        loss = float(np.mean(lse - z[np.arange(n), c]))
        prob = np.exp(z - lse[:, None])
        onehot = np.eye(k)[c]
        delta = (prob - onehot) / n
    else:
        y = np.array(p.fields.targets, dtype=float).reshape(n, k)
        if p.fields.loss == "bce":
            # from the logits z, as -[y log σ(z) + (1-y) log(1-σ(z))] = max(z,0) - y z + log(1 + e^{-|z|}):
            # log(1 - σ(z)) in float64 loses every digit once σ(z) rounds to 1
            loss = float(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))))
            delta = (out - y) / (n * k)
        else:
            diff = out - y
            squares = np.sum(diff ** 2)
            loss = float({"mse": squares / (n * k), "sse": squares, "half_sse": 0.5 * squares}[p.fields.loss])
            g = {"mse": 2 * diff / (n * k), "sse": 2 * diff, "half_sse": diff}[p.fields.loss]
            delta = _np_through(params[-1], g, z, out)
    grads_w, grads_b = [None] * len(params), [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        w, b, act, slope = params[i]
        a_prev = x if i == 0 else acts[i - 1]
        grads_w[i] = delta.T @ a_prev
        grads_b[i] = delta.sum(axis=0) if b is not None else None
        if i > 0:
            _, _, act_below, slope_below = params[i - 1]
            delta = _np_through((None, None, act_below, slope_below), delta @ w, zs[i - 1], acts[i - 1])
    lr = float(p.fields.learning_rate)
    return {"weights": [w for w, *_ in params], "biases": [b for _, b, *_ in params], "output": out, "loss": loss,
            "grad_weights": grads_w, "grad_biases": grads_b,
            "updated_weights": [w - lr * g for (w, *_), g in zip(params, grads_w)],
            "updated_biases": [None if b is None else b - lr * g for (_, b, *_), g in zip(params, grads_b)]}


def _np_through(param: tuple, g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """∂L/∂Z from ∂L/∂A in float64."""
    act, slope = param[2], param[3]
    if act == "linear":
        return g
    if act == "relu":
        return g * (z > 0)
    if act == "leaky_relu":
        return g * np.where(z > 0, 1.0, slope)
    if act == "sigmoid":
        return g * a * (1 - a)
    if act == "tanh":
        return g * (1 - a ** 2)
    return a * (g - (g * a).sum(axis=1, keepdims=True))


class Backprop(Kind):
    """Forward pass on a batch, the loss, the backward pass by the chain rule, one gradient-descent step."""

    name = "backprop"
    summary = "one training step of a dense network on a batch: the loss, its gradients by backprop, the update"
    fields = FIELDS
    answers = {"weights": AnswerSpec(),
               "biases": AnswerSpec(),
               "output": AnswerSpec(),
               "loss": AnswerSpec(depends=("output",)),
               "grad_weights": AnswerSpec(depends=("output",)),
               "grad_biases": AnswerSpec(depends=("output",)),
               "updated_weights": AnswerSpec(depends=("grad_weights",), update_of="weights"),
               "updated_biases": AnswerSpec(depends=("grad_biases",), update_of="biases")}
    slips = DENSE + (LOSS_MEAN_SUM, STEP_SIGN)
    examples = ({"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
                 "layers": [{"weights": [[1, 2], [1, 1]], "bias": [0, -1], "activation": "relu"},
                            {"weights": [[1, -2]], "bias": [0.3]}],
                 "loss": "half_sse", "learning_rate": 0.1},
                {"inputs": [[1, 0], [0.5, -1]], "targets": [0, 1],
                 "layers": [{"units": 2, "weights": "random", "bias": "random", "activation": "leaky_relu"},
                            {"weights": [[1, 0.5], [-1, 2]], "layout": "in_out"}],
                 "loss": "cross_entropy", "learning_rate": 0.5})
    positional = ("inputs", "targets", "layers")

    validate = staticmethod(validate)
    solve = staticmethod(solve)
    recompute = staticmethod(recompute)


    given = staticmethod(given)


KIND = Backprop()
