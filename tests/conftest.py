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
