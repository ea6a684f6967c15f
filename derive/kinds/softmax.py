"""Kind `softmax`: probabilities from logits (with temperature); with a target, cross-entropy and its gradient."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Approx, Latex, chain, decimal, decimals, matrix, tex
from ..problem import Problem
from ..slipkit import Answers, Slip, Variant, mapped
from ..solution import Solution

SHOWN_ROWS = 3   # rows of a batch worked in full; the rest follow the same rule
NAMED_SUM = 4    # past this many classes, the key writes the loss and gradient with the sum named S
SUM_SHOWN = 8    # terms of a sum of exponentials written out; past it the middle ones are elided
TERM_SLIPS = 6   # classes past which only a few terms' omission is tried (the first, the last, the largest, …)


def _target(value: Any, ctx: F.Ctx) -> int | list[int]:
    """A class index (0-based), or one per row."""
    if isinstance(value, list):
        return F.vector(value, ctx, F.nonnegative_int)
    return F.nonnegative_int(value, ctx)


FIELDS = F.table(
    logits=F.Field(F.vector_or_matrix, required=True),
    temperature=F.Field(F.positive, sympy.Integer(1)),
    target=F.Field(_target),
)


def validate(p: Problem) -> None:
    """Targets must match the rows and index a class."""
    rows = _rows(p)
    if p.fields.target is None:
        return
    batch = isinstance(p.fields.logits[0], list)
    targets = p.fields.target if isinstance(p.fields.target, list) else [p.fields.target]
    if batch and not isinstance(p.fields.target, list):
        raise p.error("target", f"a matrix of logits needs one target per row: a list of {len(rows)} class indices")
    if not batch and isinstance(p.fields.target, list):
        raise p.error("target", "one vector of logits takes one class index, not a list")
    if len(targets) != len(rows):
        raise p.error("target", f"expected {len(rows)} targets (one per row of logits), got {len(targets)}")
    classes = len(rows[0])
    for i, t in enumerate(targets):
        if t >= classes:
            where = ("target", i) if batch else "target"
            raise p.error(where, f"class index {t} is out of range: there are {classes} classes, 0 to {classes - 1}")


def _rows(p: Problem) -> list[list[sympy.Rational]]:
    return p.fields.logits if isinstance(p.fields.logits[0], list) else [p.fields.logits]


def _shape_like(p: Problem, rows: list[list]) -> list:
    """Rows back in the spec's shape (a vector for a vector of logits)."""
    return rows if isinstance(p.fields.logits[0], list) else rows[0]


def _named(p: Problem) -> bool:
    """True when the exact values are too long to print: the key writes them with the sum named S."""
    return len(_rows(p)[0]) > NAMED_SUM


def _sum_tex(exps: list) -> Latex:
    """e^{z_0} + e^{z_1} + … written out, the middle elided past SUM_SHOWN terms (the key may elide, §15)."""
    shown = exps if len(exps) <= SUM_SHOWN else exps[:4] + [None] + exps[-2:]
    return Latex(" + ".join(r"\cdots" if e is None else tex(e) for e in shown))


def _over_t(T: sympy.Basic) -> str:
    """`/T` in an exponent when the temperature is not 1."""
    return "/T" if T != 1 else ""


def solve(p: Problem) -> Solution:
    """Exponentiate, sum, divide; then −log p_y and (p − y)/(N·T)."""
    s = Solution(p)
    d, T = p.digits, p.fields.temperature
    rows = _rows(p)
    batch = isinstance(p.fields.logits[0], list)
    scaled = [[z / T for z in row] for row in rows]
    s.step("Turn scores into probabilities",
           Latex(r"p_i = \operatorname{softmax}(\mathbf{z})_i = \frac{e^{z_i/T}}{\sum_j e^{z_j/T}}"),
           text="Append a softmax layer to the last layer's scores (logits). Exponentiating makes every score "
                "positive while keeping their order; dividing by the sum makes them add up to 1. "
                + (f"The temperature is $T = {tex(T)}$." if T != 1 else "The temperature is $T = 1$."))
    probs, totals = [], []
    for n, row in enumerate(scaled):
        exps = [sympy.exp(z) for z in row]
        total = sympy.Add(*exps, evaluate=True)
        probs.append([e / total for e in exps])
        totals.append(total)
        if sympy.Add(*exps) != total or any(q * total != e for q, e in zip(probs[-1], exps)):
            raise AssertionError(f"{p.id}: probabilities of row {n} do not sum to 1")
        if n < SHOWN_ROWS:
            s.step("Exponentiate, sum, divide" + (f" (row {n})" if batch else ""),
                   *_probability_lines(p, rows[n], exps, total, probs[-1], f"S_{n}" if batch else "S"))
    if len(rows) > SHOWN_ROWS:
        s.step(f"Rows {SHOWN_ROWS} to {len(rows) - 1}", text="The same rule, row by row, gives the matrix below.")
    shown = _shape_like(p, probs)
    s.answer("probabilities", shown, symbol=r"\mathbf{p}",
             display=_with_sum(p, Latex(r"e^{\mathbf{z}%s}/S%s" % (_over_t(T), "_n" if batch else "")), shown)
             if _named(p) else None)
    s.check("Each row of probabilities sums to 1 exactly." if batch else "The probabilities sum to 1 exactly.")
    if p.fields.target is not None:
        _loss(s, p, scaled, probs, totals)
    return s


def _probability_lines(p: Problem, row: list, exps: list, total: sympy.Basic, probs: list,
                       name: str = "S") -> list[Latex]:
    """e^z, their sum S (S_n in row n of a batch), and p = e^z/S for one row."""
    d, T = p.digits, p.fields.temperature
    lines = []
    if T != 1:
        lines.append(chain(Latex(r"\mathbf{z}/T"), Latex(matrix(row) + "/" + tex(T)), [z / T for z in row]))
    lines.append(chain(Latex(r"e^{\mathbf{z}" + _over_t(T) + "}"), exps, approx_digits=d))
    lines.append(chain(Latex(name + r" = \sum_j e^{z_j" + _over_t(T) + "}"), _sum_tex(exps), approx_digits=None)
                 + Latex(r" \approx " + decimals(total, d)))
    lines.append(chain(Latex(r"\mathbf{p} = e^{\mathbf{z}" + _over_t(T) + "}/" + name),
                       [e / sympy.Symbol(name) for e in exps])
                 + Latex(r" \approx " + decimals(probs, d)))
    return lines


def _with_sum(p: Problem, named: Latex, value: Any, totals: list | None = None) -> Latex:
    """`e^z/S ≈ [decimals]`: an answer with the sum named; with `totals` (one row), S and its decimal after it."""
    d = p.digits
    out = named + r" \approx " + (decimals(value, d) if isinstance(value, list) else decimal(value, d))
    if totals is None or len(totals) > 1:
        return Latex(out)
    return Latex(out + r",\quad {S = \textstyle\sum_j e^{z_j%s} \approx %s}" % (_over_t(p.fields.temperature),
                                                                               decimal(totals[0], d)))


def _loss(s: Solution, p: Problem, scaled: list[list], probs: list[list], totals: list) -> None:
    """Cross-entropy (natural log, mean over rows) and its gradient (p − y)/(N·T)."""
    d, T = p.digits, p.fields.temperature
    targets = p.fields.target if isinstance(p.fields.target, list) else [p.fields.target]
    n_rows = len(probs)
    terms = [sympy.log(total) - row[t] for row, t, total in zip(scaled, targets, totals)]
    loss = sympy.Add(*terms) / n_rows
    named = _named_loss(p, scaled, targets) if _named(p) else None
    if n_rows == 1:
        y = targets[0]
        s.step("Cross-entropy loss",
               chain(Latex(r"\mathcal{L} = -\log p_{y}"), Latex(rf"-\log p_{{{y}}}"),
                     Latex(r"\log S - z_{%d}%s" % (y, _over_t(T))), named or loss, approx_digits=d)
               + (Latex(r" \approx " + decimal(loss, d)) if named else ""),
               text=f"The target class is $y = {y}$ (classes are numbered from 0); the natural logarithm is used.")
    else:
        s.step("Cross-entropy loss, mean over the rows",
               chain(Latex(r"\mathcal{L} = \frac{1}{N}\sum_n -\log p_{n, y_n}"),
                     Latex(r"\frac{1}{%d}\left(%s\right)" % (n_rows, " ".join(
                         rf"-\log p_{{{n},{t}}}" for n, t in enumerate(targets)))), named or loss, approx_digits=d)
               + (Latex(r" \approx " + decimal(loss, d)) if named else ""),
               text="Targets (0-based class indices): " + ", ".join(str(t) for t in targets) + ".")
    grads = [[(pk - (1 if k == t else 0)) / (n_rows * T) for k, pk in enumerate(row)]
             for row, t in zip(probs, targets)]
    _gradient_step(s, p, _shape_like(p, grads), n_rows)
    s.answer("loss", loss, symbol=r"\mathcal{L}", display=_with_sum(p, named, loss, totals) if named else None)
    s.answer("grad_logits", _shape_like(p, grads), symbol=r"\partial\mathcal{L}/\partial\mathbf{z}",
             display=_with_sum(p, _named_gradient(p, n_rows), _shape_like(p, grads))
             if _named(p) else None)
    s.check("Each row of the gradient sums to 0, as it must (probabilities minus a one-hot vector).")


def _named_loss(p: Problem, scaled: list[list], targets: list[int]) -> Latex:
    """log S − z_y with the number z_y/T written (one row), or the mean of log S_n − z_{n,y_n} (a batch)."""
    if len(scaled) == 1:
        return Latex(r"\log S" + _minus(scaled[0][targets[0]]))
    if len(scaled) <= SHOWN_ROWS:
        return Latex(r"\frac{1}{%d}\left(%s\right)" % (len(scaled), " + ".join(
            rf"\log S_{n}" + _minus(row[t]) for n, (row, t) in enumerate(zip(scaled, targets)))))
    return Latex(r"\frac{1}{%d}\sum_n \left(\log S_n - z_{n, y_n}%s\right)" % (len(scaled),
                                                                             _over_t(p.fields.temperature)))


def _minus(z: sympy.Basic) -> str:
    """` - 1.5` or ` + 0.25`: a number subtracted, its sign folded in."""
    return (" - " if z >= 0 else " + ") + tex(abs(z))


def _scale(p: Problem, n_rows: int) -> str:
    """1/(N·T) before p − y, or nothing when it is 1."""
    T = p.fields.temperature
    if n_rows == 1 and T == 1:
        return ""
    return r"\frac{1}{%s}" % (f"{n_rows}" + (r" \cdot " + tex(T) if T != 1 else "") if n_rows > 1 else tex(T))


def _named_gradient(p: Problem, n_rows: int) -> Latex:
    """(1/(N·T))·(e^z/S − y), the sum named."""
    inner = r"e^{\mathbf{z}%s}/S%s - \mathbf{y}" % (_over_t(p.fields.temperature), "_n" if n_rows > 1 else "")
    scale = _scale(p, n_rows)
    return Latex(scale + (r"\left(%s\right)" % inner if scale else inner))


def _gradient_step(s: Solution, p: Problem, grads: list, n_rows: int) -> None:
    """∂L/∂z = (p − y)/(N·T), its values (decimals only when the sum is named)."""
    d = p.digits
    lhs = Latex(r"\frac{\partial \mathcal{L}}{\partial \mathbf{z}} = " + _scale(p, n_rows)
                + r"(\mathbf{p} - \mathbf{y})")
    if _named(p):
        lines = [chain(lhs, _named_gradient(p, n_rows)) + Latex(r" \approx " + decimals(grads, d))]
        if not isinstance(p.fields.target, list):
            y = p.fields.target
            lines.append(chain(Latex(r"\frac{\partial \mathcal{L}}{\partial z_{%d}}" % y),
                               Latex(_scale(p, 1) + r"(p_{%d} - 1)" % y), Approx(decimal(grads[y], d))))
    else:
        lines = [chain(lhs, grads if n_rows <= SHOWN_ROWS else matrix(grads), approx_digits=d)]
    s.step("Gradient of the loss with respect to the logits", *lines,
           text="$\\mathbf{y}$ is the one-hot vector of the target" + (" in each row" if n_rows > 1 else "")
                + ("; the mean over rows divides by $N$" if n_rows > 1 else "")
                + ("; the temperature divides once more by $T$" if p.fields.temperature != 1 else "") + ".")


def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64: stable softmax, log-sum-exp loss, (p − onehot)/(N·T)."""
    z = np.atleast_2d(np.array([[float(v) for v in row] for row in _rows(p)])) / float(p.fields.temperature)
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    probs = e / e.sum(axis=1, keepdims=True)
    out = {"probabilities": probs if isinstance(p.fields.logits[0], list) else probs[0]}
    if p.fields.target is not None:
        t = np.atleast_1d(np.array(p.fields.target))
        logsumexp = np.log(e.sum(axis=1)) + z.max(axis=1)
        n = len(t)
        out["loss"] = float(np.mean(logsumexp - z[np.arange(n), t]))
        onehot = np.zeros_like(probs)
        onehot[np.arange(n), t] = 1
        grad = (probs - onehot) / (n * float(p.fields.temperature))
        out["grad_logits"] = grad if isinstance(p.fields.logits[0], list) else grad[0]
    return out


# ---- slips ------------------------------------------------------------------------------------------

def _scaled_rows(p: Problem) -> list[list]:
    return [[z / p.fields.temperature for z in row] for row in _rows(p)]


def no_exponential(p: Problem, answers: Answers) -> list[Variant]:
    """p_i = z_i / Σ z_j: plain normalization without the exponential."""
    def transform(p: Problem, a: Answers) -> Answers:
        out = []
        for row in _scaled_rows(p):
            total = sympy.Add(*row)
            if total == 0:
                raise ZeroDivisionError
            out.append([z / total for z in row])
        return {"probabilities": _shape_like(p, out)}
    return [Variant("the scores normalized without the exponential: z_i / Σ z_j instead of e^(z_i) / Σ e^(z_j)",
                    transform=transform)]


def missing_exp_term(p: Problem, answers: Answers) -> list[Variant]:
    """One term e^(z_j) left out of the denominator."""
    classes = len(_rows(p)[0])
    if classes < 2:
        return []

    def without(j: int):
        def transform(p: Problem, a: Answers) -> Answers:
            out = []
            for row in _scaled_rows(p):
                exps = [sympy.exp(z) for z in row]
                rest = sympy.Add(*[e for k, e in enumerate(exps) if k != j])
                out.append([e / rest for e in exps])
            return {"probabilities": _shape_like(p, out)}
        return transform
    return [Variant(f"a missing term in a sum: e^(z_{j}) left out of the denominator Σ e^(z_j)",
                    transform=without(j)) for j in _likely_terms(p)]


def _likely_terms(p: Problem) -> list[int]:
    """The classes whose e^z a student might leave out: all of a few; of many, the first, the last, the target(s)
    and each row's largest (trying every one of 512 classes would take minutes and find nothing more likely)."""
    rows = _rows(p)
    classes = len(rows[0])
    if classes <= TERM_SLIPS:
        return list(range(classes))
    targets = p.fields.target if isinstance(p.fields.target, list) else [p.fields.target]
    largest = [max(range(classes), key=row.__getitem__) for row in rows]
    return sorted({0, classes - 1, *largest, *(t for t in targets if t is not None)})


def sum_for_mean(p: Problem, answers: Answers) -> list[Variant]:
    """The loss (and its gradient) summed over the rows instead of averaged."""
    n = len(_rows(p))
    if "loss" not in answers or n < 2:
        return []
    return [Variant(f"the sum over the {n} rows taken instead of the mean",
                    transform=lambda _p, a: {"loss": a["loss"] * n,
                                             "grad_logits": mapped(a["grad_logits"], lambda v: v * n)})]


def log_base(p: Problem, answers: Answers) -> list[Variant]:
    """log₂ or log₁₀ where the natural logarithm belongs."""
    if "loss" not in answers:
        return []
    return [Variant(f"log base {b} used instead of the natural logarithm",
                    transform=lambda _p, a, b=b: {"loss": a["loss"] / sympy.log(b)}) for b in (2, 10)]


class Softmax(Kind):
    """Probabilities from logits (with temperature); with a target, cross-entropy and its gradient."""

    name = "softmax"
    summary = "softmax probabilities; with a target, cross-entropy and its gradient"
    fields = FIELDS
    answers = {"probabilities": AnswerSpec(),
               "loss": AnswerSpec(depends=("probabilities",)),
               "grad_logits": AnswerSpec(depends=("probabilities",))}
    slips = (
        Slip("no_exponential", "softmax taken without the exponential (plain normalization)", no_exponential),
        Slip("missing_exp_term", "a missing term in the softmax denominator", missing_exp_term),
        Slip("softmax_sum_for_mean", "the sum instead of the mean over rows in the loss and its gradient",
             sum_for_mean),
        Slip("log_base", "log base 2 or 10 instead of the natural logarithm", log_base),
    )
    examples = ({"logits": [2.0, 1.0, 0.1], "target": 0},
                {"logits": [[1, 2, 3], [0.5, -1, 2]], "target": [2, 0], "temperature": 2})

    validate = delegate()
    solve = delegate()
    recompute = delegate()

    def answer_names(self, p: Problem) -> list[str]:
        return list(self.answers) if p.fields.target is not None else ["probabilities"]


KIND = Softmax()
