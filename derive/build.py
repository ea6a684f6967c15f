"""`derive build`: spec → solutions (checked) → .tex, .json, .pdf, built in a temporary folder, then moved.
SymPy and the kinds are imported only once TeX has been started on the fixed preamble (it loads meanwhile)."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import livetex
from .errors import BuildError, SpecError
from .jinjaenv import fixed_preamble
from .limits import DEFAULT, Limits
from .pdf import TexMissing, compile_all
from .resources import resource
from .staging import check_destinations, publish, staging_folder

if TYPE_CHECKING:
    from .solution import Solution
    from .spec import Worksheet

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


def solve_all(sheet: Worksheet, limits: Limits, questions: bool = False,
              solved: Callable[[Solution], None] | None = None, *, outputs: tuple[str, ...] | None = None) -> list:
    """Solve, check and render every problem, each under the time limit; a SpecError lists every bad problem.
    `solved` is told of each solution in order while every problem so far has been solved; `outputs` are what
    is rendered with each (default: JSON and the key's LaTeX, and the question sheet's with `questions`)."""
    from .engine import solve
    solutions, messages = [], []
    if outputs is None:
        outputs = ("json", "tex", "questions") if questions else ("json", "tex")
    for problem in sheet.problems:
        try:
            solutions.append(solve(problem, limits=limits, outputs=outputs))
        except SpecError as exc:
            messages.extend(exc.messages[:1])
        if solved is not None and not messages:
            solved(solutions[-1])
    if messages:
        raise SpecError(messages)
    return solutions


def build_spec(spec: str | Path, out: str | Path = "build", *, pdf: bool = True, questions: bool = False,
               limits: Limits = DEFAULT, shown: str | None = None) -> Built:
    """Build one spec into `out`; nothing in `out` changes unless the whole build succeeds. With the PDF, TeX
    starts at once and typesets each problem as soon as it is solved and checked (derive.livetex)."""
    stem, out = Path(spec).stem, Path(out)
    documents = {f"{stem}.tex": False, **({f"{stem}-questions.tex": True} if questions else {})}
    outputs = [*documents, f"{stem}.json"] + ([n[:-4] + ".pdf" for n in documents] if pdf else [])
    made = missing_folders(out) if pdf else []
    work = early_staging(out, stem, outputs) if pdf else None
    live = None
    try:
        if work is not None:
            live = livetex.start([work / name for name in documents], [fixed_preamble()] * len(documents))
        from .jsonout import document_json
        from .render import document_parts, problem_fragment
        from .spec import load
        sheet = load(spec, limits, name=shown or str(spec))
        parts = {name: document_parts(sheet, q) for name, q in documents.items()}
        if live is not None and not live.extend([head for head, _ in parts.values()]):
            live = None
        solved = None if live is None else lambda s: live.send([problem_fragment(s, q) for q in documents.values()])
        solutions = solve_all(sheet, limits, questions, solved)
        tex = {name: head + "".join(problem_fragment(s, documents[name]) for s in solutions) + tail
               for name, (head, tail) in parts.items()}      # what render_document gives, from the parts made once
        texts = {f"{stem}.tex": tex[f"{stem}.tex"], f"{stem}.json": document_json(sheet, solutions), **tex}
        check_destinations(out, outputs)
        work = work or staging_folder(out, stem)
        return write_all(work, out, texts, pdf, live, shown or spec, len(solutions))
    except BaseException:
        if live is not None:
            live.abort()
        raise
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        remove_empty(made)


def early_staging(out: Path, stem: str, outputs: list[str]) -> Path | None:
    """The staging folder made before solving (TeX runs in it while derive solves); None when DIR is refused
    (then the build fails after solving, with every problem's own errors first, as without the PDF)."""
    try:
        check_destinations(out, outputs)
        return staging_folder(out, stem)
    except BuildError:
        return None


def missing_folders(out: Path) -> list[Path]:
    """DIR and those of its parents that do not exist yet, deepest first: what making DIR early would create."""
    missing = []
    for folder in (out, *out.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders this build made, deepest first, while they are empty (the build published nothing)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:           # not empty (the build published, or another wrote there) or gone: keep the rest
            return


def write_all(work: Path, out: Path, texts: dict[str, str], pdf: bool, live: livetex.LiveTex | None,
              shown: str | Path, problems: int) -> Built:
    """Write the texts into the staging folder, typeset the .tex files, and publish everything at once."""
    try:
        for name, text in texts.items():
            (work / name).write_text(text, encoding="utf-8")
        made, missing = list(texts), None
        sources = [work / n for n in texts if n.endswith(".tex")]
        if pdf:
            try:
                pdfs = live.finish([texts[s.name] for s in sources]) if live is not None else None
                made.extend(p.name for p in (pdfs if pdfs is not None else compile_all(sources)))
            except TexMissing as exc:
                missing = exc
        built = Built(str(shown), publish(work, out, made), problems)
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    if missing:
        raise TexMissing(f"{missing} ({', '.join(str(p) for p in built.paths)} written)")
    return built
