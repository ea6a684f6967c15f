"""`derive build`: outputs, JSON, PDF, the question sheet, failures that leave old outputs alone."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import derive
from derive import pdf as pdfmod

HAVE_TEX = shutil.which("latexmk") is not None or shutil.which("pdflatex") is not None
SPEC = """
title: Test sheet — keys
course: CS 1
problems:
  - id: q1
    kind: softmax
    title: Softmax
    statement: Convert the logits $z$ into probabilities.
    logits: [2.0, 1.0, 0.1]
  - id: q5
    kind: batch_norm
    title: Batch norm
    x: [2, 4, 6, 8, 10]
    gamma: 2
    beta: 1
"""


def test_json_follows_spec_section_4(cli, spec_file, tmp_path):
    spec = spec_file(SPEC)
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "out")
    assert result.code == 0, result.err
    data = json.loads((tmp_path / "out" / "spec.json").read_text())
    assert data["title"] == "Test sheet — keys"
    q1, q5 = data["problems"]
    assert (q1["id"], q1["kind"]) == ("q1", "softmax")
    probs = q1["answers"]["probabilities"]
    assert probs["value"] == pytest.approx([0.6590011388859679, 0.24243297070471392, 0.09856589040931817], rel=1e-15)
    import sympy
    exact = [sympy.sympify(e) for e in probs["exact"]]   # the test may sympify our own output
    assert float(exact[0]) == pytest.approx(0.6590011388859679, rel=1e-15)
    assert q5["answers"]["mean"] == {"value": 6.0, "exact": "6"}
    assert q5["answers"]["output"]["exact"][0] == "1 - 2*sqrt(2)"
    assert not (tmp_path / "out" / "spec.pdf").exists()


def test_build_is_deterministic(cli, spec_file, tmp_path):
    spec = spec_file(SPEC)
    cli("build", spec, "--no-pdf", "-o", tmp_path / "a")
    cli("build", spec, "--no-pdf", "-o", tmp_path / "b")
    for name in ("spec.tex", "spec.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_no_spec_builds_the_bundled_worksheet(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("build", "--no-pdf")
    assert result.code == 0, result.err
    data = json.loads(Path("build/worksheet.json").read_text())
    ids = [p["id"] for p in data["problems"]]
    assert {"q1", "q5", "q6", "q8"} <= set(ids)
    assert Path("build/worksheet.tex").exists()


def test_questions_sheet_has_no_solutions(cli, spec_file, tmp_path):
    spec = spec_file(SPEC)
    assert cli("build", spec, "--no-pdf", "--questions", "-o", tmp_path / "o").code == 0
    questions = (tmp_path / "o" / "spec-questions.tex").read_text()
    assert "Convert the logits" in questions
    assert "Solution" not in questions and "Answers" not in questions
    assert "Solution" in (tmp_path / "o" / "spec.tex").read_text()


@pytest.mark.skipif(not HAVE_TEX, reason="TeX Live is not installed")
def test_pdf_text_has_headings_and_numbers(cli, spec_file, tmp_path):
    spec = spec_file(SPEC)
    result = cli("build", spec, "--questions", "-o", tmp_path / "o")
    assert result.code == 0, result.err
    text = subprocess.run(["pdftotext", "-layout", tmp_path / "o" / "spec.pdf", "-"], capture_output=True,
                          text=True, check=True).stdout
    for expected in ("Test sheet", "q1", "Softmax", "q5", "Batch norm", "0.6590", "0.2424", "0.09857", "−1.828",
                     "Answers", "Checked"):
        assert expected in text.replace("-1.828", "−1.828"), expected
    assert (tmp_path / "o" / "spec-questions.pdf").exists()


@pytest.mark.skipif(not HAVE_TEX, reason="TeX Live is not installed")
def test_bundled_worksheet_pdf(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("build")
    assert result.code == 0, result.err
    text = subprocess.run(["pdftotext", "build/worksheet.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Deep Learning Worksheet" in text
    assert "0.6590" in text and "2.414" in text


def test_missing_tex_still_writes_tex_and_json(cli, spec_file, tmp_path, monkeypatch):
    monkeypatch.setattr(pdfmod.shutil, "which", lambda name: None)
    spec = spec_file(SPEC)
    result = cli("build", spec, "-o", tmp_path / "o")
    assert result.code == 1
    assert "no TeX engine found (latexmk or pdflatex): the PDF was not made" in result.err
    assert (tmp_path / "o" / "spec.tex").exists() and (tmp_path / "o" / "spec.json").exists()
    assert not (tmp_path / "o" / "spec.pdf").exists()


def test_failed_tex_leaves_previous_outputs(cli, spec_file, tmp_path, monkeypatch):
    spec = spec_file(SPEC)
    out = tmp_path / "o"
    assert cli("build", spec, "--no-pdf", "-o", out).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "spec.json").write_text("old")
    before["spec.json"] = b"old"
    monkeypatch.setattr(pdfmod, "command", lambda name: ["false"])
    result = cli("build", spec, "-o", out)
    assert result.code == 1
    assert "build failed: TeX failed on spec.tex" in result.err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_unwritable_output_folder(cli, spec_file, tmp_path):
    spec = spec_file(SPEC)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli("build", spec, "--no-pdf", "-o", blocker / "out")
    assert result.code == 1
    assert f"build failed: cannot write to {blocker / 'out'}" in result.err


def test_missing_spec_file(cli, tmp_path):
    result = cli("build", tmp_path / "nope.yaml", "--no-pdf", "-o", tmp_path)
    assert result.code == 2
    assert result.err.strip() == f"{tmp_path / 'nope.yaml'}: no such file"


def test_tex_runs_without_shell_escape_and_confined():
    env = pdfmod.tex_env()
    assert env["openin_any"] == "p" and env["openout_any"] == "p" and env["shell_escape"] == "f"
    if HAVE_TEX:
        assert any("-no-shell-escape" in part for part in pdfmod.command("x.tex"))


def test_python_api_and_jupyter():
    sheet = derive.load(Path(__file__).parents[1] / "problems" / "worksheet.yaml")
    assert sheet.title.startswith("Deep Learning Worksheet")
    s = derive.solve({"kind": "softmax", "logits": [2.0, 1.0, 0.1]})
    latex = s._repr_latex_()
    assert latex.startswith("$$") and r"\boxed" in latex and "0.6590" in latex
    assert "probabilities" in s.answers and s.steps
    assert s.problem.id == "problem"
    assert r"\section*" in s.to_latex()


def test_the_command_exits_quickly_with_its_output_flushed_and_its_status(tmp_path):
    import sys
    from derive.cli import QUICK_EXIT
    assert "variants" not in QUICK_EXIT            # it may own worker processes: the usual exit
    (tmp_path / "bad.yaml").write_text("title: T\nproblems:\n  - id: a\n    kind: softmax\n    logits: [1, x]\n")
    for args, code, stream, text in [
            (["build", "--no-pdf", "-o", "out"], 0, "stdout", "12 problems solved and checked; wrote out/worksheet.tex"),
            (["build", "bad.yaml", "--no-pdf", "-o", "out"], 2, "stderr", "bad.yaml:5: a.logits[1]: expected a number")]:
        run = subprocess.run([sys.executable, "-m", "derive.cli", *args], cwd=tmp_path, capture_output=True, text=True)
        assert run.returncode == code and text in getattr(run, stream)
