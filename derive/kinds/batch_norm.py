"""Kind `batch_norm`: mean, variance, normalize, scale and shift; with `upstream`, the backward pass."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex, chain, is_plain, matrix, tex
from ..problem import Problem
from ..slipkit import Answers, Slip, Variant, mapped, negated, nonzero, setting, transposed
from ..solution import Solution
from . import _dense_show as D
from ._dense_fit import fits

SHOWN_FEATURES = 3

FIELDS = F.table(
    x=F.Field(F.vector_or_matrix, required=True),
    gamma=F.Field(F.scalar_or_vector, sympy.Integer(1)),
    beta=F.Field(F.scalar_or_vector, sympy.Integer(0)),
    eps=F.Field(F.nonnegative, sympy.Integer(0)),
    variance=F.Field(F.choice("biased", "unbiased"), "biased"),
    upstream=F.Field(F.vector_or_matrix),
)


def _columns(p: Problem) -> list[list[sympy.Rational]]:
    """One list per feature (a vector x is one feature over the batch)."""
    if isinstance(p.fields.x[0], list):
        return [list(col) for col in zip(*p.fields.x)]
    return [list(p.fields.x)]


def _per_feature(p: Problem, name: str) -> list[sympy.Rational]:
    value, features = getattr(p.fields, name), len(_columns(p))
    if isinstance(value, list):
        return value
    return [value] * features


def validate(p: Problem) -> None:
    """Shapes of gamma, beta, upstream; enough samples; a nonzero variance when eps is 0."""
    features = len(_columns(p))
    matrix_x = isinstance(p.fields.x[0], list)
    for name in ("gamma", "beta"):
        value = getattr(p.fields, name)
        if isinstance(value, list) and len(value) != features:
            if not matrix_x:
                raise p.error(name, f"a vector x is one feature: give {name} as one number, not a list")
            raise p.error(name, f"expected one {name} per feature ({features}), got {len(value)}")
    if p.fields.upstream is not None and F.shape(p.fields.upstream) != F.shape(p.fields.x):
        raise p.error("upstream", f"expected the shape of x ({F.shape_text(F.shape(p.fields.x))}), "
                                  f"got {F.shape_text(F.shape(p.fields.upstream))}")
    n = len(_columns(p)[0])
    if p.fields.variance == "unbiased" and n < 2:
        raise p.error("variance", "unbiased variance needs at least 2 samples")
    if p.fields.eps == 0:
        for j, col in enumerate(_columns(p)):
            if all(v == col[0] for v in col):
                where = "feature" if matrix_x else "batch"
                raise p.error("x", f"the {where} {j if matrix_x else ''}{' ' if matrix_x else ''}has zero variance "
                                   "and eps is 0: x̂ would divide by zero (give eps > 0)".replace("  ", " "))


def _stats(col: list, eps: sympy.Rational, unbiased: bool) -> tuple:
    n = len(col)
    mean = sympy.Add(*col) / n
    var = sympy.Add(*[(v - mean) ** 2 for v in col]) / (n - 1 if unbiased else n)
    std = sympy.sqrt(var + eps)
    xhat = [sympy.radsimp((v - mean) / std) for v in col]
    return mean, var, std, xhat


def solve(p: Problem) -> Solution:
    """Per feature: μ, σ², x̂ = (x − μ)/√(σ² + ε), y = γx̂ + β; backward when upstream is given."""
    s = Solution(p)
    d = p.digits
    cols = _columns(p)
    gammas, betas = _per_feature(p, "gamma"), _per_feature(p, "beta")
    unbiased = p.fields.variance == "unbiased"
    n = len(cols[0])
    divisor = "N - 1" if unbiased else "N"
    s.step("The batch-norm transform",
           Latex(r"\mu = \frac{1}{N}\sum_i x_i, \quad \sigma^2 = \frac{1}{%s}\sum_i (x_i - \mu)^2, \quad "
                 r"\hat{x}_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \quad y_i = \gamma \hat{x}_i + \beta"
                 % divisor),
           text=f"Each feature is normalized over the batch of $N = {n}$ samples"
                + (" with the unbiased (sample) variance, divided by $N - 1$" if unbiased else
                   " with the biased (population) variance, divided by $N$, as batch norm does in training")
                + f"; $\\varepsilon = {tex(p.fields.eps)}$.")
    means, variances, xhats, outputs = [], [], [], []
    for j, col in enumerate(cols):
        mean, var, std, xhat = _stats(col, p.fields.eps, unbiased)
        y = [sympy.expand(gammas[j] * v + betas[j]) for v in xhat]
        means.append(mean), variances.append(var), xhats.append(xhat), outputs.append(y)
        if j < SHOWN_FEATURES:
            _show_feature(s, p, j, col, mean, var, std, xhat, y, gammas[j], betas[j], len(cols) > 1)
    if len(cols) > SHOWN_FEATURES:
        s.step(f"Features {SHOWN_FEATURES} to {len(cols) - 1}", text="The same steps, feature by feature.")
    matrix_x = isinstance(p.fields.x[0], list)
    rows = (lambda cs: [list(r) for r in zip(*cs)]) if matrix_x else (lambda cs: cs[0])
    one = (lambda v: v) if matrix_x else (lambda v: v[0])
    answer_row(s, "mean", one(means), r"\mu")
    answer_row(s, "variance", one(variances), r"\sigma^2")
    D.answer(s, "normalized", rows(xhats), r"\hat{x}")
    D.answer(s, "output", rows(outputs), "y")
    for j, xhat in enumerate(xhats):
        total = sympy.expand(sympy.Add(*xhat))
        if total != 0 and abs(sympy.N(total, 50)) > sympy.Float("1e-45"):
            raise AssertionError(f"{p.id}: normalized feature {j} does not have mean 0")
    s.check("The normalized values have mean 0 exactly" + (" in every feature." if matrix_x else "."))
    if p.fields.upstream is not None:
        _backward(s, p, cols, xhats, variances, gammas)
    return s


def _show_feature(s: Solution, p: Problem, j: int, col: list, mean, var, std, xhat: list, y: list,
                  gamma, beta, several: bool) -> None:
    """The worked steps of one feature."""
    d, n = p.digits, len(col)
    tag = f" (feature {j})" if several else ""
    m = n - 1 if p.fields.variance == "unbiased" else n
    s.step("Mean and variance" + tag, *mean_lines(col, mean, d, "i"), *variance_lines(col, mean, var, m, d, "i"),
           D.eq(Latex(r"\sqrt{\sigma^2 + \varepsilon}"), Latex(r"\sqrt{%s + %s}" % (tex(var), tex(p.fields.eps))),
                std, d=d))
    s.step("Normalize, then scale and shift" + tag,
           D.eq(Latex(r"\hat{\mathbf{x}} = " + normalized_formula(mean, std)), xhat, d=d),
           D.eq(Latex(r"\mathbf{y} = %s\,\hat{\mathbf{x}} %s" % (tex(gamma), plus(beta))), y, d=d))


def answer_row(s: Solution, name: str, value: Any, symbol: str) -> None:
    """An answer with one entry per feature; a row of exact decimals too wide for the line stands as a column
    with ⊤ (its digits kept, SPEC §15), anything else as the other answers."""
    if isinstance(value, list) and all(is_plain(v) for v in value) and not fits(matrix(value, tex)):
        s.answer(name, value, symbol=symbol, display=Latex(matrix([[v] for v in value], tex) + r"^{\top}"))
    else:
        D.answer(s, name, value, symbol)


FRACTION_TERMS = 6   # values a mean or variance is written over as one fraction; past it, the sum on its own line


def signed(values: list) -> str:
    """`2.06 - 0.62 + 0.08`: values summed, each sign written once (a sum that can break at + and −)."""
    return tex(values[0]) + "".join(plus(v) for v in values[1:])


def normalized_formula(mean: Any, std: Any) -> str:
    """(x − μ)/√(σ² + ε) with μ and the root written in, or by their symbols when the root is a fraction (a
    fraction in a fraction would be set too small)."""
    if r"\frac" in tex(std):
        return r"\frac{\mathbf{x} - \mu}{\sqrt{\sigma^2 + \varepsilon}}"
    return r"\frac{\mathbf{x}%s}{%s}" % (minus(mean), tex(std))


def plus(v: Any) -> str:
    """` + 0.5` or ` - 0.5`: a term added, its sign folded in."""
    return (" - " + tex(-v)) if v < 0 else (" + " + tex(v))


def minus(v: Any) -> str:
    """` - 0.5` or ` + 0.5`: a term subtracted, its sign folded in."""
    return (" + " + tex(-v)) if v < 0 else (" - " + tex(v))


def mean_lines(values: list, mean: Any, d: int, index: str) -> list[Latex]:
    """μ = (sum)/N in one fraction for a few values; for more, Σ x on its own line (it breaks), then μ."""
    n = len(values)
    if n <= FRACTION_TERMS:
        return [chain(Latex(r"\mu"), Latex(r"\frac{%s}{%d}" % (signed(values), n)), mean, approx_digits=d)]
    total = sympy.Add(*values)
    return [chain(Latex(r"\sum_%s x_%s" % (index, index)), Latex(signed(values)), total),
            chain(Latex(r"\mu"), Latex(r"\frac{%s}{%d}" % (tex(total), n)), mean, approx_digits=d)]


def variance_lines(values: list, mean: Any, var: Any, m: int, d: int, index: str) -> list[Latex]:
    """σ² = Σ(x − μ)²/M in one fraction for a few values; for more, the sum of squares on its own line."""
    squares = " + ".join(f"({tex(v)}{minus(mean)})^2" for v in values)
    if len(values) <= FRACTION_TERMS:
        each = " + ".join(tex((v - mean) ** 2) for v in values)
        return [chain(Latex(r"\sigma^2"), Latex(r"\frac{%s}{%d}" % (squares, m)), Latex(r"\frac{%s}{%d}" % (each, m)),
                      var, approx_digits=d)]
    total = sympy.Add(*[(v - mean) ** 2 for v in values])
    return [chain(Latex(r"\sum_%s (x_%s - \mu)^2" % (index, index)), Latex(squares), total, approx_digits=d),
            chain(Latex(r"\sigma^2"), Latex(r"\frac{%s}{%d}" % (tex(total), m)), var, approx_digits=d)]


def _backward(s: Solution, p: Problem, cols, xhats, variances, gammas) -> None:
    """dL/dγ = Σ g·x̂, dL/dβ = Σ g, dL/dx = γ/σ·(g − mean(g) − x̂·Σ(g x̂)/M) with M the variance's divisor."""
    d = p.digits
    matrix_x = isinstance(p.fields.x[0], list)
    g_cols = [list(c) for c in zip(*p.fields.upstream)] if matrix_x else [list(p.fields.upstream)]
    n = len(cols[0])
    m = n - 1 if p.fields.variance == "unbiased" else n
    grad_gamma, grad_beta, grad_x = [], [], []
    for j, (g, xhat) in enumerate(zip(g_cols, xhats)):
        std = sympy.sqrt(variances[j] + p.fields.eps)
        sum_g = sympy.Add(*g)
        sum_gx = sympy.expand(sympy.Add(*[a * b for a, b in zip(g, xhat)]))
        grad_gamma.append(sum_gx)
        grad_beta.append(sum_g)
        grad_x.append([sympy.radsimp(sympy.expand(gammas[j] / std * (gi - sum_g / n - xi * sum_gx / m)))
                       for gi, xi in zip(g, xhat)])
        if j < SHOWN_FEATURES:
            tag = f" (feature {j})" if len(cols) > 1 else ""
            s.step("Backward pass" + tag,
                   chain(Latex(r"\frac{\partial\mathcal{L}}{\partial\beta} = \sum_i g_i"), sum_g),
                   D.eq(Latex(r"\frac{\partial\mathcal{L}}{\partial\gamma} = \sum_i g_i \hat{x}_i"), sum_gx, d=d),
                   D.eq(Latex(r"\frac{\partial\mathcal{L}}{\partial x_i} = \frac{\gamma}{\sqrt{\sigma^2+\varepsilon}}"
                              r"\left(g_i - \frac{1}{N}\sum_k g_k - \hat{x}_i \frac{1}{%s}\sum_k g_k \hat{x}_k\right)"
                              % ("N-1" if m != n else "N")), grad_x[-1], d=d),
                   text="$g = \\partial\\mathcal{L}/\\partial y$ is the upstream gradient. The mean and the variance "
                        "depend on every $x_i$, so each input's gradient has three parts: its own path, through "
                        "the mean and through the variance.")
    rows = [list(r) for r in zip(*grad_x)] if matrix_x else grad_x[0]
    D.answer(s, "grad_x", rows, r"\partial\mathcal{L}/\partial x")
    answer_row(s, "grad_gamma", grad_gamma if matrix_x else grad_gamma[0], r"\partial\mathcal{L}/\partial\gamma")
    answer_row(s, "grad_beta", grad_beta if matrix_x else grad_beta[0], r"\partial\mathcal{L}/\partial\beta")


def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 forward and backward (the textbook vectorized formulas)."""
    x = np.array(p.fields.x, dtype=float)
    x2 = x.reshape(-1, 1) if x.ndim == 1 else x
    gamma = np.array(_per_feature(p, "gamma"), dtype=float)
    beta = np.array(_per_feature(p, "beta"), dtype=float)
    ddof = 1 if p.fields.variance == "unbiased" else 0
    mean = x2.mean(axis=0)
    var = x2.var(axis=0, ddof=ddof)
    std = np.sqrt(var + float(p.fields.eps))
    xhat = (x2 - mean) / std
    y = gamma * xhat + beta
    squeeze = (lambda a: a[:, 0]) if x.ndim == 1 else (lambda a: a)
    scalar = (lambda a: float(a[0])) if x.ndim == 1 else (lambda a: a)
    out = {"mean": scalar(mean), "variance": scalar(var), "normalized": squeeze(xhat), "output": squeeze(y)}
    if p.fields.upstream is not None:
        g = np.array(p.fields.upstream, dtype=float).reshape(x2.shape)
        n = x2.shape[0]
        dxhat = g * gamma
        dvar = np.sum(dxhat * (x2 - mean), axis=0) * -0.5 * std ** -3
        dmean = -np.sum(dxhat, axis=0) / std
        dx = dxhat / std + dvar * 2 * (x2 - mean) / (n - ddof) + dmean / n
        out.update(grad_x=squeeze(dx), grad_gamma=scalar(np.sum(g * xhat, axis=0)),
                   grad_beta=scalar(np.sum(g, axis=0)))
    return out


# ---- slips ------------------------------------------------------------------------------------------

def _shaped(p: Problem, cols: list[list]) -> Any:
    """Per-feature columns back in x's shape."""
    return transposed(cols) if isinstance(p.fields.x[0], list) else cols[0]


def _divided_by_variance(p: Problem, a: Answers) -> Answers:
    """x̂ = (x − μ)/(σ² + ε) and y = γx̂ + β: the variance where the standard deviation belongs."""
    cols = _columns(p)
    means = a["mean"] if isinstance(a["mean"], list) else [a["mean"]]
    variances = a["variance"] if isinstance(a["variance"], list) else [a["variance"]]
    gammas, betas = _per_feature(p, "gamma"), _per_feature(p, "beta")
    xhat, y = [], []
    for j, col in enumerate(cols):
        denominator = variances[j] + p.fields.eps
        if denominator == 0:
            raise ZeroDivisionError
        xhat.append([(v - means[j]) / denominator for v in col])
        y.append([sympy.expand(gammas[j] * v + betas[j]) for v in xhat[-1]])
    return {"normalized": _shaped(p, xhat), "output": _shaped(p, y)}


def variance_for_std(p: Problem, answers: Answers) -> list[Variant]:
    """Dividing by σ² (+ ε) instead of √(σ² + ε)."""
    return [Variant("the variance σ² used where the standard deviation σ = √(σ² + ε) belongs: "
                    "normalized as (x − μ)/σ²", transform=_divided_by_variance)]


def std_for_variance(p: Problem, answers: Answers) -> list[Variant]:
    """The standard deviation reported as the variance."""
    return [Variant("the standard deviation σ given where the variance σ² belongs",
                    transform=lambda _p, a: {"variance": mapped(a["variance"], sympy.sqrt)})]


def beta_sign(p: Problem, answers: Answers) -> list[Variant]:
    """y = γx̂ − β."""
    if not nonzero(p.fields.beta):
        return []
    return [Variant("the sign of β flipped: y = γ·(normalized x) − β",
                    modify=setting(beta=negated(p.fields.beta)))]


def population_sample(p: Problem, answers: Answers) -> list[Variant]:
    """Dividing by N − 1 instead of N, or the reverse."""
    if p.fields.variance == "biased":
        if len(_columns(p)[0]) < 2:
            return []
        return [Variant("the sample variance (divided by N − 1) used instead of the population variance "
                        "(divided by N)", modify=setting(variance="unbiased"))]
    return [Variant("the population variance (divided by N) used instead of the sample variance "
                    "(divided by N − 1)", modify=setting(variance="biased"))]


def eps_forgotten(p: Problem, answers: Answers) -> list[Variant]:
    """√σ² instead of √(σ² + ε)."""
    if p.fields.eps == 0:
        return []
    return [Variant(f"ε = {p.fields.eps} left out of √(σ² + ε)", modify=setting(eps=sympy.Integer(0)))]


def mean_for_sum(p: Problem, answers: Answers) -> list[Variant]:
    """∂L/∂γ and ∂L/∂β averaged over the batch instead of summed."""
    if "grad_beta" not in answers:
        return []
    n = len(_columns(p)[0])
    return [Variant("the mean over the batch taken where the gradient is the sum over it",
                    transform=lambda _p, a: {k: mapped(a[k], lambda v: v / n) for k in ("grad_gamma", "grad_beta")})]


def follow(p: Problem, answer: str, given: Answers) -> Any:
    """The forward answers redone from a student's own mean, variance or normalized values (SPEC §12)."""
    cols, matrix_x = _columns(p), isinstance(p.fields.x[0], list)
    per_feature = (lambda v: list(v)) if matrix_x else (lambda v: [v])
    shaped = (lambda c: transposed(c)) if matrix_x else (lambda c: c[0])
    exact = {n: per_feature(v) for n, v in solve(p).answers.items() if n in ("mean", "variance")}
    means = per_feature(given["mean"]) if "mean" in given else exact["mean"]
    if answer == "variance":
        divisor = len(cols[0]) - (p.fields.variance == "unbiased")
        return _features([sympy.Add(*[(v - m) ** 2 for v in col]) / divisor for col, m in zip(cols, means)],
                         matrix_x)
    variances = per_feature(given["variance"]) if "variance" in given else exact["variance"]
    xhat = [[(v - m) / sympy.sqrt(var + p.fields.eps) for v in col] for col, m, var in zip(cols, means, variances)]
    if answer == "normalized":
        return shaped(xhat)
    if answer == "output":
        if "normalized" in given:
            xhat = [list(c) for c in zip(*given["normalized"])] if matrix_x else [list(given["normalized"])]
        gammas, betas = _per_feature(p, "gamma"), _per_feature(p, "beta")
        return shaped([[g * v + b for v in col] for col, g, b in zip(xhat, gammas, betas)])
    return None


def _features(values: list, matrix_x: bool) -> Any:
    """One value per feature, as the answer gives it (a scalar for a vector x)."""
    return values if matrix_x else values[0]


class BatchNorm(Kind):
    """Batch normalization over the batch, forward and (with `upstream`) backward."""

    name = "batch_norm"
    summary = "batch norm: mean, variance, normalized, scaled and shifted; with upstream, the backward pass"
    fields = FIELDS
    answers = {"mean": AnswerSpec(),
               "variance": AnswerSpec(depends=("mean",)),
               "normalized": AnswerSpec(depends=("mean", "variance")),
               "output": AnswerSpec(depends=("normalized", "mean", "variance")),
               "grad_x": AnswerSpec(depends=("normalized", "variance"), needs="upstream"),
               "grad_gamma": AnswerSpec(depends=("normalized",), needs="upstream"),
               "grad_beta": AnswerSpec(needs="upstream")}
    slips = (
        Slip("variance_for_std", "the variance used where the standard deviation belongs", variance_for_std),
        Slip("std_for_variance", "the standard deviation given where the variance belongs", std_for_variance),
        Slip("beta_sign", "the sign of β flipped", beta_sign),
        Slip("population_sample", "population vs sample variance (N vs N − 1)", population_sample),
        Slip("eps_forgotten", "ε forgotten in √(σ² + ε)", eps_forgotten),
        Slip("bn_mean_for_sum", "the mean instead of the sum in ∂L/∂γ, ∂L/∂β", mean_for_sum),
    )
    examples = ({"x": [2, 4, 6, 8, 10], "gamma": 2, "beta": 1, "eps": 0.5, "upstream": [1, 2, 3, 4, 6]},
                {"x": [[1, 2], [3, 5], [5, 11]], "gamma": [1, 0.5], "beta": [0, -1], "variance": "unbiased"})
    positional = ("x",)

    validate = delegate()
    solve = delegate()
    recompute = delegate()

    follow = delegate()   # SPEC §12: redo an answer from the student's own earlier ones


KIND = BatchNorm()
