"""layer_norm forward and backward against PyTorch (F.layer_norm, autograd); bad specs; slips; follow-through."""
import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings, strategies as st

import derive
from derive.verify import to_float

decimals = st.integers(-30, 30).map(lambda n: n / 10)


@st.composite
def problems(draw, eps_choices=(0, 0.001, 0.5)):
    rows, features = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    x = [[draw(decimals) for _ in range(features)] for _ in range(rows)]
    eps = draw(st.sampled_from(eps_choices))
    if eps == 0:
        for row in x:
            assume(len(set(row)) > 1)
    per_feature = draw(st.booleans())
    gamma = [draw(decimals) for _ in range(features)] if per_feature else draw(decimals)
    beta = [draw(decimals) for _ in range(features)] if draw(st.booleans()) else draw(decimals)
    upstream = [[draw(decimals) for _ in range(features)] for _ in range(rows)]
    vector = rows == 1 and draw(st.booleans())
    if vector:
        x, upstream = x[0], upstream[0]
    return x, gamma, beta, eps, upstream


def tensor(value, grad=False):
    return torch.tensor(value, dtype=torch.float64, requires_grad=grad)


def close(got, want):
    return torch.allclose(tensor(to_float(got)), want.detach().to(torch.float64), rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_layer_norm_matches_torch(case):
    x, gamma, beta, eps, upstream = case
    s = derive.layer_norm(x, gamma=gamma, beta=beta, eps=eps, upstream=upstream)
    features = len(x[0]) if isinstance(x[0], list) else len(x)
    X = tensor(x, grad=True)
    g = tensor(gamma if isinstance(gamma, list) else [gamma] * features, grad=True)
    b = tensor(beta if isinstance(beta, list) else [beta] * features, grad=True)
    y = TF.layer_norm(X, (features,), weight=g, bias=b, eps=eps)
    y.backward(tensor(upstream))
    assert close(s.answers["output"], y)
    assert close(s.answers["mean"], X.detach().mean(-1))
    assert close(s.answers["variance"], X.detach().var(-1, unbiased=False))
    xhat = TF.layer_norm(X.detach(), (features,), eps=eps)
    assert close(s.answers["normalized"], xhat)
    assert close(s.answers["grad_x"], X.grad)
    assert close(s.answers["grad_gamma"], g.grad)
    assert close(s.answers["grad_beta"], b.grad)


def test_exact_values_of_a_small_row():
    s = derive.layer_norm([2, 4, 6, 8], gamma=2, beta=1)
    assert s.answers["mean"] == 5 and s.answers["variance"] == 5
    r5 = sympy.sqrt(5)
    want = [-3 / r5, -1 / r5, 1 / r5, 3 / r5]
    assert [sympy.simplify(a - b) for a, b in zip(s.answers["normalized"], want)] == [0] * 4
    assert set(s.answers) == {"mean", "variance", "normalized", "output"}


def test_vector_x_gives_per_feature_gradients():
    s = derive.layer_norm([1, 2, 4], upstream=[1, 0, -1])
    assert isinstance(s.answers["mean"], sympy.Basic)
    assert s.answers["grad_beta"] == [1, 0, -1]
    assert len(s.answers["grad_gamma"]) == 3


def test_a_closed_form_input_stays_exact():
    s = derive.layer_norm([0, "sqrt(2)"], eps=0)
    assert s.answers["normalized"] == [-1, 1]


@pytest.mark.parametrize("fields, message", [
    ({"x": "[[1, 2], [3, 3]]"}, "spec.yaml:5: p.x[1]: row 1 has zero variance and eps is 0: x̂ would divide by zero "
                                "(give eps > 0)"),
    ({"x": "[5, 5, 5]"}, "spec.yaml:5: p.x: x has zero variance and eps is 0: x̂ would divide by zero (give eps > 0)"),
    ({"x": "[[1, 2, 3]]", "gamma": "[1, 2]"}, "spec.yaml:6: p.gamma: expected one gamma per feature (3), got 2"),
    ({"x": "[1, 2, 3]", "beta": "[1, 2, 3, 4]"}, "spec.yaml:6: p.beta: expected one beta per feature (3), got 4"),
    ({"x": "[[1, 2], [3, 4]]", "upstream": "[1, 2]"},
     "spec.yaml:6: p.upstream: expected the shape of x (2×2), got 2"),
    ({"x": "[1, 2]", "eps": "-1"}, "spec.yaml:6: p.eps: must be zero or positive, got -1"),
    ({"x": "[1, 2]", "gama": "2"}, "spec.yaml:6: p.gama: unknown field for kind layer_norm (did you mean 'gamma'?)"),
])
def test_bad_layer_norm_specs(bad_spec, fields, message):
    body = "".join(f"    {k}: {v}\n" for k, v in fields.items())
    err = bad_spec(f"title: t\nproblems:\n  - id: p\n    kind: layer_norm\n{body}")
    assert err.startswith(message), err


def test_the_python_helper_reports_the_field():
    with pytest.raises(derive.SpecError) as info:
        derive.layer_norm([[1, 2], [3, 4]], gamma=[1, 2, 3])
    assert "problem.gamma: expected one gamma per feature (2), got 3" in str(info.value)


SPEC = """title: t
problems:
  - id: p
    kind: layer_norm
    x: [[1, 2, 3, 6], [2, 0, 1, 1]]
    gamma: [1, 2, 0.5, -1]
    beta: [0, 1, -1, 0.5]
    eps: 0.5
    upstream: [[1, 0, -1, 2], [0.5, 1, 0, -2]]
"""


def report(tmp_path, answers):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return derive.check(derive.load(spec), {"p": answers}).problems[0].marks


def test_batch_statistics_are_named(tmp_path):
    # column statistics: means 1.5, 1, 2, 3.5; variances 0.25, 1, 1, 6.25; + eps 0.5
    marks = report(tmp_path, {"normalized": [[-0.57735, 0.81650, 0.81650, 0.96225],
                                             [0.57735, -0.81650, -0.81650, -0.96225]]})
    assert all(not m.ok and "ln_batch_axis" in m.slip_names for m in marks)


def test_unbiased_variance_is_named(tmp_path):
    marks = report(tmp_path, {"variance": ["14/3", "2/3"]})
    assert all(not m.ok and m.slip_names == ("ln_unbiased",) for m in marks)


def test_sums_averaged_are_named(tmp_path):
    marks = [m for m in report(tmp_path, {"grad_beta": [0.75, 0.5, -0.5, 0]}) if not m.ok]
    assert len(marks) == 3 and all(m.slip_names == ("ln_mean_for_sum",) for m in marks)


def test_output_follows_from_the_students_normalized(tmp_path):
    # normalized of row 0 wrong (every entry doubled); the output made from it is carried, not a new slip
    marks = report(tmp_path, {"normalized": [[-2, -1, 0, 3], [2, -2, 0, 0]],
                              "output": [[-2, -1, -1, -2.5], [2, -3, -1, 0.5]]})
    out = [m for m in marks if m.name == "output" and not m.ok]
    assert len(out) == 5 and all(m.carried == "normalized" for m in out)


def test_a_long_gamma_is_written_by_its_symbol():
    """SPEC §15: twelve γ and twelve β written into y = γ ⊙ x̂ + β made a line shrunk to 70 %."""
    x = [[round(((5 * i + 3 * j) % 11 - 5) / 3, 2) for j in range(12)] for i in range(2)]
    gamma = [round(1 + j / 10, 1) for j in range(12)]
    s = derive.layer_norm(x, gamma=gamma, beta=[0.5] * 12)
    lines = "\n".join(line for st in s.steps for line in st.math)
    assert r"\mathbf{y} = \boldsymbol{\gamma} \odot \hat{\mathbf{x}} + \boldsymbol{\beta}" in lines
    assert r"\sum_j x_j = " in lines
    small = derive.layer_norm([1.0, -1.0, 2.0, 2.0], gamma=[1, 0.5, 2, 1], beta=[0, 0.1, -0.1, 0])
    assert r"\begin{bmatrix}1 & 0.5 & 2 & 1\end{bmatrix} \odot" in "\n".join(m for st in small.steps for m in st.math)
