"""The worked solution of `rnn` going forward: the cell's equations and data, each step's gates, cell and hidden
state, the unrolled figure, and the answers box (the backward pass is in `_rnn_back`)."""
from __future__ import annotations

from typing import Any

from ..latex import Latex
from ..render import WIDE
from ..problem import Problem
from ..solution import Solution
from . import _rnn_back as B
from . import _rnn_figure as FIG
from . import _rnn_tex as TX
from ._rnn_core import SHOWN_STEPS, Step, blocks, shown_steps
from ._rnn_run import Run
from ._rnn_tex import col, mat

NAMES = {"rnn": "a plain (Elman) RNN cell, as PyTorch's nn.RNN", "lstm": "an LSTM cell, as PyTorch's nn.LSTM",
         "gru": "a GRU cell, as PyTorch's nn.GRU"}
ACT = {"tanh": r"\tanh", "relu": r"\operatorname{relu}"}
BIH, BHH = r" + \mathbf{b}_{ih}", r" + \mathbf{b}_{hh}"


def vec(name: str, t: Any) -> str:
    """`\\mathbf{h}_{2}`."""
    return rf"\mathbf{{{name}}}_{{{t}}}"


def show(s: Solution, p: Problem, r: Run) -> None:
    """Every step of the key, in order."""
    show_setup(s, p, r)
    T = len(r.steps)
    for t in shown_steps(T):
        if t == T - 1 and T > SHOWN_STEPS:
            s.step(f"Steps 3 to {T - 1}", text="The same equations, step by step, each starting from the previous "
                                               "step's state; their values are in the answers.")
        show_forward_step(s, p, r, t)
    s.step("The unrolled network", text=FIG.caption(r), figure=FIG.figure(r, p.digits))
    if r.backs is not None:
        B.show_backward(s, p, r)


def _bias(r: Run, which: str) -> str:
    """` + b_ih` (or ` + b_hh`), nothing without biases."""
    return (BIH if which == "ih" else BHH) if r.net.b_ih is not None else ""


def _affine(r: Run, t: Any, tp: Any) -> str:
    """`W_ih x_t + b_ih + W_hh h_{t−1} + b_hh` (no bias terms without biases)."""
    return rf"W_{{ih}}{vec('x', t)}{_bias(r, 'ih')} + W_{{hh}}{vec('h', tp)}{_bias(r, 'hh')}"


def _stacked(name: str, gates: str, t: str = "t") -> str:
    """`[a^i_t; a^f_t; …]`."""
    return r"\begin{bmatrix}" + r" \\ ".join(rf"\mathbf{{{name}}}^{g}_{t}" for g in gates) + r"\end{bmatrix}"


def equations(r: Run) -> list[Latex]:
    """PyTorch's equations of the cell."""
    cell, affine = r.net.cell, _affine(r, "t", "t-1")
    if cell == "rnn":
        return [Latex(rf"\mathbf{{a}}_t = {affine}, \qquad \mathbf{{h}}_t = {ACT[r.net.act]}(\mathbf{{a}}_t)")]
    if cell == "lstm":
        return [Latex(rf"\mathbf{{a}}_t = {affine} = {_stacked('a', 'ifgo')}"),
                Latex(r"\mathbf{i}_t = \sigma(\mathbf{a}^i_t),\quad \mathbf{f}_t = \sigma(\mathbf{a}^f_t),\quad "
                      r"\mathbf{g}_t = \tanh(\mathbf{a}^g_t),\quad \mathbf{o}_t = \sigma(\mathbf{a}^o_t)"),
                Latex(r"\mathbf{c}_t = \mathbf{f}_t \odot \mathbf{c}_{t-1} + \mathbf{i}_t \odot \mathbf{g}_t, "
                      r"\qquad \mathbf{h}_t = \mathbf{o}_t \odot \tanh(\mathbf{c}_t)")]
    return [Latex(rf"\mathbf{{p}}_t = W_{{ih}}\mathbf{{x}}_t{_bias(r, 'ih')} = {_stacked('p', 'rzn')}, \qquad "
                  rf"\mathbf{{q}}_t = W_{{hh}}\mathbf{{h}}_{{t-1}}{_bias(r, 'hh')} = {_stacked('q', 'rzn')}"),
            Latex(r"\mathbf{r}_t = \sigma(\mathbf{p}^r_t + \mathbf{q}^r_t),\quad "
                  r"\mathbf{z}_t = \sigma(\mathbf{p}^z_t + \mathbf{q}^z_t),\quad "
                  r"\mathbf{n}_t = \tanh(\mathbf{p}^n_t + \mathbf{r}_t \odot \mathbf{q}^n_t)"),
            Latex(r"\mathbf{h}_t = (1 - \mathbf{z}_t) \odot \mathbf{n}_t + \mathbf{z}_t \odot \mathbf{h}_{t-1}")]


def _plural(n: int, word: str) -> str:
    """`input` or `inputs`."""
    return f"{word}{'s' if n != 1 else ''}"


def show_setup(s: Solution, p: Problem, r: Run) -> None:
    """The cell, its equations and its data."""
    net, T = r.net, len(r.steps)
    k = len(net.gates)
    seq = "\\mathbf{x}_1" if T == 1 else f"\\mathbf{{x}}_1, \\ldots, \\mathbf{{x}}_{{{T}}}"
    text = (f"One sequence of $T = {T}$ {_plural(T, 'input')} ${seq}$ with $d = {net.d}$ "
            f"{_plural(net.d, 'feature')} each goes through {NAMES[net.cell]}, with $h = {net.h}$ hidden "
            f"{_plural(net.h, 'unit')}. ")
    if k > 1:
        first = "row 1" if net.h == 1 else f"rows 1 to {net.h}"
        text += (f"The weights stack the gates' rows in PyTorch's order ({', '.join(net.gates)}): $W_{{ih}}$ is "
                 f"{k * net.h}×{net.d} and $W_{{hh}}$ is {k * net.h}×{net.h}, {first} for the first gate, and so "
                 "on. ")
    if net.cell == "gru":
        text += ("As in PyTorch, the reset gate multiplies $W_{hn}\\mathbf{h}_{t-1} + \\mathbf{b}_{hn}$ after the "
                 "product (the original paper applies it to $\\mathbf{h}_{t-1}$ before). ")
    text += "No biases are given (PyTorch's bias=False). " if net.b_ih is None else ""
    text += (("$\\mathbf{h}_0$ is given" if p.fields.h0 is not None else "$\\mathbf{h}_0 = \\mathbf{0}$ (not given)")
             + ("" if net.cell != "lstm" else (", $\\mathbf{c}_0$ is given" if p.fields.c0 is not None
                                                else ", $\\mathbf{c}_0 = \\mathbf{0}$ (not given)")) + ".")
    data = [rf"W_{{ih}} = {mat(net.w_ih)}", rf"W_{{hh}} = {mat(net.w_hh)}"]
    if net.b_ih is not None:
        data += [rf"\mathbf{{b}}_{{ih}} = {mat(col(net.b_ih))}", rf"\mathbf{{b}}_{{hh}} = {mat(col(net.b_hh))}"]
    states = [rf"\mathbf{{h}}_0 = {mat(col(net.h0))}"]
    if net.c0 is not None:
        states.append(rf"\mathbf{{c}}_0 = {mat(col(net.c0))}")
    lines = equations(r) + pack(data) + pack([rf"X = {mat(net.xs)}\ (\text{{row }} t = \mathbf{{x}}_t^\top)"]
                                             + states)
    s.step("The cell", *lines, text=text)


def show_forward_step(s: Solution, p: Problem, r: Run, t: int) -> None:
    """One step forward: the affine part, each gate, the cell and hidden state."""
    st, d = r.steps[t], p.digits
    k, kp = t + 1, t
    lines = []
    if r.net.cell in ("rnn", "lstm"):
        lines.append(TX.eq(r"\mathbf{a}_{%d} = " % k + _affine(r, k, kp), _numbers(r, st, t, d), col(st.pre), d=d))
    else:
        lines += _gru_affine(r, st, t, d)
    if r.net.cell == "rnn":
        lines.append(TX.eq(rf"{vec('h', k)} = {ACT[r.net.act]}(\mathbf{{a}}_{{{k}}})", col(st.h), d=d))
    elif r.net.cell == "lstm":
        lines += _lstm_lines(r, st, k, kp, d)
    else:
        lines += _gru_lines(r, st, k, kp, d)
    text = (f"$\\mathbf{{x}}_{{{k}}}$ is row {k} of X; $\\mathbf{{h}}_{{{kp}}}$ "
            + ("is the initial state." if t == 0 else "comes from the step before."))
    if t > 0 and len(r.net.gates) > 1:
        text += " The weights are those of step 1."
    if r.net.cell == "rnn" and r.net.act == "relu":
        text += " The ReLU keeps the positive entries and sets the others to 0."
    s.step(f"Step t = {k}", *lines, text=text)


def _numbers(r: Run, st: Step, t: int, d: int) -> Latex:
    """`W_ih x + b_ih + W_hh h + b_hh` with the numbers put in (after step 1 of a gated cell, or when the weights
    are too wide to write out, only x and h)."""
    full = _numbers_of(r, st, d, True)
    return full if (t == 0 or len(r.net.gates) == 1) and TX.visible(full) <= WIDE else _numbers_of(r, st, d, False)


def _numbers_of(r: Run, st: Step, d: int, full: bool) -> Latex:
    """The substitution, with the weights and biases as numbers (full) or by name."""
    w_ih, w_hh = (mat(r.net.w_ih), mat(r.net.w_hh)) if full else (r"W_{ih}", r"W_{hh}")
    out = [w_ih, r"\,", TX.sub(col(st.x), d)]
    if r.net.b_ih is not None:
        out += [" + ", mat(col(r.net.b_ih)) if full else r"\mathbf{b}_{ih}"]
    out += [" + ", w_hh, r"\,", TX.sub(col(st.h_prev), d)]
    if r.net.b_hh is not None:
        out += [" + ", mat(col(r.net.b_hh)) if full else r"\mathbf{b}_{hh}"]
    return TX.cat(*out)


def pack(items: list[str]) -> list[Latex]:
    """Display items joined by `,\\quad` into as few lines as stay readable."""
    lines, line = [], []
    for item in items:
        if line and TX.visible(r",\quad ".join(line + [item])) > WIDE:
            lines.append(Latex(r",\quad ".join(line)))
            line = []
        line.append(item)
    return lines + [Latex(r",\quad ".join(line))]


def _gate(name: str, k: int, act: str, arg: str, value: list, numbers: list, d: int) -> Latex:
    """`g_k = act(arg) = act(numbers) = value`."""
    return TX.eq(rf"{vec(name, k)} = {act}({arg})", TX.cat(act + r"\left(", TX.sub(col(numbers), d), r"\right)"),
                 col(value), d=d)


def _lstm_lines(r: Run, st: Step, k: int, kp: int, d: int) -> list[Latex]:
    """Each gate, then c_t and h_t."""
    h = r.net.h
    lines = []
    for name, pre, out in zip(r.net.gates, blocks(st.pre, h), blocks(st.gates, h)):
        act = r"\tanh" if name == "g" else r"\sigma"
        lines.append(_gate(name, k, act, rf"\mathbf{{a}}^{name}_{{{k}}}", out, pre, d))
    i, f, g, o = blocks(st.gates, h)
    sub = lambda v: TX.sub(col(v), d)   # noqa: E731
    lines.append(TX.eq(rf"{vec('c', k)} = {vec('f', k)} \odot {vec('c', kp)} + {vec('i', k)} \odot {vec('g', k)}",
                       TX.cat(sub(f), r" \odot ", sub(st.c_prev), " + ", sub(i), r" \odot ", sub(g)), col(st.c),
                       d=d))
    lines.append(TX.eq(rf"{vec('h', k)} = {vec('o', k)} \odot \tanh({vec('c', k)})",
                       TX.cat(sub(o), r" \odot ", sub(st.tc)), col(st.h), d=d))
    return lines


def _gru_affine(r: Run, st: Step, t: int, d: int) -> list[Latex]:
    """p_t = W_ih x_t + b_ih and q_t = W_hh h_{t−1} + b_hh."""
    k, bias = t + 1, r.net.b_ih is not None
    out = []
    for name, w, b, v, which, res in (("p", r.net.w_ih, r.net.b_ih, st.x, "ih", st.gi),
                                      ("q", r.net.w_hh, r.net.b_hh, st.h_prev, "hh", st.gh)):
        full = TX.cat(mat(w), r"\,", TX.sub(col(v), d), *((" + ", mat(col(b))) if bias else ()))
        if t > 0 or TX.visible(full) > WIDE:
            full = TX.cat(rf"W_{{{which}}}\,", TX.sub(col(v), d), *((" + ", rf"\mathbf{{b}}_{{{which}}}",) if bias
                                                                    else ()))
        lhs = rf"{vec(name, k)} = W_{{{which}}}{vec('x', k) if name == 'p' else vec('h', t)}{_bias(r, which)}"
        out.append(TX.eq(lhs, full, col(res), d=d))
    return out


def _gru_lines(r: Run, st: Step, k: int, kp: int, d: int) -> list[Latex]:
    """r_t, z_t, n_t, then h_t."""
    h = r.net.h
    rr, z, n = blocks(st.gates, h)
    pre_r, pre_z, pre_n = blocks(st.pre, h)
    sub = lambda v: TX.sub(col(v), d)   # noqa: E731
    return [_gate("r", k, r"\sigma", rf"\mathbf{{p}}^r_{{{k}}} + \mathbf{{q}}^r_{{{k}}}", rr, pre_r, d),
            _gate("z", k, r"\sigma", rf"\mathbf{{p}}^z_{{{k}}} + \mathbf{{q}}^z_{{{k}}}", z, pre_z, d),
            _gate("n", k, r"\tanh", rf"\mathbf{{p}}^n_{{{k}}} + {vec('r', k)} \odot \mathbf{{q}}^n_{{{k}}}", n,
                  pre_n, d),
            TX.eq(rf"{vec('h', k)} = (1 - {vec('z', k)}) \odot {vec('n', k)} + {vec('z', k)} \odot {vec('h', kp)}",
                  TX.cat(r"\left(1 - ", sub(z), r"\right) \odot ", sub(n), " + ", sub(z), r" \odot ", sub(st.h_prev)),
                  col(st.h), d=d)]
