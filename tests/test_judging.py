"""SPEC §12: the scale rule, judging modes at three levels, the update-step rule, per-answer slip text and
follow-through (carried)."""
from __future__ import annotations

import json
import textwrap

import pytest

from conftest import run_cli
from derive.grading.run import check
from derive.spec import parse
from derive.yamlsafe import Plain

CMU = """
title: T
problems:
  - id: bn
    kind: batch_norm
    x: [[1, 0, 1], [-1, 1, 1], [1, -1, -1], [-1, 0, -1]]
    eps: 1e-8
    upstream: [[2, 0, 5], [-2, -5, -5], [-2, 5, 0], [2, 0, 0]]
"""


def sheet(text: str):
    return parse(textwrap.dedent(text).lstrip())


def marks(spec, pid: str, answers: dict):
    report = check(spec, {pid: {k: _plain(v) for k, v in answers.items()}})
    return [m for p in report.problems for m in p.marks]


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return Plain(str(value)) if not isinstance(value, str) or "/" not in value else value


# ---- the scale rule --------------------------------------------------------------------------------

def test_precision_beyond_what_anyone_writes_never_makes_an_answer_wrong():
    # exact: 1.99999999…, −1.41·10⁻⁷, 4.999999975…; the largest magnitude is about 5
    result = marks(sheet(CMU), "bn", {"grad_x": [[2, 0, 5], [-2, 0, -5], [-2, "0.000", 0], [2, 0, 0]]})
    assert all(m.ok for m in result), [(m.label(), m.given.written) for m in result if not m.ok]


def test_the_scale_rule_does_not_excuse_a_real_error():
    result = marks(sheet(CMU), "bn", {"grad_x": [[1.9, 0, 5], [-2, 0, -5], [-2, 0, 0], [2, 0, 0]]})
    assert [m.label() for m in result if not m.ok] == ["grad_x[0][0]"]


# ---- modes ------------------------------------------------------------------------------------------

SOFTMAX = """
title: T
{check}
problems:
  - id: s
    kind: softmax
    logits: [2.0, 1.0, 0.1]
{problem_check}
"""


def one(check_block: str, given, problem_check: str = "") -> bool:
    spec = sheet(SOFTMAX.format(check=check_block, problem_check=problem_check))
    (m,) = [m for m in marks(spec, "s", {"probabilities": [given, 0.2424, 0.09857]}) if m.index == (0,)]
    return m.ok


@pytest.mark.parametrize("block, right, wrong", [
    ("", "0.66", "0.65"),                                             # digits (§5): rounds at the decimals written
    ("check: {mode: relative, rtol: 0.02}", "0.65", "0.64"),          # within 2 % of 0.6590
    ("check: {mode: absolute, atol: 0.01}", "0.65", "0.648"),         # within 0.01
    ("check: {mode: sigfig, digits: 1}", "0.62", "0.6"),              # half a unit in the 1st digit: ±0.05
    ("check: {mode: decimals, digits: 1}", "0.7", "0.6"),             # half a unit at 1 decimal: ±0.05
])
def test_each_mode_has_a_number_right_only_under_it_and_one_wrong(block, right, wrong):
    assert one(block, right) and not one(block, wrong)
    if block:
        assert not one("", right), "the number must be right only under its mode"


def test_sigfig_counts_digits_of_the_exact_value_not_of_the_given_one():
    spec = sheet("title: T\ncheck: {mode: sigfig, digits: 3}\nproblems:\n"
                 "  - {id: b, kind: batch_norm, x: [1.9962, 3.9962, 5.9962]}\n")
    (m,) = marks(spec, "b", {"mean": 4})   # exact 3.9962: 3 significant digits → ±0.005… 4 is right
    assert m.ok


def test_the_innermost_block_wins():
    outer = "check: {mode: absolute, atol: 0.1}"
    problem = "    check: {mode: relative, rtol: 0.001, answers: {probabilities: {mode: absolute, atol: 0.02}}}"
    assert one(outer, "0.64", problem)          # the answer's own block: within 0.02
    assert not one(outer, "0.6", problem)


def test_a_problem_block_inherits_what_it_does_not_say():
    assert one("check: {mode: relative, rtol: 0.05}", "0.63", "    check: {min_digits: 3}")


@pytest.mark.parametrize("text, message", [
    ("title: T\ncheck: {mode: sigfig}\nproblems:\n  - {id: s, kind: softmax, logits: [1, 2]}\n",
     "spec.yaml:2: check: mode sigfig needs digits (how many significant digits to judge at)"),
    ("title: T\nproblems:\n  - {id: s, kind: softmax, logits: [1, 2], check: {mode: decimal}}\n",
     "spec.yaml:3: s.check.mode: expected one of digits, relative, absolute, sigfig, decimals, got 'decimal' "
     "(did you mean 'decimals'?)"),
    ("title: T\nproblems:\n  - {id: s, kind: softmax, logits: [1, 2], check: {answers: {probabilites: {rtol: 0.1}}}}\n",
     "spec.yaml:3: s.check.answers.probabilites: no answer 'probabilites' (did you mean 'probabilities'?); answers: "
     "probabilities, loss, grad_logits"),
])
def test_bad_check_blocks(bad_spec, text, message):
    assert bad_spec(text) == message


# ---- updates ----------------------------------------------------------------------------------------

BACKPROP = """
title: T
problems:
  - id: u
    kind: backprop
    inputs: [[1, 2]]
    targets: [[1]]
    layers: [{weights: [[0.15, 0.2]], activation: sigmoid}]
    loss: mse
    learning_rate: 0.001
"""


def test_a_step_added_instead_of_subtracted_is_wrong_and_named():
    # exact 0.15016976…, 0.20033953…; the step is +0.00016976…: 0.14983 is within 1 % of the weight, not of the step
    result = marks(sheet(BACKPROP), "u", {"updated_weights": [[[0.14983, 0.19966]]]})
    assert all(not m.ok for m in result)
    assert all(m.slip_names == ("step_sign",) for m in result), [m.slip for m in result]


def test_a_rounded_update_is_still_right():
    result = marks(sheet(BACKPROP), "u", {"updated_weights": [[[0.15017, 0.20034]]]})
    assert all(m.ok for m in result)


# ---- per-answer slips -------------------------------------------------------------------------------

SEED_BN = "title: T\nproblems:\n  - {id: b, kind: batch_norm, x: [2, 4, 6, 8, 10], gamma: 2, beta: 1}\n"


def test_a_slip_names_only_the_mistakes_that_reach_the_answer():
    spec = sheet(SEED_BN)
    normalized = marks(spec, "b", {"normalized": [-0.5, -0.25, 0, 0.25, 0.5],
                                   "output": [-2, -1.5, -1, -0.5, 0]})
    by_answer = {}
    for m in normalized:
        if not m.ok:
            by_answer.setdefault(m.name, set()).add(m.slip_names)
    assert by_answer["normalized"] == {("variance_for_std",)}
    assert by_answer["output"] == {("variance_for_std", "beta_sign")}


# ---- follow-through ---------------------------------------------------------------------------------

def test_batch_norm_carries_a_wrong_variance():
    result = marks(sheet(SEED_BN), "b", {"mean": 6, "variance": 10, "normalized": [-1.265, -0.6325, 0, 0.6325, 1.265],
                                         "output": [-1.530, -0.2649, 1, 2.265, 3.530]})
    wrong = [m for m in result if not m.ok]
    assert [m.label() for m in wrong if m.carried is None] == ["variance"]
    assert {m.carried for m in wrong if m.carried} == {"variance"}
    assert all(m.slip is None for m in wrong if m.carried)


def test_an_unrelated_wrong_number_is_not_carried():
    result = marks(sheet(SEED_BN), "b", {"variance": 10, "normalized": [-1.7, -0.9, 0, 0.9, 1.7]})
    assert all(m.carried is None for m in result)


def test_network_totals_follow_from_the_students_own_layers():
    spec = sheet("title: T\nproblems:\n  - id: n\n    kind: network\n    input: [4]\n"
                 "    layers: [{dense: 3}, {dense: 2}]\n")
    result = marks(spec, "n", {"layers": [{"params": 12}, {"params": 8}], "params": 20})
    (total,) = [m for m in result if m.name == "params"]
    assert not total.ok and total.carried == "layers"


def test_carried_in_the_text_report_and_json(tmp_path):
    (tmp_path / "spec.yaml").write_text(SEED_BN)
    (tmp_path / "a.yaml").write_text("b:\n  mean: 6\n  variance: 10\n  output: [-1.530, -0.2649, 1, 2.265, 3.530]\n")
    text = run_cli("check", str(tmp_path / "spec.yaml"), str(tmp_path / "a.yaml"))
    assert text.code == 1
    assert "WRONG, follows from your variance" in text.out
    assert text.out.strip().endswith("2 right, 5 wrong (4 carried)")
    report = json.loads(run_cli("check", str(tmp_path / "spec.yaml"), str(tmp_path / "a.yaml"), "--json").out)
    assert [a["carried"] for a in report["problems"][0]["answers"]] == [False, False, True, True, False, True, True]
    assert report["carried"] == 4
