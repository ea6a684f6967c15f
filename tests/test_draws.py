"""Draws (SPEC §10): the values each draw gives, in spec order, per variant; redraws of invalid draws; the key and
the question sheet show drawn values, never the draw; bad draws are located spec errors."""
from __future__ import annotations

import json
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
import sympy

import derive
from derive.errors import SpecError
from derive.limits import Limits
from derive.spec import DrawsExhausted, load, parse


def rng(seed: int, pid: str, variant: str = "") -> np.random.Generator:
    """The generator SPEC §10 names for the draws of problem `pid` in `variant`."""
    return np.random.default_rng([seed, zlib.crc32(pid.encode()), zlib.crc32(("draw:" + variant).encode())])


def exact(values) -> list:
    """Rounded floats read as their shortest decimal."""
    return [sympy.Rational(repr(float(v))) for v in np.ravel(values)]


def tex_of(value) -> str:
    """How the key writes a short decimal."""
    from derive.latex import tex
    return tex(value)


def sheet(text: str, **kw):
    return parse(textwrap.dedent(text).lstrip("\n"), "spec.yaml", **kw)


SOFTMAX = """
title: T
seed: 5
problems:
  - id: q1
    kind: softmax
    logits: {draw: uniform, low: -2, high: 2, decimals: 1, shape: 3}
    temperature: {draw: choice, from: [1, 2, "1/2"]}
"""


def test_uniform_then_choice_follow_the_spec_formula():
    p = sheet(SOFTMAX).problems[0]
    r = rng(5, "q1")
    logits = exact(np.round(r.uniform(-2, 2, size=(3,)), 1))
    temperature = [1, 2, sympy.Rational(1, 2)][r.integers(3)]
    assert p.fields.logits == logits
    assert p.fields.temperature == temperature


def test_normal_and_integer_draws_with_matrix_shapes():
    s = sheet("""
        title: T
        problems:
          - id: bn
            kind: batch_norm
            x: {draw: integer, low: -5, high: 5, shape: [4, 2]}
            gamma: {draw: normal, mean: 1, std: 0.25, decimals: 2}
            beta: {draw: normal}
            eps: "1/100"
        """)
    p = s.problems[0]
    r = rng(0, "bn")
    x = r.integers(-5, 5, size=(4, 2), endpoint=True)
    gamma = np.round(r.normal(1, 0.25), 2)
    beta = np.round(r.normal(0, 1), 1)
    assert p.fields.x == [[sympy.Integer(int(v)) for v in row] for row in x]
    assert p.fields.gamma == sympy.Rational(repr(float(gamma)))
    assert p.fields.beta == sympy.Rational(repr(float(beta))) + 0


def test_draws_follow_the_order_written_not_the_kinds_field_order():
    s = sheet("""
        title: T
        problems:
          - id: q1
            kind: softmax
            temperature: {draw: uniform, low: 1, high: 3}
            logits: [{draw: integer, low: 0, high: 9}, 1, {draw: integer, low: 0, high: 9}]
        """)
    r = rng(0, "q1")
    t = np.round(r.uniform(1, 3), 1)
    a, b = r.integers(0, 9, endpoint=True), r.integers(0, 9, endpoint=True)
    p = s.problems[0]
    assert p.fields.temperature == sympy.Rational(repr(float(t)))
    assert p.fields.logits == [a, 1, b]


def test_a_draw_inside_a_chosen_entry_is_drawn_next():
    s = sheet("""
        title: T
        problems:
          - id: q1
            kind: softmax
            logits: {draw: choice, from: [[{draw: integer, low: 1, high: 3}, 0], [{draw: integer, low: 7, high: 9}, 0]]}
        """)
    r = rng(0, "q1")
    k = r.integers(2)
    first = r.integers([1, 7][k], [3, 9][k], endpoint=True)
    assert s.problems[0].fields.logits == [first, 0]


def test_variants_differ_and_each_is_reproducible():
    values = {v: sheet(SOFTMAX, variant=v).problems[0].fields.logits for v in ["", "a", "b", "a"]}
    assert values[""] != values["a"] != values["b"]
    assert sheet(SOFTMAX, variant="a").problems[0].fields.logits == values["a"]
    r = rng(5, "q1", "a")
    assert values["a"] == exact(np.round(r.uniform(-2, 2, size=(3,)), 1))


def test_seed_override_replaces_the_spec_seed_but_not_a_problems_own():
    text = SOFTMAX + """
  - id: q2
    kind: softmax
    seed: 11
    logits: {draw: uniform, low: -2, high: 2, shape: 2}
"""
    s = sheet(text, seed=9)
    assert s.seed == 9
    assert s.problems[0].fields.logits == exact(np.round(rng(9, "q1").uniform(-2, 2, size=(3,)), 1))
    assert s.problems[1].fields.logits == exact(np.round(rng(11, "q2").uniform(-2, 2, size=(2,)), 1))


def test_negative_zero_is_zero_and_values_are_short_decimals():
    s = sheet("""
        title: T
        problems:
          - id: q1
            kind: softmax
            logits: {draw: uniform, low: -0.04, high: 0.04, decimals: 1, shape: 6}
        """)
    assert s.problems[0].fields.logits == [0] * 6
    assert all(v.is_Integer for v in s.problems[0].fields.logits)


def test_invalid_draws_are_redrawn_continuing_the_generator():
    s = sheet("""
        title: T
        problems:
          - id: q1
            kind: softmax
            logits: {draw: integer, low: 0, high: 3, shape: 2}
            temperature: {draw: uniform, low: -1, high: 1}
        """)
    r = rng(0, "q1")
    while True:
        logits = r.integers(0, 3, size=(2,), endpoint=True)
        t = np.round(r.uniform(-1, 1), 1)
        if t > 0:
            break
    p = s.problems[0]
    assert p.fields.temperature == sympy.Rational(repr(float(t)))
    assert p.fields.logits == [int(v) for v in logits]


def test_redraws_do_not_count_numbers_twice():
    s = parse(textwrap.dedent("""
        title: T
        problems:
          - id: q1
            kind: softmax
            logits: {draw: integer, low: 0, high: 3, shape: 8}
            temperature: {draw: uniform, low: -1, high: 0.2}
        """), "spec.yaml", Limits(numbers=30))
    assert s.problems[0].fields.temperature > 0


EXHAUSTED = """
title: T
problems:
  - id: q1
    kind: softmax
    logits: [1, 2]
    temperature: {draw: uniform, low: -2, high: -1}
"""


def test_redraw_exhaustion_is_a_spec_error_naming_the_problem_and_the_last_reason(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(EXHAUSTED.lstrip("\n"), encoding="utf-8")
    result = cli("build", "spec.yaml", "--no-pdf", "-o", "out")
    assert result.code == 2
    assert not Path("out").exists()
    r = rng(0, "q1")
    last = [np.round(r.uniform(-2, -1), 1) for _ in range(101)][-1]
    assert result.err.strip() == (
        "spec.yaml:3: q1: still invalid after 100 redraws of its draws; the last: q1.temperature (line 6): "
        f"must be positive, got {sympy.Rational(repr(float(last)))}")
    with pytest.raises(DrawsExhausted) as info:
        parse(EXHAUSTED, "spec.yaml", seed=4)
    assert info.value.seed == 4


@pytest.mark.parametrize("draw, message", [
    ("{draw: uniform, low: 0, hihg: 1}", "q1.logits.hihg: unknown field for a uniform draw (did you mean 'high'?); "
                                         "allowed: decimals, draw, high, low, shape"),
    ("{draw: gauss}", "q1.logits.draw: expected one of uniform, normal, integer, choice, got 'gauss'"),
    ("{draw: uniform, low: 1}", "q1.logits.high: required"),
    ("{draw: uniform, low: 1, high: 1, shape: 2}", "q1.logits: a uniform draw needs low < high, got 1 and 1"),
    ("{draw: integer, low: 3, high: 1, shape: 2}",
     "q1.logits: an integer draw needs low ≤ high, both within ±2⁶³, got 3 and 1"),
    ("{draw: integer, low: 0.5, high: 1, shape: 2}", "q1.logits.low: expected a whole number, got 1/2"),
    ("{draw: normal, std: -1, shape: 2}", "q1.logits.std: must be zero or positive, got -1"),
    ("{draw: normal, decimals: 16, shape: 2}", "q1.logits.decimals: at most 15 decimals (float64 holds no more), got 16"),
    ("{draw: normal, shape: [2, 0]}", "q1.logits.shape[1]: must be a positive whole number, got 0"),
    ("{draw: normal, shape: [1, 1, 1, 1, 1]}",
     "q1.logits.shape: expected a shape: a whole number or a list of 1 to 4 of them, such as [2, 3]"),
    ("{draw: normal, shape: [2, 600]}",
     "q1.logits.shape: 600 values along one side is more than the limit of 512 (limit 'matrix_side')"),
    ("{draw: choice, from: []}", "q1.logits.from: expected a non-empty list of entries to choose from, got []"),
])
def test_bad_draws_are_located_spec_errors(draw, message):
    with pytest.raises(SpecError) as info:
        sheet(f"""
            title: T
            problems:
              - id: q1
                kind: softmax
                logits: {draw}
            """)
    assert str(info.value) == f"spec.yaml:5: {message}"


def test_an_error_in_a_chosen_entry_names_the_entrys_line():
    with pytest.raises(SpecError) as info:
        sheet("""
            title: T
            problems:
              - id: q1
                kind: softmax
                logits:
                  draw: choice
                  from:
                    - [1, yes]
                    - [2, yes]
            """)
    message = str(info.value)
    assert "q1.logits[1] (line 8): expected a number, got the boolean 'yes'" in message \
        or "q1.logits[1] (line 9): expected a number, got the boolean 'yes'" in message


def test_a_typo_next_to_a_draw_is_reported_at_once():
    with pytest.raises(SpecError) as info:
        sheet("""
            title: T
            problems:
              - id: q1
                kind: softmax
                logits: {draw: normal, shape: 2}
                temprature: 2
            """)
    assert str(info.value) == ("spec.yaml:6: q1.temprature: unknown field for kind softmax (did you mean "
                               "'temperature'?); allowed: logits, target, temperature, check, digits, id, kind, "
                               "seed, statement, title")


def test_build_shows_drawn_values_never_the_draw(tmp_path, cli):
    spec = tmp_path / "d.yaml"
    spec.write_text(SOFTMAX.lstrip("\n"), encoding="utf-8")
    assert cli("build", spec, "--no-pdf", "--questions", "-o", tmp_path / "out").code == 0
    logits = sheet(SOFTMAX).problems[0].fields.logits
    for name in ("d.tex", "d-questions.tex"):
        tex = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "uniform" not in tex and "draw" not in tex.replace("drawn", "")
        assert r"\begin{bmatrix}" + " & ".join(tex_of(v) for v in logits) + r"\end{bmatrix}" in tex
    data = json.loads((tmp_path / "out" / "d.json").read_text())
    assert data["problems"][0]["answers"]["probabilities"]["value"]


def test_random_weights_of_a_variant_use_its_own_generator():
    text = """
        title: T
        seed: 3
        problems:
          - id: q2
            kind: forward
            input: [1, 2]
            layers: [{units: 2, weights: random}]
        """
    plain, variant = sheet(text).problems[0], sheet(text, variant="v001").problems[0]
    assert plain.rng().random() == np.random.default_rng([3, zlib.crc32(b"q2")]).random()
    assert variant.rng().random() == np.random.default_rng([3, zlib.crc32(b"q2"), zlib.crc32(b"v001")]).random()
    a = derive.solve(plain).answers["weights"]
    b = derive.solve(variant).answers["weights"]
    assert a != b


def test_python_problems_draw_too():
    s = derive.solve({"kind": "softmax", "logits": {"draw": "integer", "low": 0, "high": 4, "shape": 3}})
    r = rng(0, "problem")
    assert s.problems if hasattr(s, "problems") else True
    assert s.problem.fields.logits == [int(v) for v in r.integers(0, 4, size=(3,), endpoint=True)]


def test_load_takes_variant_and_seed(tmp_path):
    spec = tmp_path / "d.yaml"
    spec.write_text(SOFTMAX.lstrip("\n"), encoding="utf-8")
    s = load(spec, Limits(), name="d.yaml", variant="s1", seed=2)
    assert (s.variant, s.seed, s.file) == ("s1", 2, "d.yaml")
    assert s.problems[0].variant == "s1"
    assert s.problems[0].fields.logits == exact(np.round(rng(2, "q1", "s1").uniform(-2, 2, size=(3,)), 1))
    with pytest.raises(SpecError, match="the seed must be zero or a positive whole number, got -1"):
        load(spec, Limits(), seed=-1)
