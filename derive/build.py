"""`derive build`: spec → solutions (checked) → .tex, .json, .pdf, built in a temporary folder, then moved."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .engine import solve
from .errors import BuildError, SpecError
from .jsonout import document_json
from .limits import DEFAULT, Limits
from .pdf import TexMissing, compile_all
from .render import render_document
from .resources import resource
from .spec import Worksheet, load
from .staging import check_destinations, publish, staging_folder

__all__ = ["Built", "build_spec", "default_spec", "solve_all", "staging_folder"]


@dataclass
class Built:
    """What one spec's build wrote."""

    spec: str
    paths: list[Path] = field(default_factory=list)
    problems: int = 0


def default_spec() -> tuple[Path, str]:
    """The bundled worksheet, and the name to show for it."""
    path = resource("problems/worksheet.yaml")
    relative = os.path.relpath(path)
    return path, relative if not relative.startswith("..") else str(path)


def solve_all(sheet: Worksheet, limits: Limits, questions: bool = False) -> list:
    """Solve, check and render every problem, each under the time limit; a SpecError lists every bad problem."""
    solutions, messages = [], []
    outputs = ("json", "tex", "questions") if questions else ("json", "tex")
    for problem in sheet.problems:
        try:
            solutions.append(solve(problem, limits=limits, outputs=outputs))
        except SpecError as exc:
            messages.extend(exc.messages[:1])
    if messages:
        raise SpecError(messages)
    return solutions


def build_spec(spec: str | Path, out: str | Path = "build", *, pdf: bool = True, questions: bool = False,
               limits: Limits = DEFAULT, shown: str | None = None) -> Built:
    """Build one spec into `out`; nothing in `out` changes unless the whole build succeeds."""
    sheet = load(spec, limits, name=shown or str(spec))
    solutions = solve_all(sheet, limits, questions)
    stem = Path(spec).stem
    texts = {f"{stem}.tex": render_document(sheet, solutions), f"{stem}.json": document_json(sheet, solutions)}
    if questions:
        texts[f"{stem}-questions.tex"] = render_document(sheet, solutions, questions=True)
    out = Path(out)
    outputs = list(texts) + ([n[:-4] + ".pdf" for n in texts if n.endswith(".tex")] if pdf else [])
    check_destinations(out, outputs)
    work = staging_folder(out, stem)
    try:
        for name, text in texts.items():
            (work / name).write_text(text, encoding="utf-8")
        made = list(texts)
        missing = None
        if pdf:
            try:
                made.extend(p.name for p in compile_all([work / n for n in texts if n.endswith(".tex")]))
            except TexMissing as exc:
                missing = exc
        built = Built(str(shown or spec), publish(work, out, made), len(solutions))
        if missing:
            raise TexMissing(f"{missing} ({', '.join(str(p) for p in built.paths)} written)")
        return built
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
