"""Backpropagation through time for `rnn`: each step from the last back to the first, ∂L/∂h_t (and ∂L/∂c_t)
flowing back through the recurrence, then the parameter gradients summed over the steps (L = Σ_t u_t · h_t)."""
from __future__ import annotations

from typing import Any

from . import _dense_exact as E
from ._rnn_core import MINUS, ONE, ZERO, Back, Mistake, Net, Step, blocks, had, one_minus, slope, tmatvec, vadd


def backward(net: Net, m: Mistake, steps: list[Step]) -> list[Back | None]:
    """∂L/∂(everything) step by step from the last, L = Σ_t upstream_t · h_t (None: a step BPTT skipped)."""
    backs: list[Back | None] = [None] * len(steps)
    carry_h, carry_c = [ZERO] * net.h, [ZERO] * net.h
    for t in range(len(steps) - 1, -1, -1):
        if m.truncated == "last" and t < len(steps) - 1:
            break
        if m.truncated == "local":
            carry_h, carry_c = [ZERO] * net.h, [ZERO] * net.h
        dh = vadd(net.upstream[t], carry_h)
        back = _back_step(net, m, steps[t], dh, carry_c)
        backs[t] = back
        carry_h, carry_c = back.dh_prev, back.dc_prev
    return backs


def _back_step(net: Net, m: Mistake, s: Step, dh: list, carry_c: list) -> Back:
    """One step backward from ∂L/∂h_t (and ∂L/∂c_t from the step after)."""
    h = net.h
    if net.cell == "rnn":
        deriv = slope(net, m, "h", s.pre, s.gates)
        dpre = had(dh, deriv)
        back = _finish(net, s, dh, None, dpre, dpre, dpre, dpre, tmatvec(net.w_hh, dpre), None)
        back.deriv = deriv
        return back
    if net.cell == "lstm":
        i, f, g, o = blocks(s.gates, h)
        do = had(dh, s.tc)
        dtc = [ONE] * h if m.no_cell_tanh else one_minus(had(s.tc, s.tc))
        dc = vadd(carry_c, had(had(dh, o), dtc))
        if m.swap_if:
            di, df, dg, dc_prev = had(dc, s.c_prev), had(dc, g), had(dc, f), had(dc, i)
        else:
            di, df, dg, dc_prev = had(dc, g), had(dc, s.c_prev), had(dc, i), had(dc, f)
        dgates = di + df + dg + do
        dpre = [v for name, dv, pre, out in zip(net.gates, blocks(dgates, h), blocks(s.pre, h), blocks(s.gates, h))
                for v in had(dv, slope(net, m, name, pre, out))]
        return _finish(net, s, dh, dc, dgates, dpre, dpre, dpre, tmatvec(net.w_hh, dpre), dc_prev)
    return _gru_back(net, m, s, dh)


def _gru_back(net: Net, m: Mistake, s: Step, dh: list) -> Back:
    """A GRU step backward: through h = (1 − z) ⊙ n + z ⊙ h_prev, then n, then r and z."""
    h = net.h
    r, z, n = blocks(s.gates, h)
    pre_r, pre_z, pre_n = blocks(s.pre, h)
    if m.flip_z:
        dn, dz, direct = had(dh, z), had(dh, vadd(n, [E.mul(MINUS, v) for v in s.h_prev])), had(dh, one_minus(z))
    else:
        dn, dz, direct = had(dh, one_minus(z)), had(dh, vadd(s.h_prev, [E.mul(MINUS, v) for v in n])), had(dh, z)
    dpre_n = had(dn, slope(net, m, "n", pre_n, n))
    w_rz, w_n = net.w_hh[:2 * h], net.w_hh[2 * h:]
    if m.reset_before:
        dq = tmatvec(w_n, dpre_n)
        dr, dgh_n = had(dq, s.h_prev), dpre_n
        direct = vadd(direct, had(dq, r))
    else:
        dr, dgh_n = had(dpre_n, blocks(s.gh, h)[2]), had(dpre_n, r)
    dpre_r = had(dr, slope(net, m, "r", pre_r, r))
    dpre_z = had(dz, slope(net, m, "z", pre_z, z))
    dgh = dpre_r + dpre_z + dgh_n
    dh_prev = vadd(tmatvec(w_rz, dpre_r + dpre_z), direct)
    if not m.reset_before:
        dh_prev = vadd(dh_prev, tmatvec(w_n, dgh_n))
    return _finish(net, s, dh, None, dr + dz + dn, dpre_r + dpre_z + dpre_n, dpre_r + dpre_z + dpre_n, dgh,
                   dh_prev, None)


def _finish(net: Net, s: Step, dh: list, dc: list | None, dgates: list, dpre: list, dgi: list, dgh: list,
            dh_prev: list, dc_prev: list | None) -> Back:
    """The step's record, with ∂L/∂x_t = W_ihᵀ ∂L/∂(W_ih x_t)."""
    return Back(dh, dc, dgates, dpre, dgi, dgh, tmatvec(net.w_ih, dgi), dh_prev, dc_prev)


# ---- totals and answers ----------------------------------------------------------------------------

def outer_sum(grads: list[list], ins: list[list]) -> list[list]:
    """Σ_t g_t ⊗ v_t (rows of g, columns of v)."""
    return [[E.dot([g[j] for g in grads], [v[k] for v in ins]) for k in range(len(ins[0]))]
            for j in range(len(grads[0]))]


def totals(net: Net, steps: list[Step], backs: list[Back | None]) -> dict[str, Any]:
    """The gradients of the parameters summed over the steps, ∂L/∂h_0 and ∂L/∂x_t."""
    done = [(s, b) for s, b in zip(steps, backs) if b is not None]
    h = net.h
    gw_ih = outer_sum([b.dgi for _, b in done], [s.x for s, _ in done])
    rows = []
    for k in range(len(net.gates)):
        rows += outer_sum([b.dgh[k * h:(k + 1) * h] for _, b in done], [s.hin[k] for s, _ in done])
    sums = lambda vs: [E.dot([ONE] * len(vs), [v[j] for v in vs]) for j in range(len(vs[0]))]   # noqa: E731
    bias = net.b_ih is not None
    zeros = [ZERO] * h
    return {"grad_w_ih": gw_ih, "grad_w_hh": rows,
            "grad_b_ih": sums([b.dgi for _, b in done]) if bias else None,
            "grad_b_hh": sums([b.dgh for _, b in done]) if bias else None,
            "grad_h0": backs[0].dh_prev if backs[0] is not None else zeros,
            "grad_inputs": [b.dx if b is not None else [ZERO] * net.d for b in backs]}
