"""`derive check`: the judging rule of SPEC §5, answer matching, the report, --json, bad answers files."""
from __future__ import annotations

import json
import textwrap

import pytest
import sympy

import derive
from derive.grading.judge import Given, Rule, judge, precision, read_given
from derive.kinds import KINDS
from derive.yamlsafe import Plain

SPEC = """
title: Check test
problems:
  - id: q1
    kind: softmax
    logits: [2.0, 1.0, 0.1]
  - id: q5
    kind: batch_norm
    x: [2, 4, 6, 8, 10]
    gamma: 2
    beta: 1
"""

NETWORK_SPEC = """
title: Counts
problems:
  - id: q9
    kind: network
    input: [28, 28, 192]
    layers:
      - {conv: 32, kernel: 3, padding: same}
  - id: d
    kind: network
    input: [28, 28, 192]
    designs:
      direct:
        - {conv: 32, kernel: 3, padding: same}
      bottleneck:
        - {conv: 16, kernel: 1}
        - {conv: 32, kernel: 3, padding: same}
"""

needs_network = pytest.mark.skipif("network" not in KINDS, reason="the network kind is not registered yet")


@pytest.fixture
def files(tmp_path):
    """`files(answers_yaml, spec=SPEC)` → (spec path, answers path)."""
    def write(answers: str, spec: str = SPEC) -> tuple[str, str]:
        spec_path = tmp_path / "spec.yaml"
        spec_path.write_text(textwrap.dedent(spec).lstrip(), encoding="utf-8")
        answers_path = tmp_path / "answers.yaml"
        answers_path.write_text(textwrap.dedent(answers).lstrip(), encoding="utf-8")
        return str(spec_path), str(answers_path)
    return write


def run_json(cli, spec: str, answers: str, *flags: str) -> tuple[int, dict]:
    result = cli("check", spec, answers, "--json", *flags)
    assert result.err == "", result.err
    return result.code, json.loads(result.out)


def first_mark(cli, files, answers: str, *flags: str, spec: str = SPEC) -> dict:
    code, report = run_json(cli, *files(answers, spec), *flags)
    mark = report["problems"][0]["answers"][0]
    assert code == (0 if mark["ok"] else 1)
    return mark


# ---- the judging rule's edges (SPEC §5): softmax 0.6590…, batch norm −1.828…, −0.4142… ------------------

@pytest.mark.parametrize("given, flags, ok", [
    ("0.66", (), True),
    ("0.659", (), True),
    ("0.6590", (), True),
    ("0.65", (), False),
    ("0.7", (), False),
    ("0.7", ("--min-digits", "1"), True),
    ("0.6620", (), True),        # 0.46 % off: right by rtol
    ("0.6657", (), False),       # 1.02 % off
    ("0.6620", ("--rtol", "0.001"), False),
    ("0.6657", ("--rtol", "0.02"), True),
    ("0.66", ("--min-digits", "3"), False),
    ("6.590e-1", (), True),
    ("65.90e-2", (), True),
])
def test_softmax_edges(cli, files, given, flags, ok):
    mark = first_mark(cli, files, f"q1:\n  probabilities: [{given}, 0.2424, 0.09857]\n", *flags)
    assert mark["name"] == "probabilities" and mark["index"] == [0]
    assert mark["ok"] is ok


@pytest.mark.parametrize("given, position, ok", [
    ("-2", 0, False),
    ("-1.83", 0, True),
    ("-1.8", 0, True),
    ("-1.9", 0, False),
    ("-0.41", 1, True),
    ("-0.4", 1, False),       # one significant digit
    ("-0.42", 1, False),
])
def test_batch_norm_edges(cli, files, given, position, ok):
    numbers = ["-1.828", "-0.4142", "1", "2.414", "3.828"]
    numbers[position] = given
    code, report = run_json(cli, *files(f"q5:\n  output: [{', '.join(numbers)}]\n"))
    marks = report["problems"][0]["answers"]
    assert [m["ok"] for m in marks] == [ok if i == position else True for i in range(5)]
    assert code == (0 if ok else 1)


@needs_network
def test_count_only_equality(cli, files):
    mark = first_mark(cli, files, "q9:\n  multiplications: 43352000\n", spec=NETWORK_SPEC)
    assert mark["ok"] is False and mark["expected"] == 43352064 and mark["given"] == 43352000
    mark = first_mark(cli, files, "q9:\n  multiplications: 43352064\n", spec=NETWORK_SPEC)
    assert mark["ok"] is True
    mark = first_mark(cli, files, "q9:\n  params: 55328\n", spec=NETWORK_SPEC)
    assert mark["ok"] is True and mark["expected"] == 55328


@needs_network
def test_output_shape_and_layers_entries(cli, files):
    code, report = run_json(cli, *files("q9:\n  output_shape: [28, 28, 32]\n"
                                        "  layers: [{output_shape: [28, 28, 32], params: 55328}]\n",
                                        NETWORK_SPEC))
    marks = report["problems"][0]["answers"]
    assert code == 0 and all(m["ok"] for m in marks)
    assert [m["index"] for m in marks][3:] == [[0, "output_shape", 0], [0, "output_shape", 1],
                                               [0, "output_shape", 2], [0, "params"]]


@needs_network
@pytest.mark.parametrize("answers", ["d:\n  direct.multiplications: 43352064\n  bottleneck.params: 7728\n",
                                     "d:\n  direct: {multiplications: 43352064}\n  bottleneck: {params: 7728}\n"])
def test_design_answers_flat_or_nested(cli, files, answers):
    code, report = run_json(cli, *files(answers, NETWORK_SPEC))
    marks = report["problems"][0]["answers"]
    assert [(m["name"], m["ok"]) for m in marks] == [("direct.multiplications", True), ("bottleneck.params", True)]
    assert code == 0


def test_judge_unit():
    """The rule on exact values directly: equality, rounding at the written decimals (ties right), rtol."""
    rule = Rule()
    assert judge(read_given(Plain("0.5")), sympy.Rational(1, 2), rule)          # equal, one digit
    assert judge(read_given("1/3"), sympy.Rational(1, 3), rule)                 # a fraction, exactly
    assert not judge(read_given("1/3"), sympy.Rational(333, 1000), rule)        # fractions: equality only
    assert judge(read_given(Plain("0.33")), sympy.Rational(1, 3), rule)
    assert not judge(read_given(Plain("0.3")), sympy.Rational(1, 3), rule)
    assert judge(read_given(Plain("0.25")), sympy.Rational(245, 1000), rule)    # a tie is right
    assert judge(read_given(Plain("0.24")), sympy.Rational(245, 1000), rule)
    assert judge(read_given(Plain("30")), sympy.Integer(30), rule)
    assert judge(read_given(Plain("30.2")), sympy.Integer(30), rule)            # rtol: 0.67 % off
    assert not judge(read_given(Plain("30.4")), sympy.Integer(30), rule)        # 1.3 % off
    assert not judge(read_given(Plain("30.2")), sympy.Integer(30), rule, count=True)
    assert not judge(read_given(Plain("30.2")), sympy.Integer(30), Rule(2, sympy.Rational(1, 1000)))
    assert judge(read_given(Plain("6.0")), sympy.Integer(6), rule)
    assert judge(read_given(0.66), sympy.exp(2) / (sympy.exp(2) + sympy.E + sympy.exp(sympy.Rational(1, 10))), rule)
    assert judge(Given("null", None), None, rule) and not judge(read_given(Plain("0")), None, rule)


@pytest.mark.parametrize("text, digits, decimals", [
    ("0.0099", 2, 4), ("-2", 1, 0), ("30.0", 3, 1), ("30", 2, 0), ("0.6590", 4, 4), (".5", 1, 1),
    ("1.5e3", 2, -2), ("43352000", 8, 0), ("-1.83", 3, 2)])
def test_significant_digits_counted_as_written(text, digits, decimals):
    assert precision(text) == (digits, decimals)


def test_integer_valued_answer_judged_as_a_number(cli, files):
    """A mean of 6 is not a count: 5.96 is within rtol (3 digits), 6.0 rounds to it."""
    code, report = run_json(cli, *files("q5:\n  mean: 5.96\n  variance: 8.0\n"))
    assert code == 0 and [m["ok"] for m in report["problems"][0]["answers"]] == [True, True]


def test_spec_check_block_and_flags_override(cli, files):
    spec = SPEC.replace("title: Check test", "title: Check test\ncheck: {min_digits: 1, rtol: 0.02}")
    assert first_mark(cli, files, "q1:\n  probabilities: [0.7, 0.2, 0.1]\n", spec=spec)["ok"] is True
    assert first_mark(cli, files, "q1:\n  probabilities: [0.6657, 0.2, 0.1]\n", spec=spec)["ok"] is True
    assert first_mark(cli, files, "q1:\n  probabilities: [0.7, 0.2, 0.1]\n", "--min-digits", "2",
                      spec=spec)["ok"] is False
    assert first_mark(cli, files, "q1:\n  probabilities: [0.6657, 0.2, 0.1]\n", "--rtol", "0.01",
                      spec=spec)["ok"] is False


# ---- matching, partial answers, the report --------------------------------------------------------

def test_partial_answers_and_json_shape(cli, files):
    code, report = run_json(cli, *files("q5:\n  variance: 8\n"))
    assert code == 0
    # SPEC §12 adds "carried" to every entry (false unless carried) and the count beside right and wrong
    assert report == {"problems": [{"id": "q5", "answers": [{"name": "variance", "index": [], "given": 8,
                                                            "expected": 8.0, "ok": True, "slip": None,
                                                            "carried": False}]}],
                      "right": 1, "wrong": 0, "carried": 0}


def test_row_major_matching_of_an_n_by_1_answer(cli, files):
    spec = "title: t\nproblems:\n  - id: b\n    kind: batch_norm\n    x: [[1], [2], [3], [4]]\n"
    code, report = run_json(cli, *files("b:\n  output: [-1.342, -0.4472, 0.4472, 1.342]\n", spec))
    marks = report["problems"][0]["answers"]
    assert code == 0 and [m["index"] for m in marks] == [[0, 0], [1, 0], [2, 0], [3, 0]]


def test_wrong_count_is_a_wrong_answer(cli, files):
    code, report = run_json(cli, *files("q1:\n  probabilities: [0.66, 0.24]\n"))
    assert code == 1 and report["wrong"] == 1 and report["right"] == 0
    mark = report["problems"][0]["answers"][0]
    assert mark["message"] == "expected 3 numbers, got 2" and mark["ok"] is False
    assert mark["given"] == [0.66, 0.24] and mark["index"] == []


def test_fraction_given_exactly(cli, files):
    spec = "title: t\nproblems:\n  - id: m\n    kind: batch_norm\n    x: [0, 1, 0]\n"
    code, report = run_json(cli, *files('m:\n  mean: "1/3"\n  variance: 2/9\n', spec))
    assert code == 0 and report["right"] == 2


def test_text_report(cli, files):
    result = cli("check", *files("q1:\n  probabilities: [0.66, 0.24, 0.0099]\nq5:\n  output: [0, 0.5, 1, 1.5, 2]\n"))
    assert result.code == 1 and result.err == ""
    lines = result.out.splitlines()
    assert lines[-1] == "3 right, 5 wrong"
    assert "  probabilities[0]        0.66  right  (exp(2)/(exp(1/10) + E + exp(2)) ≈ 0.6590)" in lines
    assert any(line.startswith("  probabilities[2]      0.0099  WRONG  expected") for line in lines)
    assert any("slip: the variance σ² used where the standard deviation" in line for line in lines)


def test_python_api(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(textwrap.dedent(SPEC), encoding="utf-8")
    report = derive.check(spec, {"q1": {"probabilities": [0.66, 0.24, 0.0986]}, "q5": {"mean": 6}})
    assert (report.right, report.wrong) == (4, 0)
    assert report.to_json()["right"] == 4 and [p.id for p in report.problems] == ["q1", "q5"]
    report = derive.check(derive.load(spec), {"q1": {"probabilities": [0.7, 0.24, 0.0986]}}, min_digits=1)
    assert report.wrong == 0
    report = derive.check(spec, {"q5": {"variance": 2.83}})
    assert report.wrong == 1 and "standard deviation" in report.problems[0].marks[0].slip


# ---- bad answers files: exact messages, exit status 2 ---------------------------------------------

@pytest.mark.parametrize("answers, message", [
    ("- 0.66\n- 0.24\n", "answers.yaml:1: expected a mapping of problem ids to answers, got a list"),
    ("q11:\n  probabilities: [0.66, 0.24, 0.1]\n",
     "answers.yaml:1: q11: unknown problem id (did you mean 'q1'?); the spec has q1, q5"),
    ("q1:\n  probabilites: [0.66, 0.24, 0.1]\n",
     "answers.yaml:2: q1.probabilites: unknown answer name (did you mean 'probabilities'?); q1 has probabilities"),
    ("q1:\n  probabilities: [0.66, abc, 0.1]\n", "answers.yaml:2: q1.probabilities[1]: expected a number, got 'abc'"),
    ("q1:\n  probabilities: [0.66, true, 0.1]\n",
     "answers.yaml:2: q1.probabilities[1]: expected a number, got the boolean 'true'"),
    ('q5:\n  mean: "six"\n', "answers.yaml:2: q5.mean: expected a number, got the string 'six' (a quoted string is a "
                             "number only as a fraction \"p/q\" or a closed form such as \"1 + sqrt(2)/2\": unknown "
                             "name 'six' (allowed: sqrt, exp, log, pi, e))"),
    ("q5:\n  mean: .nan\n", "answers.yaml:2: q5.mean: expected a finite number, got '.nan'"),
    ("q5: 6\n", "answers.yaml:1: q5: expected a mapping of answer names to numbers, got '6'"),
    ("q5:\n  mean: {a: 1}\n", "answers.yaml:2: q5.mean: expected a number, got a mapping"),
    ("q5:\n  output: [{a: 1}]\n", "answers.yaml:2: q5.output[0]: expected a number, got a mapping"),
    ("q5:\n  mean: !!python/object/apply:os.system [ls]\n",
     "answers.yaml:2: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed "
     "(no tags that build objects)"),
    ("q5:\n  mean: 6\n  mean: 7\n", "answers.yaml:3: q5.mean: duplicate key 'mean' (first given on line 2)"),
    ("q5: [6\n", "answers.yaml:1: YAML syntax error: did not find expected ',' or ']'"),
])
def test_bad_answers_file(cli, files, answers, message):
    spec, path = files(answers)
    result = cli("check", spec, path)
    assert result.code == 2
    assert result.out == ""
    assert result.err.replace(path, "answers.yaml").splitlines() == [message]


def test_alias_bomb_refused(cli, files):
    bomb = "a: &a [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
    for level, name in enumerate("bcdefg"):
        prev = "abcdefg"[level]
        bomb += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    spec, path = files(bomb)
    result = cli("check", spec, path)
    assert result.code == 2
    assert result.err.replace(path, "answers.yaml").strip().endswith(
        "alias bombs are refused")
    assert result.err.startswith(path + ":")


def test_every_bad_entry_reported_at_once(cli, files):
    spec, path = files("q1:\n  probabilites: [1]\nq7: {}\nq5:\n  mean: x\n")
    result = cli("check", spec, path)
    assert result.code == 2
    assert result.err.replace(path, "a.yaml").splitlines() == [
        "a.yaml:3: q7: unknown problem id; the spec has q1, q5",
        "a.yaml:2: q1.probabilites: unknown answer name (did you mean 'probabilities'?); q1 has probabilities",
        "a.yaml:5: q5.mean: expected a number, got 'x'",
    ]


def test_size_limits(cli, files):
    spec, path = files("q1:\n  probabilities: [0.66, 0.24, 0.0986]\n" + "# padding\n" * 40)
    result = cli("check", spec, path, "--limit", "spec_bytes=300")
    assert result.code == 2
    assert result.err.replace(path, "a.yaml").strip() == ("a.yaml: the file is 442 bytes, over the limit of 300 bytes "
                                                          "(limit 'spec_bytes')")
    spec, path = files("q1:\n  probabilities: [0.66, 0.24, 0.0986, 1]\n",
                       "title: t\nproblems:\n  - {id: q1, kind: softmax, logits: [2.0, 1.0, 0.1]}\n")
    result = cli("check", spec, path, "--limit", "numbers=3")
    assert result.code == 2
    assert result.err.replace(path, "a.yaml").strip() == (
        "a.yaml:2: q1.probabilities[3]: more than 3 numbers in one answers file (limit 'numbers')")


def test_bad_spec_and_flags(cli, files):
    spec, path = files("q1: {}\n", "title: t\n")
    result = cli("check", spec, path)
    assert result.code == 2 and result.err.strip().endswith("problems: required")
    spec, path = files("q1:\n  probabilities: [0.66, 0.24, 0.0986]\n")
    result = cli("check", spec, path, "--min-digits", "0")
    assert (result.code, result.err.strip()) == (2, "--min-digits must be a positive whole number, got 0")
    result = cli("check", spec, path, "--rtol", "-1")
    assert (result.code, result.err.strip()) == (2, "--rtol must be zero or positive, got -1")
    result = cli("check", spec, str(path) + ".missing")
    assert (result.code, result.err.strip()) == (2, f"{path}.missing: no such file")


def test_text_problem_has_nothing_to_check(cli, files):
    spec = "title: t\nproblems:\n  - {id: t1, kind: text, answer: Words.}\n"
    spec_path, path = files("t1:\n  answer: 1\n", spec)
    result = cli("check", spec_path, path)
    assert result.code == 2
    assert result.err.replace(path, "a.yaml").strip() == "a.yaml:1: t1: t1 (text) has no answers to check"


@needs_network
def test_rounded_count_is_named(cli, files):
    mark = first_mark(cli, files, "q9:\n  multiplications: 43352000\n", spec=NETWORK_SPEC)
    assert mark["slip"] == "a count or shape rounded: counts and shapes are right only when exact"
    mark = first_mark(cli, files, "q9:\n  multiplications: 43352071\n", spec=NETWORK_SPEC)
    assert mark["ok"] is False and mark["slip"] is None


# ---- the marked copy (--pdf) ------------------------------------------------------------------------

def test_marked_copy_tex(files):
    from derive.grading.marked import marked_tex
    spec, path = files("q1:\n  probabilities: [0.66, 0.24, 0.0099]\n"
                       "q5:\n  variance: 2.83\n  output: [0, 0.5, 1, 1.5, 2]\n")
    tex = marked_tex(derive.check(spec, path))
    assert r"\textbf{3 right, 6 wrong.}" in tex
    assert r"\textcolor{badred}{0.0099}" in tex and r"\okmark" in tex and r"\badmark" in tex
    assert r"slip: the standard deviation \ensuremath{\sigma} given where the variance" in tex
    assert r"slip: the same as above" in tex                 # a slip repeated on the next number is written once
    assert r"1 - 2 \sqrt{2} \approx -1.828" in tex
    assert "0.0099" in tex and "probabilities[2]" in tex


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="TeX is not installed")
def test_marked_copy_pdf(cli, files, tmp_path):
    spec, path = files("q5:\n  output: [-2, -1.5, -1, -0.5, 0]\n")
    out = tmp_path / "out"
    result = cli("check", spec, path, "--pdf", "-o", out)
    assert result.code == 1, result.err
    assert (out / "answers-marked.pdf").read_bytes()[:5] == b"%PDF-"
    assert result.out.splitlines()[-1] == f"wrote {out / 'answers-marked.pdf'}"
    assert sorted(p.name for p in out.iterdir()) == ["answers-marked.pdf", "answers-marked.tex"]
    result = cli("check", spec, path, "--pdf", "--json", "-o", out)
    assert json.loads(result.out)["wrong"] == 5 and result.err.strip() == f"wrote {out / 'answers-marked.pdf'}"


def test_marked_copy_without_tex(cli, files, tmp_path, monkeypatch):
    import derive.pdf
    monkeypatch.setattr(derive.pdf.shutil, "which", lambda name: None)
    spec, path = files("q5:\n  variance: 8\n")
    out = tmp_path / "out"
    result = cli("check", spec, path, "--pdf", "-o", out)
    assert result.code == 1
    assert result.out.splitlines()[-1] == "1 right, 0 wrong"
    assert result.err.startswith(f"{path}: the marked copy was not made: no TeX engine found")
    assert not any(out.iterdir())


WORKSHEET = __import__("pathlib").Path(__file__).resolve().parent.parent / "problems" / "worksheet.yaml"


@needs_network
def test_bundled_worksheet(cli, tmp_path):
    """The issue's edges on the worksheet itself: q1 (0.6590…), q5 (−1.828…, −0.4142…), q9 (43,352,064)."""
    answers = tmp_path / "answers.yaml"
    answers.write_text("q1:\n  probabilities: [0.659, 0.24, 0.0986]\nq5:\n  output: [-1.83, -0.41, 1, 2.41, 3.83]\n"
                       "q9:\n  direct.multiplications: 43352000\n", encoding="utf-8")
    code, report = run_json(cli, WORKSHEET, answers)
    assert code == 1 and (report["right"], report["wrong"]) == (8, 1)
    (bad,) = [m for p in report["problems"] for m in p["answers"] if not m["ok"]]
    assert (bad["name"], bad["given"], bad["expected"]) == ("direct.multiplications", 43352000, 43352064)
