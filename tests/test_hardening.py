"""Hostile input: every case exits 2 with file:line and writes nothing, or gives the right result; never a
traceback, a hang, unbounded memory, code execution or non-strict JSON."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli

SOFTMAX = "title: T\nproblems:\n  - {id: q, kind: softmax, logits: [1, 2]}\n"


@pytest.fixture
def here(tmp_path: Path, monkeypatch) -> Path:
    """Run from a fresh folder, so relative names and sentinel files stay inside it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def build_refused(here: Path, text: str) -> str:
    """Build spec.yaml; assert exit 2 and nothing written; return stderr's one message."""
    write(here / "spec.yaml", text)
    result = run_cli("build", "spec.yaml", "--no-pdf", "-o", "out")
    assert result.code == 2, result.err
    assert not (here / "out").exists()
    assert "Traceback" not in result.err
    return result.err.strip()


def check_refused(here: Path, answers: str, *flags: str) -> str:
    """Check answers.yaml against the softmax spec; assert exit 2, no report; return stderr."""
    write(here / "spec.yaml", SOFTMAX)
    (here / "answers.yaml").write_text(answers, encoding="utf-8")
    result = run_cli("check", "spec.yaml", "answers.yaml", *flags)
    assert result.code == 2, result.err
    assert result.out == ""
    return result.err.strip()


# ---- YAML structure -----------------------------------------------------------------------------

def test_recursive_alias_in_a_spec(here):
    err = build_refused(here, "title: T\nproblems: &a [1, *a]\n")
    assert err == "spec.yaml:2: alias *a refers to a value that contains it (a recursive structure)"


def test_recursive_alias_in_answers(here):
    err = check_refused(here, "q: &a\n  probabilities: *a\n")
    assert err == "answers.yaml:2: alias *a refers to a value that contains it (a recursive structure)"


def test_undefined_alias(here):
    assert check_refused(here, "q: *zz\n") == "answers.yaml:1: alias *zz has no anchor &zz before it"


@pytest.mark.parametrize("depth", [65, 600, 200_000])
def test_deep_nesting_in_a_spec(here, depth):
    text = "title: T\nproblems:\n  - id: q\n    kind: softmax\n    logits: " + "[" * depth + "1" + "]" * depth + "\n"
    assert build_refused(here, text) == "spec.yaml:5: values nested more than 64 levels deep"


def test_deep_block_nesting_in_answers(here):
    err = check_refused(here, "q:\n  probabilities:\n  " + "- " * 350 + "1\n")
    assert err == "answers.yaml:3: values nested more than 64 levels deep"


def test_nesting_at_the_bound_is_read(here):
    # 64 levels in all: the mapping, `problems`, one problem, and the rest nested lists
    deep = "[" * 61 + "1" + "]" * 61
    err = build_refused(here, f"title: T\nproblems:\n  - {{id: q, kind: softmax, logits: {deep}}}\n")
    assert "nested" not in err and err.startswith("spec.yaml:3: q.logits")


def test_two_documents(here):
    assert build_refused(here, "title: T\n---\ntitle: U\n") == \
        "spec.yaml:2: expected one YAML document, got more (remove the extra '---')"


def test_explicit_string_tag_is_text_not_a_plain_number(here):
    # `!!str` makes a string: read like a quoted one (a fraction or closed form, §13), never as plain YAML
    err = build_refused(here, "title: T\nproblems:\n  - {id: q, kind: softmax, logits: [1, !!str 0x10]}\n")
    assert err.startswith("spec.yaml:3: q.logits[1]: expected a number, got the string '0x10' (a quoted string")
    from derive.yamlsafe import Plain, read_yaml
    doc = read_yaml("a: !!str 8\nb: 8\n", "x.yaml")
    assert not isinstance(doc.data["a"], Plain) and isinstance(doc.data["b"], Plain)


def test_nul_filled_file_has_a_line(here):
    (here / "spec.yaml").write_bytes(b"title: T\nproblems:\n" + b"\0" * 3000)
    result = run_cli("build", "spec.yaml", "--no-pdf", "-o", "out")
    assert (result.code, result.err.strip()) == (2, "spec.yaml:3: the file holds a NUL byte: it is not a text file")


def test_control_character_has_a_line(here):
    err = build_refused(here, SOFTMAX + "\x01\n")
    assert err == "spec.yaml:4: YAML cannot hold the control character U+0001 (a binary file?)"


def test_big_image_meets_the_numbers_limit_not_the_alias_bomb(here):
    image = "[" + ", ".join(["[" + ", ".join(["1"] * 512) + "]"] * 512) + "]"
    err = build_refused(here, f"title: T\nproblems:\n  - id: q\n    kind: pool\n    size: 2\n    image: {image}\n")
    assert err.endswith("more than 100,000 numbers in one spec (limit 'numbers')")
    assert err.startswith("spec.yaml:6: q.image[195][160]:")


# ---- numbers ------------------------------------------------------------------------------------

def test_a_number_of_5000_digits(here):
    err = build_refused(here, "title: T\nproblems:\n  - {id: q, kind: softmax, logits: [1" + "1" * 5000 + ", 2]}\n")
    assert err == "spec.yaml:3: q.logits[0]: '1111111111111111111111111111111111111...' has more than 100 digits"


def test_a_fraction_of_5000_digits(here):
    err = build_refused(here, "title: T\nproblems:\n  - {id: q, kind: softmax, logits: [\"1/" + "3" * 5000 + "\"]}\n")
    assert err.endswith("has more than 100 digits")


@pytest.mark.parametrize("field, value, path, message", [
    ("softmax, logits: [1e400, 2, 3]", None, "q.logits[0]", "'1e400' is beyond float64's range"),
    ("batch_norm, x: [1, 2, 3], gamma: 1e400", None, "q.gamma", "'1e400' is beyond float64's range"),
    ("softmax, logits: [1, 2], temperature: 1e-400", None, "q.temperature", "'1e-400' is closer to 0 than"),
    ("dropout, activations: [1, 2], keep_prob: 1e-400", None, "q.keep_prob", "'1e-400' is closer to 0 than"),
    ("pool, size: 1, image: [[1e400]]", None, "q.image[0][0]", "'1e400' is beyond float64's range"),
    ("softmax, logits: [1e-400, 2]", None, "q.logits[0]", "'1e-400' is closer to 0 than"),
])
def test_numbers_beyond_float64_are_refused(here, field, value, path, message):
    err = build_refused(here, f"title: T\nproblems:\n  - {{id: q, kind: {field}}}\n")
    assert err.startswith(f"spec.yaml:3: {path}: {message}")


def test_learning_rate_beyond_float64(here):
    err = build_refused(here, """
        title: T
        problems:
          - id: q
            kind: backprop
            inputs: [[1]]
            targets: [[1]]
            loss: mse
            learning_rate: 1e400
            layers: [{weights: [[1]]}]
        """)
    assert err.startswith("spec.yaml:8: q.learning_rate: '1e400' is beyond float64's range")


def test_a_given_number_beyond_float64(here):
    err = check_refused(here, "q:\n  probabilities: [1e400, 0.5]\n", "--json")
    assert err.startswith("answers.yaml:2: q.probabilities[0]: '1e400' is beyond float64's range")


# ---- files --------------------------------------------------------------------------------------

def test_empty_file_name(here):
    result = run_cli("build", "", "--no-pdf", "-o", "out")
    assert (result.code, result.err.strip()) == (2, "'': no such file (the file name is empty)")


@pytest.mark.parametrize("command", ["build", "check-spec", "check-answers"])
def test_a_fifo_is_refused_without_blocking(here, command):
    os.mkfifo(here / "pipe.yaml")
    write(here / "spec.yaml", SOFTMAX)
    args = {"build": ["build", "pipe.yaml", "--no-pdf", "-o", "out"],
            "check-spec": ["check", "pipe.yaml", "spec.yaml"],
            "check-answers": ["check", "spec.yaml", "pipe.yaml"]}[command]
    result = run_cli(*args)
    assert (result.code, result.err.strip()) == (2, "pipe.yaml: cannot read: not a regular file (a pipe, socket "
                                                    "or device)")
    assert not (here / "out").exists()


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_before_reading(here, device):
    result = run_cli("build", device, "--no-pdf", "-o", "out")
    assert (result.code, result.err.strip()) == (2, f"{device}: cannot read: not a regular file (a pipe, "
                                                    "socket or device)")


def test_a_folder_is_refused(here):
    (here / "folder.yaml").mkdir()
    result = run_cli("build", "folder.yaml", "--no-pdf", "-o", "out")
    assert (result.code, result.err.strip()) == (2, "folder.yaml: cannot read: it is a folder")


# ---- limits -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("1e20", "VALUE must be a positive integer"),
    ("100000000000000000000", "VALUE must be at most 10,000,000"),
    ("9" * 5000, "VALUE must be a positive integer"),
])
def test_huge_limits_are_refused(here, value, message):
    result = run_cli("build", "--no-pdf", "-o", "out", "--limit", f"seconds={value}")
    assert result.code == 2
    assert result.err.strip().endswith(message)
    assert not (here / "out").exists()


def test_the_time_limit_covers_json(here, monkeypatch):
    import time

    import derive.jsonout as jsonout
    real = jsonout._problem_json
    monkeypatch.setattr(jsonout, "_problem_json", lambda s: (time.sleep(1.5), real(s))[1])
    write(here / "spec.yaml", SOFTMAX)
    result = run_cli("build", "spec.yaml", "--no-pdf", "-o", "out", "--limit", "seconds=1")
    assert (result.code, result.err.strip()) == (2, "spec.yaml:3: q: derivation took longer than 1 s (limit "
                                                    "'seconds')")
    assert not (here / "out").exists()


# ---- no code from a spec is ever run ------------------------------------------------------------

HOSTILE_NAME = "__import__('os').system('touch PWNED')"


def test_a_layer_name_is_never_evaluated(here, monkeypatch):
    import sympy

    import sys
    real = sympy.sympify

    def refuse_text(a, *args, **kwargs):
        if isinstance(a, (str, dict, list)):
            raise AssertionError(f"sympify was called on {a!r}")
        return real(a, *args, **kwargs)
    for module in (sympy, sys.modules["sympy.core.sympify"], sys.modules["sympy.core.evalf"]):
        monkeypatch.setattr(module, "sympify", refuse_text)
    write(here / "spec.yaml", f"""
        title: T
        problems:
          - id: n
            kind: network
            input: [4]
            layers:
              - {{dense: 3, name: "{HOSTILE_NAME}"}}
        """)
    write(here / "answers.yaml", "n: {layers: 1}\n")
    from derive.grading.marked import marked_tex
    from derive.grading.run import check
    report = check("spec.yaml", "answers.yaml")
    tex = marked_tex(report)
    assert "PWNED" in tex and not (here / "PWNED").exists()
    assert r"\_\_import\_\_" in tex


@pytest.mark.skipif(not __import__("shutil").which("pdflatex"), reason="needs TeX")
def test_check_pdf_of_a_hostile_layer_name_runs_nothing(here):
    write(here / "spec.yaml", f"""
        title: T
        problems:
          - id: n
            kind: network
            input: [4]
            layers:
              - {{dense: 3, name: "{HOSTILE_NAME}"}}
        """)
    write(here / "answers.yaml", "n: {layers: 1}\n")
    result = run_cli("check", "spec.yaml", "answers.yaml", "--pdf", "-o", "out")
    assert result.code == 1, result.err
    assert "expected 3 numbers, got 1" in result.out
    assert (here / "out" / "answers-marked.pdf").exists()
    assert not (here / "PWNED").exists()


@pytest.mark.skipif(not __import__("shutil").which("pdflatex"), reason="needs TeX")
def test_worksheet_layers_count_marked_copy(here):
    write(here / "answers.yaml", "q4: {layers: 26}\n")
    from derive.resources import resource
    result = run_cli("check", str(resource("problems/worksheet.yaml")), "answers.yaml", "--pdf", "-o", "out")
    assert result.code == 1, result.err
    assert (here / "out" / "answers-marked.pdf").exists()


# ---- strict JSON --------------------------------------------------------------------------------

def test_json_is_strict_for_values_beyond_float64(here):
    from derive.jsonout import dumps, value_json
    import sympy
    huge = sympy.Integer(10) ** 400
    assert value_json([huge, -huge, sympy.Rational(1, 3)]) == [None, None, 1 / 3]
    with pytest.raises(ValueError):
        dumps({"x": float("inf")})


def test_check_json_is_strict(here):
    write(here / "spec.yaml", SOFTMAX)
    write(here / "answers.yaml", "q:\n  probabilities: [0.2689, 0.7311]\n")
    result = run_cli("check", "spec.yaml", "answers.yaml", "--json")
    assert result.code == 0
    json.loads(result.out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
