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


def _logits(n: int) -> list[float]:
    return [round(3 * math.sin(1.7 * k), 2) for k in range(n)]


def test_many_classes_write_the_loss_and_gradient_with_the_sum_named():
    """512 logits (SPEC §15): the key names the 512-term sum S instead of printing it in every answer."""
    s = derive.softmax(_logits(512), target=137)
    shown = {a.name: a.display for a in s.answer_list}
    assert shown["loss"].startswith(r"\log S") and r"\approx" in shown["loss"]
    assert "/S" in shown["grad_logits"] and "/S" in shown["probabilities"]
    assert max(len(line) for line in s.to_latex().splitlines()) < 2500
    assert s.answers["loss"].has(sympy.log)                   # the answer itself stays exact
    assert r"\frac{\partial \mathcal{L}}{\partial z_{137}}" in s.to_latex()   # the target's entry, never elided


def test_few_classes_keep_the_exact_values_in_the_answers():
    s = derive.softmax([2.0, 1.0, 0.1], target=0)
    assert all(a.display is None for a in s.answer_list)


def test_a_batch_names_one_sum_per_row_and_never_adds_a_negative():
    s = derive.softmax([[1, 2, 3, 4, 5, 6], [0.5, -1, 2, 0, 0, 1]], target=[2, 0], temperature=2)
    tex = s.to_latex()
    assert r"S_1 = \sum_j" in tex and r"\log S_0 - 1.5 + \log S_1 - 0.25" in tex
    assert "+ -" not in tex


def test_a_missing_term_is_tried_for_a_few_classes_only():
    """Checking 512 wrong probabilities must not try 512 denominators (it took minutes)."""
    from derive.kinds.softmax import missing_exp_term
    s = derive.softmax(_logits(512), target=137)
    assert 3 <= len(missing_exp_term(s.problem, s.answers)) <= 5
    small = derive.softmax([1, 2, 3])
    assert len(missing_exp_term(small.problem, small.answers)) == 3
