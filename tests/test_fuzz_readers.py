"""Fuzz the spec and answers readers: whatever the text, exit 0 with strict JSON, or exit 2 with file:line."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli

SEEDS = [
    "title: T\nproblems:\n  - {id: q, kind: softmax, logits: [2.0, 1.0, 0.1], target: 0}\n",
    "title: T\nproblems:\n  - id: b\n    kind: batch_norm\n    x: [[1, 2], [3, 5], [4, 1]]\n    eps: 0.1\n",
    "title: T\nproblems:\n  - {id: c, kind: conv2d, image: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel: [[1, 0], [0, -1]]}\n",
    "title: T\nproblems:\n  - id: f\n    kind: forward\n    input: [1, 2]\n    layers:\n"
    "      - {weights: [[0.5, -1], [2, 0.25]], bias: [0, 1], activation: relu}\n",
    "title: T\nproblems:\n  - id: n\n    kind: network\n    input: [8, 8, 3]\n    layers:\n"
    "      - {conv: 4, kernel: 3}\n      - {maxpool: 2}\n      - {flatten: true}\n      - {dense: 2}\n",
]
ALPHABET = list("[]{},:-'\"&*!|>#%@`?\n 0123456789.eE+/abcxyz_") + ["\t", "\0", "\u00e9", "1e400", "!!str ", "&a ", "*a"]
LOCATED = re.compile(r"^[^\n]+:\d+: ")
FIELDS = ["id", "kind", "logits", "target", "x", "layers", "image", "kernel", "input", "weights", "bias", "title",
          "problems", "size", "stride", "eps", "keep_prob", "units", "activation", "dense", "conv"]
SCALARS = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.none(), st.text(max_size=12),
                    st.sampled_from(["softmax", "network", "conv2d", "relu", "random", "1/3", "1e-5", "q1"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)), max_leaves=20)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A seed spec with a few characters inserted, deleted or replaced."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(ALPHABET))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
        else:
            text = text[:at] + piece + text[at + 1:]
    return text


@st.composite
def structured(draw: st.DrawFn) -> str:
    """A spec-shaped mapping with random values, dumped as YAML."""
    problem = draw(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=5))
    problem.setdefault("id", "q")
    problem.setdefault("kind", draw(st.sampled_from(["softmax", "network", "pool", "dropout", "batch_norm"])))
    return yaml.safe_dump({"title": "T", "problems": [problem]}, allow_unicode=True)


def assert_outcome(result, out: Path, name: str) -> None:
    """Exit 0 with strict JSON, or exit 2 with every message located as file:line; never a traceback."""
    assert "Traceback" not in result.err, result.err
    if result.code == 0:
        text = (out / f"{name}.json").read_text(encoding="utf-8")
        json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(f"non-strict JSON {c}")))
        return
    assert result.code == 2, (result.code, result.err)
    for line in result.err.strip().splitlines():
        assert LOCATED.match(line), line
    assert not out.exists()


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@FUZZ
@given(text=st.one_of(mutated(), structured()))
def test_spec_reader(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "spec.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    out = folder / "out"
    result = run_cli("build", str(folder / "spec.yaml"), "--no-pdf", "-o", str(out),
                     "--limit", "seconds=20")
    assert_outcome(result, out, "spec")
    shutil.rmtree(folder)


ANSWER_SEED = "q:\n  probabilities: [0.66, 0.24, 0.099]\n  loss: 0.417\n  grad_logits: [-0.34, 0.24, 0.099]\n"


@st.composite
def answers(draw: st.DrawFn) -> str:
    """An answers file: the seed mutated, or random values under the softmax answers' names."""
    if draw(st.booleans()):
        text = ANSWER_SEED
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(ALPHABET)) + text[at + draw(st.integers(0, 2)):]
        return text
    names = st.sampled_from(["probabilities", "loss", "grad_logits", "output", "q"])
    body = draw(st.dictionaries(names, VALUES, max_size=3))
    return yaml.safe_dump({draw(st.sampled_from(["q", "r", "1"])): body}, allow_unicode=True)


@FUZZ
@given(text=answers())
def test_answers_reader(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "spec.yaml").write_text(SEEDS[0], encoding="utf-8")
    (folder / "answers.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    result = run_cli("check", str(folder / "spec.yaml"), str(folder / "answers.yaml"), "--json")
    assert "Traceback" not in result.err, result.err
    if result.code in (0, 1):
        report = json.loads(result.out, parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(c)))
        assert report["right"] + report["wrong"] == sum(len(p["answers"]) for p in report["problems"])
    else:
        assert result.code == 2, (result.code, result.err)
        for line in result.err.strip().splitlines():
            assert LOCATED.match(line), line
    shutil.rmtree(folder)
