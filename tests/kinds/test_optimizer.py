"""optimizer against torch.optim (SGD plain/momentum/dampening/nesterov/weight decay, Adagrad, RMSprop, Adam, AdamW):
params and every state tensor after each step; exactness; bad specs; judging, slips and follow-through."""
import json

import pytest
import sympy
import torch
from hypothesis import given, settings, strategies as st

import derive
from derive.kinds import _optimizer_math as M
from derive.kinds._optimizer_slips import answers_of
from derive.kinds.optimizer import KIND
from derive.kinds_cli import default_json
from derive.verify import to_float

METHODS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
TORCH_STATE = {"velocity": "momentum_buffer", "sum": "sum", "square_avg": "square_avg", "exp_avg": "exp_avg",
               "exp_avg_sq": "exp_avg_sq"}
decimals = st.integers(-20, 20).map(lambda n: n / 10)


def torch_optimizer(p: torch.Tensor, method: str, lr: float, **o):
    """The torch.optim object for a method and derive's options (derive's defaults where not given)."""
    wd = o.get("weight_decay", 0)
    if method in ("sgd", "momentum", "nesterov"):
        extra = {} if method == "sgd" else {"momentum": o.get("momentum", 0.9), "nesterov": method == "nesterov",
                                            "dampening": o.get("dampening", 0)}
        return torch.optim.SGD([p], lr=lr, weight_decay=wd, **extra)
    if method == "adagrad":
        return torch.optim.Adagrad([p], lr=lr, eps=o.get("eps", 1e-10), weight_decay=wd)
    if method == "rmsprop":
        return torch.optim.RMSprop([p], lr=lr, alpha=o.get("alpha", 0.99), eps=o.get("eps", 1e-8), weight_decay=wd)
    cls = torch.optim.Adam if method == "adam" else torch.optim.AdamW
    return cls([p], lr=lr, betas=tuple(float(b) for b in o.get("betas", (0.9, 0.999))), eps=o.get("eps", 1e-8), weight_decay=wd)


def torch_run(params, grads, method, lr, **o):
    """torch's params and state after each step() with p.grad set to each gradient (float64)."""
    p = torch.tensor(params, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(p, method, lr, **o)
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        state = {k: v.detach().clone() for k, v in opt.state[p].items() if k != "step"}
        out.append((p.detach().clone(), state))
    return out


def assert_matches_torch(params, grads, method, lr, **o):
    s = derive.optimizer(params, grads, method, lr=lr, **o)
    want = torch_run(params, grads, method, lr, **o)
    assert list(s.answers) == ["params", *M.STATE[method]]
    close = lambda got, w: torch.allclose(torch.tensor(to_float(got), dtype=torch.float64), w,  # noqa: E731
                                          rtol=1e-9, atol=1e-12)
    for t, (theta, state) in enumerate(want):
        assert close(s.answers["params"][t], theta), (t, "params")
        for name in M.STATE[method]:
            assert close(s.answers[name][t], state[TORCH_STATE[name]]), (t, name)
    return s


VECTOR = ([1, -2, 0.5], [[0.5, -1, 0.2], [1, 0.5, -0.3], [-0.5, 2, 0]])
MATRIX = ([[1, 0], [0.5, -1]], [[[1, -1], [0, 2]], [[0.5, 1], [-1, 1]], [[0.2, -0.4], [1.5, 0.1]]])
CASES = [
    ("sgd", {}), ("sgd", {"weight_decay": 0.1}),
    ("momentum", {}), ("momentum", {"momentum": 0.5, "dampening": 0.5}), ("momentum", {"weight_decay": 0.01}),
    ("momentum", {"dampening": 1, "weight_decay": 0.1}),
    ("nesterov", {}), ("nesterov", {"momentum": 0.5, "weight_decay": 0.1}), ("nesterov", {"dampening": 0}),
    ("adagrad", {}), ("adagrad", {"eps": 0.001, "weight_decay": 0.1}),
    ("rmsprop", {}), ("rmsprop", {"alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1}),
    ("adam", {}), ("adam", {"betas": [0.5, 0.75], "weight_decay": 0.1}), ("adam", {"eps": 0.1}),
    ("adamw", {}), ("adamw", {"weight_decay": 0.01}), ("adamw", {"betas": [0, 0.9], "weight_decay": 0.5}),
]


@pytest.mark.parametrize("method,options", CASES)
@pytest.mark.parametrize("data", [VECTOR, MATRIX], ids=["vector", "matrix"])
def test_every_method_and_option_matches_torch(method, options, data):
    params, grads = data
    for steps in (1, 2, 3):
        assert_matches_torch(params, grads[:steps], method, 0.1, **options)


@st.composite
def problems(draw):
    method = draw(st.sampled_from(METHODS))
    shape = draw(st.sampled_from([(1,), (2,), (4,), (1, 3), (2, 2), (3, 2)]))
    nested = lambda: ([[draw(decimals) for _ in range(shape[1])] for _ in range(shape[0])]  # noqa: E731
                      if len(shape) == 2 else [draw(decimals) for _ in range(shape[0])])
    params, grads = nested(), [nested() for _ in range(draw(st.integers(1, 3)))]
    o = {"weight_decay": draw(st.sampled_from([0, 0.1, 0.01]))}
    if method in ("momentum", "nesterov"):
        o["momentum"] = draw(st.sampled_from([0.9, 0.5]))
    if method == "momentum":
        o["dampening"] = draw(st.sampled_from([0, 0.5]))
    if method == "rmsprop":
        o["alpha"] = draw(st.sampled_from([0.99, 0.9, 0.5]))
    if method in ("adam", "adamw"):
        o["betas"] = draw(st.sampled_from([[0.9, 0.999], [0.5, 0.75], [0, 0.9]]))
    if method in ("adagrad", "rmsprop", "adam", "adamw") and draw(st.booleans()):
        o["eps"] = draw(st.sampled_from([1e-8, 1e-3, 0.1]))
    return params, grads, method, draw(st.sampled_from([0.1, 0.5, 0.01, 1])), o


@settings(max_examples=60, deadline=None)
@given(problems())
def test_random_problems_match_torch(case):
    params, grads, method, lr, o = case
    assert_matches_torch(params, grads, method, lr, **o)


# ---- exactness -------------------------------------------------------------------------------------------

def test_momentum_is_rational_and_the_first_velocity_is_the_gradient():
    s = derive.optimizer([1, -2], [[0.5, -1], [0.3, -0.5]], "momentum", lr=0.1)
    R = sympy.Rational
    assert s.answers["velocity"] == [[R(1, 2), -1], [R(3, 4), R(-7, 5)]]
    assert s.answers["params"] == [[R(19, 20), R(-19, 10)], [R(7, 8), R(-44, 25)]]


def test_rmsprop_first_step_is_exact():
    s = derive.optimizer([1], [[0.5]], "rmsprop", lr=0.01)
    eps = sympy.Rational(1, 10 ** 8)
    assert s.answers["square_avg"] == [[sympy.Rational(1, 400)]]
    assert s.answers["params"][0][0] == 1 - sympy.Rational(1, 100) * sympy.Rational(1, 2) / (sympy.Rational(1, 20) + eps)


def test_adam_with_eps_zero_steps_by_lr_against_the_sign():
    s = derive.optimizer([[0.5, -1], [2, 0]], [[[0.2, -0.4], [1, -0.1]]], "adam", lr=0.1, eps=0)
    assert s.answers["params"] == [[[sympy.Rational(2, 5), sympy.Rational(-9, 10)], [sympy.Rational(19, 10),
                                                                                      sympy.Rational(1, 10)]]]


def test_adam_second_step_keeps_square_roots_exact():
    s = derive.optimizer([1, -1], [[0.5, 1], [1, -0.5]], "adam", lr=0.1, eps=0)
    assert not s.approximate
    assert all(v.has(sympy.Pow) and not v.is_Rational for v in s.answers["params"][1])


def test_long_adam_with_weight_decay_is_carried_as_50_digit_decimals():
    s = derive.optimizer([1.3, -0.7], [[0.3, -0.2]] * 10, "adam", lr=0.1, weight_decay=0.1)
    assert "params" in s.approximate
    entry = s.to_json()["answers"]["params"]
    assert entry["approximate"] is True
    last = s.answers["params"][-1][0]
    assert isinstance(last, sympy.Float) and last._prec >= 160


def test_adagrad_default_eps_is_1e_10():
    s = derive.optimizer([1], [[2]], "adagrad", lr=1)
    assert s.answers["params"][0][0] == 1 - sympy.Integer(2) / (2 + sympy.Rational(1, 10 ** 10))


def test_value_before_is_the_previous_steps_params():
    p = derive.engine.as_problem({"kind": "optimizer", "params": [1, 2], "grads": [[1, 1], [1, 1]], "method": "sgd",
                                  "lr": 0.5})
    answers = derive.solve({"kind": "optimizer", "params": [1, 2], "grads": [[1, 1], [1, 1]], "method": "sgd",
                            "lr": 0.5}).answers
    assert KIND.value_before(p, "params", answers) == [[1, 2], [sympy.Rational(1, 2), sympy.Rational(3, 2)]]
    assert KIND.value_before(p, "velocity", answers) is None


def test_kinds_listing_shows_the_defaults():
    defaults = {name: default_json(f.default) for name, f in KIND.fields.items()}
    assert defaults["betas"] == [0.9, 0.999] and defaults["eps"] == 1e-8 and defaults["momentum"] == 0.9
    assert defaults["alpha"] == 0.99 and defaults["weight_decay"] == 0 and defaults["dampening"] == 0
    assert [n for n, f in KIND.fields.items() if f.required] == ["params", "grads", "method", "lr"]
    assert list(KIND.answers) == ["params", "velocity", "sum", "square_avg", "exp_avg", "exp_avg_sq"]


# ---- bad specs -------------------------------------------------------------------------------------------

def spec(**fields):
    body = "".join(f"    {k}: {v}\n" for k, v in fields.items())
    return "title: t\nproblems:\n  - id: q\n    kind: optimizer\n" + body


BAD = [
    (dict(params="[1, 2]", grads="[[1, 2], [1, 2, 3]]", method="sgd", lr=0.1),
     "spec.yaml:6: q.grads[1]: the gradient of step 2 is a vector of 3; expected a vector of 2, the params' shape"),
    (dict(params="[[1, 2]]", grads="[[1, 2]]", method="sgd", lr=0.1),
     "spec.yaml:6: q.grads[0]: the gradient of step 1 is a vector of 2; expected a 1×2 matrix, the params' shape; "
     "grads holds one gradient per step, so one step's gradient is written [[[…]]]"),
    (dict(params="[1, 2]", grads="[1, 2]", method="sgd", lr=0.1),
     "spec.yaml:6: q.grads: expected a list of gradients, one per step, got a flat list of numbers; "
     "one step's gradient is written [[…]]"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adma", lr=0.1),
     "spec.yaml:7: q.method: expected one of sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, got 'adma' "
     "(did you mean 'adam'?)"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="nesterov", lr=0.1, dampening=0.1),
     "spec.yaml:9: q.dampening: nesterov needs dampening 0 (torch.optim.SGD refuses Nesterov momentum with "
     "dampening), got 0.1"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adam", lr=0.1, betas="[0.9]"),
     "spec.yaml:9: q.betas: expected two numbers [beta1, beta2], each in [0, 1), got 1 number"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adam", lr=0.1, betas="[0.9, 0.99, 0.999]"),
     "spec.yaml:9: q.betas: expected two numbers [beta1, beta2], each in [0, 1), got 3 numbers"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adam", lr=0.1, betas="[0.9, 1]"),
     "spec.yaml:9: q.betas[1]: beta2 must lie in [0, 1), got 1"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adamw", lr=0.1, betas="[-0.5, 0.9]"),
     "spec.yaml:9: q.betas[0]: beta1 must lie in [0, 1), got -0.5"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adam", lr=0.1, betas="0.9"),
     "spec.yaml:9: q.betas: expected two numbers [beta1, beta2], each in [0, 1), got a single value"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="sgd", lr=-0.1),
     "spec.yaml:8: q.lr: the learning rate must be positive, got -0.1"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="rmsprop", lr=0.1, momentum=0.9),
     "spec.yaml:9: q.momentum: rmsprop here has no momentum (torch's RMSprop with momentum 0); momentum is for "
     "method: momentum or nesterov"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="sgd", lr=0.1, momentum=0.9),
     "spec.yaml:9: q.momentum: sgd has no momentum (plain gradient descent); for SGD with momentum write method: "
     "momentum or nesterov"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adam", lr=0.1, momentum=0.9),
     "spec.yaml:9: q.momentum: adam has no momentum (its first moment uses betas[0]); momentum is for method: "
     "momentum or nesterov"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="momentum", lr=0.1, momentum=0),
     "spec.yaml:9: q.momentum: momentum needs momentum > 0, got 0 (momentum 0 is plain gradient descent: "
     "method: sgd)"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="sgd", lr=0.1, eps=0.1),
     "spec.yaml:9: q.eps: sgd divides by nothing: eps is for adagrad, rmsprop, adam and adamw"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adam", lr=0.1, alpha=0.9),
     "spec.yaml:9: q.alpha: alpha is for method: rmsprop, not adam"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="rmsprop", lr=0.1, betas="[0.9, 0.999]"),
     "spec.yaml:9: q.betas: betas is for method: adam or adamw, not rmsprop"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="momentum", lr=0.1, dampening=1.5),
     "spec.yaml:9: q.dampening: dampening must lie in [0, 1], got 1.5"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="rmsprop", lr=0.1, alpha=1),
     "spec.yaml:9: q.alpha: alpha must lie in [0, 1), got 1"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="adam", lr=0.1, weight_decay=-0.1),
     "spec.yaml:9: q.weight_decay: weight_decay must be zero or positive, got -0.1"),
    (dict(params="[1, 2]", grads="[[1, 0], [2, 0]]", method="adagrad", lr=0.1, eps=0),
     "spec.yaml:6: q.grads[0]: step 1, entry 1 (row-major): the gradient and its sum are 0, and 0/(√0 + eps) is "
     "0/0 with eps 0 (give eps > 0)"),
    (dict(params="[1, 2]", grads="[[1, 2]]", method="sgd", lr=0.1, step=2),
     "spec.yaml:9: q.step: unknown field for kind optimizer; allowed: alpha, betas, dampening, eps, grads, lr, "
     "method, momentum, params, weight_decay, check, digits, id, kind, seed, statement, title"),
]


@pytest.mark.parametrize("fields,message", BAD, ids=[m.split(": ", 2)[1] for _, m in BAD])
def test_bad_spec_is_refused_with_its_message(bad_spec, fields, message):
    assert bad_spec(spec(**fields)) == message


# ---- judging, slips, follow-through -----------------------------------------------------------------------

def check(cli, spec_file, problem: dict, answers: dict) -> dict:
    """`derive check --json` of one problem and its answers."""
    path = spec_file(json.dumps({"title": "t", "problems": [{"id": "q", "kind": "optimizer", **problem}]}))
    answers_path = path.with_name("answers.yaml")
    answers_path.write_text(json.dumps({"q": answers}))
    result = cli("check", path, answers_path, "--json")
    assert result.code in (0, 1), result.err
    return json.loads(result.out)


def marks(report: dict) -> list[dict]:
    return report["problems"][0]["answers"]


MOMENTUM = {"params": [1, -2], "grads": [[0.5, -1], [0.3, -0.5], [-0.2, 0.4]], "method": "momentum", "lr": 0.1}


def test_right_answers_rounded_as_a_book_rounds_them(cli, spec_file):
    problem = {"params": [1, -2], "grads": [[0.5, -1], [0.3, -0.5]], "method": "adamw", "lr": 0.1,
               "weight_decay": 0.01}
    report = check(cli, spec_file, problem, {"params": [[0.899, -1.898], [0.8024, -1.803]],
                                            "exp_avg": [[0.05, -0.1], [0.075, -0.14]]})
    assert report["wrong"] == 0 and report["right"] == 8


def test_step_t_is_judged_against_step_t_minus_1():
    s = derive.optimizer([100, 100], [[1, 1], [1, 1]], "sgd", lr=0.001)
    p = s.problem
    before = KIND.value_before(p, "params", s.answers)
    assert before[1] == s.answers["params"][0]


def test_the_step_judged_not_the_value(cli, spec_file):
    """100.1 is within 1 % of 99.9, but its step is +0.1 where the step is −0.1 (SPEC §12's update rule)."""
    problem = {"params": [100], "grads": [[1], [1]], "method": "sgd", "lr": 0.1}
    report = check(cli, spec_file, problem, {"params": [[100.1], [100.2]]})
    assert [m["ok"] for m in marks(report)] == [False, False]
    assert all("added instead of subtracted" in m["slip"] for m in marks(report))
    assert check(cli, spec_file, problem, {"params": [[99.9], [99.8]]})["wrong"] == 0


def test_momentum_with_the_gradient_for_the_velocity_is_named(cli, spec_file):
    report = check(cli, spec_file, MOMENTUM, {"params": [[0.95, -1.9], [0.92, -1.85], [0.94, -1.89]]})
    wrong = [m for m in marks(report) if not m["ok"]]
    assert len(wrong) == 4 and all("the gradient used where the velocity belongs" in m["slip"] for m in wrong)


ADAM = {"params": [1, -1], "grads": [[0.5, 1], [1, -0.5]], "method": "adam", "lr": 0.1}
ADAMW = {"params": [1, 2], "grads": [[1, -1], [1, 1]], "method": "adamw", "lr": 0.1, "weight_decay": 0.5}
SLIPPED = [
    (MOMENTUM, {"use_grad": True}, {}, "params", "the gradient used where the velocity belongs"),
    (dict(MOMENTUM, dampening=0.5), {}, {"dampening": 0}, "velocity", "the dampening left out"),
    (MOMENTUM, {"ema": True}, {}, "velocity", "the velocity as a moving average"),
    (dict(MOMENTUM, method="nesterov"), {}, {"method": "momentum"}, "params", "plain momentum where Nesterov"),
    (dict(MOMENTUM, weight_decay=0.5), {"decay": "decoupled"}, {}, "params", "beside the step"),
    (dict(MOMENTUM, weight_decay=0.5), {"decay": "none"}, {}, "velocity", "the weight decay left out"),
    (ADAM, {"correct": "none"}, {}, "params", "Adam without bias correction"),
    (ADAM, {"correct": "m"}, {}, "params", "only the first moment bias-corrected"),
    (ADAM, {"sign": 1}, {}, "params", "the step added instead of subtracted"),
    (ADAM, {"no_sqrt": True}, {}, "params", "the square root left out"),
    (ADAMW, {"decay": "coupled"}, {}, "exp_avg", "added to the gradient (Adam's L2 penalty)"),
    (ADAMW, {"decay": "no_lr"}, {}, "params", "the decoupled decay without the learning rate"),
    ({"params": [1, 2], "grads": [[3, -4], [1, 2]], "method": "adagrad", "lr": 0.5}, {"no_sqrt": True}, {},
     "params", "the square root left out"),
    ({"params": [0.5, -1], "grads": [[1, 2], [-1, 1]], "method": "rmsprop", "lr": 0.01, "alpha": 0.9},
     {"swap_alpha": True}, {}, "square_avg", "α and 1 − α swapped"),
]


@pytest.mark.parametrize("problem,flags,changes,name,words", SLIPPED, ids=[s[4][:30] for s in SLIPPED])
def test_a_slip_made_consistently_is_named(cli, spec_file, problem, flags, changes, name, words):
    p = derive.engine.as_problem({"id": "q", "kind": "optimizer", **problem})
    slipped = answers_of(p.with_fields(**changes), M.Flags(**flags))[name]
    written = json.loads(json.dumps(to_float(slipped)), parse_float=lambda t: float(f"{float(t):.6g}"))
    report = check(cli, spec_file, problem, {name: written})
    wrong = [m for m in marks(report) if not m["ok"]]
    assert wrong and all(m["slip"] and words in m["slip"] for m in wrong), wrong


def test_params_follow_from_the_students_own_velocity(cli, spec_file):
    report = check(cli, spec_file, MOMENTUM, {"velocity": [[0.5, -1], [0.3, -0.5], [0.07, -0.05]],
                                             "params": [[0.95, -1.9], [0.92, -1.85], [0.913, -1.845]]})
    carried = [m for m in marks(report) if m["carried"]]
    assert [m["index"] for m in carried] == [[1, 0], [1, 1], [2, 0], [2, 1]]
    assert all(m["name"] == "params" and m["slip"] is None for m in carried)


def test_adam_params_follow_from_the_students_own_moments(cli, spec_file):
    problem = {"params": [1, -1], "grads": [[0.5, 1], [1, -0.5]], "method": "adam", "lr": 0.1, "eps": 0}
    # v_2 as if β₂ were 0.9: 0.9·(0.001·0.25) + 0.1·1 …; their params then follow from their v (and the right m)
    v_theirs = [[0.00025, 0.001], [0.100225, 0.0259]]
    follow = M.follow_params(derive.engine.as_problem({"id": "q", "kind": "optimizer", **problem}),
                             {"exp_avg_sq": v_theirs}, derive.optimizer(**problem).answers)
    theirs = [[float(v) for v in step] for step in follow]
    report = check(cli, spec_file, problem, {"exp_avg_sq": v_theirs, "params": theirs})
    params = [m for m in marks(report) if m["name"] == "params"]
    assert [m["ok"] for m in params] == [True, True, False, False]
    assert all(m["carried"] for m in params[2:])


def test_follow_is_none_without_state_or_for_sgd():
    p = derive.engine.as_problem({"kind": "optimizer", **MOMENTUM})
    assert KIND.follow(p, "velocity", {"params": [[1, 1]]}) is None
    q = derive.engine.as_problem({"kind": "optimizer", "params": [1], "grads": [[1]], "method": "sgd", "lr": 1})
    assert KIND.follow(q, "params", {}) is None


# ---- the key and the question sheet ------------------------------------------------------------------------

def test_adam_key_works_m_v_and_both_corrections_in_every_step():
    s = derive.optimizer([1, -1], [[0.5, 1], [1, -0.5]], "adam", lr=0.1)
    assert [st.title for st in s.steps] == ["The update rule", "Step 1", "Step 2"]
    for t, step in ((1, s.steps[1]), (2, s.steps[2])):
        text = " ".join(step.math)
        for piece in (rf"m_{{{t}}} = \beta_1", rf"v_{{{t}}} = \beta_2", rf"\hat{{m}}_{{{t}}}", rf"\hat{{v}}_{{{t}}}",
                      rf"\theta_{{{t}}} = \theta_{{{t - 1}}} - \eta"):
            assert piece in text, (t, piece)


def test_adamw_key_decays_before_the_step_and_momentum_key_uses_the_velocity():
    w = derive.optimizer([1, -2], [[0.5, -1]], "adamw", lr=0.1, weight_decay=0.01)
    assert r"\theta_{0}\,(1 - \eta\lambda)" in w.steps[1].math[0]
    m = derive.optimizer([1, -2], [[0.5, -1], [0.3, -0.5]], "momentum", lr=0.1)
    assert m.steps[2].math[-1].startswith(r"\theta_{2} = \theta_{1} - \eta\,v_{2}")


def test_question_sheet_gives_each_gradient_and_only_the_methods_settings(cli, spec_file, tmp_path):
    path = spec_file("""
        title: t
        problems:
          - {id: q, kind: optimizer, params: [1, -2], grads: [[0.5, -1], [0.25, 3]], method: adam, lr: 0.1}
        """)
    assert cli("build", path, "--no-pdf", "--questions", "-o", tmp_path / "o").code == 0
    sheet = (tmp_path / "o" / "spec-questions.tex").read_text()
    for text in ("gradient of step 1", "gradient of step 2", "0.25", "betas", "10^{-8}"):
        assert text in sheet, text
    assert "alpha" not in sheet and "momentum" not in sheet and "dampening" not in sheet


def test_the_course_problems_build(cli, tmp_path):
    from pathlib import Path
    spec = Path(__file__).resolve().parents[2] / "problems" / "course.yaml"
    result = cli("build", spec, "--no-pdf", "-o", tmp_path)
    assert result.code == 0, result.err
    data = json.loads((tmp_path / "course.json").read_text())
    assert [p["kind"] for p in data["problems"]].count("optimizer") == 3
