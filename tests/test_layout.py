"""A readable key at any size (SPEC §15): every spec of the project, and large ones, typeset with no overfull box
wider than 2pt in TeX's log and no word under 4pt high on the page — keys, question sheets and marked copies."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from layout import have_tex, overfull, tiny_words, typeset

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "problems").glob("*.yaml")) + sorted((ROOT / "tests" / "layout_specs").glob("*.yaml"))

pytestmark = pytest.mark.skipif(not have_tex(), reason="needs pdflatex and pdftotext")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Every spec built once with its question sheet (.tex and .json)."""
    out = tmp_path_factory.mktemp("layout")
    for spec in SPECS:
        result = run_cli("build", str(spec), "--no-pdf", "--questions", "-o", str(out))
        assert result.code == 0, result.err
    return {spec.stem: out for spec in SPECS}


def _check(tex: Path) -> None:
    log, pdf = typeset(tex)
    assert overfull(log) == [], tex.name
    assert tiny_words(pdf) == [], tex.name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.stem)
def test_key(built, spec):
    _check(built[spec.stem] / f"{spec.stem}.tex")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.stem)
def test_question_sheet(built, spec):
    tex = built[spec.stem] / f"{spec.stem}-questions.tex"
    _check(tex)
    given = [ln for ln in tex.read_text().splitlines() if ln.startswith((r"\fitmath", r"\par{\raggedright", r"\hangindent"))]
    assert not [ln for ln in given if re.search(r"\brandom\b", ln)]   # drawn values, never the word `random`


def wrong(value, count: bool):
    """A plausible wrong number for every number of an answer (a count off by 7)."""
    if isinstance(value, list):
        return [wrong(v, count) for v in value]
    if isinstance(value, dict):
        return {k: wrong(v, count) for k, v in value.items() if not isinstance(v, str)}
    if value is None:
        return None
    if count or isinstance(value, int):
        return int(value) + 7
    return float(f"{value * 1.37 + 0.0123:.4g}")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.stem)
def test_marked_copy_of_wrong_answers(built, spec, tmp_path):
    doc = json.loads((built[spec.stem] / f"{spec.stem}.json").read_text())
    answers = {p["id"]: {name: wrong(a["value"], isinstance(a["value"], int) or name.endswith(("params", "layers",
                                                                  "multiplications", "output_shape", "mask")))
                         for name, a in p["answers"].items()} for p in doc["problems"] if p["answers"]}
    path = tmp_path / f"{spec.stem}-wrong.yaml"
    path.write_text(yaml.safe_dump(answers))
    result = run_cli("check", str(spec), str(path), "--pdf", "-o", str(tmp_path))
    assert result.code == 1, result.err
    _check(tmp_path / f"{spec.stem}-wrong-marked.tex")
