"""Kind `optimizer`: torch.optim's SGD (plain, momentum, Nesterov), Adagrad, RMSprop, Adam and AdamW, step by
step from given gradients: the params and the optimizer's state after each step (SPEC §13)."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..latex import Latex, tex, terminating
from ..numbers import describe
from ..problem import Problem
from ..slipkit import Answers
from . import _optimizer_math as M
from ._optimizer_show import given_number
from ._optimizer_slips import SLIPS, answers_of
from ._optimizer_steps import solve

R = sympy.Rational
USES = {"momentum": ("momentum", "nesterov"), "dampening": ("momentum", "nesterov"), "betas": ("adam", "adamw"),
        "alpha": ("rmsprop",), "eps": ("adagrad", "rmsprop", "adam", "adamw")}


def shown(x: sympy.Rational) -> str:
    """A number in a message as a person writes it (0.1, not 1/10)."""
    q = int(x.q)
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    return terminating(x) if q == 1 else str(x)


def parse_grads(value: Any, ctx: F.Ctx) -> list:
    """One gradient per step: a list of vectors (vector params) or of matrices (matrix params)."""
    if not isinstance(value, list) or not value:
        raise ctx.error(f"expected a list of gradients, one per step, got {describe(value) if value != [] else '[]'}")
    if not any(isinstance(g, list) for g in value):
        raise ctx.error("expected a list of gradients, one per step, got a flat list of numbers; "
                        "one step's gradient is written [[…]]")
    if len(value) > ctx.limits.matrix_side:
        raise ctx.error(f"{len(value)} steps is more than the limit of {ctx.limits.matrix_side} (limit 'matrix_side')")
    out = []
    for i, g in enumerate(value):
        if not isinstance(g, list):
            raise ctx.child(i).error(f"the gradient of step {i + 1}: expected a vector or a matrix, got "
                                     f"{describe(g)}")
        out.append(F.vector_or_matrix(g, ctx.child(i)))
    return out


def parse_lr(value: Any, ctx: F.Ctx) -> sympy.Rational:
    """The learning rate, > 0."""
    x = F.number(value, ctx)
    if x <= 0:
        raise ctx.error(f"the learning rate must be positive, got {shown(x)}")
    return x


def parse_betas(value: Any, ctx: F.Ctx) -> list:
    """[beta1, beta2], each in [0, 1)."""
    if not isinstance(value, list) or len(value) != 2 or any(isinstance(v, list) for v in value):
        got = f"{len(value)} number{'s' if len(value) != 1 else ''}" if isinstance(value, list) else \
            (describe(value) if isinstance(value, dict) else "a single value")
        raise ctx.error(f"expected two numbers [beta1, beta2], each in [0, 1), got {got}")
    betas = [F.number(v, ctx.child(i)) for i, v in enumerate(value)]
    for i, b in enumerate(betas):
        if not 0 <= b < 1:
            raise ctx.child(i).error(f"beta{i + 1} must lie in [0, 1), got {shown(b)}")
    return betas


def parse_nonnegative(value: Any, ctx: F.Ctx) -> sympy.Rational:
    """A number ≥ 0 (eps, weight_decay)."""
    x = F.number(value, ctx)
    if x < 0:
        raise ctx.error(f"{ctx.path[-1]} must be zero or positive, got {shown(x)}")
    return x


FIELDS = F.table(
    params=F.Field(F.vector_or_matrix, required=True),
    grads=F.Field(parse_grads, required=True),
    method=F.Field(F.choice(*M.METHODS), required=True),
    lr=F.Field(parse_lr, required=True),
    momentum=F.Field(F.number, R(9, 10)),
    dampening=F.Field(F.number, sympy.Integer(0)),
    betas=F.Field(parse_betas, [R(9, 10), R(999, 1000)]),
    alpha=F.Field(F.number, R(99, 100)),
    eps=F.Field(parse_nonnegative, R(1, 10 ** 8)),
    weight_decay=F.Field(parse_nonnegative, sympy.Integer(0)),
)


def _kind_of(x: list) -> str:
    """`a vector of 3` or `a 2×2 matrix`."""
    dims = F.shape(x)
    return f"a vector of {dims[0]}" if len(dims) == 1 else f"a {F.shape_text(dims)} matrix"


def validate(p: Problem) -> None:
    """Each gradient the params' shape; only the method's own settings; their ranges; no 0/0 with eps 0."""
    f = p.fields
    want = F.shape(f.params)
    for i, g in enumerate(f.grads):
        if F.shape(g) != want:
            hint = ""
            if F.shape(f.grads) == want:
                inner = "[[…]]" if len(want) > 1 else "[…]"
                hint = f"; grads holds one gradient per step, so one step's gradient is written [{inner}]"
            raise p.error(("grads", i), f"the gradient of step {i + 1} is {_kind_of(g)}; expected "
                                        f"{_kind_of(f.params)}, the params' shape{hint}")
    for name, methods in USES.items():
        if p.raw.get(name) is not None and f.method not in methods:
            raise p.error(name, _not_used(name, f.method))
    _ranges(p)
    if M.hyper(p).eps == 0:
        try:
            M.run(M.hyper(p), M.flat(f.params), [M.flat(g) for g in f.grads])
        except M.ZeroDenominator as exc:
            state = {"adagrad": "sum", "rmsprop": "square average"}.get(f.method, "second moment")
            raise p.error(("grads", exc.t - 1), f"step {exc.t}, entry {exc.index} (row-major): the gradient and its "
                                                f"{state} are 0, and 0/(√0 + eps) is 0/0 with eps 0 (give eps > 0)"
                          ) from None


def _not_used(name: str, method: str) -> str:
    """Why a setting does not belong to a method."""
    if name == "momentum" and method == "sgd":
        return "sgd has no momentum (plain gradient descent); for SGD with momentum write method: momentum or nesterov"
    if name == "momentum" and method == "rmsprop":
        return ("rmsprop here has no momentum (torch's RMSprop with momentum 0); momentum is for method: momentum "
                "or nesterov")
    if name == "momentum":
        extra = " (its first moment uses betas[0])" if method in ("adam", "adamw") else ""
        return f"{method} has no momentum{extra}; momentum is for method: momentum or nesterov"
    if name == "eps":
        return f"{method} divides by nothing: eps is for adagrad, rmsprop, adam and adamw"
    return f"{name} is for method: {' or '.join(USES[name])}, not {method}"


def _ranges(p: Problem) -> None:
    """The ranges torch.optim accepts (and that make sense here)."""
    f = p.fields
    if f.method in ("momentum", "nesterov") and f.momentum <= 0:
        raise p.error("momentum", f"{f.method} needs momentum > 0, got {shown(f.momentum)} "
                                  "(momentum 0 is plain gradient descent: method: sgd)")
    if f.method == "nesterov" and f.dampening != 0:
        raise p.error("dampening", f"nesterov needs dampening 0 (torch.optim.SGD refuses Nesterov momentum with "
                                   f"dampening), got {shown(f.dampening)}")
    if not 0 <= f.dampening <= 1:
        raise p.error("dampening", f"dampening must lie in [0, 1], got {shown(f.dampening)}")
    if not 0 <= f.alpha < 1:
        raise p.error("alpha", f"alpha must lie in [0, 1), got {shown(f.alpha)}")


def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64: torch.optim's single-tensor loops written with whole NumPy arrays."""
    f, h = p.fields, M.hyper(p)
    lr, wd, eps = float(h.lr), float(h.wd), float(h.eps)
    theta = np.array(f.params, dtype=float)
    names = M.STATE[f.method]
    out: dict[str, list] = {"params": [], **{n: [] for n in names}}
    state = {n: np.zeros_like(theta) for n in names}
    for t, grad in enumerate(f.grads, 1):
        g = np.array(grad, dtype=float)
        if f.method == "adamw":
            theta = theta * (1 - lr * wd)
        elif wd:
            g = g + wd * theta
        theta = theta - lr * _np_direction(f.method, h, t, g, state)
        out["params"].append(theta)
        for n in names:
            out[n].append(state[n].copy())
    return out


def _np_direction(method: str, h: M.Hyper, t: int, g: np.ndarray, state: dict[str, np.ndarray]) -> np.ndarray:
    """Update the state in place and return the direction of step t."""
    mu, eps = float(h.momentum), float(h.eps)
    if method in ("momentum", "nesterov"):
        state["velocity"] = g.copy() if t == 1 else mu * state["velocity"] + (1 - float(h.dampening)) * g
        return state["velocity"] if method == "momentum" else g + mu * state["velocity"]
    if method == "adagrad":
        state["sum"] = state["sum"] + g * g
        return g / (np.sqrt(state["sum"]) + eps)
    if method == "rmsprop":
        a = float(h.alpha)
        state["square_avg"] = a * state["square_avg"] + (1 - a) * g * g
        return g / (np.sqrt(state["square_avg"]) + eps)
    if method in ("adam", "adamw"):
        b1, b2 = float(h.beta1), float(h.beta2)
        state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
        state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
        return 1 / (1 - b1 ** t) * state["exp_avg"] / (np.sqrt(state["exp_avg_sq"]) / np.sqrt(1 - b2 ** t) + eps)
    return g


def given(p: Problem) -> list[tuple[str, Latex]]:
    """The question sheet: the params, each step's gradient, the method and its own settings."""
    f, h = p.fields, M.hyper(p)
    out = [("params", tex(f.params))]
    out += [(f"gradient of step {t}", tex(g)) for t, g in enumerate(f.grads, 1)]
    out.append(("method", Latex(r"\text{%s}" % f.method)))
    out.append(("lr", given_number(f.lr)))
    if f.method in ("momentum", "nesterov"):
        out.append(("momentum", given_number(f.momentum)))
    if f.method == "momentum" and f.dampening != 0:
        out.append(("dampening", given_number(f.dampening)))
    if f.method in ("adam", "adamw"):
        out.append(("betas", Latex(r"(%s,\ %s)" % (given_number(h.beta1), given_number(h.beta2)))))
    if f.method == "rmsprop":
        out.append(("alpha", given_number(f.alpha)))
    if f.method in USES["eps"]:
        out.append(("eps", given_number(h.eps)))
    if f.weight_decay != 0 or p.raw.get("weight_decay") is not None:
        out.append(("weight decay", given_number(f.weight_decay)))
    return out


class Optimizer(Kind):
    """torch.optim step by step: params and state after each step."""

    name = "optimizer"
    summary = ("torch.optim steps (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw) from given gradients: "
               "the params and the state after each step")
    fields = FIELDS
    answers = {"params": AnswerSpec(depends=("velocity", "sum", "square_avg", "exp_avg", "exp_avg_sq"),
                                    update_of="params"),
               "velocity": AnswerSpec(), "sum": AnswerSpec(), "square_avg": AnswerSpec(),
               "exp_avg": AnswerSpec(), "exp_avg_sq": AnswerSpec()}
    slips = SLIPS
    examples = (
        {"params": [1, -2], "grads": [[0.5, -1], [1, 0.5], [-0.5, 2]], "method": "momentum", "lr": 0.1,
         "dampening": 0.5, "weight_decay": 0.1},
        {"params": [[1, 0], [0.5, -1]], "grads": [[[1, -1], [0, 2]], [[0.5, 1], [-1, 1]]], "method": "nesterov",
         "lr": 0.1, "momentum": 0.5, "weight_decay": 0.1},
        {"params": [1, 2], "grads": [[3, -4], [1, 2]], "method": "adagrad", "lr": 0.5, "weight_decay": 0.5},
        {"params": [0.5, -1], "grads": [[1, 2], [-1, 1]], "method": "rmsprop", "lr": 0.01, "alpha": 0.9,
         "weight_decay": 0.1},
        {"params": [1, -1], "grads": [[0.5, 1], [1, -0.5]], "method": "adam", "lr": 0.1, "eps": 0},
        {"params": [[2, -1]], "grads": [[[1, -2]], [[-0.5, 1]]], "method": "adamw", "lr": 0.1, "betas": [0.5, 0.75],
         "eps": 0, "weight_decay": 0.5},
        {"params": [1, 2, 3], "grads": [[1, -1, 0.5], [2, 0, -1]], "method": "sgd", "lr": 0.1},
    )
    positional = ("params", "grads", "method")

    validate = delegate()
    solve = delegate()
    recompute = delegate()
    given = delegate()

    def answer_names(self, p: Problem) -> list[str]:
        """The params, then the method's state (none for sgd)."""
        return ["params", *M.STATE[p.fields.method]]

    def value_before(self, p: Problem, answer: str, answers: Answers) -> Any:
        """Step t's params update step t − 1's (the spec's params for step 1), SPEC §12."""
        if answer != "params" or "params" not in answers:
            return None
        return [p.fields.params] + list(answers["params"][:-1])

    def follow(self, p: Problem, answer: str, given: Answers) -> Any:
        """Each step's params redone from the student's own state (velocity, sum, square_avg, m and v)."""
        if answer != "params":
            return None
        return M.follow_params(p, given, answers_of(p, M.Flags()))


KIND = Optimizer()
