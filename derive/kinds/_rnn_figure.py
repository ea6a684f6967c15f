"""The unrolled recurrent network as a TikZ chain: the initial state, one copy of the cell per step with its
input below and its state (and, with upstream, ∂L/∂h_t) above; past SHOWN steps, steps 1, 2, …, T."""
from __future__ import annotations

from typing import Any

from ..latex import Latex, decimal, is_plain, tex
from . import _dense_exact as E
from ._rnn_run import Run

BREAK = r"\\"
SHOWN = 4            # steps drawn one by one; a longer sequence draws 1, 2, ⋯, T
ENTRIES = 4          # entries of a vector drawn in full; a longer one keeps its first three and its last
PITCH = 3.2          # cm between the centres of two cells
LABEL = {"rnn": {"tanh": "RNN (tanh)", "relu": "RNN (ReLU)"}, "lstm": "LSTM", "gru": "GRU"}
STYLES = (r"cell/.style={draw=blue!55!black, fill=blue!6, rounded corners=3pt, minimum width=1.6cm,"
          r" minimum height=0.95cm, align=center, font=\small},"
          r"val/.style={draw=black!45, fill=black!3, rounded corners=2pt, align=center, inner sep=2.5pt,"
          r" font=\small},"
          r"dots/.style={font=\large},"
          r"edge/.style={-{Stealth[length=4pt]}, semithick, draw=black!70},"
          r"lab/.style={font=\scriptsize, inner sep=1.5pt}")


def _cell(v: Any, d: int) -> str:
    """One entry: exact when plain, else its decimal."""
    v = E.sym(v)
    return tex(v) if is_plain(v) else decimal(v, d)


def column(v: list, d: int) -> str:
    """A vector as a column of decimals (exact where plain), elided past ENTRIES."""
    cells = [_cell(x, d) for x in v]
    if len(cells) > ENTRIES:
        cells = cells[:3] + [r"\vdots", cells[-1]]
    return r"\begin{bmatrix}" + r" \\ ".join(cells) + r"\end{bmatrix}"


def _entry(name: str, value: list, d: int) -> str:
    """`$h_1 = [column]$`."""
    return rf"${name} = {column(value, d)}$"


def _steps(T: int) -> list[int | None]:
    """The 0-based steps drawn (None: the dots between step 2 and step T)."""
    return list(range(T)) if T <= SHOWN else [0, 1, None, T - 1]


def figure(r: Run, d: int) -> Latex:
    """The TikZ picture."""
    net = r.net
    lstm = net.cell == "lstm"
    label = LABEL[net.cell][net.act] if net.cell == "rnn" else LABEL[net.cell]
    start = [_entry(r"\mathbf{h}_0", net.h0, d)] + ([_entry(r"\mathbf{c}_0", net.c0, d)] if lstm else [])
    lines = [r"\begin{tikzpicture}[" + STYLES + "]",
             rf"\node[val] (s0) at (0,0) {{{BREAK.join(start)}}};"]
    prev = "s0"
    for k, t in enumerate(_steps(len(r.steps)), 1):
        x = k * PITCH
        if t is None:
            lines.append(rf"\node[dots] (dots) at ({x:.2f},0) {{$\cdots$}};")
            lines.append(rf"\draw[edge] ({prev}) -- (dots);")
            prev = "dots"
            continue
        lines += _step(r, t, x, prev, label, d)
        prev = f"c{t}"
    lines.append(r"\end{tikzpicture}")
    return Latex("\n".join(lines))


def _step(r: Run, t: int, x: float, prev: str, label: str, d: int) -> list[str]:
    """One copy of the cell: its node, its input below, its state above, the arrows."""
    st, k = r.steps[t], t + 1
    top = [_entry(rf"\mathbf{{h}}_{{{k}}}", st.h, d)]
    if st.c is not None:
        top.append(_entry(rf"\mathbf{{c}}_{{{k}}}", st.c, d))
    if r.backs is not None and r.backs[t] is not None:
        top.append(r"{\color{red!60!black}" + _entry(rf"\delta\mathbf{{h}}_{{{k}}}", r.backs[t].dh, d) + "}")
    below = _entry(rf"\mathbf{{x}}_{{{k}}}", st.x, d)
    out = [rf"\node[cell] (c{t}) at ({x:.2f},0) {{{label}\\$t = {k}$}};",
           rf"\node[val, above=0.55cm of c{t}] (h{t}) {{{BREAK.join(top)}}};",
           rf"\node[val, below=0.55cm of c{t}] (x{t}) {{{below}}};",
           rf"\draw[edge] (x{t}) -- (c{t});", rf"\draw[edge] (c{t}) -- (h{t});"]
    if r.net.cell == "lstm":
        names = (rf"\mathbf{{c}}_{{{k - 1}}}", rf"\mathbf{{h}}_{{{k - 1}}}") if prev != "dots" else ("", "")
        out += [rf"\draw[edge] ([yshift=7pt]{prev}.east) -- node[lab, above] {{${names[0]}$}} "
                rf"([yshift=7pt]c{t}.west);",
                rf"\draw[edge] ([yshift=-7pt]{prev}.east) -- node[lab, below] {{${names[1]}$}} "
                rf"([yshift=-7pt]c{t}.west);"]
    else:
        name = rf"\mathbf{{h}}_{{{k - 1}}}" if prev != "dots" else ""
        out.append(rf"\draw[edge] ({prev}) -- node[lab, above] {{${name}$}} (c{t});")
    return out


def caption(r: Run) -> str:
    """The words before the figure."""
    T = len(r.steps)
    text = ("The same cell, with the same weights, applied at every step: the state it passes right is the next "
            "step's $\\mathbf{h}_{t-1}$" + (" and $\\mathbf{c}_{t-1}$" if r.net.cell == "lstm" else "")
            + "; below each copy its input, above it the state it computes")
    if r.backs is not None:
        text += (", and in red $\\delta\\mathbf{h}_t = \\partial\\mathcal{L}/\\partial\\mathbf{h}_t$, the whole "
                 "gradient reaching $\\mathbf{h}_t$ (its own $\\mathbf{u}_t$ plus what flows back from later steps)")
    text += "."
    if T > SHOWN:
        text += f" Steps 3 to {T - 1} are drawn as dots."
    return text
