"""The slips of `rnn` (each the same equations with one thing changed, see `_rnn_core.Mistake`) and its
follow-through: the hidden and cell states redone from a student's own gates (SPEC §12)."""
from __future__ import annotations

from typing import Any, Callable

import sympy

from ..kind import Answers, Slip, Variant
from ..problem import Problem
from ..slipkit import nonzero
from . import _rnn_core as C
from . import _rnn_run as R


def _redo(m: C.Mistake) -> Callable[[Problem, Answers], Answers]:
    """A transform giving every answer as the mistaken equations give them."""
    return lambda p, a: {k: v for k, v in R.run(p, m).answers.items() if k in a}


def _steps(p: Problem) -> int:
    """T, the number of steps."""
    return len(p.fields.inputs)


def forget_input_swapped(p: Problem, answers: Answers) -> list[Variant]:
    """LSTM: c_t = i · c_{t−1} + f · g."""
    if p.fields.cell != "lstm" or (_steps(p) < 2 and not nonzero(p.fields.c0)):
        return []
    return [Variant("the forget and input gates swapped in the cell update: c_t = i_t · c_{t−1} + f_t · g_t "
                    "instead of f_t · c_{t−1} + i_t · g_t", transform=_redo(C.Mistake(swap_if=True)))]


def tanh_sigmoid(p: Problem, answers: Answers) -> list[Variant]:
    """σ where tanh belongs, or tanh where σ belongs."""
    cell = p.fields.cell
    if cell == "rnn":
        if p.fields.nonlinearity != "tanh":
            return []
        return [Variant("σ used where tanh belongs: h_t = σ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)",
                        transform=_redo(C.Mistake(acts=(("h", "sigmoid"),))))]
    candidate, gates = ("g", ("i", "f", "o")) if cell == "lstm" else ("n", ("r", "z"))
    return [Variant(f"σ used where tanh belongs, for the candidate {candidate}_t",
                    transform=_redo(C.Mistake(acts=((candidate, "sigmoid"),)))),
            Variant(f"tanh used where σ belongs, for the gates {', '.join(gates)}",
                    transform=_redo(C.Mistake(acts=tuple((g, "tanh") for g in gates))))]


def update_flipped(p: Problem, answers: Answers) -> list[Variant]:
    """GRU: h_t = z · n + (1 − z) · h_{t−1}."""
    if p.fields.cell != "gru":
        return []
    return [Variant("the GRU's update gate used the other way round: h_t = z_t · n_t + (1 − z_t) · h_{t−1} "
                    "instead of (1 − z_t) · n_t + z_t · h_{t−1}", transform=_redo(C.Mistake(flip_z=True)))]


def reset_before(p: Problem, answers: Answers) -> list[Variant]:
    """GRU: r applied to h_{t−1} before W_hn (the paper's GRU), not to W_hn h + b_hn (PyTorch's)."""
    if p.fields.cell != "gru" or (_steps(p) < 2 and not nonzero(p.fields.h0)):
        return []
    return [Variant("the reset gate applied to h_{t−1} before the product: n_t = tanh(W_in x_t + b_in + "
                    "W_hn (r_t · h_{t−1}) + b_hn), where PyTorch's GRU has r_t · (W_hn h_{t−1} + b_hn)",
                    transform=_redo(C.Mistake(reset_before=True)))]


def cell_tanh_forgotten(p: Problem, answers: Answers) -> list[Variant]:
    """LSTM: h_t = o · c_t."""
    if p.fields.cell != "lstm":
        return []
    return [Variant("tanh of the cell state left out: h_t = o_t · c_t instead of o_t · tanh(c_t)",
                    transform=_redo(C.Mistake(no_cell_tanh=True)))]


def truncated(p: Problem, answers: Answers) -> list[Variant]:
    """BPTT stopped after one step."""
    if p.fields.upstream is None or _steps(p) < 2:
        return []
    into = "h_{t−1}" + (" and c_{t−1}" if p.fields.cell == "lstm" else "")
    out = [Variant(f"BPTT truncated to one step: no gradient carried back from h_t into {into}, so each step sees "
                   "only its own ∂L/∂h_t", transform=_redo(C.Mistake(truncated="local")))]
    if nonzero(p.fields.upstream[:-1]):
        out.append(Variant("only the last step's gradient: BPTT stopped after step T (the earlier steps' ∂L/∂h_t "
                           "and everything before step T left out)", transform=_redo(C.Mistake(truncated="last"))))
    return out


def hh_bias_forgotten(p: Problem, answers: Answers) -> list[Variant]:
    """Only one bias added: b_hh left out."""
    if p.fields.b_hh is None or not nonzero(p.fields.b_hh):
        return []
    return [Variant("b_hh left out (only one bias added to the pre-activations)",
                    transform=_redo(C.Mistake(no_b_hh=True)))]


SLIPS = (
    Slip("rnn_forget_input_swapped", "the LSTM's forget and input gates swapped", forget_input_swapped),
    Slip("rnn_tanh_sigmoid", "tanh where σ belongs, or σ where tanh belongs", tanh_sigmoid),
    Slip("rnn_gru_update_flipped", "the GRU's update gate used the other way round", update_flipped),
    Slip("rnn_gru_reset_before", "the GRU's reset gate applied before W_hn (the paper's GRU, not PyTorch's)",
         reset_before),
    Slip("rnn_cell_tanh_forgotten", "h = o · c instead of o · tanh(c)", cell_tanh_forgotten),
    Slip("rnn_bptt_truncated", "BPTT truncated to one step", truncated),
    Slip("rnn_hh_bias_forgotten", "b_hh left out", hh_bias_forgotten),
)


# ---- follow-through ---------------------------------------------------------------------------------

def follow(p: Problem, answer: str, given: Answers) -> Any:
    """`hidden` (LSTM, GRU) and `cells` (LSTM) redone from a student's own gates (and cells), else None."""
    cell = p.fields.cell
    if cell == "rnn" or answer not in ("hidden", "cells"):
        return None
    h = len(p.fields.w_hh[0])
    zero = [sympy.Integer(0)] * h
    if cell == "gru":
        if answer != "hidden" or "gates" not in given:
            return None
        out, prev = [], list(p.fields.h0 or zero)
        for row in given["gates"]:
            z, n = row[h:2 * h], row[2 * h:]
            prev = [(1 - zi) * ni + zi * hi for zi, ni, hi in zip(z, n, prev)]
            out.append(prev)
        return out
    if answer == "hidden" and "cells" in given:
        gates = given.get("gates") or R.run(p).answers["gates"]
        return [[o * sympy.tanh(c) for o, c in zip(g[3 * h:], cs)] for g, cs in zip(gates, given["cells"])]
    if "gates" not in given:
        return None
    cells, prev = [], list(p.fields.c0 or zero)
    for g in given["gates"]:
        i, f, gg = g[:h], g[h:2 * h], g[2 * h:3 * h]
        prev = [fj * cj + ij * gj for ij, fj, gj, cj in zip(i, f, gg, prev)]
        cells.append(prev)
    if answer == "cells":
        return cells
    return [[o * sympy.tanh(c) for o, c in zip(g[3 * h:], cs)] for g, cs in zip(given["gates"], cells)]
