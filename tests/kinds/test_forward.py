"""forward against PyTorch (float64), random draws per SPEC §8, layouts, the key, bad inputs."""
import math
import zlib
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import derive
from derive.verify import to_float

tenths = st.integers(-20, 20).map(lambda n: n / 10)
ACTS = ["linear", "relu", "leaky_relu", "sigmoid", "tanh"]


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 4))
    widths = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    layers, plain = [], []
    for i in range(depth):
        act = draw(st.sampled_from(ACTS + (["softmax"] if i == depth - 1 else [])))
        w = [[draw(tenths) for _ in range(widths[i])] for _ in range(widths[i + 1])]
        b = [draw(tenths) for _ in range(widths[i + 1])] if draw(st.booleans()) else None
        layer = {"activation": act, "units": widths[i + 1]}
        if draw(st.booleans()):
            layer.update(weights=[list(c) for c in zip(*w)], layout="in_out")
        else:
            layer["weights"] = w
        if b is not None:
            layer["bias"] = b
        layers.append(layer)
        plain.append((w, b, act))
    rows = draw(st.integers(1, 3))
    x = [[draw(tenths) for _ in range(widths[0])] for _ in range(rows)]
    vector = rows == 1 and draw(st.booleans())
    return (x[0] if vector else x), layers, plain


def at_kinks(z, a, w, b):
    """z with float64 rounding noise around an exact 0 removed (value only; the gradient flows as before),
    so that PyTorch takes the same side of a ReLU kink as exact arithmetic (relu′(0) = 0)."""
    noise = 1e-12 * (a.detach().abs() @ w.detach().abs().T + (0 if b is None else b.detach().abs()))
    return z - torch.where(z.detach().abs() <= noise, z.detach(), torch.zeros_like(z))


def torch_forward(x, plain):
    a = torch.tensor(x, dtype=torch.float64)
    a = a if a.dim() == 2 else a.unsqueeze(0)
    zs, acts = [], []
    for w, b, act in plain:
        wt, bt = torch.tensor(w, dtype=torch.float64), None if b is None else torch.tensor(b, dtype=torch.float64)
        z = at_kinks(TF.linear(a, wt, bt), a, wt, bt)
        a = {"linear": lambda: z, "relu": lambda: torch.relu(z), "leaky_relu": lambda: TF.leaky_relu(z, 0.01),
             "sigmoid": lambda: torch.sigmoid(z), "tanh": lambda: torch.tanh(z),
             "softmax": lambda: torch.softmax(z, dim=1)}[act]()
        zs.append(z)
        acts.append(a)
    return zs, acts


def close(exact, expected):
    got = torch.tensor(to_float(exact), dtype=torch.float64)
    return got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(networks())
def test_forward_matches_torch(case):
    x, layers, plain = case
    s = derive.forward(x, layers)
    zs, acts = torch_forward(x, plain)
    one = (lambda t: t[0]) if not isinstance(x[0], list) else (lambda t: t)
    for got, want in zip(s.answers["pre_activations"], zs):
        assert close(got, one(want))
    for got, want in zip(s.answers["activations"], acts):
        assert close(got, one(want))
    assert close(s.answers["output"], one(acts[-1]))
    for got, (w, b, _) in zip(s.answers["weights"], plain):
        assert got == [[sympy.Rational(str(v)) for v in row] for row in w]
    assert [b is None for b in s.answers["biases"]] == [b is None for _, b, _ in plain]


def expected_draws(seed, pid, shapes, low=-1.0, high=1.0, decimals=1):
    """SPEC §8 by hand: one generator, layer by layer, row-major, each value rounded."""
    rng = np.random.default_rng([seed, zlib.crc32(pid.encode())])
    return [np.round(rng.uniform(low, high, size=shape), decimals).tolist() for shape in shapes]


def test_random_weights_follow_spec_section_8():
    layers = [{"units": 2, "activation": "relu", "weights": "random"},
              {"units": 3, "activation": "relu", "weights": "random"},
              {"units": 2, "activation": "softmax", "weights": "random"}]
    s = derive.solve({"id": "q2", "kind": "forward", "input": [0.5, -1.0], "layers": layers}, seed=7)
    want = expected_draws(7, "q2", [(2, 2), (3, 2), (2, 3)])
    for got, w in zip(s.answers["weights"], want):
        assert got == [[sympy.Rational(repr(v + 0.0)) for v in row] for row in w]
    assert s.answers["biases"] == [None, None, None]
    assert any("Draw the random weights" == step.title for step in s.steps)
    out = s.answers["output"]
    assert sympy.simplify(out[0] + out[1]) == 1 and out[0].has(sympy.exp)


def test_random_bias_is_drawn_after_its_weights():
    s = derive.solve({"id": "r", "kind": "forward", "input": [1], "seed": 3,
                      "init": {"distribution": "uniform", "low": -2, "high": 2, "decimals": 2},
                      "layers": [{"units": 2, "weights": "random", "bias": "random"}]})
    rng = np.random.default_rng([3, zlib.crc32(b"r")])
    w = np.round(rng.uniform(-2, 2, size=(2, 1)), 2)
    b = np.round(rng.uniform(-2, 2, size=2), 2)
    assert s.answers["weights"][0] == [[sympy.Rational(repr(float(v) + 0.0))] for v in w[:, 0]]
    assert s.answers["biases"][0] == [sympy.Rational(repr(float(v) + 0.0)) for v in b]


def test_normal_init_and_negative_zero():
    s = derive.solve({"id": "n", "kind": "forward", "input": [1, 1],
                      "init": {"distribution": "normal", "std": 0.01, "decimals": 1},
                      "layers": [{"units": 3, "weights": "random"}]})
    # std 0.01 rounded to 1 decimal: every weight is 0 (and -0.0 reads as 0)
    assert s.answers["weights"] == [[[0, 0], [0, 0], [0, 0]]]
    assert all(str(v) == "0" for row in s.answers["weights"][0] for v in row)


def test_layout_in_out_is_transposed_and_said():
    s = derive.forward([1, 2], [{"weights": [[1, 0, 2], [0, 1, 3]], "layout": "in_out"}])
    assert s.answers["weights"] == [[[1, 0], [0, 1], [2, 3]]]
    assert s.answers["output"] == [1, 2, 8]
    assert "transposed" in s.steps[0].text


def test_key_writes_products_with_shapes():
    s = derive.forward([[1, 2], [3, 4]], [{"weights": [[1, 1]], "bias": [0.5], "activation": "relu"}])
    math = " ".join(m for step in s.steps for m in step.math)
    assert r"\underbrace{Z^{[1]}}_{2\times 1}" in math and r"\underbrace{X}_{2\times 2}" in math
    assert s.answers["pre_activations"] == [[[sympy.Rational(7, 2)], [sympy.Rational(15, 2)]]]


def test_worksheet_q2():
    sheet = derive.load(Path(__file__).parents[2] / "problems" / "worksheet.yaml")
    q2 = next(p for p in sheet.problems if p.id == "q2")
    s = derive.solve(q2)
    want = expected_draws(sheet.seed, "q2", [(2, 2), (3, 2), (2, 3)])
    assert [to_float(w) for w in s.answers["weights"]] == want


HEAD = "title: T\nproblems:\n  - id: q2\n    kind: forward\n    input: [0.5, -1.0]\n    layers:\n"
BAD = [
    ("input width", HEAD + "      - {weights: [[1, 2, 3]]}\n",
     "spec.yaml:7: q2.layers[0].weights: expected units × 2 (units × inputs), got 1×3; it fits neither layout "
     "(layout: in_out would need 2 × units)"),
    ("units mismatch", HEAD + "      - {units: 3, weights: [[1, 2]]}\n",
     "spec.yaml:7: q2.layers[0].weights: expected 3×2 (units × inputs), got 1×2; it fits neither layout "
     "(layout: in_out would need 2×3)"),
    ("weights word", HEAD + "      - {weights: randm}\n",
     "spec.yaml:7: q2.layers[0].weights: expected a matrix or random, got 'randm' (did you mean 'random'?)"),
    ("unknown layer field", HEAD + "      - {weights: [[1, 2]], activaton: relu}\n",
     "spec.yaml:7: q2.layers[0].activaton: unknown layer field (did you mean 'activation'?); allowed: activation, "
     "bias, layout, slope, units, weights"),
    ("unknown activation", HEAD + "      - {weights: [[1, 2]], activation: sigmod}\n",
     "spec.yaml:7: q2.layers[0].activation: expected one of linear, relu, leaky_relu, sigmoid, tanh, softmax, "
     "got 'sigmod' (did you mean 'sigmoid'?)"),
    ("init high below low", HEAD + "      - {units: 2, weights: random}\n    init: {low: 1, high: 0}\n",
     "spec.yaml:8: q2.init.high: high must be above low (1), got 0"),
    ("init mean for uniform", HEAD + "      - {units: 2, weights: random}\n    init: {mean: 1}\n",
     "spec.yaml:8: q2.init.mean: mean is for distribution: normal (this init is uniform)"),
    ("no layers", HEAD.replace("    layers:\n", "    layers: []\n"),
     "spec.yaml:6: q2.layers: expected a non-empty list of layers, got []"),
]


@pytest.mark.parametrize("name, text, message", BAD, ids=[c[0] for c in BAD])
def test_bad_forward_spec(name, text, message, bad_spec):
    assert bad_spec(text) == message


def test_softmax_batch_is_fast_and_sums_to_one():
    # once took 60 s: the sum check simplified symbolic softmax rows
    import time
    start = time.perf_counter()
    s = derive.forward([[-1.9, 0.6], [0.1, 0.0], [0.0, 0.0]],
                       [{"units": 2, "weights": [[1.2, 1.6], [1.7, 0.6]], "layout": "in_out"},
                        {"activation": "softmax", "weights": [[-0.5, 0.2], [0.4, -1.8], [1.4, -0.7]]}])
    assert time.perf_counter() - start < 5
    assert s.answers["output"][2] == [sympy.Rational(1, 3)] * 3
    assert any("sums to 1" in c for c in s.checks)


# ---- closed-form inputs (SPEC §13), follow-through (SPEC §12), carried decimals (SPEC §2) ----------------------

def test_closed_form_input_is_exact_and_matches_torch():
    """Hagan's input-to-target 1 + √2/2 fed forward: irrational inputs stay exact through every layer."""
    layers = [{"weights": [[1, 0.5], [-0.5, 1]], "bias": [0, 0.5], "activation": "relu"},
              {"weights": [[2, -1]], "activation": "sigmoid"}]
    s = derive.forward(["1 + sqrt(2)/2", -1], layers)
    a = s.answers
    root = sympy.sqrt(2)
    assert a["pre_activations"][0] == [sympy.Rational(1, 2) + root / 2, sympy.Rational(-1, 2) - root / 4 - 1
                                       + sympy.Rational(1, 2)]
    assert a["activations"][0][1] == 0                   # relu of an irrational negative number, decided exactly
    assert not s.approximate
    zs, acts = torch_forward([1 + math.sqrt(2) / 2, -1], [([[1, 0.5], [-0.5, 1]], [0, 0.5], "relu"),
                                                          ([[2, -1]], None, "sigmoid")])
    assert close(a["output"], acts[-1][0])


def test_closed_form_weights_and_slope():
    s = derive.forward([[1, 2]], [{"weights": [["sqrt(2)", "-pi"]], "activation": "leaky_relu", "slope": "1/e"}])
    z = sympy.sqrt(2) - 2 * sympy.pi
    assert s.answers["pre_activations"] == [[[z]]]
    assert sympy.simplify(s.answers["output"][0][0] - z * sympy.exp(-1)) == 0


FORWARD_SPEC = ("title: T\nproblems:\n  - id: f\n    kind: forward\n    input: [1, -1]\n    layers:\n"
                "      - {weights: [[1, 2], [3, -4]], bias: [0.5, -1], activation: relu}\n"
                "      - {weights: [[1, 1]], activation: sigmoid}\n")


def test_activations_follow_from_the_students_own_pre_activations(cli, spec_file, tmp_path):
    spec = spec_file(FORWARD_SPEC)
    # exact z¹ = [−0.5, 6]: the student wrote 0.5 for −0.5, then applied the ReLU to their own value
    answers = tmp_path / "answers.yaml"
    answers.write_text("f:\n  pre_activations: [[0.5, 6], [6.5]]\n  activations: [[0.5, 6], [0.9985]]\n"
                       "  output: [0.9985]\n", encoding="utf-8")
    result = cli("check", spec, answers)
    lines = {l.split()[0]: l for l in result.out.splitlines() if l.strip().startswith(("pre_", "activations", "output"))}
    assert "WRONG, follows from your pre_activations" in lines["activations[0][0]"]
    assert "right" in lines["activations[0][1]"]


def test_follow_applies_each_layers_activation():
    from derive.engine import as_problem
    from derive.kinds.forward import KIND
    p = as_problem({"id": "f", "kind": "forward", "input": [[1, -1], [0, 1]],
                    "layers": [{"weights": [[1, 2], [3, -4]], "activation": "relu"},
                               {"weights": [[1, 1]], "activation": "tanh"}]})
    half = sympy.Rational(1, 2)
    got = KIND.follow(p, "activations", {"pre_activations": [[[-1, 2], [3, -4]], [[half], [0]]]})
    assert got == [[[0, 2], [3, 0]], [[sympy.tanh(half)], [0]]]
    assert KIND.follow(p, "output", {"activations": got}) == got[-1]
    assert KIND.follow(p, "pre_activations", {}) is None


def deep_tanh(width: int = 12, depth: int = 4):
    rng = np.random.default_rng(5)
    layers = [{"weights": np.round(rng.uniform(-1, 1, (width, width)), 1).tolist(), "activation": "tanh"}
              for _ in range(depth)]
    return np.round(rng.uniform(-1, 1, width), 1).tolist(), layers


def reference(x, layers, dps=120):
    """The same forward pass in mpmath at `dps` digits, from the decimals as written."""
    import mpmath
    with mpmath.workdps(dps):
        a = [mpmath.mpf(str(v)) for v in x]
        for layer in layers:
            a = [mpmath.tanh(mpmath.fsum(mpmath.mpf(str(w)) * v for w, v in zip(row, a))) for row in layer["weights"]]
        return a


def test_carried_decimals_are_right_to_50_digits():
    x, layers = deep_tanh()
    s = derive.forward(x, layers)
    assert "output" in s.approximate
    import mpmath
    for got, want in zip(s.answers["output"], reference(x, layers)):
        assert isinstance(got, sympy.Float)
        with mpmath.workdps(60):
            assert abs(mpmath.mpf(got._mpf_) - want) <= abs(want) * mpmath.mpf(10) ** -49


def test_a_precision_that_falls_short_is_worked_again(monkeypatch):
    """When the two working precisions of a carried value disagree, the derivation is redone one rung up."""
    from derive.kinds import _dense_num as N
    x, layers = deep_tanh()
    normal = derive.forward(x, layers).answers["output"]
    monkeypatch.setattr(N, "RUNGS", ((12, 14),) + N.RUNGS[1:])
    monkeypatch.setattr(N, "PRECS", ((40, 47),) + N.PRECS[1:])
    assert derive.forward(x, layers, id="again").answers["output"] == normal


def test_a_carried_sum_that_cancels_exactly_is_a_kink():
    """Σ w·tanh(u) − Σ w·tanh(u), far past the size limit, is carried and still exactly 0: ReLU′(0) = 0."""
    width = 30
    x = [0.1 * (i % 7 - 3) for i in range(width)]
    hidden = {"weights": [[0.1 * ((i + j) % 5 - 2) for j in range(width)] for i in range(width)],
              "activation": "tanh"}
    w = [0.1 * (i % 9 - 4) for i in range(width)]
    s = derive.forward([x], [hidden, {"weights": [w, w], "bias": [0, 0], "activation": "relu"},
                             {"weights": [[1, -1]], "activation": "relu"}])
    assert s.answers["pre_activations"][1][0][0] > 0 and "pre_activations" in s.approximate
    assert s.answers["pre_activations"][2][0][0] == 0
    assert s.answers["output"] == [[0]]


# ---- a readable key and question sheet (SPEC §15) -----------------------------------------------------------------

TWELVE = [{"weights": [[0.5, -1], [1, 0.5]], "bias": [0.1, -0.2], "activation": "tanh"},
          {"weights": [[1, -1], [0.5, 0.25]], "bias": [0.2, 0.1], "activation": "sigmoid"}]   # 12 parameters


def box(s):
    """Each answer as the answers box writes it (name → LaTeX)."""
    from derive.render import answer_line, display
    return {a.name: display(answer_line(a, s.problem.digits)) for a in s.answer_list}


def symbols(s):
    return {a.name: a.symbol for a in s.answer_list}


def test_a_single_layer_is_named_w1_not_a_list_of_layers():
    s = derive.forward([1, -1], [{"weights": [[1, 2]], "bias": [0.5]}])
    assert symbols(s) == {"weights": "W^{[1]}", "biases": r"\mathbf{b}^{[1]}", "pre_activations": r"\mathbf{z}^{[1]}",
                          "activations": r"\mathbf{a}^{[1]}", "output": r"\hat{\mathbf{y}}"}
    two = derive.forward([[1, -1]], TWELVE)
    assert symbols(two)["weights"] == "W^{[1]}, W^{[2]}" and symbols(two)["pre_activations"] == "Z^{[1]}, Z^{[2]}"
    five = derive.forward([1], [{"weights": [[1]]}] * 5)
    assert symbols(five)["activations"] == r"\mathbf{a}^{[1]}, \dots, \mathbf{a}^{[5]}"


def test_biases_are_one_vector_per_layer_never_one_matrix():
    s = derive.forward([1, -1], [{"weights": [[1, 2], [3, -4]], "bias": [0.5, -1]},
                                 {"weights": [[1, 1], [2, 0]], "bias": [0.25, 2]}])
    biases = box(s)["biases"]
    assert r"\begin{bmatrix}0.5 & -1\end{bmatrix}" in biases and r"\begin{bmatrix}0.25 & 2\end{bmatrix}" in biases
    assert r"0.5 & -1 \\ 0.25 & 2" not in biases


def test_a_small_net_shows_its_values_not_placeholder_dots():
    """A 12-parameter tanh/sigmoid net: every answer shows its value (exact while readable, else ≈ its decimals),
    never `= … ≈`."""
    s = derive.forward([[0.5, -1], [1, 2]], TWELVE)
    lines = box(s)
    assert not any(r"\ldots" in line for line in lines.values()), lines
    assert r"\tanh" in lines["pre_activations"]       # the second layer's z is short enough to read exactly
    for a in s.answer_list:
        assert a.display is None or r"\ldots" not in a.display


def test_a_value_shown_by_its_decimals_is_written_approx_value():
    """A carried answer's box value is `≈ decimals` (the box joins it to the symbol), never `= … ≈ decimals`."""
    x, layers = deep_tanh(width=6, depth=3)
    s = derive.forward(x, layers)
    output = next(a for a in s.answer_list if a.name == "output")
    assert output.approximate and output.display.startswith(r"\approx ") and r"\ldots" not in output.display


def test_question_sheet_shows_drawn_weights_and_their_layout():
    sheet = derive.load(Path(__file__).parents[2] / "problems" / "worksheet.yaml")
    q2 = next(p for p in sheet.problems if p.id == "q2")
    from derive.kinds import _layers as L
    given = dict(q2.definition.given(q2))
    text = " ".join(f"{k} {v}" for k, v in given.items())
    assert "random" not in text
    assert given["input"] == r"\begin{bmatrix}0.5 & -1.0\end{bmatrix}"        # as written
    for layer in L.resolve(q2, 2):
        k = layer.index + 1
        rows = [" & ".join(repr(float(v)).removesuffix(".0") for v in row) for row in layer.weights]
        assert given[f"W[{k}], drawn (units × inputs)"] == r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def test_question_sheet_says_an_in_out_matrix_is_shown_as_given():
    p = derive.engine.as_problem({"id": "f", "kind": "forward", "input": [1, 2, 3],
                                  "layers": [{"weights": [[1, 0.5], [0, 1], [-1, 2]], "layout": "in_out"}]})
    given = dict(p.definition.given(p))
    assert given["W[1] transposed, as given (inputs × units, layout: in_out)"] == \
        r"\begin{bmatrix}1 & 0.5 \\ 0 & 1 \\ -1 & 2\end{bmatrix}"     # as given: 3 × 2, not W = 2 × 3


def test_question_sheet_tex_holds_every_number_as_written(cli, spec_file, tmp_path):
    spec = spec_file("title: T\nproblems:\n  - id: f\n    kind: forward\n    input: [[0.50, -1.0], [1e-1, 2.25]]\n"
                     "    init: {distribution: normal, std: 0.5, decimals: 3}\n    layers:\n"
                     "      - {units: 3, weights: random, bias: random, activation: leaky_relu, slope: 0.10}\n"
                     "      - {weights: [[1.0, 0.5], [0, 1], [-1, 2.50]], layout: in_out, bias: [1, -1.50]}\n")
    assert cli("build", spec, "--no-pdf", "--questions", "-o", tmp_path).code == 0
    sheet = (tmp_path / "spec-questions.tex").read_text().split(r"\begin{document}")[1]
    for written in ("0.50 & -1.0", "1e-1 & 2.25", "slope 0.10", r"1.0 & 0.5 \\ 0 & 1 \\ -1 & 2.50", "1 & -1.50"):
        assert written in sheet, written
    rng = np.random.default_rng([0, zlib.crc32(b"f")])
    drawn = np.round(rng.normal(0, 0.5, 9), 3)
    shortest = [repr(float(v) + 0.0).removesuffix(".0") for v in drawn]
    assert " & ".join(shortest[:2]) in sheet and " & ".join(shortest[6:]) in sheet
    assert "random" not in sheet and r"\cdots" not in sheet and r"\vdots" not in sheet
