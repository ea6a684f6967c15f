"""TeX to PDF with latexmk/pdflatex: shell escape off, file access confined to the build folder."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from .errors import BuildError

TIMEOUT = 180  # seconds for one TeX run
INSTALL_HINT = ("install TeX Live (Debian: apt-get install latexmk texlive-latex-recommended texlive-pictures "
                "texlive-fonts-recommended lmodern), or build with --no-pdf")


class TexMissing(BuildError):
    """No TeX engine on this machine."""


def tex_env() -> dict[str, str]:
    """The environment TeX runs in: no shell escape; reads and writes of named files only below the folder."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f", shell_escape_commands="")
    return env


def command(tex_name: str) -> list[str]:
    """latexmk if present (pdflatex otherwise), always with -no-shell-escape."""
    pdflatex = "pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error -file-line-error %O %S"
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-quiet", f"-pdflatex={pdflatex}", tex_name]
    if shutil.which("pdflatex"):
        return ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
                tex_name]
    raise TexMissing(f"no TeX engine found (latexmk or pdflatex): the PDF was not made; {INSTALL_HINT}")


def compile_pdf(tex_path: Path) -> Path:
    """Run TeX on `tex_path` inside its own folder; return the PDF or raise BuildError with TeX's complaint."""
    folder = tex_path.parent
    cmd = command(tex_path.name)
    try:
        result = subprocess.run(cmd, cwd=folder, env=tex_env(), stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BuildError(f"TeX ran longer than {TIMEOUT} s on {tex_path.name}") from None
    pdf = tex_path.with_suffix(".pdf")
    if result.returncode != 0 or not pdf.exists():
        raise BuildError(f"TeX failed on {tex_path.name}: {first_error(folder / tex_path.with_suffix('.log').name)}")
    return pdf


def first_error(log: Path) -> str:
    """The first `! …` error of a TeX log, with its line."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "no log was written"
    m = re.search(r"^(?:\S+:(\d+): |! )(.*)$", text, re.M)
    return f"{m.group(2)} (line {m.group(1)} of the .tex)" if m and m.group(1) else (m.group(2) if m else "see the log")
