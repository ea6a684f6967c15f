"""Scaled dot-product attention, twice: exact (SymPy, large transcendental values carried as 50-digit decimals by
`_layers.tame`) for the key, and one vectorized NumPy engine for the float64 recomputation and, over mpmath
numbers, for the slips and the follow-through marking."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import mpmath
import numpy as np
import sympy

from ..fasteval import numeric
from ..problem import Problem
from . import _layers as L

MP_DIGITS = 40     # working digits of the slips' and follow-through's numbers


@dataclass(frozen=True)
class Setup:
    """A problem's data, resolved: Q, K, V (exact; projected from the input when given), who may attend, scale."""

    queries: list[list]
    keys: list[list]
    values: list[list]
    allowed: list[list[bool]]
    scale: sympy.Expr
    upstream: list[list] | None
    projected: bool          # Q, K, V come from input·Wᵀ

    @property
    def masked(self) -> bool:
        """True when some query may not attend to some key."""
        return not all(all(row) for row in self.allowed)


def allowed_of(p: Problem) -> list[list[bool]]:
    """n × m: True where query i may attend to key j (the mask's 1s, or j ≤ i when causal)."""
    n, m = len(_queries_rows(p)), len(_keys_rows(p))
    if p.fields.causal:
        return [[j <= i for j in range(m)] for i in range(n)]
    if p.fields.mask is not None:
        return [[bool(v) for v in row] for row in p.fields.mask]
    return [[True] * m for _ in range(n)]


def _queries_rows(p: Problem) -> list:
    return p.fields.queries if p.fields.queries is not None else p.fields.input


def _keys_rows(p: Problem) -> list:
    return p.fields.keys if p.fields.keys is not None else p.fields.input


def d_k(p: Problem) -> int:
    """The width of a query (and a key)."""
    return len(p.fields.queries[0]) if p.fields.queries is not None else len(p.fields.wq)


def scale_of(p: Problem) -> sympy.Expr:
    """The given scale, else 1/√d_k."""
    return p.fields.scale if p.fields.scale is not None else 1 / sympy.sqrt(d_k(p))


def setup(p: Problem) -> Setup:
    """The problem's Q, K, V and mask (cached on the problem)."""
    cached = p.__dict__.get("_attention")
    if cached is None:
        f = p.fields
        if f.input is not None:
            q, k, v = (product(f.input, transpose(w)) for w in (f.wq, f.wk, f.wv))
        else:
            q, k, v = f.queries, f.keys, f.values
        cached = Setup(q, k, v, allowed_of(p), scale_of(p), f.upstream, f.input is not None)
        p.__dict__["_attention"] = cached
    return cached


# ---- exact ------------------------------------------------------------------------------------------

def tame(x: Any) -> Any:
    """`_layers.tame` (exact while small, a 50-digit decimal past its size limit or once it meets one), the decimal
    made by derive's fast evaluator, which evaluates the exponentials a softmax shares once."""
    if not isinstance(x, sympy.Basic) or x.is_Rational or x.is_Float:
        return x
    n, has_float = L._size(x, L.SIZE_LIMIT)
    return sympy.Float(numeric(x, L.PRECISION), L.PRECISION) if n > L.SIZE_LIMIT or has_float else x


def transpose(m: list[list]) -> list[list]:
    """Mᵀ."""
    return [list(col) for col in zip(*m)]


def product(a: list[list], b: list[list]) -> list[list]:
    """A·B, each entry kept exact while small (`tame`)."""
    cols = transpose(b)
    return [[tame(sympy.Add(*[x * y for x, y in zip(row, col) if x != 0 and y != 0])) for col in cols]
            for row in a]


def scaled(m: list[list], c: Any) -> list[list]:
    """c·M."""
    return [[tame(c * v) for v in row] for row in m]


def softmax_rows(s: list[list], allowed: list[list[bool]]) -> list[list]:
    """Each row's softmax over its allowed entries, written 1/Σ_k e^(s_k − s_j); masked entries 0."""
    out = []
    for row, ok in zip(s, allowed):
        kept = [v for v, a in zip(row, ok) if a]
        out.append([tame(1 / sympy.Add(*[sympy.exp(tame(k - v)) for k in kept])) if a else sympy.Integer(0)
                    for v, a in zip(row, ok)])
    return out


def softmax_backward(w: list[list], dw: list[list]) -> tuple[list, list[list]]:
    """δ_i = Σ_k w_ik·∂L/∂w_ik per row, and ∂L/∂s_ij = w_ij (∂L/∂w_ij − δ_i), computed as
    w_ij Σ_k w_ik (∂L/∂w_ij − ∂L/∂w_ik) (the same, as Σ_k w_ik = 1) so that equal terms cancel exactly."""
    deltas = [weighted_row(wr, dr) for wr, dr in zip(w, dw)]
    ds = [[tame(a * sympy.Add(*[c * (b - e) for c, e in zip(wr, dr) if c != 0 and b != e]))
           if a != 0 else sympy.Integer(0) for a, b in zip(wr, dr)] for wr, dr in zip(w, dw)]
    return deltas, ds


def weighted_row(weights: list, values: list) -> Any:
    """Σ_j w_j·v_j for weights that sum to 1, as v_r + Σ_j w_j (v_j − v_r) with r the first nonzero weight (the
    same), so that equal values cancel exactly (equal values give that value)."""
    r = next(j for j, a in enumerate(weights) if a != 0)
    return tame(values[r] + sympy.Add(*[a * (v - values[r]) for a, v in zip(weights, values)
                                          if a != 0 and v != values[r]]))


def weighted_sum(w: list[list], v: list[list]) -> list[list]:
    """A·V, each entry a weighted_row."""
    return [[weighted_row(wr, col) for col in transpose(v)] for wr in w]


def forward(su: Setup) -> dict[str, list[list]]:
    """Q·Kᵀ, the scores, the weights, the output."""
    qk = product(su.queries, transpose(su.keys))
    scores = scaled(qk, su.scale)
    weights = softmax_rows(scores, su.allowed)
    return {"qk": qk, "scores": scores, "weights": weights, "output": weighted_sum(weights, su.values)}


def backward(su: Setup, weights: list[list]) -> dict[str, Any]:
    """∂L/∂V = Aᵀ·G, ∂L/∂A = G·Vᵀ, ∂L/∂S through the row softmax, ∂L/∂Q = c·∂L/∂S·K, ∂L/∂K = c·(∂L/∂S)ᵀ·Q."""
    g = su.upstream
    grad_values = product(transpose(weights), g)
    grad_weights = product(g, transpose(su.values))
    deltas, grad_scores = softmax_backward(weights, grad_weights)
    return {"grad_weights": grad_weights, "deltas": deltas, "grad_scores": grad_scores,
            "grad_queries": scaled(product(grad_scores, su.keys), su.scale),
            "grad_keys": scaled(product(transpose(grad_scores), su.queries), su.scale),
            "grad_values": grad_values}


def projections_backward(p: Problem, grads: dict[str, Any]) -> dict[str, list[list]]:
    """∂L/∂W = (∂L/∂Q)ᵀ·X for each projection, and ∂L/∂X = ∂L/∂Q·W_q + ∂L/∂K·W_k + ∂L/∂V·W_v."""
    f, x = p.fields, p.fields.input
    out = {f"grad_w{c}": product(transpose(grads[f"grad_{name}"]), x)
           for c, name in (("q", "queries"), ("k", "keys"), ("v", "values"))}
    parts = [product(grads["grad_queries"], f.wq), product(grads["grad_keys"], f.wk),
             product(grads["grad_values"], f.wv)]
    out["grad_input"] = [[tame(a + b + c) for a, b, c in zip(*rows)] for rows in zip(*parts)]
    return out


# ---- one vectorized engine: float64 (recompute) or mpmath (slips, follow-through) ---------------------

@dataclass(frozen=True)
class Numbers:
    """How to compute: the array type's exp, and a converter of exact values."""

    exp: Callable[[Any], Any]
    array: Callable[[Any], np.ndarray]
    neg_inf: Any


def _mp_array(x: Any) -> np.ndarray:
    """Nested exact values as an array of mpmath numbers."""
    with mpmath.workdps(MP_DIGITS):
        return np.array(mp_value(x), dtype=object)


def mp_value(x: Any) -> Any:
    """Nested exact values as mpmath numbers (at the working precision)."""
    if isinstance(x, (list, tuple)):
        return [mp_value(v) for v in x]
    if isinstance(x, bool):
        return mpmath.mpf(int(x))
    if isinstance(x, int):
        return mpmath.mpf(x)
    if isinstance(x, sympy.Rational):
        return mpmath.mpf(int(x.p)) / int(x.q)
    if isinstance(x, sympy.Float):
        return mpmath.mpf(x._mpf_)
    return mpmath.mpf(sympy.N(x, MP_DIGITS + 5))


FLOAT = Numbers(np.exp, lambda x: np.array(x, dtype=float), -np.inf)
MP = Numbers(np.vectorize(mpmath.exp, otypes=[object]), _mp_array, mpmath.mpf("-inf"))


def softmax(s: np.ndarray, allowed: np.ndarray, nums: Numbers, axis: int = 1) -> np.ndarray:
    """Softmax along `axis` over the allowed entries (a line with none allowed is all 0)."""
    top = np.max(np.where(allowed, s, nums.neg_inf), axis=axis, keepdims=True)
    top = np.where(top == nums.neg_inf, 0, top)
    e = np.where(allowed, nums.exp(np.where(allowed, s - top, 0)), 0)
    total = np.sum(e, axis=axis, keepdims=True)
    return e / np.where(total == 0, 1, total)


def engine(q: np.ndarray, k: np.ndarray, v: np.ndarray, allowed: np.ndarray, scale: Any, g: np.ndarray | None = None,
           nums: Numbers = FLOAT, *, axis: int = 1, diagonal: bool = False, backward_scale: bool = True,
           untransposed: bool = False) -> dict[str, np.ndarray]:
    """Scores, weights, output and (with g) ∂L/∂Q, ∂L/∂K, ∂L/∂V; the keywords reproduce slips."""
    scores = (q @ k.T) * scale
    w = softmax(scores, allowed, nums, axis)
    out = {"scores": scores, "weights": w, "output": w @ v}
    if g is not None:
        dw = g @ v.T
        ds = w * dw if diagonal else w * (dw - np.sum(w * dw, axis=axis, keepdims=True))
        c = scale if backward_scale else 1
        out.update(grad_queries=(ds @ k) * c, grad_keys=(ds.T @ q) * c,
                   grad_values=w @ g if untransposed else w.T @ g)
    return out
