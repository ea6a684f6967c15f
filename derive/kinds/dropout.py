"""Kind `dropout`: a 0/1 mask (given, or drawn from the seed), and the output a·m/keep_prob (inverted dropout)."""
from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex, chain, decimal_text, matrix, tex
from ..problem import Problem
from ..sheet import given_entries
from ..slipkit import Answers, Slip, Variant, mapped, setting
from ..solution import Solution
from . import _images as I


def _keep_prob(value: Any, ctx: F.Ctx) -> sympy.Rational:
    """The probability of keeping a unit: 0 < keep_prob ≤ 1 (1 keeps every unit)."""
    x = F.number(value, ctx)
    if not 0 < x <= 1:
        raise ctx.error(f"must be greater than 0 and at most 1 (the probability of keeping a unit), "
                        f"got {I.value_text(x)}")
    return x


def _bit(value: Any, ctx: F.Ctx) -> int:
    """One mask entry: 1 keeps the unit, 0 drops it."""
    x = F.number(value, ctx)
    if x not in (0, 1):
        raise ctx.error(f"a mask entry must be 0 (dropped) or 1 (kept), got {I.value_text(x)}")
    return int(x)


def _mask(value: Any, ctx: F.Ctx) -> list:
    """A vector or matrix of 0/1."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return F.matrix(value, ctx, _bit)
    return F.vector(value, ctx, _bit)


FIELDS = F.table(
    activations=F.Field(F.vector_or_matrix, required=True),
    keep_prob=F.Field(_keep_prob, required=True),
    mask=F.Field(_mask),
    inverted=F.Field(F.boolean, True),
)


def validate(p: Problem) -> None:
    """A given mask has the activations' shape."""
    if p.fields.mask is not None and F.shape(p.fields.mask) != F.shape(p.fields.activations):
        raise p.error("mask", f"expected the shape of activations ({F.shape_text(F.shape(p.fields.activations))}), "
                              f"got {F.shape_text(F.shape(p.fields.mask))}")


def _draws(p: Problem) -> np.ndarray:
    """The uniform draws u of the problem's generator; a unit is kept when u < keep_prob (SPEC §8)."""
    return p.rng().random(F.shape(p.fields.activations))


def _apply(a: Any, m: Any, f) -> Any:
    """f(a, m) entry by entry over nested lists."""
    if isinstance(a, list):
        return [_apply(x, y, f) for x, y in zip(a, m)]
    return f(a, m)


def solve(p: Problem) -> Solution:
    """The mask, the masked and scaled output, and the expectation check."""
    s = Solution(p)
    keep, inverted = p.fields.keep_prob, p.fields.inverted
    if p.fields.mask is not None:
        mask = p.fields.mask
        s.step("The mask", chain(Latex("m"), mask),
               text="The mask is given: 1 keeps a unit, 0 drops it.", figure=None)
    else:
        draws = _draws(p)
        mask = np.vectorize(int)(draws < float(keep)).tolist()
        s.step("Draw the mask", chain(Latex("u"), Latex(_draw_matrix(draws.tolist(), keep))),
               chain(Latex(rf"m = [u < {tex(keep)}]"), mask),
               text=f"Each unit is kept with probability $p = {tex(keep)}$, independently: draw $u$ uniformly "
                    f"from [0, 1) with the problem's generator (numpy default_rng([seed, crc32(id)"
                    + (", crc32(variant)" if p.variant else "") + f"]), seed "
                    f"{p.seed}) and keep the unit when $u < p$. The draws are shown so the mask can be checked.")
    masked = _apply(p.fields.activations, mask, lambda a, m: a * m)
    output = _apply(masked, mask, lambda a, m: a / keep) if inverted else masked
    lines = [chain(Latex(r"\mathbf{a} \odot \mathbf{m}"), masked)]
    if inverted:
        lines.append(chain(Latex(rf"\tilde{{\mathbf{{a}}}} = \frac{{\mathbf{{a}} \odot \mathbf{{m}}}}{{{tex(keep)}}}"),
                           output, approx_digits=p.digits))
    kept = sum(I.flat(mask))
    s.step("Apply the mask" + (" and scale by 1/p" if inverted else ""), *lines,
           text=f"{kept} of {len(I.flat(mask))} units are kept. "
                + (f"Inverted dropout divides the kept activations by $p = {tex(keep)}$ during training, "
                   "so the next layer sees the same expected input as at test time, when nothing is dropped."
                   if inverted else "Without inverted scaling the kept activations pass unchanged; at test time "
                   f"the activations must then be multiplied by $p = {tex(keep)}$ instead."),
           figure=_figure(p, mask, output))
    _expectation(s, p, keep, output)
    s.answer("mask", mask, symbol=r"\mathbf{m}")
    s.answer("output", output, symbol=r"\tilde{\mathbf{a}}" if inverted else r"\mathbf{a} \odot \mathbf{m}")
    return s


def _draw_matrix(draws: Any, keep: sympy.Rational) -> str:
    """The draws at 4 decimals (more where needed to show on which side of keep_prob they fall)."""
    def cell(u: float) -> str:
        for places in range(4, 18):
            text = f"{u:.{places}f}"
            if (sympy.Rational(text) < keep) == (u < float(keep)) and sympy.Rational(text) != keep:
                return text
        return repr(u)
    return matrix(draws, lambda u: Latex(cell(u)))


def _expectation(s: Solution, p: Problem, keep: sympy.Rational, output: Any) -> None:
    """E[output] over the random mask, exactly: a (inverted) or p·a (plain)."""
    a = sympy.Symbol("a")
    expected = keep * (a / keep if p.fields.inverted else a) + (1 - keep) * 0
    if sympy.simplify(expected - (a if p.fields.inverted else keep * a)) != 0:
        raise AssertionError(f"{p.id}: the expected output is not what dropout promises")
    q = tex(keep)
    if p.fields.inverted:
        line = chain(Latex(rf"E[\tilde{{a}}_i] = p \cdot \frac{{a_i}}{{p}} + (1 - p) \cdot 0"),
                     Latex(rf"{q} \cdot \frac{{a_i}}{{{q}}} + {tex(1 - keep)} \cdot 0"), Latex("a_i"))
        s.check("E[output] = input exactly for every entry: $p \\cdot (a/p) + (1 - p) \\cdot 0 = a$.")
    else:
        line = chain(Latex(r"E[a_i m_i] = p \cdot a_i + (1 - p) \cdot 0"), Latex(rf"{q}\, a_i"))
        s.check(f"E[output] = {I.value_text(keep)} · input exactly for every entry (no inverted scaling).")
    mean_in = sympy.Add(*I.flat(p.fields.activations)) / len(I.flat(p.fields.activations))
    mean_out = sympy.Add(*I.flat(output)) / len(I.flat(output))
    s.step("Expected value", line,
           text="Over the random mask, each unit is kept with probability $p$ and dropped otherwise, so "
                + ("the expected output equals the input: " if p.fields.inverted
                   else "the expected output is $p$ times the input: ")
                + f"this holds on average over masks, not for one draw (here the mean of the input is "
                  f"{decimal_text(mean_in, p.digits)} and of this output {decimal_text(mean_out, p.digits)}).")


def _figure(p: Problem, mask: Any, output: Any) -> Latex | None:
    """Activations, mask and output side by side, dropped units greyed."""
    rows = p.fields.activations if isinstance(p.fields.activations[0], list) else [p.fields.activations]
    m = mask if isinstance(mask[0], list) else [mask]
    out = output if isinstance(output[0], list) else [output]
    if len(rows) > 12 or len(rows[0]) > 12:
        return None
    dropped = {(i, j) for i, r in enumerate(m) for j, v in enumerate(r) if v == 0}
    grids = [I.Grid(r"\mathbf{a}", rows, faint=dropped), r"\odot", I.Grid(r"\mathbf{m}", m, faint=dropped),
             r"\Rightarrow", I.Grid(r"\tilde{\mathbf{a}}" if p.fields.inverted else r"\mathbf{a}\odot\mathbf{m}", out,
                                   faint=dropped)]
    return I.figure(I.Layout([grids]))


def recompute(p: Problem) -> dict[str, Any]:
    """float64: the mask redrawn from a fresh generator (or as given), then a·m/keep_prob."""
    a = np.array(p.fields.activations, dtype=float)
    if p.fields.mask is not None:
        m = np.array(p.fields.mask, dtype=float)
    else:
        key = [p.seed, zlib.crc32(p.id.encode("utf-8"))]
        if p.variant:   # SPEC §10: a variant's random masks use its own generator
            key.append(zlib.crc32(p.variant.encode("utf-8")))
        rng = np.random.default_rng(key)
        m = (rng.random(a.shape) < float(p.fields.keep_prob)).astype(float)
    out = a * m / (float(p.fields.keep_prob) if p.fields.inverted else 1.0)
    return {"mask": m, "output": out}


# ---- slips ------------------------------------------------------------------------------------------

def scaling(p: Problem, answers: Answers) -> list[Variant]:
    """Inverted dropout's 1/keep_prob left out (or added), or multiplied by keep_prob instead."""
    if p.fields.inverted:
        return [Variant("the kept activations not divided by keep_prob (plain dropout, not inverted)",
                        modify=setting(inverted=False)),
                Variant("the kept activations multiplied by keep_prob instead of divided by it",
                        transform=lambda q, a: {"output": mapped(a["output"],
                                                                 lambda v: v * q.fields.keep_prob ** 2)})]
    return [Variant("the kept activations divided by keep_prob (inverted dropout) although inverted is false",
                    modify=setting(inverted=True))]


class Dropout(Kind):
    """Dropout with a given or drawn 0/1 mask, inverted (scaled by 1/keep_prob) or plain."""

    name = "dropout"
    summary = "dropout: the 0/1 mask (given or drawn from the seed) and the output a·m/keep_prob"
    fields = FIELDS
    answers = {"mask": AnswerSpec(count=True),
               "output": AnswerSpec(depends=("mask",))}
    slips = (Slip("dropout_scaling", "inverted dropout's 1/keep_prob left out, added or inverted", scaling),)
    examples = ({"activations": [1, 2, -3, 4], "keep_prob": 0.8, "mask": [1, 0, 1, 1]},
                {"activations": [[0.5, -1, 2], [3, 1, 1.5]], "keep_prob": 0.5, "inverted": False})
    positional = ("activations", "keep_prob")

    validate = delegate()
    solve = delegate()
    recompute = delegate()

    def given(self, p: Problem) -> list[tuple[str, Any]]:
        """The fields as written; a mask drawn from the seed as its 0/1 values (SPEC §15: the sheet shows every
        number a student needs, a random mask as its values)."""
        out = super().given(p)
        if p.fields.mask is None:
            mask = np.vectorize(int)(_draws(p) < float(p.fields.keep_prob)).tolist()
            out += given_entries(f"mask, drawn with seed {p.seed} (1 keeps a unit)", mask, None)
        return out


KIND = Dropout()
