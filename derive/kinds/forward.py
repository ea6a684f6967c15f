"""Kind `forward`: a forward pass through dense layers, written as matrix products with their shapes."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..problem import Problem
from ..solution import Solution
from . import _dense_exact as E
from . import _dense_num as N
from . import _layers as L
from ._dense_recompute import np_forward, np_layers
from ._dense_answers import answer, answer_network
from ._dense_given import given_layers, given_numbers
from ._dense_show import per_layer
from ._dense_steps import show_layer, show_network
from ._dense_slips import DENSE

FIELDS = F.table(
    input=F.Field(F.vector_or_matrix, required=True),
    layers=F.Field(L.parse_layers, required=True),
    init=F.Field(L.parse_init),
)


def validate(p: Problem) -> None:
    """Shapes of every layer against the input; random draws."""
    L.resolve(p, len(_rows(p)[0]))


def _rows(p: Problem) -> list[list]:
    """The input as rows (one row for a vector)."""
    return p.fields.input if isinstance(p.fields.input[0], list) else [p.fields.input]


def batch(p: Problem) -> bool:
    """True for a matrix input (one row per sample)."""
    return isinstance(p.fields.input[0], list)


def solve(p: Problem) -> Solution:
    """Layer by layer: z = W·a + b, a = f(z)."""
    return N.escalating(lambda: _solve(p))


def _solve(p: Problem) -> Solution:
    """`solve` at the current rung of working precisions."""
    s = Solution(p)
    vector = not batch(p)
    x = E.rows(_rows(p))
    layers = L.resolve(p, len(x[0]))
    show_network(s, p, layers, vector, len(x))
    zs, acts = E.forward_pass(layers, x)
    prev = x
    for layer, z, a in zip(layers, zs, acts):
        show_layer(s, layer, prev, z, a, vector, p.digits)
        prev = a
    answer_network(s, layers)
    pre, post = per_layer(zs, vector), per_layer(acts, vector)
    z, a, y = (r"\mathbf{z}", r"\mathbf{a}", r"\hat{\mathbf{y}}") if vector else ("Z", "A", r"\hat{Y}")
    answer(s, "pre_activations", pre, z + "^{[#]}", len(layers))
    answer(s, "activations", post, a + "^{[#]}", len(layers))
    answer(s, "output", post[-1], y)
    if layers[-1].activation == "softmax":
        for n, row in enumerate(acts[-1]):
            if not _sums_to_one(row):
                raise AssertionError(f"{p.id}: softmax row {n} does not sum to 1")
        s.check("The softmax output" + (" of every sample" if not vector else "")
                + " sums to 1 (checked to 45 digits).")
    return s


def _sums_to_one(row: list) -> bool:
    """Σ a = 1 to 45 digits (worked at the high working precision; no simplify on the hot path)."""
    return abs(float(N.add(N.dot([1] * len(row), row), -1))) < 1e-45


def given(p: Problem) -> list[tuple[str, Any]]:
    """The data of the problem for the question sheet: the input as written, then each layer's values."""
    layers = L.resolve(p, len(_rows(p)[0]))
    return given_numbers(p, "input", "input") + given_layers(p, layers)


# ---- independent float64 recomputation -----------------------------------------------------------

def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 forward pass."""
    x = np.array(_rows(p), dtype=float)
    layers = L.resolve(p, x.shape[1])
    params = np_layers(layers)
    zs, acts = np_forward(params, x)
    one = (lambda m: m[0]) if not batch(p) else (lambda m: m)   # noqa: E731
    return {"weights": [w for w, *_ in params], "biases": [b for _, b, *_ in params],
            "pre_activations": [one(z) for z in zs], "activations": [one(a) for a in acts], "output": one(acts[-1])}


def follow(p: Problem, answer: str, given: dict[str, Any]) -> Any:
    """Activations from the student's own pre-activations, the output from their last activations (SPEC §12)."""
    if answer == "output" and given.get("activations") is not None:
        return given["activations"][-1]
    if answer != "activations" or given.get("pre_activations") is None:
        return None
    layers = L.resolve(p, len(_rows(p)[0]))
    vector = not batch(p)

    def redo() -> list:
        """Each layer's activation of the student's pre-activations, as SymPy."""
        out = []
        for layer, z in zip(layers, given["pre_activations"]):
            rows = [E.rows([z])[0]] if vector else E.rows(z)
            acts = [E.activate(layer.activation, row, layer.slope) for row in rows]
            out.append(E.to_sympy(acts[0] if vector else acts))
        return out
    return N.escalating(redo)


class Forward(Kind):
    """A forward pass through dense layers, written as matrix products with their shapes."""

    name = "forward"
    summary = "a forward pass through dense layers: weights, pre-activations and activations per layer, the output"
    fields = FIELDS
    answers = {"weights": AnswerSpec(),
               "biases": AnswerSpec(),
               "pre_activations": AnswerSpec(),
               "activations": AnswerSpec(depends=("pre_activations",)),
               "output": AnswerSpec(depends=("activations",))}
    slips = DENSE
    examples = ({"input": [1, -1],
                 "layers": [{"weights": [[1, 2], [3, -4]], "bias": [0.5, -1], "activation": "relu"},
                            {"weights": [[1, 1]]}]},
                {"input": [[0.5, -1], [1, 2]],
                 "layers": [{"units": 3, "weights": "random", "bias": "random", "activation": "leaky_relu",
                             "slope": 0.1},
                            {"weights": [[1, 0.5], [0, 1], [-1, 2]], "layout": "in_out", "bias": [1, -1],
                             "activation": "softmax"}]},
                {"input": ["1 + sqrt(2)/2", -1],
                 "layers": [{"weights": [[1, 0.5], [-0.5, 1]], "bias": [0, 0.5], "activation": "tanh"},
                            {"weights": [[2, -1]], "activation": "sigmoid"}]})
    positional = ("input", "layers")

    validate = delegate()
    solve = delegate()
    recompute = delegate()
    given = delegate()
    follow = delegate()


KIND = Forward()
