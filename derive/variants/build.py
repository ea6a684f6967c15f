"""One variant, start to finish, in whatever process runs it (this one, a pool worker, a Dask worker): the spec
parsed for the variant, solved (problems no variant changes are solved once per process), rendered, typeset;
the files come back as bytes for the calling process to write."""
from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BuildError, CheckFailed, SpecError
from ..latex import Latex
from ..limits import Limits
from .qr import payload, qr_latex


@dataclass(frozen=True)
class Job:
    """What a worker needs to build one variant (the spec's text travels separately, sent once)."""

    file: str            # the spec's name as messages show it
    stem: str
    vid: str
    name: str
    seed: int            # the spec-level seed (`--seed`, else the spec's), printed in the QR code
    limits: Limits
    pdf: bool


@dataclass
class Outcome:
    """A built variant's files (name → bytes), or why it failed."""

    vid: str
    files: dict[str, bytes] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Mark:
    """What the first page of a variant's sheet and key prints (templates/document.tex.j2)."""

    id: str
    name: str
    qr: Latex


_LOCK = threading.Lock()
_SOLVED: dict[tuple, Any] = {}       # (spec key, problem index) → a solution that no variant changes


def names(stem: str, pdf: bool) -> list[str]:
    """The files of one variant's folder, in the order they are written."""
    texs = [f"{stem}.tex", f"{stem}-questions.tex"]
    return [texs[0], f"{stem}.json", texs[1]] + ([t[:-4] + ".pdf" for t in texs] if pdf else [])


def build_variant(job: Job, text: str) -> Outcome:
    """Build one variant; a bad draw, a failed check or a failed TeX run is this variant's failure."""
    try:
        texts = render_variant(job, text)
        files = {name: body.encode("utf-8") for name, body in texts.items()}
        if job.pdf:
            files.update(typeset(texts))
        return Outcome(job.vid, {name: files[name] for name in names(job.stem, job.pdf)})
    except SpecError as exc:
        return Outcome(job.vid, error=str(exc))
    except CheckFailed as exc:
        return Outcome(job.vid, error=f"numeric check failed: {exc}")
    except BuildError as exc:
        return Outcome(job.vid, error=f"build failed: {exc}")


def warm(job: Job, text: str) -> None:
    """Fill this process's caches (imports, solutions no variant changes, TeX's format) before workers fork."""
    try:
        texts = render_variant(job, text)
    except (SpecError, CheckFailed):
        return                            # this variant fails again when it is built, and is reported then
    if job.pdf:
        from .. import texformat
        from ..pdf import command, run_one
        parts = texformat.split(texts[f"{job.stem}.tex"])
        if parts is not None:
            texformat.format_for(parts[0], command("doc.tex")[0], run_one)


def render_variant(job: Job, text: str) -> dict[str, str]:
    """The key (.tex), its JSON and the question sheet (.tex) of one variant."""
    from ..jsonout import document_json
    from ..render import render_document
    from ..spec import parse
    sheet = parse(text, job.file, job.limits, variant=job.vid, seed=job.seed)
    sheet.mark = Mark(job.vid, job.name, qr_latex(payload(job.stem, job.vid, job.seed)))
    solutions = solve_sheet(sheet, spec_key(job, text), job.limits)
    return {f"{job.stem}.tex": render_document(sheet, solutions),
            f"{job.stem}.json": document_json(sheet, solutions),
            f"{job.stem}-questions.tex": render_document(sheet, solutions, questions=True)}


def spec_key(job: Job, text: str) -> tuple:
    """What a solution that no variant changes depends on: the spec, its name, the seed and the limits."""
    return (hashlib.sha256(text.encode("utf-8")).hexdigest(), job.file, job.seed, job.limits)


def solve_sheet(sheet: Any, key: tuple, limits: Limits) -> list:
    """Solve, check and render every problem as `derive build` does, reusing the unvarying ones; SpecError lists all."""
    from ..engine import solve
    solutions, messages = [], []
    for i, problem in enumerate(sheet.problems):
        known = _SOLVED.get((key, i))
        if known is not None and not problem.varies:
            solutions.append(known)
            continue
        try:
            solution = solve(problem, limits=limits, outputs=("json", "tex", "questions"))
        except SpecError as exc:
            messages.extend(exc.messages[:1])
            continue
        solutions.append(solution)
        if not problem.varies:
            remember(key, i, solution)
    if messages:
        raise SpecError(messages)
    return solutions


def remember(key: tuple, index: int, solution: Any) -> None:
    """Keep a solution for the next variants of the same spec (only the latest spec's are kept)."""
    with _LOCK:
        if any(k[0] != key for k in _SOLVED):
            _SOLVED.clear()
        _SOLVED[(key, index)] = solution


def typeset(texts: dict[str, str]) -> dict[str, bytes]:
    """The PDFs of the .tex files, one TeX run at a time (a worker per core keeps every core busy)."""
    from ..pdf import compile_all
    out = {}
    with tempfile.TemporaryDirectory(prefix="derive-variant-") as folder:
        for i, (name, body) in enumerate(t for t in texts.items() if t[0].endswith(".tex")):
            source = Path(folder) / f"doc{i}.tex"
            source.write_text(body, encoding="utf-8")
            out[name[:-4] + ".pdf"] = compile_all([source])[0].read_bytes()
    return out
