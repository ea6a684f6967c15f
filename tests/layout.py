"""Layout checks of a typeset document: TeX's overfull boxes and the height of every word on the pages."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

OVERFULL = re.compile(r"Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\)[^\n]*(?:lines? (\d+))?")
WORD = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>')
MAX_OVERFULL = 2.0      # pt
MIN_WORD_HEIGHT = 4.0   # pt (about 70 % of a 6pt script)


def typeset(tex: Path) -> tuple[str, Path]:
    """pdflatex on a .tex (derive's flags) in its folder, twice if needed; the log text and the PDF."""
    cmd = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", tex.name]
    for _ in range(2):
        result = subprocess.run(cmd, cwd=tex.parent, capture_output=True, text=True, timeout=300)
        log = tex.with_suffix(".log").read_text(errors="replace")
        if "Rerun" not in log:
            break
    assert result.returncode == 0, log[-2000:]
    return log, tex.with_suffix(".pdf")


def overfull(log: str) -> list[str]:
    """Every overfull box wider than 2pt, with TeX's line reference."""
    return [m.group(0)[:120] for m in OVERFULL.finditer(log) if float(m.group(1)) > MAX_OVERFULL]


def tiny_words(pdf: Path) -> list[str]:
    """Every word set less than 4pt high (`pdftotext -bbox`)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=120).stdout
    return [f"{text!r} {float(y1) - float(y0):.1f}pt" for y0, y1, text in WORD.findall(out)
            if float(y1) - float(y0) < MIN_WORD_HEIGHT and text.strip()]


def have_tex() -> bool:
    return bool(shutil.which("pdflatex") and shutil.which("pdftotext"))
