"""Bad specs: one exact message per bad problem, exit status 2, previous outputs untouched (SPEC §6)."""
import os
import time
from pathlib import Path

import pytest

GOOD = """
title: T
problems:
  - id: q1
    kind: softmax
    logits: [2.0, 1.0, 0.1]
"""


@pytest.fixture
def previous(tmp_path, cli, spec_file, monkeypatch):
    """A good build already in out/, to prove a failed build leaves it alone (run from tmp_path)."""
    monkeypatch.chdir(tmp_path)
    out = Path("out")
    spec = spec_file(GOOD, "spec.yaml")
    assert cli("build", spec, "--no-pdf", "-o", out).code == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    time.sleep(0.01)
    return out, before


def build_bad(cli, spec_file, previous, text, raw=False):
    out, before = previous
    path = Path(spec_file(text, "spec.yaml").name) if not raw else raw
    result = cli("build", path, "--no-pdf", "-o", out)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert after == before, "a failed build changed the previous outputs"
    return result


CASES = [
    ("syntax", "title: T\nproblems:\n  - id: q1\n    kind: softmax\n    logits: [1, 2\n",
     "spec.yaml:5: YAML syntax error: did not find expected ',' or ']'"),
    ("tab", "title: T\nproblems:\n\t- id: q1\n", "spec.yaml:3: tab characters cannot indent YAML; indent with spaces"),
    ("duplicate", "title: T\nproblems:\n  - id: q1\n    kind: softmax\n    logits: [1, 2]\n    logits: [3]\n",
     "spec.yaml:6: q1.logits: duplicate key 'logits' (first given on line 5)"),
    ("unknown kind", "title: T\nproblems:\n  - id: q1\n    kind: sofmax\n    logits: [1, 2]\n",
     "spec.yaml:4: q1.kind: unknown kind 'sofmax' (did you mean 'softmax'?)"),
    ("unknown field", "title: T\nproblems:\n  - id: q1\n    kind: softmax\n    logitz: [1, 2]\n",
     "spec.yaml:5: q1.logitz: unknown field for kind softmax (did you mean 'logits'?)"),
    ("empty logits", "title: T\nproblems:\n  - id: q1\n    kind: softmax\n    logits: []\n",
     "spec.yaml:5: q1.logits: expected a non-empty list of numbers, got []"),
    ("yes", "title: T\nproblems:\n  - id: q1\n    kind: softmax\n    logits: [1, yes, 3]\n",
     "spec.yaml:5: q1.logits[1]: expected a number, got the boolean 'yes'"),
    ("code string", "title: T\nproblems:\n  - id: q5\n    kind: batch_norm\n    x: [1, 2]\n"
     "    gamma: \"__import__('os').system('touch /tmp/derive-pwned')\"\n",
     "spec.yaml:6: q5.gamma: expected a number, got the string \"__import__('os').system('touch /tmp/derive-pwned')\" "
     "(a quoted string is a number only as a fraction \"p/q\" or a closed form such as \"1 + sqrt(2)/2\": "
     "'__import__' is not allowed: a closed form is parsed, never run as code)"),
    ("negative eps", "title: T\nproblems:\n  - id: q5\n    kind: batch_norm\n    x: [1, 2]\n    eps: -1\n",
     "spec.yaml:6: q5.eps: must be zero or positive, got -1"),
    ("missing title", "problems:\n  - id: q1\n    kind: text\n    answer: hi\n", "spec.yaml:1: title: required"),
    ("top-level list", "- id: q1\n", "spec.yaml:1: expected a mapping with 'title' and 'problems' at the top, got a list"),
    ("math command", "title: T\nproblems:\n  - id: q1\n    kind: text\n    statement: 'see $\\input{/etc/passwd}$'\n"
     "    answer: hi\n", "spec.yaml:5: q1.statement: \\input is not allowed in math"),
    ("caret caret", "title: T\nproblems:\n  - id: q1\n    kind: text\n    statement: 'see $^^5cinput$'\n"
     "    answer: hi\n", "spec.yaml:5: q1.statement: '^^' is not allowed in math"),
    ("yaml tag", "title: T\nproblems:\n  - !!python/object/apply:os.system ['touch /tmp/derive-pwned']\n",
     "spec.yaml:3: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("zero variance", "title: T\nproblems:\n  - id: q5\n    kind: batch_norm\n    x: [3, 3, 3]\n",
     "spec.yaml:5: q5.x: the batch has zero variance and eps is 0"),
    ("duplicate id", "title: T\nproblems:\n  - {id: a, kind: text, answer: x}\n  - {id: a, kind: text, answer: y}\n",
     "spec.yaml:4: a.id: duplicate id 'a' (first used on line 3)"),
    ("bad id", "title: T\nproblems:\n  - {id: 'a b', kind: text, answer: x}\n",
     "spec.yaml:3: problems[0].id: id 'a b' must use only letters, digits, '_' and '-'"),
    ("target range", "title: T\nproblems:\n  - id: q1\n    kind: softmax\n    logits: [1, 2]\n    target: 2\n",
     "spec.yaml:6: q1.target: class index 2 is out of range: there are 2 classes, 0 to 1"),
    ("hex", "title: T\nproblems:\n  - id: q1\n    kind: softmax\n    logits: [0x1F, 2]\n",
     "spec.yaml:5: q1.logits[0]: '0x1F' is not a decimal number"),
]


@pytest.mark.parametrize("name, text, message", CASES, ids=[c[0] for c in CASES])
def test_bad_spec(name, text, message, cli, spec_file, previous):
    result = build_bad(cli, spec_file, previous, text)
    assert result.code == 2
    assert result.err.startswith(message)
    assert len(result.err.splitlines()) == 1
    assert not Path("/tmp/derive-pwned").exists()


def test_duplicate_id_is_reported_even_when_the_first_is_bad(cli, spec_file, previous):
    text = "title: T\nproblems:\n  - {id: a, kind: softmax, logits: [1, yes]}\n  - {id: a, kind: softmax, logits: [1, 3]}\n"
    result = build_bad(cli, spec_file, previous, text)
    assert result.err.splitlines() == ["spec.yaml:3: a.logits[1]: expected a number, got the boolean 'yes'",
                                       "spec.yaml:4: a.id: duplicate id 'a' (first used on line 3)"]


def test_every_bad_problem_is_reported(cli, spec_file, previous):
    text = ("title: T\nproblems:\n  - {id: a, kind: sofmax, logits: [1]}\n  - {id: b, kind: softmax, logits: []}\n"
            "  - {id: c, kind: softmax, logits: [1, 2]}\n  - {id: d, kind: batch_norm, x: [1, 2], eps: -1}\n")
    result = build_bad(cli, spec_file, previous, text)
    assert result.code == 2
    assert result.err.splitlines() == [
        "spec.yaml:3: a.kind: unknown kind 'sofmax' (did you mean 'softmax'?); kinds: " + ", ".join(_kinds()),
        "spec.yaml:4: b.logits: expected a non-empty list of numbers, got []",
        "spec.yaml:6: d.eps: must be zero or positive, got -1",
    ]


def _kinds():
    from derive.kinds import KINDS
    return list(KINDS)


def test_alias_bomb_is_refused_quickly(cli, spec_file, previous):
    lines = ["title: T", "a: &a [1,1,1,1,1,1,1,1,1,1]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    lines += ["problems:", "  - {id: q1, kind: softmax, logits: *i}"]
    start = time.perf_counter()
    result = build_bad(cli, spec_file, previous, "\n".join(lines) + "\n")
    assert time.perf_counter() - start < 10
    assert result.code == 2
    assert "alias bombs are refused" in result.err


def test_ten_megabyte_spec_is_refused(cli, tmp_path, previous):
    path = tmp_path / "big.yaml"
    path.write_text("title: T\nproblems:\n  - {id: q1, kind: softmax, logits: [" + ", ".join(["1"] * 3_500_000) + "]}\n")
    assert path.stat().st_size > 10 * 2**20
    result = build_bad(cli, None, previous, None, raw=path)
    assert result.code == 2
    size = path.stat().st_size / 2**20
    assert result.err.strip() == f"{path}: the file is {size:.2f} MiB, over the limit of 1 MiB (limit 'spec_bytes')"


def test_small_spec_byte_limit_is_named_in_bytes(cli, spec_file, tmp_path):
    spec = spec_file("title: T\nproblems:\n  - {id: q1, kind: text, answer: hi}\n")
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "o", "--limit", "spec_bytes=10")
    assert result.code == 2
    assert result.err.strip() == f"{spec}: the file is {spec.stat().st_size} bytes, over the limit of 10 bytes (limit 'spec_bytes')"


def test_limit_flag_changes_a_limit(cli, tmp_path, spec_file):
    spec = spec_file("title: T\nproblems:\n  - {id: q1, kind: softmax, logits: [1, 2, 3, 4]}\n")
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "o", "--limit", "matrix_side=3")
    assert result.code == 2
    assert "spec.yaml:3: q1.logits: 4 entries is more than the limit of 3 (limit 'matrix_side')" in result.err
    assert cli("build", spec, "--no-pdf", "-o", tmp_path / "o", "--limit", "nope=3").code == 2


def test_number_count_limit(cli, tmp_path, spec_file):
    spec = spec_file("title: T\nproblems:\n  - {id: q1, kind: softmax, logits: [1, 2, 3, 4]}\n")
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "o", "--limit", "numbers=3")
    assert result.code == 2
    assert "q1.logits[3]: more than 3 numbers in one spec (limit 'numbers')" in result.err


def test_statement_with_tex_commands_is_typeset_literally(cli, tmp_path, spec_file):
    marker = tmp_path / "pwned"
    spec = spec_file("title: T\nproblems:\n  - id: q1\n    kind: text\n"
                     f"    statement: 'Read \\input{{/etc/passwd}} and \\write18{{touch {marker}}} now'\n"
                     "    answer: ok\n")
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "o")
    assert result.code == 0, result.err
    tex = (tmp_path / "o" / "spec.tex").read_text()
    assert r"\textbackslash{}input\{/etc/passwd\}" in tex
    assert r"\textbackslash{}write18\{touch" in tex
    assert "\\input{/etc" not in tex and "\\write18{" not in tex
    assert not marker.exists()
