"""Kind `layer_norm`: each sample normalized over its features (PyTorch's F.layer_norm on the last axis), then
scaled and shifted by per-feature γ and β; with `upstream`, the backward pass."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex, tex
from ..problem import Problem
from ..slipkit import Answers, Slip, Variant, mapped, negated, nonzero, setting, transposed
from ..solution import Solution
from . import _dense_show as D
from .batch_norm import answer_row, mean_lines, normalized_formula, variance_lines

SHOWN_ROWS = 3
SHORT_VECTOR = 4   # a γ or β of more features is written by its symbol in the formulas

FIELDS = F.table(
    x=F.Field(F.vector_or_matrix, required=True),
    gamma=F.Field(F.scalar_or_vector, sympy.Integer(1)),
    beta=F.Field(F.scalar_or_vector, sympy.Integer(0)),
    eps=F.Field(F.nonnegative, sympy.Integer(0)),
    upstream=F.Field(F.vector_or_matrix),
)


def _is_matrix(p: Problem) -> bool:
    """True when x is a matrix (rows = samples)."""
    return isinstance(p.fields.x[0], list)


def _as_list(p: Problem, value: Any) -> list:
    """A per-row answer as a list (a scalar for a vector x)."""
    return list(value) if _is_matrix(p) else [value]


def _rows(p: Problem, value: Any = None) -> list[list]:
    """A value shaped like x as a list of rows (a vector x is one row)."""
    value = p.fields.x if value is None else value
    return [list(r) for r in value] if _is_matrix(p) else [list(value)]


def _shaped(p: Problem, rows: list) -> Any:
    """Rows (or one value per row) back in x's shape: a vector x gives the one row (or a scalar)."""
    return rows if _is_matrix(p) else rows[0]


def _per_feature(p: Problem, name: str) -> list:
    """gamma or beta as one value per feature (a scalar broadcast)."""
    value = getattr(p.fields, name)
    return list(value) if isinstance(value, list) else [value] * len(_rows(p)[0])


def _is_zero(x: sympy.Expr) -> bool:
    """Exactly zero (a closed form far from 0 numerically is not; near 0, SymPy decides)."""
    if x.is_Rational or x.is_Float:
        return x == 0
    return abs(sympy.N(x, 30)) < sympy.Float("1e-20") and bool(x.equals(0))


def _mean_var(row: list) -> tuple[sympy.Expr, sympy.Expr]:
    """The row's mean and biased variance."""
    mean = sympy.Add(*row) / len(row)
    return mean, sympy.Add(*[(v - mean) ** 2 for v in row]) / len(row)


def validate(p: Problem) -> None:
    """gamma, beta one per feature; upstream the shape of x; no zero-variance row with eps 0."""
    features = len(_rows(p)[0])
    for name in ("gamma", "beta"):
        value = getattr(p.fields, name)
        if isinstance(value, list) and len(value) != features:
            raise p.error(name, f"expected one {name} per feature ({features}), got {len(value)}")
    if p.fields.upstream is not None and F.shape(p.fields.upstream) != F.shape(p.fields.x):
        raise p.error("upstream", f"expected the shape of x ({F.shape_text(F.shape(p.fields.x))}), "
                                  f"got {F.shape_text(F.shape(p.fields.upstream))}")
    if p.fields.eps == 0:
        for i, row in enumerate(_rows(p)):
            if _is_zero(_mean_var(row)[1]):
                where, what = (("x", i), f"row {i} has") if _is_matrix(p) else ("x", "x has")
                raise p.error(where, f"{what} zero variance and eps is 0: x̂ would divide by zero (give eps > 0)")


def _normalize(row: list, mean: Any, var: Any, eps: Any) -> list:
    """(x − μ)/√(σ² + ε), radicals out of the denominator."""
    std = sympy.sqrt(var + eps)
    return [sympy.radsimp((v - mean) / std) for v in row]


def _affine(p: Problem, xhat_rows: list[list]) -> list[list]:
    """γ ⊙ x̂ + β, row by row."""
    gammas, betas = _per_feature(p, "gamma"), _per_feature(p, "beta")
    return [[sympy.expand(g * v + b) for v, g, b in zip(row, gammas, betas)] for row in xhat_rows]


def solve(p: Problem) -> Solution:
    """Per row: μ, σ², x̂ = (x − μ)/√(σ² + ε), y = γ ⊙ x̂ + β; the backward pass when upstream is given."""
    s = Solution(p)
    rows, eps, h = _rows(p), p.fields.eps, len(_rows(p)[0])
    s.step("The layer-norm transform",
           Latex(r"\mu = \frac{1}{H}\sum_j x_j, \quad \sigma^2 = \frac{1}{H}\sum_j (x_j - \mu)^2, \quad "
                 r"\hat{x}_j = \frac{x_j - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \quad "
                 r"y_j = \gamma_j \hat{x}_j + \beta_j"),
           text=f"Each sample{' (row)' if _is_matrix(p) else ''} is normalized over its own $H = {h}$ features, "
                "with the biased variance (divided by $H$), as nn.LayerNorm does; $\\gamma$ and $\\beta$ are one per "
                f"feature (a single number is broadcast); $\\varepsilon = {tex(eps)}$.")
    stats = [_mean_var(row) for row in rows]
    xhats = [_normalize(row, m, v, eps) for row, (m, v) in zip(rows, stats)]
    outputs = _affine(p, xhats)
    for i, row in enumerate(rows[:SHOWN_ROWS]):
        _show_row(s, p, i, row, stats[i], xhats[i], outputs[i])
    if len(rows) > SHOWN_ROWS:
        s.step(f"Rows {SHOWN_ROWS} to {len(rows) - 1}", text="The same steps, row by row.")
    answer_row(s, "mean", _shaped(p, [m for m, _ in stats]), r"\mu")
    answer_row(s, "variance", _shaped(p, [v for _, v in stats]), r"\sigma^2")
    D.answer(s, "normalized", _shaped(p, xhats), r"\hat{x}")
    D.answer(s, "output", _shaped(p, outputs), "y")
    for i, xhat in enumerate(xhats):
        total = sympy.expand(sympy.Add(*xhat))
        if total != 0 and abs(sympy.N(total, 50)) > sympy.Float("1e-45"):
            raise AssertionError(f"{p.id}: normalized row {i} does not have mean 0")
    s.check("The normalized values have mean 0 exactly" + (" in every row." if _is_matrix(p) else "."))
    if p.fields.upstream is not None:
        _backward(s, p, xhats, [v for _, v in stats])
    return s


def _show_row(s: Solution, p: Problem, i: int, row: list, stat: tuple, xhat: list, y: list) -> None:
    """The worked steps of one sample."""
    d, h, (mean, var) = p.digits, len(row), stat
    tag = f" (row {i})" if _is_matrix(p) else ""
    std = sympy.sqrt(var + p.fields.eps)
    s.step("Mean and variance over the features" + tag, *mean_lines(row, mean, d, "j"),
           *variance_lines(row, mean, var, h, d, "j"),
           D.eq(Latex(r"\sqrt{\sigma^2 + \varepsilon}"), Latex(r"\sqrt{%s + %s}" % (tex(var), tex(p.fields.eps))),
                std, d=d))
    lines = [D.eq(Latex(r"\hat{\mathbf{x}} = " + normalized_formula(mean, std)), xhat, d=d)]
    if nonzero(p.fields.beta) or any(c != 1 for c in _per_feature(p, "gamma")):
        gamma, beta = (_written(p.fields.gamma, r"\boldsymbol{\gamma}"), _written(p.fields.beta, r"\boldsymbol{\beta}"))
        affine = Latex(r"\mathbf{y} = %s \odot \hat{\mathbf{x}} + %s" % (gamma, beta))
        lines.append(D.eq(affine, y, d=d))
    s.step("Normalize" + (", then scale and shift" if len(lines) > 1 else "") + tag, *lines,
           text="" if len(lines) > 1 else "With γ = 1 and β = 0 the output is the normalized row itself.")


def _written(value: Any, symbol: str) -> str:
    """γ or β written in a formula: its values when few (SHORT_VECTOR), else its symbol (given on the sheet)."""
    return tex(value) if not isinstance(value, list) or len(value) <= SHORT_VECTOR else symbol


def _grad_x(row_g: list, xhat: list, std: Any, gammas: list) -> list:
    """∂L/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))/√(σ² + ε), with ĝ = γ ⊙ g."""
    h = len(row_g)
    ghat = [g * c for g, c in zip(row_g, gammas)]
    mean_g, mean_gx = sympy.Add(*ghat) / h, sympy.expand(sympy.Add(*[a * b for a, b in zip(ghat, xhat)])) / h
    return [sympy.radsimp(sympy.expand((a - mean_g - x * mean_gx) / std)) for a, x in zip(ghat, xhat)]


def _show_backward(s: Solution, p: Problem, i: int, g: list, xhat: list, gammas: list, grad: list) -> None:
    """The worked backward step of one sample: ĝ, its two means, ∂L/∂x."""
    d, h = p.digits, len(g)
    ghat = [a * c for a, c in zip(g, gammas)]
    mean_gx = sympy.radsimp(sympy.expand(sympy.Add(*[a * b for a, b in zip(ghat, xhat)]) / h))
    s.step("Backward through the normalization" + (f" (row {i})" if _is_matrix(p) else ""),
           D.eq(Latex(r"\hat{\mathbf{g}} = \boldsymbol{\gamma} \odot \mathbf{g}"), ghat, d=d),
           Latex(D.eq(Latex(r"\frac{1}{H}\sum_k \hat{g}_k"), sympy.Add(*ghat) / h, d=d) + r", \quad "
                 + D.eq(Latex(r"\frac{1}{H}\sum_k \hat{g}_k \hat{x}_k"), mean_gx, d=d)),
           D.eq(Latex(r"\frac{\partial\mathcal{L}}{\partial \mathbf{x}}" if i else
                      r"\frac{\partial\mathcal{L}}{\partial x_j} = \frac{1}{\sqrt{\sigma^2+\varepsilon}}"
                      r"\left(\hat{g}_j - \frac{1}{H}\sum_k \hat{g}_k - \hat{x}_j \frac{1}{H}\sum_k \hat{g}_k"
                      r" \hat{x}_k\right)"), grad, d=d),
           text="The mean and the variance of a row depend on every feature of it, so each input's gradient "
                "has three parts: its own path, the path through μ and the path through σ².")


def _backward(s: Solution, p: Problem, xhats: list[list], variances: list) -> None:
    """∂L/∂γ, ∂L/∂β summed over rows; ∂L/∂x row by row through μ and σ²."""
    d, g_rows, gammas = p.digits, _rows(p, p.fields.upstream), _per_feature(p, "gamma")
    grad_beta = [sympy.Add(*col) for col in zip(*g_rows)]
    grad_gamma = [sympy.expand(sympy.Add(*[g * x for g, x in zip(gc, xc)]))
                  for gc, xc in zip(zip(*g_rows), zip(*xhats))]
    over = r"\sum_n " if _is_matrix(p) else ""
    s.step("Gradients of γ and β",
           D.eq(Latex(r"\frac{\partial\mathcal{L}}{\partial\boldsymbol{\beta}} = %s\mathbf{g}" % over), grad_beta, d=d),
           D.eq(Latex(r"\frac{\partial\mathcal{L}}{\partial\boldsymbol{\gamma}} = %s\mathbf{g} \odot \hat{\mathbf{x}}"
                      % over), grad_gamma, d=d),
           text="$\\mathbf{g} = \\partial\\mathcal{L}/\\partial\\mathbf{y}$ is the upstream gradient. γ and β are "
                "shared by every sample, so their gradients have one entry per feature"
                + (", summed over the rows." if _is_matrix(p) else "."))
    grad_x = []
    for i, (g, xhat, var) in enumerate(zip(g_rows, xhats, variances)):
        grad_x.append(_grad_x(g, xhat, sympy.sqrt(var + p.fields.eps), gammas))
        if i < SHOWN_ROWS:
            _show_backward(s, p, i, g, xhat, gammas, grad_x[-1])
    D.answer(s, "grad_x", _shaped(p, grad_x), r"\partial\mathcal{L}/\partial x")
    answer_row(s, "grad_gamma", grad_gamma, r"\partial\mathcal{L}/\partial\gamma")
    answer_row(s, "grad_beta", grad_beta, r"\partial\mathcal{L}/\partial\beta")


def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 (NumPy): statistics along axis 1, the chain rule through μ and σ² written out."""
    x = np.atleast_2d(np.array(p.fields.x, dtype=float))
    gamma, beta = (np.array(_per_feature(p, name), dtype=float) for name in ("gamma", "beta"))
    h, mean, var = x.shape[1], x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    std = np.sqrt(var + float(p.fields.eps))
    xhat = (x - mean) / std
    shaped = (lambda a: a) if _is_matrix(p) else (lambda a: a[0])
    out = {"mean": shaped(mean[:, 0]), "variance": shaped(var[:, 0]), "normalized": shaped(xhat),
           "output": shaped(gamma * xhat + beta)}
    if p.fields.upstream is not None:
        g = np.atleast_2d(np.array(p.fields.upstream, dtype=float))
        dxhat = g * gamma
        dvar = np.sum(dxhat * (x - mean), axis=1, keepdims=True) * -0.5 * std ** -3
        dmean = -np.sum(dxhat, axis=1, keepdims=True) / std - dvar * 2 * np.mean(x - mean, axis=1, keepdims=True)
        dx = dxhat / std + dvar * 2 * (x - mean) / h + dmean / h
        out.update(grad_x=shaped(dx), grad_gamma=np.sum(g * xhat, axis=0), grad_beta=np.sum(g, axis=0))
    return out


# ---- slips ------------------------------------------------------------------------------------------

def _from_stats(p: Problem, means: list, denominators: list) -> Answers:
    """normalized = (x − μ)/denominator and output = γ ⊙ that + β (a zero denominator cannot have happened)."""
    if any(_is_zero(den) for den in denominators):
        raise ZeroDivisionError
    xhat = [[(v - m) / den for v in row] for row, m, den in zip(_rows(p), means, denominators)]
    return {"normalized": _shaped(p, xhat), "output": _shaped(p, _affine(p, xhat))}


def batch_axis(p: Problem, answers: Answers) -> list[Variant]:
    """Statistics over the batch (each feature over the samples, batch norm's) instead of over the features."""
    rows = _rows(p)

    def transform(p: Problem, a: Answers) -> Answers:
        cols = transposed(_rows(p))
        stats = [_mean_var(col) for col in cols]
        if any(_is_zero(v + p.fields.eps) for _, v in stats):
            raise ZeroDivisionError
        xhat = transposed([_normalize(col, m, v, p.fields.eps) for col, (m, v) in zip(cols, stats)])
        out = {"normalized": xhat, "output": _affine(p, xhat)}
        if len(cols) == len(rows):
            out.update(mean=[m for m, _ in stats], variance=[v for _, v in stats])
        return out
    return [Variant("the statistics taken over the batch (each feature's mean and variance over the samples, "
                    "as batch norm does) instead of over each sample's features", transform=transform)
            ] if len(rows) > 1 else []


def variance_for_std(p: Problem, answers: Answers) -> list[Variant]:
    """Dividing by σ² + ε instead of √(σ² + ε)."""
    return [Variant("the variance σ² used where the standard deviation σ = √(σ² + ε) belongs: "
                    "normalized as (x − μ)/σ²",
                    transform=lambda p, a: _from_stats(p, _as_list(p, a["mean"]),
                                                       [v + p.fields.eps for v in _as_list(p, a["variance"])]))]


def std_for_variance(p: Problem, answers: Answers) -> list[Variant]:
    """The standard deviation reported as the variance."""
    return [Variant("the standard deviation σ given where the variance σ² belongs",
                    transform=lambda _p, a: {"variance": mapped(a["variance"], sympy.sqrt)})]


def unbiased(p: Problem, answers: Answers) -> list[Variant]:
    """Dividing by H − 1 (torch.var's default) instead of H."""
    h = len(_rows(p)[0])

    def transform(p: Problem, a: Answers) -> Answers:
        variances = [v * h / (h - 1) for v in _as_list(p, a["variance"])]
        out = _from_stats(p, _as_list(p, a["mean"]), [sympy.sqrt(v + p.fields.eps) for v in variances])
        return {**out, "variance": _shaped(p, variances)}
    return [] if h < 2 else [Variant(f"the sample variance (divided by H − 1 = {h - 1}, torch.var's default) used "
                                     f"where layer norm divides by H = {h}", transform=transform)]


def beta_sign(p: Problem, answers: Answers) -> list[Variant]:
    """y = γx̂ − β."""
    return [Variant("the sign of β flipped: y = γ·(normalized x) − β", modify=setting(beta=negated(p.fields.beta)))
            ] if nonzero(p.fields.beta) else []


def eps_forgotten(p: Problem, answers: Answers) -> list[Variant]:
    """√σ² instead of √(σ² + ε)."""
    eps = p.fields.eps
    return [Variant(f"ε = {eps} left out of √(σ² + ε)", modify=setting(eps=sympy.Integer(0)))] if eps != 0 else []


def mean_for_sum(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂γ and ∂L/∂β averaged over the rows instead of summed."""
    n = len(_rows(p))
    return [Variant(f"∂L/∂γ and ∂L/∂β averaged over the {n} rows where they are summed",
                    transform=lambda _p, a: {k: mapped(a[k], lambda v: v / n) for k in ("grad_gamma", "grad_beta")})
            ] if "grad_beta" in answers and n > 1 else []


def _grad_x_slip(words: str, ones: bool, direct: bool) -> Variant:
    """A ∂L/∂x computed with γ left out (`ones`) or through x̂'s own path only (`direct`)."""
    def transform(p: Problem, a: Answers) -> Answers:
        gammas = [1] * len(_rows(p)[0]) if ones else _per_feature(p, "gamma")
        out = []
        for g, xhat, var in zip(_rows(p, p.fields.upstream), _rows(p, a["normalized"]), _as_list(p, a["variance"])):
            std = sympy.sqrt(var + p.fields.eps)
            out.append([c * v / std for c, v in zip(gammas, g)] if direct else _grad_x(g, xhat, std, gammas))
        return {"grad_x": _shaped(p, out)}
    return Variant(words, transform=transform)


def stats_constant(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂x = γ·g/√(σ² + ε): μ and σ² treated as constants."""
    return [_grad_x_slip("μ and σ² treated as constants in the backward pass: ∂L/∂x = γ·g/√(σ² + ε), the paths "
                         "through the mean and the variance left out", ones=False, direct=True)
            ] if "grad_x" in answers else []


def gamma_forgotten(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂x̂ = g instead of γ ⊙ g."""
    happens = "grad_x" in answers and any(c != 1 for c in _per_feature(p, "gamma"))
    return [_grad_x_slip("γ left out of the backward pass: ∂L/∂x̂ taken as g instead of γ·g", ones=True,
                         direct=False)] if happens else []


def follow(p: Problem, answer: str, given: Answers) -> Any:
    """An answer redone from a student's own mean, variance or normalized values (SPEC §12)."""
    if "_exact" not in p.__dict__:
        stats = [_mean_var(row) for row in _rows(p)]
        xhat = [_normalize(r, m, v, p.fields.eps) for r, (m, v) in zip(_rows(p), stats)]
        p.__dict__["_exact"] = {"mean": _shaped(p, [m for m, _ in stats]), "normalized": _shaped(p, xhat),
                                "variance": _shaped(p, [v for _, v in stats])}
    have = {**p.__dict__["_exact"], **given}
    means, variances = _as_list(p, have["mean"]), _as_list(p, have["variance"])
    if answer == "variance":
        return _shaped(p, [sympy.Add(*[(v - m) ** 2 for v in row]) / len(row) for row, m in zip(_rows(p), means)])
    if answer in ("normalized", "output", "grad_x") and any(v + p.fields.eps <= 0 for v in variances):
        return None
    if answer == "normalized" or (answer == "output" and "normalized" not in given):
        return _from_stats(p, means, [sympy.sqrt(v + p.fields.eps) for v in variances])[answer]
    xhat = _rows(p, have["normalized"])
    if answer == "output":
        return _shaped(p, _affine(p, xhat))
    if answer == "grad_gamma":
        return [sympy.Add(*[g * x for g, x in zip(gc, xc)]) for gc, xc in zip(zip(*_rows(p, p.fields.upstream)),
                                                                              zip(*xhat))]
    if answer == "grad_x":
        return _grad_x_slip("", ones=False, direct=False).transform(p, have)["grad_x"]
    return None


class LayerNorm(Kind):
    """Layer normalization over each sample's features, forward and (with `upstream`) backward."""

    name = "layer_norm"
    summary = "layer norm: per-sample mean and variance over the features, normalized, scaled and shifted; " \
              "with upstream, the backward pass"
    fields = FIELDS
    answers = {"mean": AnswerSpec(),
               "variance": AnswerSpec(depends=("mean",)),
               "normalized": AnswerSpec(depends=("mean", "variance")),
               "output": AnswerSpec(depends=("normalized", "mean", "variance")),
               "grad_x": AnswerSpec(depends=("normalized", "variance"), needs="upstream"),
               "grad_gamma": AnswerSpec(depends=("normalized",), needs="upstream"),
               "grad_beta": AnswerSpec(needs="upstream")}
    slips = (
        Slip("ln_batch_axis", "normalized over the batch axis (batch norm's statistics) instead of the features",
             batch_axis),
        Slip("variance_for_std", "the variance used where the standard deviation belongs", variance_for_std),
        Slip("std_for_variance", "the standard deviation given where the variance belongs", std_for_variance),
        Slip("ln_unbiased", "the variance divided by H − 1 instead of H", unbiased),
        Slip("beta_sign", "the sign of β flipped", beta_sign),
        Slip("eps_forgotten", "ε forgotten in √(σ² + ε)", eps_forgotten),
        Slip("ln_mean_for_sum", "the mean over rows instead of the sum in ∂L/∂γ, ∂L/∂β", mean_for_sum),
        Slip("ln_stats_constant", "μ and σ² treated as constants in ∂L/∂x", stats_constant),
        Slip("ln_gamma_forgotten", "γ left out of ∂L/∂x", gamma_forgotten),
    )
    examples = ({"x": [[1, 2, 3, 6], [2, 0, 1, 1]], "gamma": [1, 2, 0.5, -1], "beta": [0, 1, -1, 0.5], "eps": 0.5,
                 "upstream": [[1, 0, -1, 2], [0.5, 1, 0, -2]]},
                {"x": [2, 4, 6, 8], "gamma": 2, "beta": 1},
                {"x": [1, 2, 4], "upstream": [1, 0, -1]})
    positional = ("x",)

    validate = delegate()
    solve = delegate()
    recompute = delegate()

    follow = delegate()   # SPEC §12: redo an answer from the student's own earlier ones


KIND = LayerNorm()
