"""Kind `rnn`: one sequence through PyTorch's nn.RNN, nn.LSTM or nn.GRU cell, step by step; with `upstream`,
backpropagation through time to every weight, bias, the initial state and every input (SPEC §13)."""
from __future__ import annotations

from typing import Any

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex, tex
from ..problem import Problem
from ..slipkit import Answers
from ..solution import Solution
from . import _rnn_box as BOX
from . import _rnn_run as R
from . import _rnn_numpy as N
from . import _rnn_slips as SL
from . import _rnn_steps as S

CELLS = ("rnn", "lstm", "gru")
G = {"rnn": 1, "lstm": 4, "gru": 3}
STACK = {"rnn": "", "lstm": "i, f, g, o", "gru": "r, z, n"}

FIELDS = F.table(
    inputs=F.Field(F.matrix, required=True),
    cell=F.Field(F.choice(*CELLS), "rnn"),
    nonlinearity=F.Field(F.choice("tanh", "relu"), "tanh"),
    w_ih=F.Field(F.matrix, required=True),
    w_hh=F.Field(F.matrix, required=True),
    b_ih=F.Field(F.vector),
    b_hh=F.Field(F.vector),
    h0=F.Field(F.vector),
    c0=F.Field(F.vector),
    upstream=F.Field(F.matrix),
)


def _article(cell: str) -> str:
    """`an rnn`, `an lstm`, `a gru`."""
    return "an" if cell in ("rnn", "lstm") else "a"


def _stacking(cell: str, k: int, h: int, torch_name: str, cols: str = "") -> str:
    """`G·h × d with G·h = 3·2: a gru stacks its gates r, z, n as PyTorch's weight_ih_l0` (`h × d for an rnn
    cell`); without `cols`, only how the G·h rows are made."""
    if k == 1:
        return f"h × {cols} for an rnn cell" if cols else f"h = {h}"
    return ((f"G·h × {cols} with " if cols else "")
            + f"G·h = {k}·{h}: {_article(cell)} {cell} stacks its gates {STACK[cell]} as PyTorch's {torch_name}")


def _other_cell(rows: int, h: int, cell: str) -> str:
    """` (8 = 4·2 rows, the stacked weights of an lstm cell)` when the rows fit another cell."""
    for other, k in G.items():
        if other != cell and rows == k * h:
            return f" ({rows} = {k}·{h} rows, the stacked weights of {_article(other)} {other} cell)"
    return ""


def hidden_size(p: Problem) -> int:
    """h, the columns of w_hh (checked against its rows, G·h)."""
    f = p.fields
    k, (rows, cols) = G[f.cell], F.shape(f.w_hh)
    if rows != k * cols:
        h = len(f.w_ih) // k if len(f.w_ih) % k == 0 else cols
        how = _stacking(f.cell, k, h, "weight_hh_l0", "h") + (f"; h = {h} from w_ih's {len(f.w_ih)} rows"
                                                               if h != cols else "")
        raise p.error("w_hh", f"expected {k * h}×{h} ({how}), got {rows}×{cols}"
                              f"{_other_cell(rows, cols, f.cell)}")
    return cols


def validate(p: Problem) -> None:
    """Fields that belong to another cell; every shape against T, d, G and h; biases together."""
    f = p.fields
    if f.cell != "rnn" and p.raw.get("nonlinearity") is not None:
        raise p.error("nonlinearity", f"nonlinearity is only for cell: rnn (this cell is {f.cell}, whose "
                                      "nonlinearities are fixed: σ for its gates, tanh for its candidate)")
    if f.c0 is not None and f.cell != "lstm":
        raise p.error("c0", f"c0 is only for cell: lstm (this cell is {f.cell}, which has no cell state)")
    T, d = F.shape(f.inputs)
    h = hidden_size(p)
    k = G[f.cell]
    if F.shape(f.w_ih) != (k * h, d):
        rows, cols = F.shape(f.w_ih)
        how = _stacking(f.cell, k, h, "weight_ih_l0", "d")
        raise p.error("w_ih", f"expected {k * h}×{d} ({how}; h = {h} from w_hh, d = {d} from inputs), "
                              f"got {rows}×{cols}{_other_cell(rows, h, f.cell)}")
    for name, other in (("b_ih", "b_hh"), ("b_hh", "b_ih")):
        if getattr(f, name) is not None and getattr(f, other) is None:
            raise p.error(name, f"b_ih and b_hh come together (PyTorch's bias=True) or not at all: "
                                f"{other} is missing")
        if getattr(f, name) is not None and len(getattr(f, name)) != k * h:
            how = _stacking(f.cell, k, h, f"bias_{name[2:]}_l0")
            raise p.error(name, f"expected {k * h} numbers ({how}), got {len(getattr(f, name))}")
    for name in ("h0", "c0"):
        if getattr(f, name) is not None and len(getattr(f, name)) != h:
            raise p.error(name, f"expected {h} numbers (h = {h}, the columns of w_hh), got {len(getattr(f, name))}")
    if f.upstream is not None and F.shape(f.upstream) != (T, h):
        raise p.error("upstream", f"expected {T}×{h} (T×h: ∂L/∂h_t for each of the T = {T} steps), "
                                  f"got {F.shape_text(F.shape(f.upstream))}")


def answer_names(p: Problem) -> list[str]:
    """hidden; cells (lstm); gates (lstm, gru); with upstream the gradients."""
    names = ["hidden"] + (["cells"] if p.fields.cell == "lstm" else []) + (["gates"] if p.fields.cell != "rnn" else [])
    if p.fields.upstream is not None:
        names += ["grad_w_ih", "grad_w_hh", "grad_b_ih", "grad_b_hh", "grad_h0", "grad_inputs"]
    return names


def solve(p: Problem) -> Solution:
    """The cell step by step, the unrolled figure, then BPTT step by step and the sums over the steps."""
    s = Solution(p)
    r = R.run(p)
    S.show(s, p, r)
    BOX.answers(s, r, p.digits)
    return s


def given(p: Problem) -> list[tuple[str, Latex]]:
    """The data of the problem for the question sheet (the nonlinearity only for an rnn cell)."""
    f = p.fields
    out = [("inputs", tex(f.inputs)), ("cell", Latex(r"\text{%s}" % f.cell))]
    if f.cell == "rnn":
        out.append(("nonlinearity", Latex(r"\text{%s}" % f.nonlinearity)))
    for name in ("w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0", "upstream"):
        value = getattr(f, name)
        if value is not None:
            out.append((name.replace("_", " "), tex(value)))
    return out


class Rnn(Kind):
    """A recurrent cell unrolled over one sequence, forward and (with upstream) backward through time."""

    name = "rnn"
    summary = "an RNN, LSTM or GRU cell over one sequence (PyTorch's equations); with upstream, BPTT"
    fields = FIELDS
    answers = {"hidden": AnswerSpec(depends=("gates", "cells")),
               "cells": AnswerSpec(depends=("gates",)),
               "gates": AnswerSpec(),
               "grad_w_ih": AnswerSpec(),
               "grad_w_hh": AnswerSpec(),
               "grad_b_ih": AnswerSpec(),
               "grad_b_hh": AnswerSpec(),
               "grad_h0": AnswerSpec(),
               "grad_inputs": AnswerSpec()}
    slips = SL.SLIPS
    examples = (
        {"inputs": [[1, 0.5], [-1, 2], [0.5, -0.5]], "w_ih": [[0.5, -0.25], [0.25, 0.5]],
         "w_hh": [[0.5, 0], [-0.5, 0.25]], "b_ih": [0.1, -0.2], "b_hh": [0.2, 0.1], "h0": [0.5, -0.5],
         "upstream": [[0.5, 0], [0, 1], [1, -1]]},
        {"inputs": [[1], [-1]], "cell": "lstm", "w_ih": [[0.5], [1], [-0.5], [0.25]],
         "w_hh": [[0.5], [-0.5], [1], [0.5]], "b_ih": [0, 0.5, 0, 0], "b_hh": [0.25, 0, 0.1, 0], "c0": [0.5],
         "upstream": [[1], [1]]},
        {"inputs": [[1], [-1]], "cell": "gru", "w_ih": [[0.5], [-1], [1]], "w_hh": [[1], [0.5], [-0.5]],
         "b_ih": [0, 0.5, 0.25], "b_hh": [0.5, 0, 0.5], "h0": [0.5], "upstream": [[1], [1]]},
        {"inputs": [[1, 2], [0.5, -1]], "nonlinearity": "relu", "w_ih": [[1, -1], [0.5, 0.5]],
         "w_hh": [[1, 0.5], [-1, 1]], "upstream": [[1, 0], [0.5, 1]]},
    )
    positional = ("inputs", "w_ih", "w_hh")

    validate = staticmethod(validate)
    solve = staticmethod(solve)
    recompute = staticmethod(N.recompute)
    answer_names = staticmethod(answer_names)
    given = staticmethod(given)

    follow = delegate(SL)   # SPEC §12: redo an answer from the student's own earlier ones


KIND = Rnn()
