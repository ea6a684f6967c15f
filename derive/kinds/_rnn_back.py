"""The worked backward pass of `rnn` (backpropagation through time): the loss the upstream gradients stand for,
each step from the last back to the first (the gradient flowing back through h_t, and c_t for an LSTM), and the
parameter gradients summed over the steps."""
from __future__ import annotations

from ..latex import Latex
from ..problem import Problem
from ..render import WIDE
from ..solution import Solution
from . import _dense_exact as E
from . import _rnn_tex as TX
from ._rnn_core import SHOWN_STEPS, Back, Step, blocks, shown_steps
from ._rnn_run import Run
from ._rnn_tex import col, mat

FLOW = {"rnn": r"W_{hh}^\top \boldsymbol{\delta}_{%d}", "lstm": r"W_{hh}^\top \boldsymbol{\delta}_{%d}",
        "gru": r"\delta\mathbf{h}_{%d} \odot \mathbf{z}_{%d} + W_{hh}^\top \boldsymbol{\delta}^q_{%d}"}




def dv(name: str, t: int, sup: str = "") -> str:
    """`\\delta\\mathbf{h}_{2}`."""
    return rf"\delta\mathbf{{{name}}}{sup}_{{{t}}}"


def pair(a: Latex, b: Latex) -> list[Latex]:
    """Two short results on one display line (two lines when together they would be long)."""
    joined = Latex(a + r",\qquad " + b)
    return [joined] if TX.visible(joined) <= WIDE else [a, b]


def flow(cell: str, t: int) -> str:
    """What reaches h_t from step t + 1 (1-based t)."""
    return FLOW[cell].replace("%d", str(t + 1))


def show_backward(s: Solution, p: Problem, r: Run) -> None:
    """The introduction, every shown step from T down to 1, and the sums."""
    T = len(r.steps)
    lstm = r.net.cell == "lstm"
    s.step("Backpropagation through time",
           Latex(rf"\mathcal{{L}} = \sum_{{t=1}}^{{{T}}} \mathbf{{u}}_t^\top \mathbf{{h}}_t, \qquad "
                 rf"U = {mat(r.net.upstream)}\ (\text{{row }} t = \mathbf{{u}}_t^\top)"),
           text="The upstream gradients $\\mathbf{u}_t = \\partial\\mathcal{L}/\\partial\\mathbf{h}_t$ (each step's "
                "direct share) are those of the loss above, as autograd sees it. Write $\\delta v$ for "
                "$\\partial\\mathcal{L}/\\partial v$. Going back from $t = T$, the gradient of $\\mathbf{h}_t$ has "
                "two parts: $\\mathbf{u}_t$, and what flows back from step $t + 1$ through $\\mathbf{h}_t$"
                + (" (and, for the cell state, through $\\mathbf{c}_t$)" if lstm else "")
                + "; every step uses the same weights, so their gradients add up over the steps.")
    order = list(reversed(shown_steps(T)))
    for t in order:
        if t == 1 and T > SHOWN_STEPS:
            s.step(f"Backward: steps {T - 1} down to 3", text="The same equations, step by step; each step's "
                                                               "gradients are summed below.")
        _show_step(s, p, r, t)
    _show_sums(s, p, r)


def _dh_line(r: Run, t: int, d: int) -> Latex:
    """δh_t = u_t (+ what flows back from step t + 1)."""
    k, T = t + 1, len(r.steps)
    b = r.backs[t]
    if t == T - 1:
        return TX.eq(rf"{dv('h', k)} = \mathbf{{u}}_{{{k}}}", col(b.dh), d=d)
    return TX.eq(rf"{dv('h', k)} = \mathbf{{u}}_{{{k}}} + {flow(r.net.cell, k)}",
                TX.cat(TX.sub(col(r.net.upstream[t]), d), " + ", TX.sub(col(r.backs[t + 1].dh_prev), d)),
                col(b.dh), d=d)


def _show_step(s: Solution, p: Problem, r: Run, t: int) -> None:
    """One step backward."""
    d, k, st, b = p.digits, t + 1, r.steps[t], r.backs[t]
    lines = [_dh_line(r, t, d)]
    cell = r.net.cell
    if cell == "rnn":
        lines += _rnn_lines(r, st, b, k, d)
    elif cell == "lstm":
        lines += _lstm_lines(r, st, b, k, d)
    else:
        lines += _gru_lines(r, st, b, k, d)
    delta = r"\boldsymbol{\delta}^p" if cell == "gru" else r"\boldsymbol{\delta}"
    lines.append(TX.eq(rf"{dv('x', k)} = W_{{ih}}^\top {delta}_{{{k}}}", col(b.dx), d=d))
    if t == 0:
        lines.append(TX.eq(rf"{dv('h', 0)} = {flow(cell, 0)}", col(b.dh_prev), d=d))
    text = {"rnn": "Back through the nonlinearity, then through $W_{ih}$ to the input.",
            "lstm": "Through $\\mathbf{h}_t = \\mathbf{o}_t \\odot \\tanh(\\mathbf{c}_t)$ to the cell state, which "
                    "also receives $\\delta\\mathbf{c}_{t+1} \\odot \\mathbf{f}_{t+1}$ from the step after; then to "
                    "each gate, and through each gate's nonlinearity ($\\sigma' = \\sigma(1 - \\sigma)$, "
                    "$\\tanh' = 1 - \\tanh^2$).",
            "gru": "Through $\\mathbf{h}_t = (1 - \\mathbf{z}_t) \\odot \\mathbf{n}_t + \\mathbf{z}_t \\odot "
                   "\\mathbf{h}_{t-1}$ to $\\mathbf{n}_t$ and $\\mathbf{z}_t$, then through $\\mathbf{n}_t$ to "
                   "$\\mathbf{r}_t$; $\\boldsymbol{\\delta}^p_t$ and $\\boldsymbol{\\delta}^q_t$ are the gradients of "
                   "$\\mathbf{p}_t$ and $\\mathbf{q}_t$ (they differ in the n block, which $\\mathbf{r}_t$ "
                   "multiplies)."}[cell]
    if cell == "rnn" and r.net.act == "relu" and any(E.sign(v) == 0 for v in st.pre):
        text += " Where $a = 0$ the ReLU's derivative is taken as 0, as PyTorch does."
    s.step(f"Backward: step t = {k}", *lines, text=text)


def _rnn_lines(r: Run, st: Step, b: Back, k: int, d: int) -> list[Latex]:
    """δa_t = δh_t ⊙ f′(a_t)."""
    if r.net.act == "tanh":
        factor = rf"\left(1 - \mathbf{{h}}_{{{k}}} \odot \mathbf{{h}}_{{{k}}}\right)"
    else:
        factor = rf"\mathbf{{1}}[\mathbf{{a}}_{{{k}}} > 0]"
    return [TX.eq(rf"\boldsymbol{{\delta}}_{{{k}}} = {dv('h', k)} \odot {factor}",
                 TX.cat(TX.sub(col(b.dh), d), r" \odot ", TX.sub(col(b.deriv), d)), col(b.dpre), d=d)]


def _lstm_lines(r: Run, st: Step, b: Back, k: int, d: int) -> list[Latex]:
    """δc_t, each gate's gradient, then δa_t through the gates' nonlinearities."""
    h, T = r.net.h, len(r.steps)
    after = "" if k == T else rf" + {dv('c', k + 1)} \odot \mathbf{{f}}_{{{k + 1}}}"
    di, df, dg, do = blocks(b.dgates, h)
    lines = [TX.eq(rf"{dv('c', k)} = {dv('h', k)} \odot \mathbf{{o}}_{{{k}}} \odot \left(1 - "
                  rf"\tanh^2 \mathbf{{c}}_{{{k}}}\right){after}", col(b.dc), d=d),
             *pair(TX.eq(rf"{dv('i', k)} = {dv('c', k)} \odot \mathbf{{g}}_{{{k}}}", col(di), d=d),
                  TX.eq(rf"{dv('f', k)} = {dv('c', k)} \odot \mathbf{{c}}_{{{k - 1}}}", col(df), d=d)),
             *pair(TX.eq(rf"{dv('g', k)} = {dv('c', k)} \odot \mathbf{{i}}_{{{k}}}", col(dg), d=d),
                  TX.eq(rf"{dv('o', k)} = {dv('h', k)} \odot \tanh \mathbf{{c}}_{{{k}}}", col(do), d=d))]
    stack = (rf"\begin{{bmatrix}}{dv('i', k)} \odot \mathbf{{i}}_{{{k}}} \odot (1 - \mathbf{{i}}_{{{k}}}) \\ "
             rf"{dv('f', k)} \odot \mathbf{{f}}_{{{k}}} \odot (1 - \mathbf{{f}}_{{{k}}}) \\ "
             rf"{dv('g', k)} \odot (1 - \mathbf{{g}}_{{{k}}} \odot \mathbf{{g}}_{{{k}}}) \\ "
             rf"{dv('o', k)} \odot \mathbf{{o}}_{{{k}}} \odot (1 - \mathbf{{o}}_{{{k}}})\end{{bmatrix}}")
    lines.append(TX.eq(rf"\boldsymbol{{\delta}}_{{{k}}} = {stack}", col(b.dpre), d=d))
    return lines


def _gru_lines(r: Run, st: Step, b: Back, k: int, d: int) -> list[Latex]:
    """δn_t and δz_t, δr_t through n_t, then the gradients of p_t and q_t."""
    h = r.net.h
    dr, dz, dn = blocks(b.dgates, h)
    dpr, dpz, dpn = blocks(b.dpre, h)
    return [*pair(TX.eq(rf"{dv('n', k)} = {dv('h', k)} \odot (1 - \mathbf{{z}}_{{{k}}})", col(dn), d=d),
                  TX.eq(rf"{dv('z', k)} = {dv('h', k)} \odot (\mathbf{{h}}_{{{k - 1}}} - \mathbf{{n}}_{{{k}}})",
                        col(dz), d=d)),
            *pair(TX.eq(rf"{dv('p', k, '^n')} = {dv('n', k)} \odot (1 - \mathbf{{n}}_{{{k}}} \odot "
                        rf"\mathbf{{n}}_{{{k}}})", col(dpn), d=d),
                  TX.eq(rf"{dv('r', k)} = {dv('p', k, '^n')} \odot \mathbf{{q}}^n_{{{k}}}", col(dr), d=d)),
            *pair(TX.eq(rf"{dv('p', k, '^r')} = {dv('r', k)} \odot \mathbf{{r}}_{{{k}}} \odot "
                        rf"(1 - \mathbf{{r}}_{{{k}}})", col(dpr), d=d),
                  TX.eq(rf"{dv('p', k, '^z')} = {dv('z', k)} \odot \mathbf{{z}}_{{{k}}} \odot "
                        rf"(1 - \mathbf{{z}}_{{{k}}})", col(dpz), d=d)),
            TX.eq(rf"\boldsymbol{{\delta}}^p_{{{k}}} = \begin{{bmatrix}}{dv('p', k, '^r')} \\ {dv('p', k, '^z')} \\ "
                 rf"{dv('p', k, '^n')}\end{{bmatrix}}", col(b.dgi), d=d),
            TX.eq(rf"\boldsymbol{{\delta}}^q_{{{k}}} = \begin{{bmatrix}}{dv('p', k, '^r')} \\ {dv('p', k, '^z')} \\ "
                 rf"\mathbf{{r}}_{{{k}}} \odot {dv('p', k, '^n')}\end{{bmatrix}}", col(b.dgh), d=d)]


def _show_sums(s: Solution, p: Problem, r: Run) -> None:
    """The parameter gradients: each a sum over the steps."""
    d, a = p.digits, r.answers
    gru = r.net.cell == "gru"
    di = r"\boldsymbol{\delta}^p_t" if gru else r"\boldsymbol{\delta}_t"
    dh = r"\boldsymbol{\delta}^q_t" if gru else r"\boldsymbol{\delta}_t"
    T = len(r.steps)
    lines = [TX.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial W_{{ih}}}} = \sum_{{t=1}}^{{{T}}} {di}\,"
                  r"\mathbf{x}_t^\top", a["grad_w_ih"], d=d),
             TX.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial W_{{hh}}}} = \sum_{{t=1}}^{{{T}}} {dh}\,"
                  r"\mathbf{h}_{t-1}^\top", a["grad_w_hh"], d=d)]
    if a["grad_b_ih"] is not None:
        lines += [TX.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial \mathbf{{b}}_{{ih}}}} = \sum_t {di}",
                       col(a["grad_b_ih"]), d=d),
                  TX.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial \mathbf{{b}}_{{hh}}}} = \sum_t {dh}",
                       col(a["grad_b_hh"]), d=d)]
    lines.append(TX.eq(r"\frac{\partial\mathcal{L}}{\partial \mathbf{h}_0} = \delta\mathbf{h}_0", col(a["grad_h0"]),
                      d=d))
    text = ("The same $W_{ih}$, $W_{hh}$" + (" and biases" if a["grad_b_ih"] is not None else "")
            + " act at every step, so each gradient is the sum of the steps' outer products"
            + (" (no biases: nothing to add there)." if a["grad_b_ih"] is None else "."))
    if gru:
        text += (" For a GRU the two biases' gradients differ in the n block: $\\mathbf{b}_{hn}$ sits inside "
                 "$\\mathbf{r}_t \\odot (\\cdot)$.")
    s.step("The gradients of the parameters", *lines, text=text)
