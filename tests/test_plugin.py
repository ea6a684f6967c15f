"""The example plugin, installed into an isolated site folder: `derive kinds` lists it, `derive build` builds its
spec end to end, `derive check` names its slip, the kind contract holds, and its own tests pass."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "derive-kind-sigmoid-neuron"


def run(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python ARGS…` with the isolated site folder first on the path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    return subprocess.run([sys.executable, *args], cwd=cwd or site, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example plugin installed (no dependencies, no network) into a fresh folder."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("source") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source)    # setuptools writes build/ and egg-info beside the sources: not in the repo
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                             "--target", str(target), str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return target


def test_listed_by_derive_kinds(site):
    result = run(site, "-m", "derive.cli", "kinds", "--json")
    assert result.returncode == 0, result.stderr
    kinds = {k["name"]: k for k in json.loads(result.stdout)["kinds"]}
    plugin = kinds["sigmoid_neuron"]
    assert plugin["package"] == "derive-kind-sigmoid-neuron"
    assert plugin["answers"] == ["z", "a", "loss", "grad_z", "grad_w", "grad_b", "grad_x"]
    assert {"name": "b", "required": False, "default": 0} in plugin["fields"]
    assert kinds["softmax"]["package"] == "derive"


def test_builds_its_example_end_to_end(site, tmp_path):
    result = run(site, "-m", "derive.cli", "build", str(EXAMPLE / "example.yaml"), "--no-pdf", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "example.json").read_text())
    answers = doc["problems"][0]["answers"]
    assert doc["problems"][0]["kind"] == "sigmoid_neuron"
    assert abs(answers["a"]["value"] - 0.52497918747894) < 1e-12
    assert "\\section*{n1" in (tmp_path / "example.tex").read_text()


def test_its_slip_is_named(site):
    result = run(site, "-m", "derive.cli", "check", str(EXAMPLE / "example.yaml"), str(EXAMPLE / "slipped.yaml"),
                 "--json")
    assert result.returncode == 1, result.stderr
    marks = json.loads(result.stdout)["problems"][0]["answers"]
    assert [m["slip"].split(" (that gives")[0] for m in marks] == [
        "the sigmoid's derivative a(1 − a) left out of the chain rule"] * 2


def test_the_kind_contract_holds(site):
    result = run(site, "-m", "derive.contract", "sigmoid_neuron")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("1 kinds checked, 0 failures")


def test_its_own_tests_pass(site):
    result = run(site, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests"), cwd=EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_kind_declared_twice_names_both_distributions(tmp_path):
    info = tmp_path / "other_kinds-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other-kinds\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[derive.kinds]\nsoftmax = other_kinds:KIND\n")
    result = run(tmp_path, "-m", "derive.cli", "kinds")
    assert result.returncode == 2
    assert result.stderr.strip() == ("derive: kind 'softmax' is declared twice: by derive (derive.kinds.softmax:KIND) "
                                     "and by other-kinds (other_kinds:KIND); uninstall one")
