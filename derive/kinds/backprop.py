"""Kind `backprop`: forward pass on a batch, the loss, the backward pass by the chain rule, one SGD step."""
from __future__ import annotations

from typing import Any

import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex
from ..problem import Problem
from ..solution import Solution
from . import _backprop_steps as S
from . import _dense_exact as E
from . import _dense_num as N
from . import _dense_steps as D
from ._dense_given import given_layers, given_numbers
from ._dense_graph import show_graph
from . import _layers as L
from ._backward import backward, stepped, update
from ._dense_recompute import recompute
from ._dense_slips import BACKPROP_SLIPS

LOSSES = ("mse", "half_mse", "sse", "half_sse", "l1", "cross_entropy", "bce")
ALSO_CALLED = {"mae": "l1", "l1_loss": "l1", "mean_absolute_error": "l1", "l2": "mse", "mse_loss": "mse",
               "mean_squared_error": "mse", "ce": "cross_entropy", "crossentropy": "cross_entropy",
               "nll": "cross_entropy", "bce_with_logits": "bce", "binary_cross_entropy": "bce"}


def parse_loss(value: Any, ctx: F.Ctx) -> str:
    """One of LOSSES; a loss in capitals or by another common name (mae, l2, ce, …) is suggested by its name here."""
    word = value if isinstance(value, str) else ""
    meant = ALSO_CALLED.get(word.lower(), word.lower() if word.lower() in LOSSES else None)
    if word not in LOSSES and meant is not None:
        raise ctx.error(f"expected one of {', '.join(LOSSES)}, got {word!r} (did you mean {meant!r}?)")
    return F.choice(*LOSSES)(value, ctx)


FIELDS = F.table(
    inputs=F.Field(F.matrix, required=True),
    targets=F.Field(F.vector_or_matrix, required=True),
    layers=F.Field(L.parse_layers, required=True),
    loss=F.Field(parse_loss, required=True),
    learning_rate=F.Field(F.positive, required=True),
    weight_decay=F.Field(F.nonnegative, sympy.Integer(0)),
    grad_inputs=F.Field(F.boolean, True),
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
    """Targets against the loss: class indices in range, or N × K values (bce's between 0 and 1)."""
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


def target_rows(p: Problem) -> list[list]:
    """Targets as N × K exact values (Fractions; a closed form stays SymPy)."""
    t = p.fields.targets
    return E.rows(t if isinstance(t[0], list) else [[v] for v in t])


def decay(p: Problem) -> Any:
    """The weight decay λ (0 when not given)."""
    return p.fields.weight_decay


# ---- the worked solution ----------------------------------------------------------------------------

def solve(p: Problem) -> Solution:
    """Forward, loss, backward (δ, ∂L/∂W = δᵀa, ∂L/∂b, ∂L/∂X), the graph, the update."""
    return N.escalating(lambda: _solve(p))


def _solve(p: Problem) -> Solution:
    """`solve` at the current rung of working precisions."""
    s = Solution(p)
    d = p.digits
    x = E.rows(p.fields.inputs)
    layers = L.resolve(p, len(x[0]))
    D.show_network(s, p, layers, False, len(x))
    zs, acts = E.forward_pass(layers, x)
    prev = x
    for layer, z, a in zip(layers, zs, acts):
        D.show_layer(s, layer, prev, z, a, False, d)
        prev = a
    classes = [int(v) for v in p.fields.targets] if p.fields.loss == "cross_entropy" else None
    y = None if classes is not None else target_rows(p)
    back = backward(layers, x, zs, acts, y, p.fields.loss, classes)
    S.show_loss(s, p, acts[-1], zs[-1], y, classes, back)
    S.show_backward(s, p, layers, x, zs, acts, back)
    if p.fields.grad_inputs:
        S.show_inputs(s, p, layers, back)
    new_w, new_b = update(layers, back, p.fields.learning_rate, decay(p))
    S.show_update(s, p, layers, back, new_w, new_b)
    show_graph(s, p, layers, x, zs, acts, y, classes, back)
    S.answers(s, layers, acts, back, new_w, new_b)
    S.notes(s, layers, zs, back)
    return s


def given(p: Problem) -> list[tuple[str, Any]]:
    """The data of the problem for the question sheet, every number as written (drawn ones as their values)."""
    layers = L.resolve(p, len(p.fields.inputs[0]))
    f = p.fields
    out = (given_numbers(p, "inputs", "inputs") + given_numbers(p, "targets", "targets") + given_layers(p, layers)
           + [("loss", Latex(r"\text{%s}" % f.loss.replace("_", r"\_")))] + given_numbers(p, "learning rate",
                                                                                      "learning_rate"))
    if f.weight_decay:
        out += given_numbers(p, "weight decay", "weight_decay")
    return out


def answer_names(p: Problem) -> list[str]:
    """Every answer; `grad_inputs` (SPEC §13) unless the problem says `grad_inputs: false`."""
    return [name for name in Backprop.answers if name != "grad_inputs" or p.fields.grad_inputs]


def follow(p: Problem, answer: str, given: dict[str, Any]) -> Any:
    """An update redone from the student's own gradient: p − η·(their gradient + λ·p) (SPEC §12)."""
    source = {"updated_weights": "grad_weights", "updated_biases": "grad_biases"}.get(answer)
    if source is None or given.get(source) is None:
        return None
    layers = L.resolve(p, len(p.fields.inputs[0]))
    before = [layer.weights if source == "grad_weights" else layer.bias for layer in layers]
    eta, lam = E.num(p.fields.learning_rate), E.num(decay(p))
    return N.escalating(lambda: E.to_sympy(stepped(before, given[source], eta, lam)))


class Backprop(Kind):
    """Forward pass on a batch, the loss, the backward pass by the chain rule, one gradient-descent step."""

    name = "backprop"
    summary = ("one training step of a dense network on a batch: the loss, its gradients by backprop (also ∂L/∂X), "
               "the update (with weight decay)")
    fields = FIELDS
    answers = {"weights": AnswerSpec(),
               "biases": AnswerSpec(),
               "output": AnswerSpec(),
               "loss": AnswerSpec(depends=("output",)),
               "grad_weights": AnswerSpec(depends=("output",)),
               "grad_biases": AnswerSpec(depends=("output",)),
               "updated_weights": AnswerSpec(depends=("grad_weights",), update_of="weights"),
               "updated_biases": AnswerSpec(depends=("grad_biases",), update_of="biases"),
               "grad_inputs": AnswerSpec(depends=("output",))}
    slips = BACKPROP_SLIPS
    examples = ({"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
                 "layers": [{"weights": [[1, 2], [1, 1]], "bias": [0, -1], "activation": "relu"},
                            {"weights": [[1, -2]], "bias": [0.3]}],
                 "loss": "half_sse", "learning_rate": 0.1},
                {"inputs": [[1, 0], [0.5, -1]], "targets": [0, 1],
                 "layers": [{"units": 2, "weights": "random", "bias": "random", "activation": "leaky_relu"},
                            {"weights": [[1, 0.5], [-1, 2]], "layout": "in_out"}],
                 "loss": "cross_entropy", "learning_rate": 0.5},
                {"inputs": [[1, -0.5], [0.5, 2]], "targets": [[0.5], ["1 + sqrt(2)/2"]],
                 "layers": [{"weights": [[0.5, -1], [1, 0.5]], "bias": [0.1, -0.2], "activation": "tanh"},
                            {"weights": [[1, -1]], "bias": [0.2]}],
                 "loss": "l1", "learning_rate": 0.1, "weight_decay": 0.01, "grad_inputs": True},
                {"inputs": [[1, 2], [-1, 0.5]], "targets": [[1], [0]],
                 "layers": [{"weights": [[0.5, -0.5], [1, 1]], "bias": [0, 1], "activation": "relu"},
                            {"weights": [[1, 0.5]], "bias": [0.5]}],
                 "loss": "half_mse", "learning_rate": 0.5, "weight_decay": 0.1, "grad_inputs": True})
    positional = ("inputs", "targets", "layers")

    validate = delegate()
    solve = delegate()
    recompute = delegate()
    given = delegate()
    answer_names = delegate()
    follow = delegate()


KIND = Backprop()
