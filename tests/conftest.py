"""Shared test helpers: run the CLI in-process, write spec files."""
from __future__ import annotations

import contextlib
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str) -> Result:
    """Run `derive ARGS…` in-process and capture its exit status and output."""
    from derive.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 2
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    """`cli("build", spec, "--no-pdf", "-o", out)` → Result(code, out, err)."""
    return run_cli


@pytest.fixture
def spec_file(tmp_path: Path):
    """`spec_file(yaml_text, name="spec.yaml")` writes a dedented spec into tmp_path and returns its path."""
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return write


@pytest.fixture
def bad_spec(tmp_path: Path, monkeypatch):
    """`bad_spec(yaml_text, *flags)` builds spec.yaml from tmp_path, asserts exit 2 and that nothing was
    written, and returns the stripped stderr (messages name the file as `spec.yaml`)."""
    def build(text: str, *flags: str) -> str:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "spec.yaml").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        result = run_cli("build", "spec.yaml", "--no-pdf", "-o", "out", *flags)
        assert result.code == 2, result.err
        assert not (tmp_path / "out").exists()
        return result.err.strip()
    return build
