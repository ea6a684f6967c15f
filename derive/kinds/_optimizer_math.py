"""Exact torch.optim steps for kind `optimizer`: one record per step (gradient used, state, direction, params),
flags for the slips that change the rule, and the params redone from a student's own state (follow-through)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

from ..problem import Problem
from ._layers import sign, tame

METHODS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
STATE = {"sgd": (), "momentum": ("velocity",), "nesterov": ("velocity",), "adagrad": ("sum",),
         "rmsprop": ("square_avg",), "adam": ("exp_avg", "exp_avg_sq"), "adamw": ("exp_avg", "exp_avg_sq")}
ADAGRAD_EPS = sympy.Rational(1, 10 ** 10)
ZERO = sympy.Integer(0)


@dataclass(frozen=True)
class Hyper:
    """A problem's method and hyperparameters, resolved (eps 1e-10 for adagrad unless given)."""

    method: str
    lr: sympy.Rational
    momentum: sympy.Rational
    dampening: sympy.Rational
    beta1: sympy.Rational
    beta2: sympy.Rational
    alpha: sympy.Rational
    eps: sympy.Rational
    wd: sympy.Rational


@dataclass(frozen=True)
class Flags:
    """How a slip changes torch's rule (the defaults are torch's)."""

    sign: int = -1               # −1: θ − η·u; +1: the step added
    use_grad: bool = False       # momentum: θ − η·g instead of θ − η·v
    ema: bool = False            # momentum: v = μv + (1 − μ)g from the first step on
    no_sqrt: bool = False        # divided by the accumulated squares, not their square root
    swap_alpha: bool = False     # rmsprop: α and 1 − α swapped
    correct: str = "both"        # adam: bias correction of "both" moments, "m" only, or "none"
    decay: str | None = None     # None: the method's own; "coupled", "decoupled", "no_lr" (θ·(1 − λ)), "none"


@dataclass
class Step:
    """One optimizer step, every value a flat list of exact numbers (row-major)."""

    t: int
    before: list
    grad: list                    # the given gradient
    g: list                       # the gradient used (weight decay added when coupled)
    decayed: list | None          # the params after a decoupled decay, before the step
    state: dict[str, list]        # the state after the step
    prev: dict[str, list] = field(default_factory=dict)   # the state before it (zeros before step 1)
    hat: dict[str, list] = field(default_factory=dict)    # adam: m̂, v̂
    update: list = field(default_factory=list)            # the direction u: θ_t = θ_{t−1} − η·u
    after: list = field(default_factory=list)


class ZeroDenominator(ZeroDivisionError):
    """A division by √(state) + eps that is 0 (eps = 0 and a zero state)."""

    def __init__(self, t: int, index: int) -> None:
        """Where it happens: the step (1-based) and the entry (row-major)."""
        super().__init__(f"step {t}, entry {index}")
        self.t, self.index = t, index


def flat(x: Any) -> list:
    """A vector or matrix as a row-major list."""
    return [v for row in x for v in row] if x and isinstance(x[0], list) else list(x)


def shaped(values: list, like: Any) -> list:
    """A row-major list back in the shape of `like` (a vector or a matrix)."""
    if like and isinstance(like[0], list):
        width = len(like[0])
        return [list(values[i:i + width]) for i in range(0, len(values), width)]
    return list(values)


def hyper(p: Problem) -> Hyper:
    """The resolved hyperparameters of a problem."""
    f = p.fields
    eps = f.eps
    if f.method == "adagrad" and p.raw.get("eps") is None:
        eps = ADAGRAD_EPS
    return Hyper(f.method, f.lr, f.momentum, f.dampening, f.betas[0], f.betas[1], f.alpha, eps, f.weight_decay)


def decay_mode(h: Hyper, fl: Flags) -> str:
    """How weight decay enters: coupled (in the gradient), decoupled (θ·(1 − ηλ)), no_lr, or none."""
    if h.wd == 0:
        return "none"
    return fl.decay or ("decoupled" if h.method == "adamw" else "coupled")


def run(h: Hyper, params: list, grads: list[list], fl: Flags = Flags()) -> list[Step]:
    """Every step of the optimizer from flat params and flat gradients."""
    steps, theta, state = [], list(params), {}
    for t, grad in enumerate(grads, 1):
        step = one_step(h, fl, t, theta, list(grad), state)
        steps.append(step)
        theta, state = step.after, step.state
    return steps


def one_step(h: Hyper, fl: Flags, t: int, theta: list, grad: list, prev: dict[str, list]) -> Step:
    """One step: the gradient used, a decoupled decay, the state, the direction, the params."""
    mode = decay_mode(h, fl)
    g = [tame(gi + h.wd * pi) for gi, pi in zip(grad, theta)] if mode == "coupled" else list(grad)
    decayed = None
    if mode in ("decoupled", "no_lr"):
        factor = 1 - (h.lr * h.wd if mode == "decoupled" else h.wd)
        decayed = [tame(factor * pi) for pi in theta]
    state = advance(h, fl, t, g, prev)
    update, hat = direction(h, fl, t, g, state)
    base = decayed if decayed is not None else theta
    after = [tame(b + fl.sign * h.lr * u) for b, u in zip(base, update)]
    zeros = {k: [ZERO] * len(g) for k in state}
    return Step(t, list(theta), grad, g, decayed, state, {**zeros, **prev}, hat, update, after)


def advance(h: Hyper, fl: Flags, t: int, g: list, prev: dict[str, list]) -> dict[str, list]:
    """The state after step t from the state before it (empty before step 1)."""
    m = h.method
    if m in ("momentum", "nesterov"):
        mu = h.momentum
        keep = 1 - mu if fl.ema else 1 - h.dampening
        if "velocity" not in prev:
            return {"velocity": [tame((1 - mu) * gi) for gi in g] if fl.ema else list(g)}
        return {"velocity": [tame(mu * v + keep * gi) for v, gi in zip(prev["velocity"], g)]}
    if m == "adagrad":
        old = prev.get("sum", [ZERO] * len(g))
        return {"sum": [tame(s + gi ** 2) for s, gi in zip(old, g)]}
    if m == "rmsprop":
        old = prev.get("square_avg", [ZERO] * len(g))
        a, b = (1 - h.alpha, h.alpha) if fl.swap_alpha else (h.alpha, 1 - h.alpha)
        return {"square_avg": [tame(a * s + b * gi ** 2) for s, gi in zip(old, g)]}
    if m in ("adam", "adamw"):
        m1 = prev.get("exp_avg", [ZERO] * len(g))
        m2 = prev.get("exp_avg_sq", [ZERO] * len(g))
        return {"exp_avg": [tame(h.beta1 * a + (1 - h.beta1) * gi) for a, gi in zip(m1, g)],
                "exp_avg_sq": [tame(h.beta2 * a + (1 - h.beta2) * gi ** 2) for a, gi in zip(m2, g)]}
    return {}


def corrections(h: Hyper, t: int) -> tuple[sympy.Rational, sympy.Rational]:
    """Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ."""
    return 1 - h.beta1 ** t, 1 - h.beta2 ** t


def direction(h: Hyper, fl: Flags, t: int, g: list, state: dict[str, list]) -> tuple[list, dict[str, list]]:
    """The direction u of step t (θ_t = θ_{t−1} − η·u) from the state after it; Adam's m̂, v̂."""
    m = h.method
    if m == "sgd" or (m == "momentum" and fl.use_grad):
        return list(g), {}
    if m == "momentum":
        return list(state["velocity"]), {}
    if m == "nesterov":
        return [tame(gi + h.momentum * v) for gi, v in zip(g, state["velocity"])], {}
    if m in ("adagrad", "rmsprop"):
        squares = state[STATE[m][0]]
        return [ratio(h, fl, t, i, gi, s) for i, (gi, s) in enumerate(zip(g, squares))], {}
    bc1, bc2 = corrections(h, t)
    m_hat = [tame(a / bc1) if fl.correct != "none" else a for a in state["exp_avg"]]
    v_hat = [tame(a / bc2) if fl.correct == "both" else a for a in state["exp_avg_sq"]]
    return [ratio(h, fl, t, i, a, b) for i, (a, b) in enumerate(zip(m_hat, v_hat))], {"m_hat": m_hat, "v_hat": v_hat}


def ratio(h: Hyper, fl: Flags, t: int, i: int, num: Any, squares: Any) -> Any:
    """num / (√squares + eps), exact; a zero denominator raises ZeroDenominator."""
    if _sign(squares) < 0:
        raise ArithmeticError(f"step {t}: the square root of a negative number")
    root = squares if fl.no_sqrt else sympy.sqrt(squares)
    den = root + h.eps
    if h.eps == 0 and _sign(den) == 0:
        raise ZeroDenominator(t, i)
    return tame(num / den)


def _sign(x: Any) -> int:
    """-1, 0 or 1, exactly (a rational directly, anything else through _layers.sign)."""
    if isinstance(x, sympy.Rational):
        return 1 if x.p > 0 else (-1 if x.p < 0 else 0)
    return sign(x)


def follow_params(p: Problem, given: dict[str, Any], exact: dict[str, Any]) -> list | None:
    """Each step's params redone from the student's own state (their velocity, sum, …), chained from the spec's
    params; the exact state stands in for what they did not give. None where the state cannot be used."""
    h = hyper(p)
    names = STATE[h.method]
    if not names or not any(n in given for n in names):
        return None
    states = {n: [flat(v) for v in (given[n] if n in given else exact[n])] for n in names}
    fl, theta = Flags(), flat(p.fields.params)
    out = []
    for t, grad in enumerate(p.fields.grads, 1):
        mode = decay_mode(h, fl)
        g = [gi + h.wd * pi for gi, pi in zip(flat(grad), theta)] if mode == "coupled" else flat(grad)
        base = [(1 - h.lr * h.wd) * pi for pi in theta] if mode == "decoupled" else theta
        state = {n: states[n][t - 1] for n in names}
        try:
            update, _ = direction(h, fl, t, g, state)
        except ArithmeticError:   # their state has a negative entry, or a zero one with eps 0: nothing follows
            return None
        theta = [tame(b - h.lr * u) for b, u in zip(base, update)]
        out.append(shaped(theta, p.fields.params))
    return out
