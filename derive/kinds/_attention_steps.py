"""How the key shows attention: projections, scores, the mask, the row softmax (with a shaded grid of the
weights), the weighted sum, and the backward pass, each as a teacher writes it."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Latex, decimal, decimals, matrix, tex
from ..problem import Problem
from ..solution import Solution
from ..values import to_float
from . import _dense_show as D
from . import _layers as L
from ._attention_core import Setup

SHOWN_ROWS = 4        # rows of the softmax worked one by one
NAMED_SUM = 2         # past this many keys a query may attend to, its row is written with its sum named S_i
FIGURE_SIDE = 8       # the weights grid is drawn up to this many queries and keys
D_ = r"\partial\mathcal{L}/\partial "


def answer(s: Solution, name: str, value: Any, symbol: str) -> None:
    """Record an answer (≈ once any entry is carried as a 50-digit decimal)."""
    D.answer(s, name, value, symbol)


def _eq(formula: str, value: Any, d: int) -> Latex:
    return D.eq(Latex(formula), value, d=d)


def _scale_text(p: Problem, su: Setup) -> tuple[str, str]:
    """How the key writes the scale: (LaTeX factor, sentence)."""
    if p.fields.scale is not None:
        return tex(su.scale), f"the given scale $c = {tex(su.scale)}$"
    d = len(su.queries[0])
    return r"\frac{1}{\sqrt{%d}}" % d, f"$c = 1/\\sqrt{{d_k}}$ with $d_k = {d}$, the width of a query"


def show_projections(s: Solution, p: Problem, su: Setup) -> None:
    """Q = X·W_qᵀ, K = X·W_kᵀ, V = X·W_vᵀ."""
    d = p.digits
    s.step("Project the input to queries, keys and values",
           _eq(r"Q = X W_q^{\top}", su.queries, d), _eq(r"K = X W_k^{\top}", su.keys, d),
           _eq(r"V = X W_v^{\top}", su.values, d),
           text="Self-attention: every row of the input $X$ (one token each) is projected three times by "
                "nn.Linear weights without bias, so $Q = X W_q^{\\top}$ and likewise for $K$ and $V$.")


def show_forward(s: Solution, p: Problem, su: Setup, fw: dict[str, Any]) -> None:
    """Scores, the mask, the row softmax, the weighted sum."""
    d = p.digits
    factor, words = _scale_text(p, su)
    s.step("Scores: every query against every key",
           _eq(r"Q K^{\top}", fw["qk"], d), _eq(r"S = %s\, Q K^{\top}" % factor, fw["scores"], d),
           text=f"Entry $(i, j)$ is the dot product of query $i$ with key $j$, scaled by {words} so that "
                "the scores do not grow with the width.")
    if su.masked:
        causal = p.fields.causal
        s.step("The mask", Latex(r"M = " + mask_latex(su.allowed)),
               text=("Causal attention: query $i$ may attend to keys $j \\le i$ only (1 = may attend). "
                     if causal else "1 = may attend, 0 = may not. ")
               + "A masked score is replaced by $-\\infty$ before the softmax, so its weight is exactly 0; "
                 "the scores above are the ones before masking.")
    _show_softmax(s, p, su, fw)
    s.step("Weighted sum of the values", _eq(r"O = A V", fw["output"], d),
           text="Each output row is the average of the value rows, weighted by that query's attention weights.")


def _show_softmax(s: Solution, p: Problem, su: Setup, fw: dict[str, Any]) -> None:
    """One line per shown row, and the grid of the weights."""
    d, w = p.digits, fw["weights"]
    lines = []
    for i in range(min(len(w), SHOWN_ROWS)):
        kept = [j for j, a in enumerate(su.allowed[i]) if a]
        if len(kept) > NAMED_SUM:
            lines += _named_row(i, [fw["scores"][i][j] for j in kept], w[i], d)
            continue
        lines.append(_eq(r"\mathbf{a}_{%d}" % i, w[i], d) if len(kept) > 1 else
                     Latex(r"\mathbf{a}_{%d} = %s" % (i, matrix(w[i]))))
    rest = f" Rows {SHOWN_ROWS} to {len(w) - 1} follow the same rule." if len(w) > SHOWN_ROWS else ""
    drawn = max(len(w), len(w[0])) <= FIGURE_SIDE
    s.step("Softmax of each row",
           Latex(r"a_{ij} = \frac{e^{s_{ij}}}{\sum_{k} e^{s_{ik}}} = \frac{1}{\sum_{k} e^{s_{ik} - s_{ij}}}"
                 + (r" \quad (k \text{ over the keys query } i \text{ may attend to})" if su.masked else "")),
           *lines, text="Each query's scores become weights that are positive and sum to 1 along the row."
                        + (" A query that may attend to one key only gives it weight 1."
                           if any(sum(row) == 1 for row in su.allowed) else "")
                        + (" In the grid, gray cells are masked." if su.masked and drawn else "")
                        + rest,
           figure=weights_figure(w, su.allowed) if drawn else None)


def _named_row(i: int, scores: list, weights: list, d: int) -> list[Latex]:
    """A row of many keys with its sum named: S_i = Σ e^{s_ik} ≈ …, then a_i = e^{s_i}/S_i ≈ [decimals] (the
    exact 1/Σ e^{s_ik − s_ij} of every entry would not fit a line)."""
    exps = [sympy.exp(L.to_sympy(v)) for v in scores]
    total = sum(float(to_float(e)) for e in exps)
    return [Latex(r"S_{%d} = \sum_k e^{s_{%dk}} = %s \approx %s" % (i, i, " + ".join(tex(e) for e in exps),
                                                                   decimal(sympy.Float(total, 30), d))),
            Latex(r"\mathbf{a}_{%d} = e^{\mathbf{s}_{%d}}/S_{%d} \approx %s" % (i, i, i, decimals(weights, d)))]


def check_rows(s: Solution, weights: list[list]) -> None:
    """Each row of weights sums to 1 (checked to 40 digits)."""
    for i, row in enumerate(weights):
        total = sum(L.to_sympy(v).evalf(45) for v in row)
        if abs(total - 1) > sympy.Float("1e-40"):
            raise AssertionError(f"attention weights of row {i} sum to {total}, not 1")
    s.check("Each row of the attention weights sums to 1.")


def show_backward(s: Solution, p: Problem, su: Setup, bw: dict[str, Any]) -> None:
    """∂L/∂V, ∂L/∂A, through the softmax, ∂L/∂Q and ∂L/∂K."""
    d = p.digits
    factor = _scale_text(p, su)[0]
    s.step("Backward: the values and the weights",
           _eq(D_ + r"V = A^{\top} G", bw["grad_values"], d), _eq(D_ + r"A = G V^{\top}", bw["grad_weights"], d),
           text="$G = \\partial\\mathcal{L}/\\partial O$ is the upstream gradient. $O = AV$ is a product, so "
                "each factor's gradient is $G$ times the other factor, transposed.")
    s.step("Backward through the row softmax",
           _eq(r"\delta_i = \sum_k a_{ik} \frac{\partial\mathcal{L}}{\partial a_{ik}}", [[v] for v in bw["deltas"]],
               d),
           _eq(r"\frac{\partial\mathcal{L}}{\partial s_{ij}} = a_{ij}\left(\frac{\partial\mathcal{L}}{\partial a_{ij}}"
               r" - \delta_i\right)", bw["grad_scores"], d),
           text="The softmax Jacobian of a row is "
                "$\\operatorname{diag}(\\mathbf{a}) - \\mathbf{a}\\mathbf{a}^{\\top}$; applied to the row's "
                "gradient it gives the line above, computed as $a_{ij} \\sum_k a_{ik} (\\partial\\mathcal{L}/\\partial "
                "a_{ij} - \\partial\\mathcal{L}/\\partial a_{ik})$ (the same, as the weights sum to 1) so that equal "
                "terms cancel exactly. $\\delta_i$ is also $\\mathbf{o}_i \\cdot \\mathbf{g}_i$. Masked entries "
                "have weight 0, so their gradient is 0.")
    s.step("Backward: the queries and the keys",
           _eq(D_ + r"Q = %s\, \frac{\partial\mathcal{L}}{\partial S} K" % factor, bw["grad_queries"], d),
           _eq(D_ + r"K = %s \left(\frac{\partial\mathcal{L}}{\partial S}\right)^{\top} Q" % factor, bw["grad_keys"],
               d),
           text="$S = c\\,QK^{\\top}$: the scale comes back in both gradients.")


def show_projections_backward(s: Solution, p: Problem, pw: dict[str, Any]) -> None:
    """∂L/∂W for each projection and ∂L/∂X."""
    d = p.digits
    s.step("Backward: the projection weights and the input",
           _eq(D_ + r"W_q = \left(\frac{\partial\mathcal{L}}{\partial Q}\right)^{\top} X", pw["grad_wq"], d),
           _eq(D_ + r"W_k = \left(\frac{\partial\mathcal{L}}{\partial K}\right)^{\top} X", pw["grad_wk"], d),
           _eq(D_ + r"W_v = \left(\frac{\partial\mathcal{L}}{\partial V}\right)^{\top} X", pw["grad_wv"], d),
           _eq(D_ + r"X = \frac{\partial\mathcal{L}}{\partial Q} W_q + \frac{\partial\mathcal{L}}{\partial K} W_k"
               r" + \frac{\partial\mathcal{L}}{\partial V} W_v", pw["grad_input"], d),
           text="As for any nn.Linear layer, $\\partial\\mathcal{L}/\\partial W = (\\partial\\mathcal{L}/\\partial "
                "Q)^{\\top} X$. The input feeds all three projections, so its gradient is the sum of three parts.")


def mask_latex(allowed: list[list[bool]]) -> Latex:
    """The 0/1 matrix of who may attend."""
    return matrix([[int(a) for a in row] for row in allowed])


def weights_figure(w: list[list], allowed: list[list[bool]]) -> Latex:
    """A shaded grid of the weights (rows: queries, columns: keys), the value written in each cell."""
    n, m = len(w), len(w[0])
    cells = []
    for i, row in enumerate(w):
        for j, value in enumerate(row):
            x, y = j, n - 1 - i
            if not allowed[i][j]:
                cells.append(r"\draw[gray!60, fill=gray!15] (%d,%d) rectangle ++(1,1); "
                             r"\node[text=gray] at (%g,%g) {0};" % (x, y, x + .5, y + .5))
                continue
            v = float(to_float(L.to_sympy(value)))
            shade = round(75 * v)
            color = "white" if shade > 45 else "black"
            cells.append(r"\draw[gray!60, fill=keyblue!%d] (%d,%d) rectangle ++(1,1); "
                         r"\node[text=%s] at (%g,%g) {%.2f};" % (shade, x, y, color, x + .5, y + .5, v))
    labels = [r"\node[left] at (0,%g) {$q_{%d}$};" % (n - 1 - i + .5, i) for i in range(n)]
    labels += [r"\node[above] at (%g,%d) {$k_{%d}$};" % (j + .5, n, j) for j in range(m)]
    return Latex(r"\begin{tikzpicture}[x=1.25cm,y=0.75cm]" + "\n".join(cells + labels)
                 + r"\end{tikzpicture}")
