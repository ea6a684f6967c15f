"""rnn against PyTorch: nn.RNN (tanh, relu), nn.LSTM and nn.GRU with the weights copied in (float64) and a manual
unroll of their equations; every gradient by autograd for L = Σ_t upstream_t · h_t; bad specs; the slips, each
reproduced by a student's numbers computed in torch; follow-through; exactness and speed."""
from __future__ import annotations

import time

import pytest
import sympy
import torch
from hypothesis import assume, given, settings, strategies as st

import derive
from derive.values import to_float

G = {"rnn": 1, "lstm": 4, "gru": 3}
decimals = st.integers(-10, 10).map(lambda n: n / 10)


def t64(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def zeros(n: int) -> list[float]:
    return [0.0] * n


# ---- PyTorch's equations, written out (a slip changes one line) -----------------------------------

def unroll(spec: dict, leaves: dict, slip: str = "") -> dict:
    """hidden, cells, gates and the pre-activations of a relu RNN, step by step in torch (autograd on `leaves`)."""
    cell, act = spec.get("cell", "rnn"), spec.get("nonlinearity", "tanh")
    w_ih, w_hh, x = leaves["w_ih"], leaves["w_hh"], leaves["inputs"]
    h = w_hh.shape[1]
    b_ih = leaves.get("b_ih", torch.zeros(w_ih.shape[0], dtype=torch.float64))
    b_hh = leaves.get("b_hh", torch.zeros(w_ih.shape[0], dtype=torch.float64))
    if slip == "no_b_hh":
        b_hh = torch.zeros_like(b_hh)
    hp, cp = leaves["h0"], leaves.get("c0", torch.zeros(h, dtype=torch.float64))
    hidden, cells, gates, pres = [], [], [], []
    for t in range(x.shape[0]):
        if slip == "truncated" and t > 0:
            hp, cp = hp.detach(), cp.detach()
        gi, gh = w_ih @ x[t] + b_ih, w_hh @ hp + b_hh
        if cell == "rnn":
            pres.append(gi + gh)
            f = {"tanh": torch.tanh, "relu": torch.relu}[act] if slip != "sigmoid" else torch.sigmoid
            hp = f(gi + gh)
            hidden.append(hp)
            continue
        gate = torch.tanh if slip == "gates_tanh" else torch.sigmoid
        candidate = torch.sigmoid if slip == "candidate_sigmoid" else torch.tanh
        if cell == "lstm":
            a = gi + gh
            i, f, g, o = gate(a[:h]), gate(a[h:2 * h]), candidate(a[2 * h:3 * h]), gate(a[3 * h:])
            cp = i * cp + f * g if slip == "swap" else f * cp + i * g
            hp = o * (cp if slip == "no_cell_tanh" else torch.tanh(cp))
            hidden.append(hp), cells.append(cp), gates.append(torch.cat([i, f, g, o]))
            continue
        r = gate(gi[:h] + gh[:h])
        z = gate(gi[h:2 * h] + gh[h:2 * h])
        if slip == "reset_before":
            n = candidate(gi[2 * h:] + w_hh[2 * h:] @ (r * hp) + b_hh[2 * h:])
        else:
            n = candidate(gi[2 * h:] + r * gh[2 * h:])
        hp = z * n + (1 - z) * hp if slip == "flip_z" else (1 - z) * n + z * hp
        hidden.append(hp), gates.append(torch.cat([r, z, n]))
    out = {"hidden": torch.stack(hidden), "pres": pres}
    if cells:
        out["cells"] = torch.stack(cells)
    if gates:
        out["gates"] = torch.stack(gates)
    return out


def leaves_of(spec: dict) -> dict:
    """The spec's numbers as float64 leaves that want gradients (h0 and c0 zeros when not given)."""
    h = len(spec["w_hh"][0])
    out = {name: t64(spec[name]).requires_grad_(True) for name in ("inputs", "w_ih", "w_hh", "b_ih", "b_hh")
           if name in spec}
    out["h0"] = t64(spec.get("h0", zeros(h))).requires_grad_(True)
    if spec.get("cell") == "lstm":
        out["c0"] = t64(spec.get("c0", zeros(h)))
    return out


def torch_grads(spec: dict, slip: str = "") -> tuple[dict, dict]:
    """The unrolled values and autograd's gradients of Σ upstream · h."""
    leaves = leaves_of(spec)
    values = unroll(spec, leaves, slip)
    (values["hidden"] * t64(spec["upstream"])).sum().backward()
    names = {"w_ih": "grad_w_ih", "w_hh": "grad_w_hh", "b_ih": "grad_b_ih", "b_hh": "grad_b_hh", "h0": "grad_h0",
             "inputs": "grad_inputs"}
    return values, {answer: leaves[leaf].grad for leaf, answer in names.items() if leaf in leaves}


def module_of(spec: dict) -> torch.nn.Module:
    """nn.RNN / nn.LSTM / nn.GRU with the spec's weights copied in (float64)."""
    cell, d, h = spec.get("cell", "rnn"), len(spec["inputs"][0]), len(spec["w_hh"][0])
    bias = "b_ih" in spec
    kinds = {"rnn": lambda: torch.nn.RNN(d, h, nonlinearity=spec.get("nonlinearity", "tanh"), bias=bias),
             "lstm": lambda: torch.nn.LSTM(d, h, bias=bias), "gru": lambda: torch.nn.GRU(d, h, bias=bias)}
    m = kinds[cell]().double()
    with torch.no_grad():
        m.weight_ih_l0.copy_(t64(spec["w_ih"]))
        m.weight_hh_l0.copy_(t64(spec["w_hh"]))
        if bias:
            m.bias_ih_l0.copy_(t64(spec["b_ih"]))
            m.bias_hh_l0.copy_(t64(spec["b_hh"]))
    return m


def close(got, want) -> bool:
    return torch.allclose(t64(to_float(got)), want.detach(), rtol=1e-9, atol=1e-12)


# ---- hypothesis: every answer against PyTorch ------------------------------------------------------

@st.composite
def specs(draw, cell: str, act: str = "tanh") -> dict:
    T, d, h = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    k = G[cell]
    m = lambda rows, cols: [[draw(decimals) for _ in range(cols)] for _ in range(rows)]   # noqa: E731
    spec = {"kind": "rnn", "cell": cell, "inputs": m(T, d), "w_ih": m(k * h, d), "w_hh": m(k * h, h),
            "upstream": m(T, h)}
    if cell == "rnn":
        spec["nonlinearity"] = act
    if draw(st.booleans()):
        spec["b_ih"], spec["b_hh"] = m(1, k * h)[0], m(1, k * h)[0]
    if draw(st.booleans()):
        spec["h0"] = m(1, h)[0]
    if cell == "lstm" and draw(st.booleans()):
        spec["c0"] = m(1, h)[0]
    return spec


def check_against_torch(spec: dict) -> None:
    values, grads = torch_grads(spec)
    if spec.get("nonlinearity") == "relu":   # float64 rounding may put an exact 0 on either side of the kink
        assume(all(bool((p.abs() > 1e-9).all()) for p in values["pres"]))
    s = derive.solve(spec)
    m = module_of(spec)
    x, h0 = t64(spec["inputs"]), values["hidden"].new_tensor(spec.get("h0", zeros(len(spec["w_hh"][0]))))
    if spec["cell"] == "lstm":
        out, (hn, cn) = m(x, (h0[None], t64(spec.get("c0", zeros(len(h0))))[None]))
        assert close(s.answers["cells"][-1], cn[0])
        assert close(s.answers["cells"], values["cells"])
    else:
        out, hn = m(x, h0[None])
    assert close(s.answers["hidden"], out)
    assert close(s.answers["hidden"], values["hidden"])
    if spec["cell"] != "rnn":
        assert close(s.answers["gates"], values["gates"])
    for name, want in grads.items():
        assert close(s.answers[name], want), name
    (out * t64(spec["upstream"])).sum().backward()   # the module's own autograd agrees too
    assert close(s.answers["grad_w_ih"], m.weight_ih_l0.grad)
    assert close(s.answers["grad_w_hh"], m.weight_hh_l0.grad)
    if "b_ih" in spec:
        assert close(s.answers["grad_b_ih"], m.bias_ih_l0.grad)
        assert close(s.answers["grad_b_hh"], m.bias_hh_l0.grad)
    else:
        assert s.answers["grad_b_ih"] is None and s.answers["grad_b_hh"] is None


@settings(max_examples=25, deadline=None)
@given(specs("rnn", "tanh"))
def test_tanh_rnn_matches_torch(spec):
    check_against_torch(spec)


@settings(max_examples=15, deadline=None)
@given(specs("rnn", "relu"))
def test_relu_rnn_matches_torch(spec):
    check_against_torch(spec)


@settings(max_examples=25, deadline=None)
@given(specs("lstm"))
def test_lstm_matches_torch(spec):
    check_against_torch(spec)


@settings(max_examples=25, deadline=None)
@given(specs("gru"))
def test_gru_matches_torch(spec):
    check_against_torch(spec)


# ---- exact answers ---------------------------------------------------------------------------------

def test_one_tanh_step_is_exact():
    s = derive.helper("rnn")([[1, 2]], [[0.5, -0.25]], [[1]], b_ih=[0.1], b_hh=[0.2], h0=[1], upstream=[[2]])
    a = sympy.Rational(1, 2) - sympy.Rational(1, 2) + sympy.Rational(3, 10) + 1
    assert s.answers["hidden"] == [[sympy.tanh(a)]]
    assert s.answers["grad_b_ih"] == [2 * (1 - sympy.tanh(a) ** 2)]
    assert s.answers["grad_h0"] == [2 * (1 - sympy.tanh(a) ** 2)]
    assert not s.approximate


def test_relu_rnn_is_rational_and_its_kink_follows_pytorch():
    s = derive.solve({"kind": "rnn", "nonlinearity": "relu", "inputs": [[1, -1], [1, 1]], "w_ih": [[1, 1], [1, -1]],
                      "w_hh": [[1, 0], [0, 1]], "upstream": [[1, 1], [1, 1]]})
    assert s.answers["hidden"] == [[0, 2], [2, 2]]          # step 1's first pre-activation is exactly 0
    assert s.answers["grad_h0"] == [0, 2]                    # relu′(0) = 0 at step 1, unit 0
    assert all(isinstance(v, sympy.Rational) for row in s.answers["grad_inputs"] for v in row)


def test_a_long_lstm_is_carried_as_50_digit_decimals():
    spec = yaml_problems()[1]
    s = derive.solve(spec)
    assert {"hidden", "cells", "grad_w_ih"} <= s.approximate
    exact = 1 / (1 + sympy.exp(-sympy.Rational(1, 2)))      # i at step 1, carried to 50 digits like the rest
    assert abs(s.answers["gates"][0][0] - exact) < sympy.Float("1e-48")
    assert isinstance(s.answers["hidden"][2][0], sympy.Float) and s.answers["hidden"][2][0]._prec > 150


def yaml_problems() -> list[dict]:
    """The rnn problems of problems/course.yaml as Python values (every number there is a plain decimal)."""
    from pathlib import Path
    import yaml
    sheet = yaml.safe_load((Path(__file__).resolve().parents[2] / "problems" / "course.yaml")
                           .read_text(encoding="utf-8"))
    return [{k: v for k, v in p.items() if k not in ("id", "title", "statement")} for p in sheet["problems"]
            if p["kind"] == "rnn"]


def test_the_course_problems_match_torch():
    for spec in yaml_problems():
        spec.setdefault("cell", "rnn")
        check_against_torch(spec)


def test_a_three_step_lstm_builds_fast(cli, tmp_path):
    spec = tmp_path / "lstm.yaml"
    spec.write_text(
        "title: t\nproblems:\n  - id: q\n    kind: rnn\n    cell: lstm\n"
        "    inputs: [[1, 0], [0.5, -1], [-1, 0.5]]\n"
        "    w_ih: [[0.5, -0.5], [0.25, 0], [1, 0.5], [-0.5, 0.25], [0.5, 0.5], [0, -0.5], [0.25, 0.5], [-0.25, 1]]\n"
        "    w_hh: [[0.5, 0], [0, 0.5], [0.25, -0.25], [0.5, 0.25], [-0.5, 1], [0.25, 0], [0, 0.25], [0.5, -0.5]]\n"
        "    b_ih: [0.1, 0, 1, 1, 0, 0, 0, 0]\n    b_hh: [0, 0.2, 0, 0, 0, 0, 0.5, 0]\n"
        "    h0: [0.5, -0.5]\n    c0: [1, -1]\n    upstream: [[1, 0], [0, 1], [1, -1]]\n", encoding="utf-8")
    start = time.monotonic()
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "out")
    assert result.code == 0, result.err
    assert time.monotonic() - start < 10


def test_a_long_sequence_is_summarised(tmp_path):
    s = derive.solve({"kind": "rnn", "cell": "gru", "inputs": [[0.1 * t] for t in range(7)],
                      "w_ih": [[1], [0.5], [-1]], "w_hh": [[0.5], [1], [0.5]], "upstream": [[1]] * 7})
    titles = [step.title for step in s.steps]
    assert "Steps 3 to 6" in titles and "Backward: steps 6 down to 3" in titles
    assert "Step t = 7" in titles and "Step t = 4" not in titles
    figure = next(step.figure for step in s.steps if step.figure)
    assert r"\cdots" in figure and "t = 7" in figure and "t = 4" not in figure
    assert len(s.answers["hidden"]) == 7


def test_a_big_answers_box_names_its_biggest_answers_by_shape():
    h = 4
    s = derive.solve({"kind": "rnn", "cell": "lstm", "inputs": [[0.1 * t] for t in range(12)],
                      "w_ih": [[0.1 * (j % 5)] for j in range(4 * h)],
                      "w_hh": [[0.1 * ((j + k) % 3) for k in range(h)] for j in range(4 * h)],
                      "upstream": [[1, 0, 0, 1]] * 12})
    shown = {a.name: a.display for a in s.answer_list}
    assert "12\\times 4" in shown["hidden"] and "every number is in the JSON" in shown["hidden"]
    assert "every number is in the JSON" not in shown["grad_h0"]
    assert len(s.answers["hidden"]) == 12 and len(s.answers["grad_w_hh"]) == 16    # the answers stay whole


# ---- bad specs -------------------------------------------------------------------------------------

HEAD = "title: t\nproblems:\n  - id: q\n    kind: rnn\n"


@pytest.mark.parametrize("body, message", [
    ("    cell: gru\n    inputs: [[1, 2]]\n"
     "    w_ih: [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1], [1, 1], [0, 0]]\n"
     "    w_hh: [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]]\n",
     "spec.yaml:7: q.w_ih: expected 6×2 (G·h × d with G·h = 3·2: a gru stacks its gates r, z, n as PyTorch's "
     "weight_ih_l0; h = 2 from w_hh, d = 2 from inputs), got 8×2 (8 = 4·2 rows, the stacked weights of an lstm "
     "cell)"),
    ("    cell: gru\n    inputs: [[1, 2]]\n"
     "    w_ih: [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1], [1, 1], [0, 0]]\n"
     "    w_hh: [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1], [1, 1], [0, 0]]\n",
     "spec.yaml:8: q.w_hh: expected 6×2 (G·h × h with G·h = 3·2: a gru stacks its gates r, z, n as PyTorch's "
     "weight_hh_l0), got 8×2 (8 = 4·2 rows, the stacked weights of an lstm cell)"),
    ("    inputs: [[1, 2, 3]]\n    w_ih: [[1, 0, 1], [0, 1, 1]]\n    w_hh: [[1, 0, 1], [0, 1, 1]]\n",
     "spec.yaml:7: q.w_hh: expected 2×2 (h × h for an rnn cell; h = 2 from w_ih's 2 rows), got 2×3"),
    ("    cell: lstm\n    inputs: [[1]]\n    w_ih: [[1], [0], [1], [0], [1], [0], [1], [0]]\n"
     "    w_hh: [[1, 0, 1], [0, 1, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1], [0, 1, 1]]\n",
     "spec.yaml:8: q.w_hh: expected 8×2 (G·h × h with G·h = 4·2: an lstm stacks its gates i, f, g, o as PyTorch's "
     "weight_hh_l0; h = 2 from w_ih's 8 rows), got 8×3"),
    ("    inputs: [[1, 2, 3]]\n    w_ih: [[1, 0], [0, 1]]\n    w_hh: [[1, 0], [0, 1]]\n",
     "spec.yaml:6: q.w_ih: expected 2×3 (h × d for an rnn cell; h = 2 from w_hh, d = 3 from inputs), got 2×2"),
    ("    inputs: [[1, 2]]\n    w_ih: [[1, 0], [0, 1]]\n    w_hh: [[1, 0], [0, 1]]\n    b_ih: [0.5, 0.5]\n",
     "spec.yaml:8: q.b_ih: b_ih and b_hh come together (PyTorch's bias=True) or not at all: b_hh is missing"),
    ("    inputs: [[1, 2]]\n    w_ih: [[1, 0], [0, 1]]\n    w_hh: [[1, 0], [0, 1]]\n    b_hh: [0.5, 0.5]\n",
     "spec.yaml:8: q.b_hh: b_ih and b_hh come together (PyTorch's bias=True) or not at all: b_ih is missing"),
    ("    cell: lstm\n    inputs: [[1]]\n    w_ih: [[1], [0], [1], [0]]\n    w_hh: [[1], [0], [1], [0]]\n"
     "    b_ih: [0.5, 0.5]\n    b_hh: [0.5, 0.5, 0, 0]\n",
     "spec.yaml:9: q.b_ih: expected 4 numbers (G·h = 4·1: an lstm stacks its gates i, f, g, o as PyTorch's "
     "bias_ih_l0), got 2"),
    ("    inputs: [[1, 2]]\n    w_ih: [[1, 0], [0, 1]]\n    w_hh: [[1, 0], [0, 1]]\n    h0: [1, 2, 3]\n",
     "spec.yaml:8: q.h0: expected 2 numbers (h = 2, the columns of w_hh), got 3"),
    ("    cell: lstm\n    inputs: [[1]]\n    w_ih: [[1], [0], [1], [0]]\n    w_hh: [[1], [0], [1], [0]]\n"
     "    c0: [1, 2]\n",
     "spec.yaml:9: q.c0: expected 1 numbers (h = 1, the columns of w_hh), got 2"),
    ("    cell: gru\n    inputs: [[1]]\n    w_ih: [[1], [0], [1]]\n    w_hh: [[1], [0], [1]]\n    c0: [1]\n",
     "spec.yaml:9: q.c0: c0 is only for cell: lstm (this cell is gru, which has no cell state)"),
    ("    c0: [1]\n    inputs: [[1]]\n    w_ih: [[1]]\n    w_hh: [[1]]\n",
     "spec.yaml:5: q.c0: c0 is only for cell: lstm (this cell is rnn, which has no cell state)"),
    ("    cell: lstm\n    nonlinearity: relu\n    inputs: [[1]]\n    w_ih: [[1], [0], [1], [0]]\n"
     "    w_hh: [[1], [0], [1], [0]]\n",
     "spec.yaml:6: q.nonlinearity: nonlinearity is only for cell: rnn (this cell is lstm, whose nonlinearities "
     "are fixed: σ for its gates, tanh for its candidate)"),
    ("    inputs: [[1, 2], [3, 4], [5, 6]]\n    w_ih: [[1, 0], [0, 1]]\n    w_hh: [[1, 0], [0, 1]]\n"
     "    upstream: [[1, 2, 3], [4, 5, 6]]\n",
     "spec.yaml:8: q.upstream: expected 3×2 (T×h: ∂L/∂h_t for each of the T = 3 steps), got 2×3"),
    ("    inputs: [1, 2]\n    w_ih: [[1], [0]]\n    w_hh: [[1, 0], [0, 1]]\n",
     "spec.yaml:5: q.inputs: expected a matrix (a list of rows), got a flat list; write one row as [[…]]"),
    ("    cell: transformer\n    inputs: [[1]]\n    w_ih: [[1]]\n    w_hh: [[1]]\n",
     "spec.yaml:5: q.cell: expected one of rnn, lstm, gru, got 'transformer'"),
])
def test_bad_specs_are_refused_with_a_clear_message(bad_spec, body, message):
    assert bad_spec(HEAD + body) == message


# ---- slips and follow-through ----------------------------------------------------------------------

RNN = {"kind": "rnn", "inputs": [[1, 0.5], [-1, 2], [0.5, -0.5]], "w_ih": [[0.5, -0.25], [0.25, 0.5]],
       "w_hh": [[0.5, 0], [-0.5, 0.25]], "b_ih": [0.1, -0.2], "b_hh": [0.2, 0.1], "h0": [0.5, -0.5],
       "upstream": [[0.5, 0], [0, 1], [1, -1]]}
LSTM = {"kind": "rnn", "cell": "lstm", "inputs": [[1, 0], [0.5, -1]], "w_ih": [[0.5, -0.5], [0.25, 0], [1, 0.5],
        [-0.5, 0.25], [0.5, 0.5], [0, -0.5], [0.25, 0.5], [-0.25, 1]], "w_hh": [[0.5, 0], [0, 0.5], [0.25, -0.25],
        [0.5, 0.25], [-0.5, 1], [0.25, 0], [0, 0.25], [0.5, -0.5]], "b_ih": [0, 0, 1, 1, 0, 0, 0, 0],
        "b_hh": [0, 0, 0, 0, 0, 0, 0.5, 0], "c0": [0.5, -1], "upstream": [[0, 0], [1, -1]]}
GRU = {"kind": "rnn", "cell": "gru", "inputs": [[1, -1], [0.5, 0.5]], "w_ih": [[0.5, 0], [0, -0.5], [0.25, 0.5],
       [-0.5, 0.25], [1, -0.5], [0.5, 0.5]], "w_hh": [[0.5, -0.5], [0.25, 0], [0, 0.5], [-0.25, 0.25], [0.5, 0],
       [-0.5, 1]], "b_ih": [0, 0.5, 0, 0, 0.25, 0], "b_hh": [0.5, 0, 0, 0, 0, -0.5], "h0": [0.5, -0.5],
       "upstream": [[1, 0], [0.5, -1]]}


def written(value) -> list:
    """A student's numbers: 6 significant digits."""
    if isinstance(value, torch.Tensor):
        value = value.detach().tolist()
    if isinstance(value, list):
        return [written(v) for v in value]
    return float(f"{float(value):.6g}")


def marks(tmp_path, spec: dict, answers: dict) -> list:
    """The wrong marks of a student's answers to one problem."""
    import yaml
    path = tmp_path / "spec.yaml"
    problem = {"id": "p", **spec}
    path.write_text(yaml.safe_dump({"title": "t", "problems": [problem]}, sort_keys=False), encoding="utf-8")
    return [m for m in derive.check(derive.load(path), {"p": answers}).problems[0].marks if not m.ok]


@pytest.mark.parametrize("spec, slip, answer, name", [
    (LSTM, "swap", "cells", "rnn_forget_input_swapped"),
    (LSTM, "no_cell_tanh", "hidden", "rnn_cell_tanh_forgotten"),
    (RNN, "sigmoid", "hidden", "rnn_tanh_sigmoid"),
    (LSTM, "candidate_sigmoid", "hidden", "rnn_tanh_sigmoid"),
    (LSTM, "gates_tanh", "gates", "rnn_tanh_sigmoid"),
    (GRU, "candidate_sigmoid", "gates", "rnn_tanh_sigmoid"),
    (GRU, "gates_tanh", "hidden", "rnn_tanh_sigmoid"),
    (GRU, "flip_z", "hidden", "rnn_gru_update_flipped"),
    (GRU, "reset_before", "hidden", "rnn_gru_reset_before"),
    (RNN, "no_b_hh", "hidden", "rnn_hh_bias_forgotten"),
    (RNN, "truncated", "grad_w_hh", "rnn_bptt_truncated"),
    (LSTM, "truncated", "grad_w_ih", "rnn_bptt_truncated"),
    (GRU, "truncated", "grad_inputs", "rnn_bptt_truncated"),
])
def test_a_slip_computed_in_torch_is_named(tmp_path, spec, slip, answer, name):
    values, grads = torch_grads(spec, slip)
    student = {**values, **grads}[answer]
    wrong = marks(tmp_path, spec, {answer: written(student)})
    assert wrong and all(name in m.slip_names for m in wrong), [(m.name, m.slip_names, m.slip) for m in wrong]


def test_only_the_last_steps_gradient_is_named(tmp_path):
    leaves = leaves_of(RNN)
    hidden = unroll(RNN, leaves)["hidden"]
    last = hidden[-1]
    prev = hidden[-2].detach()           # BPTT stopped after step T: step T alone, its h_{T−1} a constant
    a = leaves["w_ih"] @ leaves["inputs"][-1] + leaves["b_ih"] + leaves["w_hh"] @ prev + leaves["b_hh"]
    assert torch.allclose(torch.tanh(a), last)
    (torch.tanh(a) * t64(RNN["upstream"][-1])).sum().backward()
    wrong = marks(tmp_path, RNN, {"grad_w_ih": written(leaves["w_ih"].grad)})
    assert wrong and all("rnn_bptt_truncated" in m.slip_names for m in wrong)
    assert all("only the last step" in m.slip for m in wrong)


def test_gru_hidden_from_the_students_own_gates_is_carried(tmp_path):
    exact = derive.solve(GRU).answers
    gates = [[float(v) for v in row] for row in to_float(exact["gates"])]
    gates[0][2] += 0.1                   # z of unit 0 at step 1 wrong
    hidden, prev = [], [0.5, -0.5]
    for row in gates:
        z, n = row[2:4], row[4:6]
        prev = [(1 - zj) * nj + zj * hj for zj, nj, hj in zip(z, n, prev)]
        hidden.append(prev)
    wrong = marks(tmp_path, GRU, {"gates": written(gates), "hidden": written(hidden)})
    carried = [m for m in wrong if m.name == "hidden"]
    assert [m.name for m in wrong if m.name == "gates"] == ["gates"]
    assert carried and all(m.carried == "gates" for m in carried)


def test_lstm_cells_and_hidden_from_the_students_own_gates_are_carried(tmp_path):
    exact = derive.solve(LSTM).answers
    gates = [[float(v) for v in row] for row in to_float(exact["gates"])]
    gates[0][2] = 0.9                    # f of unit 0 at step 1 wrong
    cells, hidden, c = [], [], [0.5, -1]
    for row in gates:
        i, f, g, o = row[0:2], row[2:4], row[4:6], row[6:8]
        c = [fj * cj + ij * gj for ij, fj, gj, cj in zip(i, f, g, c)]
        cells.append(c)
        hidden.append([oj * float(torch.tanh(t64(cj))) for oj, cj in zip(o, c)])
    wrong = marks(tmp_path, LSTM, {"gates": written(gates), "cells": written(cells), "hidden": written(hidden)})
    assert {m.name for m in wrong} == {"gates", "cells", "hidden"}
    assert all(m.carried == "gates" for m in wrong if m.name == "cells")
    assert all(m.carried == "cells" for m in wrong if m.name == "hidden")   # o ⊙ tanh(their c): the earliest


def test_the_question_sheet_shows_the_data(cli, spec_file, tmp_path):
    import yaml
    spec = spec_file(yaml.safe_dump({"title": "t", "problems": [{"id": "q", **LSTM}]}, sort_keys=False))
    result = cli("build", spec, "--no-pdf", "--questions", "-o", tmp_path / "out")
    assert result.code == 0, result.err
    sheet = (tmp_path / "out" / "spec-questions.tex").read_text(encoding="utf-8")
    assert "-0.25" in sheet and "w ih" in sheet and "c0" in sheet and "nonlinearity" not in sheet


def test_lstm_hidden_from_the_students_gates_alone_is_carried(tmp_path):
    exact = derive.solve(LSTM).answers
    gates = [[float(v) for v in row] for row in to_float(exact["gates"])]
    gates[1][6] = 0.25                   # o of unit 0 at step 2 wrong
    hidden, c = [], [0.5, -1]
    for row in gates:
        i, f, g, o = row[0:2], row[2:4], row[4:6], row[6:8]
        c = [fj * cj + ij * gj for ij, fj, gj, cj in zip(i, f, g, c)]
        hidden.append([oj * float(torch.tanh(t64(cj))) for oj, cj in zip(o, c)])
    wrong = marks(tmp_path, LSTM, {"gates": written(gates), "hidden": written(hidden)})
    assert [(m.name, m.index, m.carried) for m in wrong] == [("gates", (1, 6), None), ("hidden", (1, 0), "gates")]
