"""Kind `attention`: scaled dot-product attention (queries, keys, values; or self-attention of an input through
wq, wk, wv), with a mask or a causal mask; with `upstream`, the backward pass to Q, K, V (and the weights and the
input). PyTorch's F.scaled_dot_product_attention is the oracle."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex, tex
from ..problem import Problem
from ..slipkit import Answers
from ..solution import Solution
from . import _attention_core as C
from . import _attention_slips as S
from . import _attention_steps as T


def _bit(value: Any, ctx: F.Ctx) -> int:
    """A mask entry: 1 = may attend, 0 = may not."""
    x = F.number(value, ctx)
    if x not in (0, 1):
        raise ctx.error(f"a mask entry must be 1 (may attend) or 0 (may not), got {x}")
    return int(x)


def _mask(value: Any, ctx: F.Ctx) -> list[list[int]]:
    """An n × m matrix of 0/1."""
    return F.matrix(value, ctx, _bit)


FIELDS = F.table(
    queries=F.Field(F.matrix), keys=F.Field(F.matrix), values=F.Field(F.matrix),
    input=F.Field(F.matrix), wq=F.Field(F.matrix), wk=F.Field(F.matrix), wv=F.Field(F.matrix),
    mask=F.Field(_mask), causal=F.Field(F.boolean, False), scale=F.Field(F.positive),
    upstream=F.Field(F.matrix),
)
DIRECT, PROJECTED = ("queries", "keys", "values"), ("input", "wq", "wk", "wv")


def _shape(value: list) -> str:
    return F.shape_text(F.shape(value))


def validate(p: Problem) -> None:
    """One of the two ways to give Q, K, V; every shape; the mask, causal and upstream."""
    f = p.fields
    direct = [n for n in DIRECT if getattr(f, n) is not None]
    projected = [n for n in PROJECTED if getattr(f, n) is not None]
    if direct and projected:
        raise p.error(projected[0], "give queries, keys and values, or input with wq, wk and wv, not both")
    if not direct and not projected:
        raise p.error("queries", "required (or give input with wq, wk and wv: self-attention)")
    missing = [n for n in (DIRECT if direct else PROJECTED) if getattr(f, n) is None]
    if missing:
        raise p.error(missing[0], "required with " + (", ".join(direct) if direct else ", ".join(projected)))
    _check_direct(p) if direct else _check_projected(p)
    n, m = len(C._queries_rows(p)), len(C._keys_rows(p))
    if f.mask is not None and f.causal:
        raise p.error("causal", "give a mask or causal: true, not both")
    if f.mask is not None and F.shape(f.mask) != (n, m):
        raise p.error("mask", f"expected {n}×{m} (queries × keys), got {_shape(f.mask)}")
    if f.causal and n != m:
        raise p.error("causal", f"a causal mask needs as many keys as queries, got {n} queries and {m} keys")
    for i, row in enumerate(f.mask or []):
        if not any(row):
            raise p.error(("mask", i), f"query {i} may attend to nothing (every entry of row {i} is 0): "
                                       "its softmax would divide by zero")
    dv = len(f.values[0]) if f.values is not None else len(f.wv)
    if f.upstream is not None and F.shape(f.upstream) != (n, dv):
        raise p.error("upstream", f"expected {n}×{dv} (the shape of the output, queries × d_v), "
                                  f"got {_shape(f.upstream)}")


def _check_direct(p: Problem) -> None:
    """Keys as wide as the queries; one value per key."""
    f = p.fields
    d, m = len(f.queries[0]), len(f.keys)
    if len(f.keys[0]) != d:
        raise p.error("keys", f"expected m×{d} (each key as wide as a query, d_k = {d}), got {_shape(f.keys)}")
    if len(f.values) != m:
        raise p.error("values", f"expected {m}×d_v (one value per key), got {_shape(f.values)}")


def _check_projected(p: Problem) -> None:
    """wq, wk, wv are out × d_model (nn.Linear.weight); wk the shape of wq."""
    f = p.fields
    dm = len(f.input[0])
    for name, out in (("wq", "d_k"), ("wk", "d_k"), ("wv", "d_v")):
        w = getattr(f, name)
        if len(w[0]) != dm:
            hint = (f"; its transpose fits: nn.Linear.weight is out × in, so give the {len(w[0])}×{dm} transpose"
                    if len(w) == dm else "")
            raise p.error(name, f"expected {out}×{dm} ({out} × d_model, as nn.Linear.weight), got {_shape(w)}{hint}")
    if F.shape(f.wk) != F.shape(f.wq):
        raise p.error("wk", f"expected {_shape(f.wq)} (the shape of wq: keys are as wide as queries), "
                            f"got {_shape(f.wk)}")


def solve(p: Problem) -> Solution:
    """Project (self-attention), score, mask, softmax each row, weight the values; then the backward pass."""
    s = Solution(p)
    su = C.setup(p)
    if su.projected:
        T.show_projections(s, p, su)
    fw = C.forward(su)
    T.show_forward(s, p, su, fw)
    T.answer(s, "scores", fw["scores"], "S")
    T.answer(s, "weights", fw["weights"], "A")
    T.answer(s, "output", fw["output"], "O")
    if su.projected:
        for name, symbol in (("queries", "Q"), ("keys", "K"), ("values", "V")):
            T.answer(s, name, getattr(su, name), symbol)
    T.check_rows(s, fw["weights"])
    if su.upstream is not None:
        bw = C.backward(su, fw["weights"])
        T.show_backward(s, p, su, bw)
        for name, symbol in (("grad_queries", "Q"), ("grad_keys", "K"), ("grad_values", "V")):
            T.answer(s, name, bw[name], r"\partial\mathcal{L}/\partial " + symbol)
        if su.projected:
            pw = C.projections_backward(p, bw)
            T.show_projections_backward(s, p, pw)
            for name, symbol in (("grad_wq", "W_q"), ("grad_wk", "W_k"), ("grad_wv", "W_v"), ("grad_input", "X")):
                T.answer(s, name, pw[name], r"\partial\mathcal{L}/\partial " + symbol)
    return s


def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 (NumPy): the vectorized engine, autograd's formulas for the projections."""
    f = p.fields
    arr = C.FLOAT.array
    if f.input is not None:
        x = arr(f.input)
        q, k, v = x @ arr(f.wq).T, x @ arr(f.wk).T, x @ arr(f.wv).T
    else:
        q, k, v = arr(f.queries), arr(f.keys), arr(f.values)
    allowed = np.array(C.allowed_of(p), dtype=bool)
    g = arr(f.upstream) if f.upstream is not None else None
    out = C.engine(q, k, v, allowed, float(C.scale_of(p)), g)
    if f.input is not None:
        out.update(queries=q, keys=k, values=v)
        if g is not None:
            out.update(grad_wq=out["grad_queries"].T @ x, grad_wk=out["grad_keys"].T @ x,
                       grad_wv=out["grad_values"].T @ x,
                       grad_input=out["grad_queries"] @ arr(f.wq) + out["grad_keys"] @ arr(f.wk)
                       + out["grad_values"] @ arr(f.wv))
    return out


def given(p: Problem) -> list[tuple[str, Latex]]:
    """The data for the question sheet: the matrices given, the mask (a causal one written out), the scale."""
    f = p.fields
    out = [(name, tex(getattr(f, name))) for name in DIRECT + PROJECTED if getattr(f, name) is not None]
    if f.mask is not None or f.causal:
        out.append(("causal mask" if f.causal else "mask", T.mask_latex(C.allowed_of(p))))
    if f.scale is not None:
        out.append(("scale", tex(f.scale)))
    if f.upstream is not None:
        out.append(("upstream", tex(f.upstream)))
    return out


class Attention(Kind):
    """Scaled dot-product attention, forward and (with `upstream`) backward."""

    name = "attention"
    summary = "scaled dot-product attention (or self-attention through wq, wk, wv) with a mask or causal; " \
              "with upstream, the gradients of Q, K, V (and of the projections and the input)"
    fields = FIELDS
    answers = {"scores": AnswerSpec(depends=("queries", "keys")),
               "weights": AnswerSpec(depends=("scores",)),
               "output": AnswerSpec(depends=("weights", "values")),
               "queries": AnswerSpec(), "keys": AnswerSpec(), "values": AnswerSpec(),
               "grad_queries": AnswerSpec(depends=("weights", "keys", "values")),
               "grad_keys": AnswerSpec(depends=("weights", "queries", "values")),
               "grad_values": AnswerSpec(depends=("weights",)),
               "grad_wq": AnswerSpec(depends=("grad_queries",)),
               "grad_wk": AnswerSpec(depends=("grad_keys",)),
               "grad_wv": AnswerSpec(depends=("grad_values",)),
               "grad_input": AnswerSpec(depends=("grad_queries", "grad_keys", "grad_values"))}
    slips = S.SLIPS
    examples = S.EXAMPLES
    positional = DIRECT

    validate = delegate()
    solve = delegate()
    recompute = delegate()

    def answer_names(self, p: Problem) -> list[str]:
        names = ["scores", "weights", "output"]
        names += ["queries", "keys", "values"] if p.fields.input is not None else []
        if p.fields.upstream is not None:
            names += ["grad_queries", "grad_keys", "grad_values"]
            names += ["grad_wq", "grad_wk", "grad_wv", "grad_input"] if p.fields.input is not None else []
        return names

    follow = delegate(S)   # SPEC §12: redo an answer from the student's own earlier ones

    def given(self, p: Problem) -> list[tuple[str, Latex]]:
        return given(p)


KIND = Attention()
