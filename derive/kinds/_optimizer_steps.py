"""The worked solution of kind `optimizer`: the rule once, then each step as a teacher writes it (the gradient
used, the state, Adam's bias corrections, the direction, the new params), the answers and what they mean."""
from __future__ import annotations

from typing import Callable

import sympy

from ..latex import Latex
from ..problem import Problem
from ..solution import Solution
from . import _optimizer_math as M
from ._layers import settle
from ._optimizer_show import answer_display, cat, given_number, line, number, result, value

SHOWN_STEPS = 4     # steps worked in full; later ones follow the same rule
TORCH = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop",
         "adam": "Adam", "adamw": "AdamW"}
STATE_SYMBOL = {"velocity": "v", "sum": "S", "square_avg": "s", "exp_avg": "m", "exp_avg_sq": "v"}
G = r"\tilde{g}"
Show = Callable[[list], Latex]   # a flat list of values as the key writes it


def solve(p: Problem) -> Solution:
    """Every step of torch.optim's rule, exact, with the answers after each step."""
    s = Solution(p)
    h = M.hyper(p)
    steps = M.run(h, M.flat(p.fields.params), [M.flat(g) for g in p.fields.grads])
    show_rule(s, h, len(steps))
    for step in steps[:SHOWN_STEPS]:
        show_step(s, p, h, step)
    if len(steps) > SHOWN_STEPS:
        s.step(f"Steps {SHOWN_STEPS + 1} to {len(steps)}",
               text="The same rule, step by step, from the state and the params of the step before; the answers "
                    "below list every step.")
    record(s, p, steps)
    remarks(s, h, steps)
    return s


def record(s: Solution, p: Problem, steps: list[M.Step]) -> None:
    """The answers: params after each step, then the state after each step."""
    like, d, n = p.fields.params, p.digits, len(steps)
    names = [("params", [st.after for st in steps], r"\theta")]
    names += [(k, [st.state[k] for st in steps], STATE_SYMBOL[k]) for k in M.STATE[p.fields.method]]
    for name, per_step, sym in names:
        value_, approximate = settle([M.shaped(v, like) for v in per_step])
        symbol = ", ".join(f"{sym}_{{{t}}}" for t in range(1, n + 1)) if n <= 3 else \
            f"{sym}_{{1}}, \\dots, {sym}_{{{n}}}"
        s.answer(name, value_, approximate=approximate, symbol=symbol, display=answer_display(value_, d, sym))


def show_rule(s: Solution, h: M.Hyper, n: int) -> None:
    """The update rule once, with the hyperparameters."""
    mode = M.decay_mode(h, M.Flags())
    lines = []
    if mode == "coupled":
        lines.append(Latex(rf"{G}_t = g_t + \lambda\,\theta_{{t-1}}"))
    if mode == "decoupled":
        lines.append(Latex(r"\theta_{t-1} \leftarrow \theta_{t-1}\,(1 - \eta\lambda)"))
    g = G if mode == "coupled" else "g"
    lines += RULES[h.method](h, g)
    s.step("The update rule", *lines, text=rule_text(h, n, mode))


def _momentum_rule(h: M.Hyper, g: str) -> list[Latex]:
    """SGD with momentum (or Nesterov's): the velocity, then the params."""
    tau = "" if h.dampening == 0 else r"(1 - \tau)\,"
    last = r"\theta_{t-1} - \eta\,v_t" if h.method == "momentum" else rf"\theta_{{t-1}} - \eta\,({g}_t + \mu\,v_t)"
    return [Latex(rf"v_1 = {g}_1, \quad v_t = \mu\,v_{{t-1}} + {tau}{g}_t"), Latex(rf"\theta_t = {last}")]


RULES = {
    "sgd": lambda h, g: [Latex(rf"\theta_t = \theta_{{t-1}} - \eta\,{g}_t")],
    "momentum": _momentum_rule,
    "nesterov": _momentum_rule,
    "adagrad": lambda h, g: [Latex(rf"S_t = S_{{t-1}} + {g}_t^2, \quad S_0 = 0"),
                             Latex(rf"\theta_t = \theta_{{t-1}} - \eta\,\frac{{{g}_t}}{{\sqrt{{S_t}} + \varepsilon}}")],
    "rmsprop": lambda h, g: [Latex(rf"s_t = \alpha\,s_{{t-1}} + (1 - \alpha)\,{g}_t^2, \quad s_0 = 0"),
                             Latex(rf"\theta_t = \theta_{{t-1}} - \eta\,\frac{{{g}_t}}{{\sqrt{{s_t}} + \varepsilon}}")],
    "adam": lambda h, g: _adam_rule(g),
    "adamw": lambda h, g: _adam_rule(g),
}


def _adam_rule(g: str) -> list[Latex]:
    """Adam's moments, their bias corrections and the step."""
    return [Latex(rf"m_t = \beta_1 m_{{t-1}} + (1 - \beta_1)\,{g}_t, \quad v_t = \beta_2 v_{{t-1}} + (1 - \beta_2)\,"
                  rf"{g}_t^2, \quad m_0 = v_0 = 0"),
            Latex(r"\hat{m}_t = \frac{m_t}{1 - \beta_1^t}, \quad \hat{v}_t = \frac{v_t}{1 - \beta_2^t}, \quad "
                  r"\theta_t = \theta_{t-1} - \eta\,\frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \varepsilon}")]


def rule_text(h: M.Hyper, n: int, mode: str) -> str:
    """What the rule is, in words, with the hyperparameters."""
    settings = [rf"$\eta = {given_number(h.lr)}$"]
    if h.method in ("momentum", "nesterov"):
        settings.append(rf"$\mu = {given_number(h.momentum)}$")
        if h.method == "momentum":
            settings.append(rf"dampening $\tau = {given_number(h.dampening)}$")
    if h.method == "rmsprop":
        settings.append(rf"$\alpha = {given_number(h.alpha)}$")
    if h.method in ("adam", "adamw"):
        settings.append(rf"$\beta_1 = {given_number(h.beta1)}$, $\beta_2 = {given_number(h.beta2)}$")
    if h.method not in ("sgd", "momentum", "nesterov"):
        settings.append(rf"$\varepsilon = {given_number(h.eps)}$")
    settings.append(rf"weight decay $\lambda = {given_number(h.wd)}$")
    what = {"sgd": "plain stochastic gradient descent", "momentum": "SGD with momentum",
            "nesterov": "SGD with Nesterov momentum (nesterov=True)", "adagrad": "Adagrad", "rmsprop": "RMSprop",
            "adam": "Adam, bias-corrected", "adamw": "AdamW (Adam with decoupled weight decay)"}[h.method]
    text = (f"torch.optim.{TORCH[h.method]}: {what}, with " + ", ".join(settings) + f"; {n} step"
            + ("s" if n > 1 else "") + ", $g_t$ the given gradient of step $t$ and $\\theta_0$ the given params.")
    if mode == "coupled":
        text += " The weight decay is added to the gradient before anything else (L2 regularization)."
    if mode == "decoupled":
        text += " The weight decay shrinks the params directly, before the Adam step, and never enters $m$ or $v$."
    if h.method in ("momentum", "nesterov"):
        text += " The velocity $v$ is torch's momentum buffer."
    elif h.method != "sgd":
        text += " Squares, square roots and divisions act entry by entry; the state starts at zero."
    return text


def show_step(s: Solution, p: Problem, h: M.Hyper, st: M.Step) -> None:
    """One step worked in full."""
    d, like, t = p.digits, p.fields.params, st.t
    val = lambda v: value(v, like, d)       # noqa: E731
    res = lambda v: result(v, like, d)      # noqa: E731
    lines = []
    g = "g"
    if M.decay_mode(h, M.Flags()) == "coupled":
        g = G
        lines.append(line(rf"{G}_{{{t}}} = g_{{{t}}} + \lambda\,\theta_{{{t - 1}}}",
                          cat(val(st.grad), " + ", number(h.wd, d), r"\cdot ", val(st.before)), res(st.g)))
    base = rf"\theta_{{{t - 1}}}"
    if st.decayed is not None:
        lines.append(line(rf"\theta_{{{t - 1}}}\,(1 - \eta\lambda)", cat(val(st.before), r"\cdot ",
                                                                     number(1 - h.lr * h.wd, d)), res(st.decayed)))
        base = rf"\theta_{{{t - 1}}}\,(1 - \eta\lambda)"
    state_lines, u = STATE_LINES[h.method](h, st, g, val, res, d)
    lines += state_lines
    before = st.decayed if st.decayed is not None else st.before
    direction = {"sgd": st.g, "momentum": st.state.get("velocity")}.get(h.method, st.update)
    lines.append(line(rf"\theta_{{{t}}} = {base} - \eta\,{u}",
                      cat(val(before), " - ", number(h.lr, d), r"\cdot ", val(direction)), res(st.after)))
    s.step(f"Step {t}", *lines, text=step_text(h, st))


def step_text(h: M.Hyper, st: M.Step) -> str:
    """A sentence before a step's lines (the first step's special case, Nesterov's look-ahead)."""
    if st.t == 1 and h.method in ("momentum", "nesterov"):
        text = "The first step has no velocity yet: torch sets $v_1$ to the gradient itself (no dampening)."
        return text + (" Nesterov's step then looks ahead along the velocity." if h.method == "nesterov" else "")
    if st.t == 1 and h.method in ("adam", "adamw"):
        return ("Both moments start at 0, so the first averages are small; dividing by $1 - \\beta^t$ undoes that "
                "bias.")
    if st.t == 1 and h.method in ("adagrad", "rmsprop"):
        return "$u_1$ is the direction of the step: $\\theta_1 = \\theta_0 - \\eta\\,u_1$."
    return ""


def _sgd_lines(h: M.Hyper, st: M.Step, g: str, val: Show, res: Show, d: int) -> tuple[list[Latex], str]:
    """Plain SGD has no state: the direction is the gradient."""
    return [], rf"{g}_{{{st.t}}}"


def _momentum_lines(h: M.Hyper, st: M.Step, g: str, val: Show, res: Show, d: int) -> tuple[list[Latex], str]:
    """The velocity of step t (and Nesterov's look-ahead direction); the symbol of the direction."""
    t, v = st.t, st.state["velocity"]
    if t == 1:
        out = [line(rf"v_1 = {g}_1", res(v))]
    else:
        keep = "" if h.dampening == 0 else r"(1 - \tau)\,"
        prev = st.prev["velocity"]
        out = [line(rf"v_{{{t}}} = \mu\,v_{{{t - 1}}} + {keep}{g}_{{{t}}}",
                    cat(number(h.momentum, d), r"\cdot ", val(prev), " + ",
                        (number(1 - h.dampening, d) + r"\cdot " if h.dampening else ""), val(st.g)), res(v))]
    if h.method == "momentum":
        return out, rf"v_{{{t}}}"
    return out + [line(rf"u_{{{t}}} = {g}_{{{t}}} + \mu\,v_{{{t}}}",
                       cat(val(st.g), " + ", number(h.momentum, d), r"\cdot ", val(v)), res(st.update))], rf"u_{{{t}}}"


def _squares_lines(h: M.Hyper, st: M.Step, g: str, val: Show, res: Show, d: int) -> tuple[list[Latex], str]:
    """Adagrad's sum or RMSprop's average of squares, its square root, the direction."""
    t, name = st.t, M.STATE[h.method][0]
    sym = "S" if h.method == "adagrad" else "s"
    acc = st.state[name]
    squares = [gi ** 2 for gi in st.g]
    prev = st.prev[name]
    if h.method == "adagrad":
        head = cat(val(prev), " + ", val(squares))
        lhs = rf"S_{{{t}}} = S_{{{t - 1}}} + {g}_{{{t}}}^2"
    else:
        head = cat(number(h.alpha, d), r"\cdot ", val(prev), " + ", number(1 - h.alpha, d), r"\cdot ", val(squares))
        lhs = rf"s_{{{t}}} = \alpha\,s_{{{t - 1}}} + (1 - \alpha)\,{g}_{{{t}}}^2"
    root = [sympy.sqrt(a) for a in acc]
    return [line(lhs, head, res(acc)), line(rf"\sqrt{{{sym}_{{{t}}}}}", res(root)),
            line(rf"u_{{{t}}} = \frac{{{g}_{{{t}}}}}{{\sqrt{{{sym}_{{{t}}}}} + \varepsilon}}", res(st.update))], \
        rf"u_{{{t}}}"


def _adam_lines(h: M.Hyper, st: M.Step, g: str, val: Show, res: Show, d: int) -> tuple[list[Latex], str]:
    """m, v, their bias corrections m̂, v̂, √v̂ and the direction."""
    t = st.t
    m, v = st.state["exp_avg"], st.state["exp_avg_sq"]
    bc1, bc2 = M.corrections(h, t)
    squares = [gi ** 2 for gi in st.g]
    m_prev, v_prev = st.prev["exp_avg"], st.prev["exp_avg_sq"]
    return [
        line(rf"m_{{{t}}} = \beta_1 m_{{{t - 1}}} + (1 - \beta_1)\,{g}_{{{t}}}",
             cat(number(h.beta1, d), r"\cdot ", val(m_prev), " + ", number(1 - h.beta1, d), r"\cdot ", val(st.g)),
             res(m)),
        line(rf"v_{{{t}}} = \beta_2 v_{{{t - 1}}} + (1 - \beta_2)\,{g}_{{{t}}}^2",
             cat(number(h.beta2, d), r"\cdot ", val(v_prev), " + ", number(1 - h.beta2, d), r"\cdot ", val(squares)),
             res(v)),
        line(rf"\hat{{m}}_{{{t}}} = \frac{{m_{{{t}}}}}{{1 - \beta_1^{{{t}}}}}",
             cat(r"\frac{1}{", number(bc1, d), r"}\,", val(m)), res(st.hat["m_hat"])),
        line(rf"\hat{{v}}_{{{t}}} = \frac{{v_{{{t}}}}}{{1 - \beta_2^{{{t}}}}}",
             cat(r"\frac{1}{", number(bc2, d), r"}\,", val(v)), res(st.hat["v_hat"])),
        line(rf"\sqrt{{\hat{{v}}_{{{t}}}}}", res([sympy.sqrt(a) for a in st.hat["v_hat"]])),
        line(rf"u_{{{t}}} = \frac{{\hat{{m}}_{{{t}}}}}{{\sqrt{{\hat{{v}}_{{{t}}}}} + \varepsilon}}", res(st.update)),
    ], rf"u_{{{t}}}"


STATE_LINES = {"sgd": _sgd_lines, "momentum": _momentum_lines, "nesterov": _momentum_lines,
               "adagrad": _squares_lines, "rmsprop": _squares_lines, "adam": _adam_lines, "adamw": _adam_lines}


def remarks(s: Solution, h: M.Hyper, steps: list[M.Step]) -> None:
    """A check the numbers pass and a note on what they mean."""
    if h.method in ("adam", "adamw"):
        first = steps[0]
        if not all(_same(a, b) for a, b in zip(first.hat["m_hat"], first.g)):
            raise AssertionError("Adam's first bias-corrected moment is not the gradient")
        s.check("After step 1, $\\hat{m}_1$ equals the gradient exactly: the bias correction undoes the zero start.")
        s.note("Adam's first step moves every parameter by about $\\eta$ against the sign of its gradient "
               "($\\hat{m}_1/\\sqrt{\\hat{v}_1} = g_1/|g_1|$), whatever the gradient's size.")
    if h.method == "adagrad":
        total = [sum((st.g[i] ** 2 for st in steps), sympy.Integer(0)) for i in range(len(steps[0].g))]
        if not all(_same(a, b) for a, b in zip(total, steps[-1].state["sum"])):
            raise AssertionError("Adagrad's sum is not the sum of the squared gradients")
        s.check("The last sum equals the sum of every step's squared gradient.")
        s.note("Adagrad's steps shrink as the squared gradients pile up in $S$: a parameter that has seen large "
               "gradients moves less and less.")
    if h.method in ("momentum", "nesterov") and len(steps) > 1:
        s.note("The velocity remembers earlier gradients: with $\\mu$ near 1 a steady gradient builds up speed, "
               "while gradients that change sign partly cancel.")


def _same(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Equal, exactly for rationals, else to 40 digits (a carried decimal has 50)."""
    if isinstance(a, sympy.Rational) and isinstance(b, sympy.Rational):
        return a == b
    return abs(sympy.N(a - b, 50)) <= sympy.Float("1e-40") * max(1, abs(sympy.N(b, 20)))
