"""The cells of `rnn` going forward: PyTorch's nn.RNN, nn.LSTM and nn.GRU one step at a time (BPTT is in
`_rnn_bptt`, a whole run in `_rnn_run`).

Values are Fractions while rational, SymPy once transcendental, and 50-digit decimals past the size limit (the
arithmetic of `_dense_exact`, worked at two precisions and checked). A `Mistake` computes what a student with a
slip would: the same equations with one thing changed, so the slips and the key share one road.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..problem import Problem
from . import _dense_exact as E
from . import _dense_num as N

GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
SIGMOID = ("i", "f", "o", "r", "z")
ONE, ZERO, MINUS = Fraction(1), Fraction(0), Fraction(-1)
SHOWN_STEPS = 4      # a sequence this long is worked (and drawn) in full; a longer one shows steps 1, 2 and T


def shown_steps(T: int) -> list[int]:
    """The 0-based steps the key works in full."""
    return list(range(T)) if T <= SHOWN_STEPS else [0, 1, T - 1]


@dataclass(frozen=True)
class Mistake:
    """What a slip changes in the equations (the default changes nothing)."""

    acts: tuple[tuple[str, str], ...] = ()   # (gate, nonlinearity used instead of its own)
    swap_if: bool = False                    # LSTM: c = i ⊙ c_prev + f ⊙ g
    flip_z: bool = False                     # GRU: h = z ⊙ n + (1 − z) ⊙ h_prev
    reset_before: bool = False               # GRU: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
    no_cell_tanh: bool = False               # LSTM: h = o ⊙ c
    truncated: str = ""                      # "local": no gradient into h_{t−1}; "last": only step T
    no_b_hh: bool = False                    # b_hh left out (one bias added)


EXACT = Mistake()


@dataclass
class Net:
    """A problem's data as exact values (Fractions): the cell, its stacked weights, the sequence."""

    cell: str
    act: str
    h: int
    d: int
    w_ih: list
    w_hh: list
    b_ih: list | None
    b_hh: list | None
    h0: list
    c0: list | None
    xs: list
    upstream: list | None

    @property
    def gates(self) -> tuple[str, ...]:
        """The gate names in PyTorch's stacking order."""
        return GATES[self.cell]


@dataclass
class Step:
    """One time step forward: inputs, the two affine parts, pre-activations, gates, cell and hidden state."""

    x: list
    h_prev: list
    c_prev: list | None
    gi: list                 # W_ih x + b_ih (G·h)
    gh: list                 # W_hh h_prev + b_hh (G·h; a GRU's n block as the cell uses it)
    pre: list                # each gate's argument (G·h)
    gates: list              # after the nonlinearities (G·h)
    c: list | None
    tc: list | None          # tanh(c) (LSTM)
    h: list
    hin: list = field(default_factory=list)   # per block, the vector W_hh's block multiplies


@dataclass
class Back:
    """One time step backward: ∂L/∂h_t in total, ∂L/∂c_t, the gate gradients, and what flows on."""

    dh: list
    dc: list | None
    dgates: list             # ∂L/∂(gate outputs)
    dpre: list               # ∂L/∂(gate arguments)
    dgi: list
    dgh: list
    dx: list
    dh_prev: list
    dc_prev: list | None
    deriv: list | None = None    # an RNN's f′(a_t), as the key shows it


def net_of(p: Problem, numeric: bool = False, no_b_hh: bool = False) -> Net:
    """The problem's fields as exact values (zeros for an omitted h0 or c0), or all carried as decimals."""
    f = p.fields
    one = (lambda x: N.carried(E.num(x))) if numeric else E.num
    fr = lambda v: None if v is None else [one(x) for x in v]   # noqa: E731
    h = len(f.w_hh[0])
    lstm = f.cell == "lstm"
    b_hh = None if f.b_hh is None else [ZERO] * len(f.b_hh) if no_b_hh else fr(f.b_hh)
    return Net(f.cell, f.nonlinearity, h, len(f.inputs[0]), [fr(r) for r in f.w_ih], [fr(r) for r in f.w_hh],
               fr(f.b_ih), b_hh, fr(f.h0) or [ZERO] * h, (fr(f.c0) or [ZERO] * h) if lstm else None,
               [fr(r) for r in f.inputs], None if f.upstream is None else [fr(r) for r in f.upstream])


# ---- vector helpers --------------------------------------------------------------------------------

def matvec(w: list, v: list) -> list:
    """W·v."""
    return [E.dot(row, v) for row in w]


def tmatvec(w: list, v: list) -> list:
    """Wᵀ·v."""
    return [E.dot([row[k] for row in w], v) for k in range(len(w[0]))]


def vadd(*vs: list) -> list:
    """The elementwise sum of vectors."""
    out = list(vs[0])
    for v in vs[1:]:
        out = [E.add(a, b) for a, b in zip(out, v)]
    return out


def had(a: list, b: list) -> list:
    """The elementwise product a ⊙ b."""
    return [E.mul(x, y) for x, y in zip(a, b)]


def one_minus(a: list) -> list:
    """1 − a elementwise."""
    return [E.add(ONE, E.mul(MINUS, x)) for x in a]


def blocks(v: list, h: int) -> list[list]:
    """A stacked G·h vector split into its G blocks."""
    return [v[k:k + h] for k in range(0, len(v), h)]


def act_of(net: Net, m: Mistake, gate: str) -> str:
    """The nonlinearity a gate uses (the mistake's, if it changes it)."""
    for name, act in m.acts:
        if name == gate:
            return act
    if gate == "h":
        return net.act
    return "sigmoid" if gate in SIGMOID else "tanh"


def apply(net: Net, m: Mistake, gate: str, pre: list) -> list:
    """A gate's nonlinearity on its arguments."""
    return E.activate(act_of(net, m, gate), pre)


def slope(net: Net, m: Mistake, gate: str, pre: list, out: list) -> list:
    """A gate's nonlinearity's derivative, from its arguments and outputs (relu′(0) = 0)."""
    return E.derivative(act_of(net, m, gate), pre, out)


# ---- forward ---------------------------------------------------------------------------------------

def affine(w: list, b: list | None, v: list) -> list:
    """W·v + b (no bias: W·v)."""
    out = matvec(w, v)
    return out if b is None else vadd(out, b)


def forward_step(net: Net, m: Mistake, x: list, h_prev: list, c_prev: list | None) -> Step:
    """One step of the cell."""
    h = net.h
    gi = affine(net.w_ih, net.b_ih, x)
    if net.cell == "gru" and m.reset_before:
        return _gru_reset_before(net, m, x, h_prev, gi)
    gh = affine(net.w_hh, net.b_hh, h_prev)
    hin = [h_prev] * len(net.gates)
    if net.cell == "rnn":
        pre = vadd(gi, gh)
        out = apply(net, m, "h", pre)
        return Step(x, h_prev, None, gi, gh, pre, out, None, None, out, hin)
    if net.cell == "lstm":
        pre = vadd(gi, gh)
        gates = [v for name, b in zip(net.gates, blocks(pre, h)) for v in apply(net, m, name, b)]
        i, f, g, o = blocks(gates, h)
        c = vadd(had(i, c_prev), had(f, g)) if m.swap_if else vadd(had(f, c_prev), had(i, g))
        tc = c if m.no_cell_tanh else E.activate("tanh", c)
        return Step(x, h_prev, c_prev, gi, gh, pre, gates, c, tc, had(o, tc), hin)
    (ir, iz, i_n), (hr, hz, hn) = blocks(gi, h), blocks(gh, h)
    r = apply(net, m, "r", vadd(ir, hr))
    z = apply(net, m, "z", vadd(iz, hz))
    pre_n = vadd(i_n, had(r, hn))
    return _gru_finish(net, m, x, h_prev, gi, gh, vadd(ir, hr) + vadd(iz, hz) + pre_n, r, z, hin)


def _gru_reset_before(net: Net, m: Mistake, x: list, h_prev: list, gi: list) -> Step:
    """The GRU of the paper: the reset gate applied to h_{t−1} before W_hn."""
    h = net.h
    gh_rz = affine(net.w_hh[:2 * h], None if net.b_hh is None else net.b_hh[:2 * h], h_prev)
    ir, iz, i_n = blocks(gi, h)
    hr, hz = blocks(gh_rz, h)
    r = apply(net, m, "r", vadd(ir, hr))
    z = apply(net, m, "z", vadd(iz, hz))
    q = had(r, h_prev)
    hn = affine(net.w_hh[2 * h:], None if net.b_hh is None else net.b_hh[2 * h:], q)
    return _gru_finish(net, m, x, h_prev, gi, gh_rz + hn, vadd(ir, hr) + vadd(iz, hz) + vadd(i_n, hn), r, z,
                       [h_prev, h_prev, q])


def _gru_finish(net: Net, m: Mistake, x: list, h_prev: list, gi: list, gh: list, pre: list, r: list, z: list,
                hin: list) -> Step:
    """n = tanh(·) and h = (1 − z) ⊙ n + z ⊙ h_prev (the mistake's way round if it flips z)."""
    n = apply(net, m, "n", pre[2 * net.h:])
    if m.flip_z:
        h = vadd(had(z, n), had(one_minus(z), h_prev))
    else:
        h = vadd(had(one_minus(z), n), had(z, h_prev))
    return Step(x, h_prev, None, gi, gh, pre, r + z + n, None, None, h, hin)


def forward(net: Net, m: Mistake = EXACT) -> list[Step]:
    """Every step of the sequence."""
    steps, h, c = [], net.h0, net.c0
    for x in net.xs:
        step = forward_step(net, m, x, h, c)
        steps.append(step)
        h, c = step.h, step.c
    return steps
