"""Attention's slips and its follow-through marking, computed by the vectorized engine over 40-digit mpmath
numbers (fast enough for every pair of slips a class's answers call for).

Slips combine: each transform adds its flag to a private entry of the answers, `_attention_slips` (text, so
no number-wide slip touches it), and recomputes every answer under all the flags so far."""
from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import sympy

from ..problem import Problem
from ..slipkit import Answers, Slip, Variant
from . import _attention_core as C

FLAGS = "_attention_slips"
FORWARD = ("weights", "output", "grad_queries", "grad_keys", "grad_values", "grad_wq", "grad_wk", "grad_wv",
           "grad_input")


def _sympy(x: Any) -> Any:
    """An mpmath array (or number) as nested SymPy Floats."""
    if isinstance(x, np.ndarray):
        return [_sympy(v) for v in x]
    return sympy.Float(x, C.MP_DIGITS)


def _data(p: Problem) -> dict[str, Any]:
    """The problem's numbers as mpmath arrays (made once per problem, inside mpmath.workdps)."""
    if "_attention_data" not in p.__dict__:
        p.__dict__["_attention_data"] = _make_data(p)
    return p.__dict__["_attention_data"]


def _make_data(p: Problem) -> dict[str, Any]:
    """The problem's numbers as mpmath arrays."""
    su, f = C.setup(p), p.fields
    out = {"queries": C.MP.array(su.queries), "keys": C.MP.array(su.keys), "values": C.MP.array(su.values),
           "allowed": np.array(su.allowed, dtype=bool), "scale": C.mp_value(su.scale),
           "upstream": C.MP.array(su.upstream) if su.upstream is not None else None}
    if su.projected:
        out.update({name: C.MP.array(getattr(f, name)) for name in ("input", "wq", "wk", "wv")})
    return out


def _projections(data: dict[str, Any], out: dict[str, Any]) -> None:
    """∂L/∂W_q, ∂L/∂W_k, ∂L/∂W_v and ∂L/∂X from the gradients of Q, K, V (in place)."""
    x = data["input"]
    out.update(grad_wq=out["grad_queries"].T @ x, grad_wk=out["grad_keys"].T @ x, grad_wv=out["grad_values"].T @ x,
               grad_input=out["grad_queries"] @ data["wq"] + out["grad_keys"] @ data["wk"]
               + out["grad_values"] @ data["wv"])


def _run(p: Problem, flags: frozenset[str]) -> Answers:
    """Every answer as the slips in `flags` together would give it (each combination once per problem)."""
    runs = p.__dict__.setdefault("_attention_runs", {})
    if flags not in runs:
        runs[flags] = _compute(p, flags)
    return runs[flags]


def _compute(p: Problem, flags: frozenset[str]) -> Answers:
    """Every answer under the slips in `flags`, computed."""
    with mpmath.workdps(C.MP_DIGITS):
        data = _data(p)
        scale, allowed = data["scale"], data["allowed"]
        if "no_scale" in flags:
            scale = mpmath.mpf(1)
        elif "scale_by_d" in flags:
            scale = 1 / mpmath.mpf(data["queries"].shape[1])
        if "mask_ignored" in flags:
            allowed = np.ones_like(allowed)
        elif "mask_transposed" in flags:
            allowed = allowed.T
        if not allowed.any(axis=1).all():
            raise ZeroDivisionError   # a row left with nothing to attend to: the slip cannot have happened
        out = C.engine(data["queries"], data["keys"], data["values"], allowed, scale, data["upstream"], C.MP,
                       axis=0 if "column_softmax" in flags else 1, diagonal="softmax_diagonal" in flags,
                       backward_scale="backward_scale" not in flags, untransposed="grad_values_untransposed" in flags)
        if data["upstream"] is not None and "input" in data:
            _projections(data, out)
        return {name: _sympy(value) for name, value in out.items()}


def _variant(words: str, flag: str, scores: bool = False) -> Variant:
    """A slip that recomputes the answers with its flag added to those already in the answers."""
    def transform(p: Problem, a: Answers) -> Answers:
        flags = frozenset(f for f in str(a.get(FLAGS, "")).split(",") if f) | {flag}
        out = _run(p, flags)
        names = (("scores",) if scores or any(f in flags for f in ("no_scale", "scale_by_d")) else ()) + FORWARD
        return {**{n: out[n] for n in names if n in a and n in out}, FLAGS: ",".join(sorted(flags))}
    return Variant(words, transform=transform)


def _has_grads(answers: Answers) -> bool:
    return "grad_queries" in answers


def no_scale(p: Problem, answers: Answers) -> list[Variant]:
    """Scores without the scale."""
    if C.setup(p).scale == 1:
        return []
    return [_variant("the scores not scaled: Q·Kᵀ used without the factor "
                     + ("1/√d_k" if p.fields.scale is None else "c"), "no_scale", scores=True)]


def scale_by_d(p: Problem, answers: Answers) -> list[Variant]:
    """Scores divided by d_k instead of √d_k."""
    d = C.d_k(p)
    if p.fields.scale is not None or d == 1:
        return []
    return [_variant(f"the scores divided by d_k = {d} instead of √d_k", "scale_by_d", scores=True)]


def column_softmax(p: Problem, answers: Answers) -> list[Variant]:
    """The softmax taken down the columns (over the queries) instead of along each row."""
    return [_variant("the softmax taken over the wrong axis: down each column (over the queries) instead of "
                     "along each row (over the keys)", "column_softmax")]


def mask_transposed(p: Problem, answers: Answers) -> list[Variant]:
    """The (causal) mask transposed."""
    su = C.setup(p)
    if not su.masked or len(su.allowed) != len(su.allowed[0]) or su.allowed == C.transpose(su.allowed):
        return []
    words = ("the causal mask transposed: each query attends to itself and the later positions instead of "
             "the earlier ones" if p.fields.causal else "the mask transposed (read as keys × queries)")
    return [_variant(words, "mask_transposed")]


def mask_ignored(p: Problem, answers: Answers) -> list[Variant]:
    """The mask not applied."""
    if not C.setup(p).masked:
        return []
    return [_variant("the " + ("causal " if p.fields.causal else "") + "mask not applied: every query attends to "
                     "every key", "mask_ignored")]


def softmax_diagonal(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂S = A ⊙ ∂L/∂A: the softmax's Jacobian taken as its diagonal."""
    if not _has_grads(answers):
        return []
    return [_variant("the softmax's Jacobian taken as its diagonal: ∂L/∂s = a ⊙ ∂L/∂a, the term −a·δ "
                     "(δ = Σ_k a_k ∂L/∂a_k) left out", "softmax_diagonal")]


def backward_scale(p: Problem, answers: Answers) -> list[Variant]:
    """The scale left out of ∂L/∂Q and ∂L/∂K."""
    if not _has_grads(answers) or C.setup(p).scale == 1:
        return []
    return [_variant("the scale left out of the backward pass: ∂L/∂Q = ∂L/∂S·K and ∂L/∂K = (∂L/∂S)ᵀ·Q "
                     "without the factor c", "backward_scale")]


def grad_values_untransposed(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂V = A·G instead of Aᵀ·G."""
    su = C.setup(p)
    if not _has_grads(answers) or len(su.queries) != len(su.keys):
        return []
    return [_variant("the weights not transposed in ∂L/∂V: A·G instead of Aᵀ·G", "grad_values_untransposed")]


SLIPS = (
    Slip("attn_no_scale", "the scores not scaled by 1/√d_k", no_scale),
    Slip("attn_scale_by_d", "the scores divided by d_k instead of √d_k", scale_by_d),
    Slip("attn_column_softmax", "the softmax over the wrong axis (columns)", column_softmax),
    Slip("attn_mask_transposed", "the (causal) mask transposed", mask_transposed),
    Slip("attn_mask_ignored", "the mask not applied", mask_ignored),
    Slip("attn_softmax_diagonal", "the softmax's Jacobian taken as its diagonal", softmax_diagonal),
    Slip("attn_backward_scale", "the scale left out of ∂L/∂Q and ∂L/∂K", backward_scale),
    Slip("attn_grad_values_untransposed", "A·G instead of Aᵀ·G for ∂L/∂V", grad_values_untransposed),
)

EXAMPLES = (
    {"queries": [[1, 0], [0, 1], [1, 1]], "keys": [[1, 2], [0, 1], [1, -1]], "values": [[1, 0], [0, 2], [-1, 1]],
     "causal": True, "upstream": [[1, 0], [0, 1], [1, -1]]},
    {"input": [[1, 0], [0, 1], [1, 1]], "wq": [[1, 0], [0, 1]], "wk": [[0, 1], [1, 0]], "wv": [[1, 1]],
     "mask": [[1, 1, 0], [1, 1, 1], [0, 1, 1]], "upstream": [[1], [0], [-1]]},
    {"queries": [[1, 0, 1, 0], [0, 2, 0, 1]], "keys": [[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1]],
     "values": [[1, 2], [0, 1], [2, 0]]},
)


def follow(p: Problem, answer: str, given: Answers) -> Any:
    """An answer redone from a student's own earlier answers (SPEC §12), to 40 digits."""
    with mpmath.workdps(C.MP_DIGITS):
        data = _data(p)
        base = _run(p, frozenset())

        def have(name: str) -> np.ndarray:
            return C.MP.array(given[name]) if name in given else data[name] if name in data else \
                C.MP.array(base[name])
        value = _followed(answer, have, data)
        return None if value is None else _sympy(value)


def _followed(answer: str, have: Any, data: dict[str, Any]) -> Any:
    """The one formula that makes `answer` from the answers it depends on."""
    scale, g = data["scale"], data["upstream"]
    if answer == "scores":
        return (have("queries") @ have("keys").T) * scale
    if answer == "weights":
        return C.softmax(have("scores"), data["allowed"], C.MP)
    if answer == "output":
        return have("weights") @ have("values")
    if answer == "grad_values":
        return have("weights").T @ g
    if answer in ("grad_queries", "grad_keys"):
        w, dw = have("weights"), g @ have("values").T
        ds = w * (dw - np.sum(w * dw, axis=1, keepdims=True))
        return (ds @ have("keys") if answer == "grad_queries" else ds.T @ have("queries")) * scale
    if answer in ("grad_wq", "grad_wk", "grad_wv"):
        source = {"grad_wq": "grad_queries", "grad_wk": "grad_keys", "grad_wv": "grad_values"}[answer]
        return have(source).T @ data["input"]
    if answer == "grad_input":
        return (have("grad_queries") @ data["wq"] + have("grad_keys") @ data["wk"]
                + have("grad_values") @ data["wv"])
    return None
