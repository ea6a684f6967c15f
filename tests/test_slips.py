"""The slip catalogue: each entry, on a problem where it can happen, is named for a wrong answer that
exhibits it; the right answer gets no slip; an unrelated wrong number gets no invented slip."""
from __future__ import annotations

import importlib.util
import textwrap
from dataclasses import dataclass

import pytest
import sympy

from derive.grading.run import check
from derive.values import leaves
from derive.kinds import KINDS
from derive.latex import decimal_text, is_plain, terminating
from derive.grading.diagnose import BY_NAME, CATALOGUE, Trials
from derive.spec import parse
from derive.yamlsafe import Plain


def landed(kind: str) -> bool:
    """True when the kind is registered and its module exists."""
    return kind in KINDS and importlib.util.find_spec(KINDS[kind]) is not None


@dataclass
class Case:
    slip: str
    problem: str        # the problem's fields, YAML (id and kind included)
    answer: str         # the answer the slip shows in
    variant: int = 0    # which of the slip's variants for this problem

    @property
    def kind(self) -> str:
        return self.problem.split("kind:")[1].split()[0]


BN = "kind: batch_norm\nx: [2, 4, 6, 8, 10]\ngamma: 2\nbeta: 1"
SOFTMAX = "kind: softmax\nlogits: [2.0, 1.0, 0.1]"
CONV = "kind: conv2d\nimage: [[1, 2, 0], [0, 1, 3], [2, 1, 1]]\nkernel: [[1, -1], [2, 0]]"
DENSE = ("kind: forward\ninput: [1, -1]\nlayers:\n  - {weights: [[1, 2], [3, -4]], bias: [0.5, -1], activation: relu}\n"
         "  - {weights: [[1, 1]]}")
BACKPROP = ("kind: backprop\ninputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\ntargets: [0, 1, 1, 0]\nlayers:\n"
            "  - {weights: [[1, 2], [1, 1]], bias: [0, -1], activation: relu}\n"
            "  - {weights: [[1, -2]], bias: [0.3]}\nloss: half_sse\nlearning_rate: 0.1")
DESIGNS = ("kind: network\ninput: [28, 28, 192]\ndesigns:\n  direct:\n    - {conv: 32, kernel: 3, padding: same}\n"
           "  bottleneck:\n    - {conv: 16, kernel: 1}\n    - {conv: 32, kernel: 3, padding: same}")
INCEPTION = ("kind: network\ninput: [32, 32, 192]\nlayers:\n  - branches:\n"
             "      - [{conv: 64, kernel: 1}, {conv: 128, kernel: 3, padding: same}]\n"
             "      - [{conv: 16, kernel: 1}, {conv: 32, kernel: 5, padding: same}]")

CASES = [
    Case("power_of_ten", SOFTMAX, "probabilities", 0),
    Case("power_of_ten", SOFTMAX, "probabilities", 1),
    Case("power_of_ten", BN, "normalized", 3),
    Case("variance_for_std", BN, "output"),
    Case("variance_for_std", BN, "normalized"),
    Case("std_for_variance", BN, "variance"),
    Case("beta_sign", BN, "output"),
    Case("population_sample", BN, "variance"),
    Case("population_sample", BN.replace("beta: 1", "beta: 1\nvariance: unbiased"), "normalized"),
    Case("eps_forgotten", BN + "\neps: 0.5", "normalized"),
    Case("bn_mean_for_sum", BN + "\nupstream: [1, 2, 3, 4, 6]", "grad_gamma"),
    Case("no_exponential", SOFTMAX, "probabilities"),
    Case("missing_exp_term", SOFTMAX, "probabilities", 0),
    Case("missing_exp_term", SOFTMAX, "probabilities", 2),
    Case("softmax_sum_for_mean", "kind: softmax\nlogits: [[2, 1, 0.1], [0.5, 0.5, 1]]\ntarget: [0, 2]", "loss"),
    Case("softmax_sum_for_mean", "kind: softmax\nlogits: [[2, 1, 0.1], [0.5, 0.5, 1]]\ntarget: [0, 2]",
         "grad_logits"),
    Case("log_base", SOFTMAX + "\ntarget: 1", "loss", 0),
    Case("log_base", SOFTMAX + "\ntarget: 1", "loss", 1),
    Case("kernel_flip", CONV, "output"),
    Case("kernel_flip", CONV + "\nflip: true", "output"),
    Case("conv_bias_sign", CONV + "\nbias: 1", "output"),
    Case("conv_activation_skipped", CONV + "\nactivation: relu", "output"),
    Case("conv_size_off_by_one", CONV, "output_shape", 0),
    Case("conv_size_off_by_one", CONV, "output_shape", 1),
    Case("pool_mode", "kind: pool\nimage: [[1, 2, 0, 4], [0, 1, 3, 1], [2, 1, 1, 0], [5, 0, 2, 2]]\nsize: 2",
         "output"),
    Case("dropout_scaling", "kind: dropout\nactivations: [1, 2, -3, 4]\nkeep_prob: 0.8\nmask: [1, 0, 1, 1]",
         "output", 0),
    Case("dropout_scaling", "kind: dropout\nactivations: [1, 2, -3, 4]\nkeep_prob: 0.8\nmask: [1, 0, 1, 1]",
         "output", 1),
    Case("dropout_scaling", "kind: dropout\nactivations: [1, 2, -3, 4]\nkeep_prob: 0.8\nmask: [1, 0, 1, 1]\n"
                            "inverted: false", "output", 0),
    Case("relu_skipped", DENSE, "output"),
    Case("bias_sign", DENSE, "output"),
    Case("weight_transpose", DENSE, "weights", 0),
    Case("weight_transpose", DENSE, "output", 1),
    Case("relu_skipped", BACKPROP, "grad_weights"),
    Case("loss_mean_sum", BACKPROP, "loss", 0),
    Case("loss_mean_sum", BACKPROP, "grad_weights", 1),
    Case("step_sign", BACKPROP, "updated_weights"),
    Case("bias_count", "kind: network\ninput: [3]\nlayers:\n  - {dense: 4}\n  - {dense: 2}", "params"),
    Case("bias_count", "kind: network\ninput: [3]\nlayers:\n  - {dense: 4, bias: false}\n  - {dense: 2}", "params",
         0),
    Case("bias_count", "kind: network\ninput: [3]\nlayers:\n  - {dense: 4, bias: false}\n  - {dense: 2}", "params",
         1),
    Case("missing_term", DESIGNS, "bottleneck.multiplications", 0),
    Case("missing_term", INCEPTION, "multiplications", 0),
    Case("missing_term", "kind: network\ninput: [3]\nlayers:\n  - {dense: 4}\n  - {dense: 2}", "params", 4),
    Case("missing_term", "kind: network\ninput: [3]\nlayers:\n  - {dense: 4}\n  - {dense: 2}", "params", 7),
    Case("network_off_by_one", "kind: network\ninput: [6, 6, 1]\nlayers:\n  - {conv: 2, kernel: 3}",
         "multiplications", 0),
    Case("network_off_by_one", "kind: network\ninput: [6, 6, 1]\nlayers:\n  - {conv: 2, kernel: 3}",
         "output_shape", 1),
]


def sheet_of(problem: str):
    """A one-problem worksheet (id `p`)."""
    body = textwrap.indent("id: p\n" + problem, "    ")
    return parse("title: t\nproblems:\n  -" + body[3:] + "\n", "spec.yaml")


def written(x) -> Plain:
    """A number as a person would write it: exact when short, else 6 significant digits."""
    if x is None:
        return Plain("null")
    if isinstance(x, int):
        return Plain(str(x))
    x = sympy.sympify(x)
    if isinstance(x, sympy.Rational) and is_plain(x):
        return Plain(terminating(x))
    return Plain(decimal_text(x, 6))


def as_written(value):
    """An answer (nested lists, layer mappings) with every number written out."""
    if isinstance(value, list):
        return [as_written(v) for v in value]
    if isinstance(value, dict):
        return {k: as_written(v) for k, v in value.items() if k != "name"}
    return written(value)


def slip_answer(case: Case, sheet):
    """The answer the case's slip gives (and the right one)."""
    from derive.engine import solve
    p = sheet.problems[0]
    solution = solve(p)
    trials = Trials(p, solution)
    variants = [v for name, v in trials.variants if name == case.slip]
    assert len(variants) > case.variant, f"{case.slip} offers {len(variants)} variants here"
    answers = trials.outcome((variants[case.variant],))
    assert answers is not None
    return answers[case.answer], solution.answers[case.answer], variants[case.variant]


def marks(sheet, name: str, given):
    report = check(sheet, {"p": {name: given}})
    return report.problems[0].marks


def ids(case: Case) -> str:
    return f"{case.slip}-{case.kind}-{case.answer}-{case.variant}"


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_slip_is_named(case: Case):
    if not landed(case.kind):
        pytest.skip(f"kind {case.kind} not registered")
    sheet = sheet_of(case.problem)
    wrong_answer, right_answer, variant = slip_answer(case, sheet)
    result = marks(sheet, case.answer, as_written(wrong_answer))
    wrong = [m for m in result if not m.ok]
    assert wrong, "the slip changes no number of this answer"
    for m in wrong:
        assert m.slip_names and case.slip in m.slip_names, (m.label(), m.given.written, m.slip)
        assert m.slip.startswith(variant.words)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_right_answer_and_unrelated_numbers(case: Case):
    if not landed(case.kind):
        pytest.skip(f"kind {case.kind} not registered")
    sheet = sheet_of(case.problem)
    _, right_answer, _ = slip_answer(case, sheet)
    result = marks(sheet, case.answer, as_written(right_answer))
    assert all(m.ok and m.slip is None for m in result)
    count = len(leaves(right_answer))
    for unrelated in ([Plain("987654.321")] * count, [off(x, 6) for _, x in leaves(right_answer)],
                      [off(x, 3) for _, x in leaves(right_answer)]):
        result = marks(sheet, case.answer, unrelated)
        assert all(not m.ok for m in result) and all(m.slip is None for m in result), [m.slip for m in result]


def off(x, digits: int) -> Plain:
    """A plausible but unrelated number near the right one, to `digits` digits (a count gets 7 added)."""
    if isinstance(x, int) or x is None:
        return Plain(str((x or 0) + 7))
    return Plain(decimal_text(sympy.sympify(x) * sympy.Rational(137, 100) + sympy.Rational(123, 10000), digits))


ORIGINAL = {"power_of_ten", "variance_for_std", "std_for_variance", "beta_sign", "population_sample", "eps_forgotten",
            "bn_mean_for_sum", "no_exponential", "missing_exp_term", "softmax_sum_for_mean", "log_base", "kernel_flip",
            "conv_bias_sign", "conv_activation_skipped", "conv_size_off_by_one", "pool_mode", "dropout_scaling",
            "relu_skipped", "bias_sign", "weight_transpose", "loss_mean_sum", "step_sign", "bias_count",
            "missing_term", "network_off_by_one"}


def test_every_catalogue_entry_is_tested():
    # the first catalogue is tested case by case here; every slip of every kind, these and those the course
    # kinds added (SPEC §13, §14), is reproduced and named by the kind contract (tests/test_contract.py)
    from derive import registry
    by_kind = {s.name for name in registry.names() for s in registry.get(name).slips} | {"power_of_ten"}
    assert {c.slip for c in CASES} == ORIGINAL and ORIGINAL <= set(BY_NAME)
    assert set(BY_NAME) == by_kind and len(CATALOGUE) == len(BY_NAME)


def test_two_slips_combined():
    """The variance for σ and β's sign flipped, as happens in real keys: both are named."""
    sheet = sheet_of(BN)
    result = marks(sheet, "output", [Plain(t) for t in ("-2", "-1.5", "-1", "-0.5", "0")])
    assert all(not m.ok for m in result)
    for m in result:
        assert set(m.slip_names) == {"variance_for_std", "beta_sign"}
        assert "variance σ² used" in m.slip and "sign of β flipped" in m.slip


def test_power_of_ten_with_another_slip():
    sheet = sheet_of(BN)
    result = marks(sheet, "normalized", [Plain(t) for t in ("-5", "-2.5", "0", "2.5", "5")])
    assert set(m.slip_names for m in result if not m.ok) == {("variance_for_std", "power_of_ten")}


def test_slip_text_in_report():
    sheet = sheet_of(BN)
    report = check(sheet, {"p": {"variance": 2.83}})
    (mark,) = report.problems[0].marks
    assert mark.slip == "the standard deviation σ given where the variance σ² belongs (that gives 2.828)"
    assert report.to_json()["problems"][0]["answers"][0]["slip"] == mark.slip
