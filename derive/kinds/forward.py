"""Kind `forward`: a forward pass through dense layers, written as matrix products with their shapes."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind
from ..latex import Latex, tex
from ..problem import Problem
from ..solution import Solution
from . import _layers as L
from ._dense_show import answer, answer_network, given_layers, per_layer, show_layer, show_network
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
    return p.fields.input if isinstance(p.fields.input[0], list) else [p.fields.input]


def batch(p: Problem) -> bool:
    """True for a matrix input (one row per sample)."""
    return isinstance(p.fields.input[0], list)


def solve(p: Problem) -> Solution:
    """Layer by layer: z = W·a + b, a = f(z)."""
    s = Solution(p)
    vector = not batch(p)
    x = L.inputs_as_fractions(_rows(p))
    layers = L.resolve(p, len(x[0]))
    show_network(s, p, layers, vector, len(x))
    zs, acts = L.forward_pass(layers, x)
    prev = x
    for layer, z, a in zip(layers, zs, acts):
        show_layer(s, layer, prev, z, a, vector, p.digits)
        prev = a
    answer_network(s, layers)
    pre, post = per_layer(zs, vector), per_layer(acts, vector)
    answer(s, "pre_activations", pre, r"\mathbf{z}^{[1]}, \mathbf{z}^{[2]}, \dots", per_layer=True)
    answer(s, "activations", post, r"\mathbf{a}^{[1]}, \mathbf{a}^{[2]}, \dots", per_layer=True)
    answer(s, "output", post[-1], r"\hat{\mathbf{y}}")
    if layers[-1].activation == "softmax":
        for n, row in enumerate(acts[-1]):
            if not _sums_to_one(row):
                raise AssertionError(f"{p.id}: softmax row {n} does not sum to 1")
        s.check("The softmax output" + (" of every sample" if not vector else "")
                + " sums to 1 (checked to 45 digits).")
    return s


def _sums_to_one(row: list) -> bool:
    """Σ a = 1, exactly for rationals, else to 60 digits (no simplify on the hot path)."""
    total = sympy.Add(*[L.sym(v) for v in row])
    if total.is_Rational:
        return total == 1
    return abs(sympy.N(total - 1, 60)) < sympy.Float("1e-45")


def given(p: Problem) -> list[tuple[str, Latex]]:
    """The data of the problem for the question sheet: the input, then each layer (weights units × inputs)."""
    layers = L.resolve(p, len(_rows(p)[0]))
    return [("input", tex(p.fields.input))] + given_layers(p, layers)


# ---- independent float64 recomputation -----------------------------------------------------------

KINK_NOISE = 1e-12   # relative size of float64 rounding noise around an exact 0


def np_activate(name: str, z: np.ndarray, slope: float) -> np.ndarray:
    """f(z) in float64."""
    if name == "linear":
        return z
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_layers(layers: list[L.Layer]) -> list[tuple]:
    """(W, b or None, activation, slope) in float64."""
    return [(np.array(layer.weights, dtype=float), None if layer.bias is None else np.array(layer.bias, dtype=float),
             layer.activation, float(layer.slope or 0)) for layer in layers]


def np_forward(params: list[tuple], x: np.ndarray) -> tuple[list, list]:
    """Z and A of every layer in float64 (x is N × inputs)."""
    zs, acts, a = [], [], x
    for w, b, act, slope in params:
        z = a @ w.T + (b if b is not None else 0.0)
        # a sum that is exactly 0 comes out of float64 as ±1e-16 or so: read it as 0, so that the check
        # takes the same side of a ReLU kink as the exact value (PyTorch's float64 may not; see the README)
        noise = KINK_NOISE * (np.abs(a) @ np.abs(w).T + (np.abs(b) if b is not None else 0.0))
        z = np.where(np.abs(z) <= noise, 0.0, z)
        a = np_activate(act, z, slope)
        zs.append(z)
        acts.append(a)
    return zs, acts


def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 forward pass."""
    x = np.array(_rows(p), dtype=float)
    layers = L.resolve(p, x.shape[1])
    params = np_layers(layers)
    zs, acts = np_forward(params, x)
    one = (lambda m: m[0]) if not batch(p) else (lambda m: m)
    return {"weights": [w for w, *_ in params], "biases": [b for _, b, *_ in params],
            "pre_activations": [one(z) for z in zs], "activations": [one(a) for a in acts], "output": one(acts[-1])}


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
                             "activation": "softmax"}]})
    positional = ("input", "layers")

    validate = staticmethod(validate)
    solve = staticmethod(solve)
    recompute = staticmethod(recompute)


    given = staticmethod(given)


KIND = Forward()
