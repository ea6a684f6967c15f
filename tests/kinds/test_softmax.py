"""softmax and cross-entropy against PyTorch (F.softmax, F.cross_entropy + autograd)."""
import math

import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import derive
from derive.verify import to_float

decimals = st.integers(-300, 300).map(lambda n: n / 100)


@st.composite
def problems(draw):
    rows = draw(st.integers(1, 4))
    classes = draw(st.integers(2, 5))
    logits = [[draw(decimals) for _ in range(classes)] for _ in range(rows)]
    temperature = draw(st.sampled_from([1, 0.5, 2, 1.5]))
    targets = [draw(st.integers(0, classes - 1)) for _ in range(rows)]
    vector = rows == 1 and draw(st.booleans())
    return (logits[0] if vector else logits), temperature, (targets[0] if vector else targets)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_softmax_and_cross_entropy_match_torch(case):
    logits, temperature, target = case
    s = derive.softmax(logits, temperature=temperature, target=target)
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    z2 = z if z.dim() == 2 else z.unsqueeze(0)
    t = torch.tensor(target if isinstance(target, list) else [target])
    probs = TF.softmax(z2 / temperature, dim=1)
    loss = TF.cross_entropy(z2 / temperature, t)
    loss.backward()
    got = torch.tensor(to_float(s.answers["probabilities"]), dtype=torch.float64)
    assert torch.allclose(got, probs if z.dim() == 2 else probs[0], rtol=1e-9, atol=1e-12)
    assert math.isclose(to_float(s.answers["loss"]), loss.item(), rel_tol=1e-9, abs_tol=1e-12)
    grad = torch.tensor(to_float(s.answers["grad_logits"]), dtype=torch.float64)
    assert torch.allclose(grad, z.grad, rtol=1e-9, atol=1e-12)


def test_worksheet_problem_1():
    s = derive.softmax([2.0, 1.0, 0.1])
    p = s.answers["probabilities"]
    total = sympy.exp(2) + sympy.E + sympy.exp(sympy.Rational(1, 10))
    assert [sympy.simplify(a - b) for a, b in zip(p, [sympy.exp(2) / total, sympy.E / total,
                                                     sympy.exp(sympy.Rational(1, 10)) / total])] == [0, 0, 0]
    assert [f"{to_float(v):.4g}" for v in p] == ["0.659", "0.2424", "0.09857"]


def test_exact_values_stay_symbolic():
    s = derive.softmax([2.0, 1.0, 0.1])
    assert s.answers["probabilities"][0].has(sympy.exp(2))
    assert "0.1" not in str(s.answers["probabilities"][0])  # 0.1 was read as 1/10


def test_matrix_needs_one_target_per_row():
    with pytest.raises(derive.SpecError, match="a matrix of logits needs one target per row"):
        derive.softmax([[1, 2], [3, 4]], target=0)
    with pytest.raises(derive.SpecError, match=r"expected 2 targets \(one per row of logits\), got 1"):
        derive.softmax([[1, 2], [3, 4]], target=[0])


def test_temperature_must_be_positive():
    with pytest.raises(derive.SpecError, match="problem.temperature: must be positive, got 0"):
        derive.softmax([1, 2], temperature=0)
