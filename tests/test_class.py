"""A class at once (SPEC §12): 200 answer files in one process; the CSV rows equal per-file runs; the summary;
the class report PDF."""
from __future__ import annotations

import csv
import json
import random
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from derive.resources import resource

WORKSHEET = str(resource("problems/worksheet.yaml"))
CHOICES = [  # per problem: a right answer and slips
    ["q1:\n  probabilities: [0.659, 0.242, 0.0986]\n", "q1:\n  probabilities: [0.0659, 0.0242, 0.00986]\n"],
    ["q5:\n  mean: 6\n  variance: 8\n  output: [-1.828, -0.4142, 1, 2.414, 3.828]\n", "q5:\n  mean: 6\n  variance: 10\n",
     "q5:\n  mean: 6\n  variance: 8\n  output: [-2, -1.5, -1, -0.5, 0]\n"],
    ["q4:\n  params: 26\n", "q4:\n  params: 20\n"],
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """200 generated answer files with a mix of right answers and slips."""
    root = tmp_path_factory.mktemp("class")
    rng = random.Random(11)
    for i in range(200):
        (root / f"s{i:03d}.yaml").write_text("".join(rng.choice(options) for options in CHOICES))
    return root


def test_csv_rows_equal_per_file_runs(folder, tmp_path):
    result = run_cli("check", WORKSHEET, str(folder), "--csv", str(tmp_path / "class.csv"))
    assert result.code == 1, result.err
    rows = list(csv.DictReader((tmp_path / "class.csv").open()))
    assert len(rows) == 200 and list(rows[0]) == ["file", "variant", "right", "wrong", "carried", "score"]
    for row in rows[::20]:
        alone = json.loads(run_cli("check", WORKSHEET, row["file"], "--json").out)
        judged = alone["right"] + alone["wrong"]
        assert (int(row["right"]), int(row["wrong"]), int(row["carried"])) == (alone["right"], alone["wrong"],
                                                                               alone["carried"])
        assert row["score"] == f"{alone['right'] / judged:.4f}"
    assert result.out.strip().splitlines()[-1].endswith("carried)")
    assert "q1.probabilities:" in result.out and "power_of_ten ×" in result.out


def test_class_json(folder):
    report = json.loads(run_cli("check", WORKSHEET, str(folder), "--json").out)
    assert len(report["files"]) == 200 and report["files"][0]["file"].endswith("s000.yaml")
    assert set(report) == {"files", "summary", "right", "wrong", "carried"}
    assert report["right"] == sum(f["right"] for f in report["files"])
    shares = report["summary"]["answers"]["q5.variance"]
    assert 0 < shares["share"] < 1 and shares["slips"][0][0] == "population_sample"


def test_a_bad_file_is_reported_skipped_and_exits_2(folder, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("q1:\n  probabilites: [1]\n")
    result = run_cli("check", WORKSHEET, str(folder / "s000.yaml"), str(bad), "--csv", str(tmp_path / "c.csv"))
    assert result.code == 2
    assert f"{bad}:2: q1.probabilites: unknown answer name" in result.err
    assert len(list(csv.DictReader((tmp_path / "c.csv").open()))) == 1


@pytest.mark.skipif(not shutil.which("pdflatex"), reason="needs TeX")
def test_class_report_pdf(folder, tmp_path):
    few = tmp_path / "few"
    few.mkdir()
    for name in ("s000.yaml", "s001.yaml", "s002.yaml"):
        shutil.copy(folder / name, few / name)
    result = run_cli("check", WORKSHEET, str(few), "--pdf", "-o", str(tmp_path / "out"))
    assert result.code == 1, result.err
    assert (tmp_path / "out" / "class-report.pdf").exists()
    assert (tmp_path / "out" / "s000-marked.pdf").exists()
    assert "\\sharebar{" in (tmp_path / "out" / "class-report.tex").read_text()


DRAWN = """title: Drawn
seed: 3
problems:
  - id: s
    kind: softmax
    logits: {draw: uniform, low: -2, high: 2, decimals: 1, shape: [3]}
"""


def _right_answers(spec: Path, variant: str) -> str:
    """An answers file with the exact probabilities of one variant, to 6 significant digits."""
    from derive.engine import solve
    from derive.latex import decimal_text
    from derive.spec import load
    (p,) = load(spec, variant=variant).problems
    probs = solve(p).answers["probabilities"]
    return "s:\n  probabilities: [" + ", ".join(decimal_text(v, 6) for v in probs) + "]\n"


def test_a_variant_is_graded_against_its_own_draws(tmp_path):
    spec = tmp_path / "drawn.yaml"
    spec.write_text(DRAWN)
    answers = tmp_path / "a.yaml"
    answers.write_text("variant: v002\n" + _right_answers(spec, "v002"))
    assert run_cli("check", str(spec), str(answers)).code == 0
    assert run_cli("check", str(spec), str(answers), "--variant", "v001").code == 1      # the flag wins
    plain = tmp_path / "b.yaml"
    plain.write_text(_right_answers(spec, "v002"))
    assert run_cli("check", str(spec), str(plain)).code == 1                              # the spec as written
    assert run_cli("check", str(spec), str(plain), "--variant", "v002").code == 0
    result = run_cli("check", str(spec), str(answers), str(plain), "--csv", str(tmp_path / "c.csv"))
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert [r["variant"] for r in rows] == ["v002", ""] and result.code == 1
