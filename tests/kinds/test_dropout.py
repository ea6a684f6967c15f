"""dropout: the seeded mask (SPEC §8), torch's own mask reproduced, the expectation check, bad input."""
import zlib

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import derive
from derive.verify import to_float

ACTS = [1.0, 2.0, -0.5, 3.0, 0.4]


def test_worksheet_problem_6b_mask_comes_from_the_problem_generator():
    sheet = derive.load("problems/worksheet.yaml")
    q = next(p for p in sheet.problems if p.id == "q6b")
    s = derive.solve(q)
    draws = np.random.default_rng([7, zlib.crc32(b"q6b")]).random(5)
    mask = [int(u < 0.8) for u in draws]
    assert s.answers["mask"] == mask
    assert all(type(m) is int for m in s.answers["mask"])
    exact = [sympy.Rational(a) * m / sympy.Rational(4, 5) for a, m in
             zip([1, 2, sympy.Rational(-1, 2), 3, sympy.Rational(2, 5)], mask)]
    assert s.answers["output"] == exact
    u_line = next(st_ for st_ in s.steps if st_.title == "Draw the mask").math[0]
    assert f"{draws[0]:.4f}" in u_line


def test_the_mask_is_reproducible_and_keyed_by_id():
    a = derive.dropout(list(range(1, 41)), 0.5, id="x", seed=3).answers["mask"]
    b = derive.dropout(list(range(1, 41)), 0.5, id="x", seed=3).answers["mask"]
    c = derive.dropout(list(range(1, 41)), 0.5, id="y", seed=3).answers["mask"]
    assert a == b and a != c


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 40).map(lambda n: n / 8), min_size=1, max_size=12),
       st.sampled_from([0.25, 0.5, 0.8, 0.9]), st.integers(0, 10_000))
def test_output_for_torch_mask_matches_torch(acts, keep, seed):
    x = torch.tensor(acts, dtype=torch.float64)
    torch.manual_seed(seed)
    y = TF.dropout(x, p=1 - keep, training=True)        # nn.Dropout's p is the drop probability
    mask = (y != 0).long().tolist()                      # every activation is nonzero, so 0 means dropped
    s = derive.dropout(acts, keep, mask=mask)
    got = torch.tensor(to_float(s.answers["output"]), dtype=torch.float64)
    assert torch.allclose(got, y, rtol=1e-9, atol=1e-12)
    assert s.answers["mask"] == mask


def test_matrix_activations_and_plain_dropout():
    s = derive.dropout([[1, 2, 3], [4, 5, 6]], 0.5, mask=[[1, 0, 1], [0, 0, 1]], inverted=False)
    assert s.answers["output"] == [[1, 0, 3], [0, 0, 6]]
    assert any("E[output] = 0.5 · input exactly" in c for c in s.checks)


def test_inverted_dropout_states_the_expectation_exactly():
    s = derive.dropout(ACTS, 0.8, mask=[1, 0, 1, 1, 0])
    assert s.answers["output"] == [sympy.Rational(5, 4), 0, sympy.Rational(-5, 8), sympy.Rational(15, 4), 0]
    step = next(st_ for st_ in s.steps if st_.title == "Expected value")
    assert step.math[0] == (r"E[\tilde{a}_i] = p \cdot \frac{a_i}{p} + (1 - p) \cdot 0 = "
                            r"0.8 \cdot \frac{a_i}{0.8} + 0.2 \cdot 0 = a_i")
    assert any(c.startswith("E[output] = input exactly for every entry") for c in s.checks)


def test_keep_prob_one_keeps_everything():
    s = derive.dropout(ACTS, 1)
    assert s.answers["mask"] == [1] * 5
    assert s.answers["output"] == [1, 2, sympy.Rational(-1, 2), 3, sympy.Rational(2, 5)]


def test_figure_greys_the_dropped_units():
    s = derive.dropout([1, 2, 3], 0.5, mask=[1, 0, 1])
    fig = next(st_ for st_ in s.steps if st_.figure is not None).figure
    assert fig.count("black!8") == 3                     # the dropped unit in a, m and the output


BAD = [
    ("activations: [1, 2]\n    keep_prob: 0",
     "spec.yaml:6: d.keep_prob: must be greater than 0 and at most 1 (the probability of keeping a unit), got 0"),
    ("activations: [1, 2]\n    keep_prob: 1.5",
     "spec.yaml:6: d.keep_prob: must be greater than 0 and at most 1 (the probability of keeping a unit), got 1.5"),
    ("activations: [1, 2]\n    keep_prob: 0.5\n    mask: [1, 2]",
     "spec.yaml:7: d.mask[1]: a mask entry must be 0 (dropped) or 1 (kept), got 2"),
    ("activations: [1, 2]\n    keep_prob: 0.5\n    mask: [1, 0.5]",
     "spec.yaml:7: d.mask[1]: a mask entry must be 0 (dropped) or 1 (kept), got 0.5"),
    ("activations: [1, 2]\n    keep_prob: 0.5\n    mask: [1, 0, 1]",
     "spec.yaml:7: d.mask: expected the shape of activations (2), got 3"),
    ("activations: [[1, 2], [3, 4]]\n    keep_prob: 0.5\n    mask: [1, 0]",
     "spec.yaml:7: d.mask: expected the shape of activations (2×2), got 2"),
    ("activations: [1, 2]\n    keep_prob: 0.5\n    inverted: maybe",
     "spec.yaml:7: d.inverted: expected true or false, got 'maybe'"),
]


@pytest.mark.parametrize("fields,message", BAD)
def test_bad_dropout_specs_exit_2_with_exact_messages(bad_spec, fields, message):
    assert bad_spec(f"title: t\nproblems:\n  - id: d\n    kind: dropout\n    {fields}\n") == message


def test_the_question_sheet_shows_a_drawn_mask_as_its_values():
    """SPEC §15: the sheet shows a random mask as its values (the worksheet's q6b gave no mask and no seed)."""
    sheet = derive.load("problems/worksheet.yaml")
    q = next(p for p in sheet.problems if p.id == "q6b")
    given = dict(q.definition.given(q))
    shown = given["mask, drawn with seed 7 (1 keeps a unit)"]
    mask = derive.solve(q).answers["mask"]
    assert shown == r"\begin{bmatrix}" + " & ".join(str(m) for m in mask) + r"\end{bmatrix}"
    written = derive.dropout([1, 2], 0.5, mask=[1, 0]).problem
    assert [name for name, _ in written.definition.given(written)] == ["activations", "keep prob", "mask", "inverted"]
