"""batch_norm forward and backward against PyTorch (F.batch_norm, training=True; autograd)."""
import re

import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings, strategies as st

import derive
from derive.verify import to_float

decimals = st.integers(-50, 50).map(lambda n: n / 10)


@st.composite
def problems(draw, eps_choices=(0.001, 1e-5, 0.5)):  # F.batch_norm refuses eps = 0 in training
    n = draw(st.integers(2, 6))
    features = draw(st.integers(1, 3))
    x = [[draw(decimals) for _ in range(features)] for _ in range(n)]
    for j in range(features):
        assume(len({row[j] for row in x}) > 1)
    gamma = [draw(decimals) for _ in range(features)]
    beta = [draw(decimals) for _ in range(features)]
    upstream = [[draw(decimals) for _ in range(features)] for _ in range(n)]
    eps = draw(st.sampled_from(eps_choices))
    return x, gamma, beta, upstream, eps


@settings(max_examples=25, deadline=None)
@given(problems())
def test_batch_norm_matches_torch(case):
    x, gamma, beta, upstream, eps = case
    s = derive.batch_norm(x, gamma=gamma, beta=beta, upstream=upstream, eps=eps)
    X = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    y = TF.batch_norm(X, None, None, weight=g, bias=b, training=True, eps=eps)
    y.backward(torch.tensor(upstream, dtype=torch.float64))
    close = lambda name, want: torch.allclose(torch.tensor(to_float(s.answers[name]), dtype=torch.float64), want,
                                              rtol=1e-9, atol=1e-9)
    assert close("output", y.detach())
    assert close("mean", X.detach().mean(0))
    assert close("variance", X.detach().var(0, unbiased=False))
    assert close("grad_x", X.grad)
    assert close("grad_gamma", g.grad)
    assert close("grad_beta", b.grad)


@settings(max_examples=15, deadline=None)
@given(problems(eps_choices=(0, 0.001, 0.5)))
def test_unbiased_variance_matches_torch_autograd(case):
    x, gamma, beta, upstream, eps = case
    s = derive.batch_norm(x, gamma=gamma, beta=beta, upstream=upstream, eps=eps, variance="unbiased")
    X = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    xhat = (X - X.mean(0)) / torch.sqrt(X.var(0, unbiased=True) + eps)
    y = g * xhat + b
    y.backward(torch.tensor(upstream, dtype=torch.float64))
    for name, want in [("output", y.detach()), ("grad_x", X.grad), ("grad_gamma", g.grad), ("grad_beta", b.grad),
                       ("variance", X.detach().var(0, unbiased=True))]:
        got = torch.tensor(to_float(s.answers[name]), dtype=torch.float64)
        assert torch.allclose(got, want, rtol=1e-9, atol=1e-9), name


def test_worksheet_problem_5_is_exact():
    s = derive.batch_norm([2, 4, 6, 8, 10], gamma=2, beta=1)
    r2 = sympy.sqrt(2)
    assert s.answers["mean"] == 6
    assert s.answers["variance"] == 8
    expected = [2 * (x - 6) / (2 * r2) + 1 for x in (2, 4, 6, 8, 10)]
    assert [sympy.simplify(a - b) for a, b in zip(s.answers["output"], expected)] == [0] * 5
    assert s.answers["output"][0] == 1 - 2 * r2
    assert [f"{to_float(v):.4g}" for v in s.answers["output"]] == ["-1.828", "-0.4142", "1", "2.414", "3.828"]


def test_vector_x_gives_scalar_gradients():
    s = derive.batch_norm([1, 2, 4], upstream=[1, 0, 0])
    assert isinstance(s.answers["grad_gamma"], sympy.Basic)
    assert s.answers["grad_beta"] == 1


@pytest.mark.parametrize("fields, message", [
    (dict(x=[1, 2], eps=-1), "problem.eps: must be zero or positive, got -1"),
    (dict(x=[5, 5]), "problem.x: the batch has zero variance and eps is 0"),
    (dict(x=[5], variance="unbiased", eps=1), "problem.variance: unbiased variance needs at least 2 samples"),
    (dict(x=[[1, 2], [3, 4]], gamma=[1, 2, 3]), "problem.gamma: expected one gamma per feature (2), got 3"),
    (dict(x=[1, 2], upstream=[1]), "problem.upstream: expected the shape of x (2), got 1"),
    (dict(x=[1, 2], variance="sample"), "problem.variance: expected one of biased, unbiased, got 'sample'"),
])
def test_bad_batch_norm(fields, message):
    with pytest.raises(derive.SpecError) as info:
        derive.solve({"kind": "batch_norm", **fields})
    assert str(info.value).startswith(message)


BIG_X = [[round(((7 * i + 3 * j) % 19 - 9) / 7.3, 2) for j in range(8)] for i in range(16)]


def test_a_large_batch_sums_on_lines_of_their_own():
    """SPEC §15: sixteen samples are not one fraction 700pt wide; Σx and Σ(x − μ)² stand on lines that break."""
    s = derive.batch_norm(BIG_X, gamma=0.5, beta=-0.25, eps=1e-5)
    first = next(st for st in s.steps if st.title == "Mean and variance (feature 0)")
    assert first.math[0].startswith(r"\sum_i x_i = ") and first.math[2].startswith(r"\sum_i (x_i - \mu)^2 = ")
    tex = s.to_latex()
    assert not re.search(r"[+-] \(-[0-9.]+\)(?!\^)", tex)     # a negative term's sign folded in: no + (-0.62)
    assert r"\frac{\mathbf{x} - \mu}{\sqrt{\sigma^2 + \varepsilon}}" in tex   # no fraction in a fraction


def test_a_small_batch_keeps_one_fraction():
    s = derive.batch_norm([2, 4, 6, 8, 10], gamma=2, beta=1)
    assert r"\mu = \frac{2 + 4 + 6 + 8 + 10}{5} = 6" in s.steps[1].math[0]


def test_a_wide_row_of_exact_decimals_stands_as_a_column():
    """Eight variances of 12 digits each do not fit a line: a column with ⊤, every digit kept."""
    s = derive.batch_norm(BIG_X, eps=1e-5)
    variance = next(a for a in s.answer_list if a.name == "variance")
    assert variance.display.endswith(r"\end{bmatrix}^{\top}") and variance.display.count(r"\\") == 7
    mean = next(a for a in s.answer_list if a.name == "mean")
    assert mean.display is None or "top" not in mean.display
