"""TeX to PDF: pdflatex called directly (no shell) on fixed names in a private folder, shell escape off,
file access confined to that folder, one pass unless the log asks for another; documents run in parallel."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from . import texformat
from .errors import BuildError

TIMEOUT = 180  # seconds for all the TeX runs of one call
MAX_PASSES = 3
DOC = "doc"    # TeX only ever sees `doc.tex`, `doc.log`, `doc.pdf`: never a name from the user
INSTALL_HINT = ("install TeX Live (Debian: apt-get install texlive-latex-base texlive-latex-recommended "
                "texlive-pictures texlive-fonts-recommended lmodern), or build with --no-pdf")
RERUN = re.compile(r"^(?:(?:LaTeX|Package|Class)\b[^\n]*Warning|\(\w+\))[^\n]*"
                   r"(?:\brerun\b|Label\(s\) may have changed)", re.M | re.I)
OMIT_DATES = r"\pdfinfoomitdate=1\relax "   # without SOURCE_DATE_EPOCH from the user: no dates in the PDF


class TexMissing(BuildError):
    """No TeX engine on this machine."""


def tex_env() -> dict[str, str]:
    """The environment TeX runs in: no shell escape; reads and writes of named files only below the folder;
    a fixed SOURCE_DATE_EPOCH (for the PDF's ID) unless the user set one."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f", shell_escape_commands="", max_print_line="10000")
    if not env.get("SOURCE_DATE_EPOCH"):
        env["SOURCE_DATE_EPOCH"] = "0"
    return env


def command(tex_name: str) -> list[str]:
    """pdflatex with shell escape off, never stopping for input, no `%&` first line read (a document may come
    through a pipe), as an argument list (no shell)."""
    pdflatex = shutil.which("pdflatex")
    if not pdflatex:
        raise TexMissing(f"no TeX engine found (latexmk or pdflatex): the PDF was not made; {INSTALL_HINT}")
    return [pdflatex, "-no-shell-escape", "-no-parse-first-line", "-interaction=nonstopmode", "-halt-on-error",
            "-file-line-error", tex_name]


@dataclass
class Job:
    """One document: its source in the staging folder, and the private folder where TeX runs on doc.tex."""

    source: Path
    folder: Path
    source_text: str
    fmt: Path | None = None     # the cached format holding the fixed preamble; doc.tex then holds the rest
    passes: int = 0
    code: int | None = None

    def argv(self, plain: list[str]) -> list[str]:
        """The command for this job: the plain one, with -fmt when a format is used."""
        return plain if self.fmt is None else [plain[0], f"-fmt={self.fmt}", *plain[1:]]

    def offset(self) -> int:
        """Lines of the source that doc.tex does not hold (they are in the format)."""
        return self.source_text.count("\n") - self.rest().count("\n")

    def rest(self) -> str:
        """What doc.tex holds: all of the source, or what follows the fixed preamble when a format is used."""
        parts = texformat.split(self.source_text) if self.fmt is not None else None
        return parts[1] if parts else self.source_text


def compile_pdf(tex_path: Path) -> Path:
    """Typeset `tex_path` into the PDF beside it (same stem); raise BuildError with TeX's complaint."""
    return compile_all([tex_path])[0]


def compile_all(tex_paths: list[Path]) -> list[Path]:
    """Typeset independent documents in parallel processes; return their PDFs, each beside its source."""
    argv = command(f"{DOC}.tex")
    jobs = [prepare(Path(p)) for p in tex_paths]
    use_formats(jobs, argv[0])
    return complete(jobs, argv)


def complete(jobs: list[Job], argv: list[str], deadline: float | None = None) -> list[Path]:
    """Run the passes each job still needs, each failure with a format again without it; return the PDFs.
    Every run ends by `deadline` (default: TIMEOUT from now)."""
    deadline = time.monotonic() + TIMEOUT if deadline is None else deadline
    run_passes(jobs, argv, deadline)
    retry = [job for job in jobs if job.fmt is not None and job.code != 0]
    for job in retry:                   # a format is only a shortcut: what failed with it is run without
        fmt, job.fmt, job.passes = job.fmt, None, 0
        for leftover in job.folder.iterdir():    # the failed run's .aux must not feed the plain one
            leftover.unlink()
        write_doc(job)
        run_passes([job], argv, deadline)
        if job.code == 0:
            texformat.mark_bad(fmt)
    return [finish(job) for job in jobs]


def prepare(source: Path) -> Job:
    """A private folder beside `source`, where TeX will find the document as doc.tex."""
    try:
        folder = Path(tempfile.mkdtemp(prefix="tex-", dir=source.parent))
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildError(f"cannot prepare {source.name} for TeX: {exc.strerror}") from None
    return Job(source, folder, text)


def use_formats(jobs: list[Job], engine: str) -> None:
    """Give each job the cached format of its fixed preamble (dumped once per preamble), then write doc.tex."""
    choose_formats(jobs, engine)
    for job in jobs:
        write_doc(job)


def choose_formats(jobs: list[Job], engine: str) -> None:
    """Give each job the cached format of the fixed preamble its source begins with (dumped once per preamble)."""
    formats: dict[str, Path | None] = {}
    for job in jobs:
        parts = texformat.split(job.source_text)
        if parts is not None:
            if parts[0] not in formats:
                formats[parts[0]] = texformat.format_for(parts[0], engine, run_one)
            job.fmt = formats[parts[0]]


def write_doc(job: Job) -> None:
    """doc.tex: the document (or its part after the preamble), dates left out unless SOURCE_DATE_EPOCH is set."""
    try:
        (job.folder / f"{DOC}.tex").write_text(date_line() + job.rest(), encoding="utf-8")
    except OSError as exc:
        raise BuildError(f"cannot prepare {job.source.name} for TeX: {exc.strerror}") from None


def date_line() -> str:
    """What doc.tex begins with: nothing, or (without SOURCE_DATE_EPOCH from the user) no dates in the PDF."""
    return "" if os.environ.get("SOURCE_DATE_EPOCH") else OMIT_DATES


def run_one(argv: list[str], folder: Path) -> int:
    """One TeX run with the same process handling as documents (used to dump a format)."""
    return run_together([(argv, folder)], time.monotonic() + TIMEOUT)[0]


def run_passes(jobs: list[Job], argv: list[str], deadline: float) -> None:
    """Run every job not yet run, together; again only those whose log asks for a rerun (at most MAX_PASSES)."""
    pending = [job for job in jobs if job.passes == 0 or needs_another(job)]
    width = max(2, os.cpu_count() or 1)     # many documents (variants): as many at a time as there are cores
    while pending:
        for at in range(0, len(pending), width):
            batch = pending[at:at + width]
            codes = run_together([(job.argv(argv), job.folder) for job in batch], deadline)
            for job, code in zip(batch, codes):
                job.passes, job.code = job.passes + 1, code
        pending = [job for job in pending if needs_another(job)]


def needs_another(job: Job) -> bool:
    """A job that ran cleanly, has passes left, and whose log asks for one more."""
    return job.code == 0 and job.passes < MAX_PASSES and wants_rerun(job)


def wants_rerun(job: Job) -> bool:
    """The log asks for another pass (labels, longtable widths, rerunfilecheck), or TikZ remembered a picture."""
    folder = job.folder
    try:
        log = (folder / f"{DOC}.log").read_text(errors="replace")
        aux = (folder / f"{DOC}.aux").read_text(errors="replace") if (folder / f"{DOC}.aux").exists() else ""
    except OSError:
        return False
    return bool(RERUN.search(log)) or (job.passes == 1 and r"\pgfsyspdfmark" in aux)


def finish(job: Job) -> Path:
    """Move doc.pdf next to its source under the source's stem, or raise BuildError with TeX's first error."""
    pdf = job.folder / f"{DOC}.pdf"
    if job.code != 0 or not pdf.exists():
        raise BuildError(f"TeX failed on {job.source.name}: {first_error(job.folder, job.offset())}")
    target = job.source.with_suffix(".pdf")
    os.replace(pdf, target)
    return target


def run_together(runs: list[tuple[list[str], Path]], deadline: float) -> list[int]:
    """Start every run in its own process group, wait for all; on timeout or interruption kill every group."""
    procs: list[subprocess.Popen] = []
    try:
        for argv, folder in runs:
            procs.append(start(argv, folder))
        for proc in procs:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise BuildError(f"TeX ran longer than {TIMEOUT} s") from None
    finally:
        for proc in procs:
            end(proc)
    return [proc.returncode for proc in procs]


def start(argv: list[str], folder: Path, stdin: int = subprocess.DEVNULL) -> subprocess.Popen:
    """One TeX process in `folder`, its output in tex.out, in a new session (a process group of its own)."""
    try:
        with open(folder / "tex.out", "wb") as out:
            return subprocess.Popen(argv, cwd=folder, env=tex_env(), stdin=stdin, stdout=out, bufsize=0,
                                    stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent())
    except OSError as exc:
        raise BuildError(f"cannot run {argv[0]}: {exc.strerror}") from None


def end(proc: subprocess.Popen) -> None:
    """Kill the process group of a run still going (TeX and anything it started), and reap it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:    # it ended between poll() and killpg()
        pass
    proc.wait()


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a child setup that has the kernel kill TeX should derive itself be killed (PR_SET_PDEATHSIG)."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def setup() -> None:
        prctl(1, int(signal.SIGKILL))          # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:             # derive died before that took effect
            os.kill(os.getpid(), signal.SIGKILL)
    return setup


@lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's prctl on Linux, else None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    return ctypes.CDLL(None, use_errno=True).prctl


def first_error(folder: Path, offset: int = 0) -> str:
    """The first `! …` error of doc.log, with its line in the source; else the end of TeX's terminal output."""
    try:
        text = (folder / f"{DOC}.log").read_text(errors="replace")
    except OSError:
        return f"no log was written ({tail(folder / 'tex.out')})"
    m = re.search(r"^(?:\S+:(\d+): |! )(.*)$", text, re.M)
    if m and m.group(1):
        return f"{m.group(2)} (line {int(m.group(1)) + offset} of the .tex)"
    return m.group(2) if m else "see the log"


def tail(path: Path) -> str:
    """The last non-empty line TeX printed, or what stopped it from starting."""
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no output either"
    return lines[-1] if lines else "no output either"
