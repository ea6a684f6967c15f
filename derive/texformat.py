"""The fixed preamble as a precompiled pdflatex format, dumped once per TeX installation and preamble and cached
under the user's cache folder; rebuilt when either changes; never needed (None means: run TeX the plain way)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

MARK = "%% derive: the lines above are the fixed preamble (dumped once into a cached format)"
KEEP = 6                                    # formats kept in the cache (the newest)
RETRY_BAD = 7 * 24 * 3600                   # a format that failed is tried again after a week
SAFE_PATH = re.compile(r"/[A-Za-z0-9/._+ -]*")   # kpathsea expands $, ~ and braces in names: keep to plain ones
Runner = Callable[[list[str], Path], int]   # (argv, folder) → exit status, with derive's process-group handling


def split(text: str) -> tuple[str, str] | None:
    """The document as (fixed preamble up to and including the mark line, the rest), or None without a mark."""
    at = text.find("\n" + MARK + "\n")
    if at < 0:
        return None
    cut = at + len(MARK) + 2
    return text[:cut], text[cut:]


def cache_dir() -> Path | None:
    """$XDG_CACHE_HOME/derive, else ~/.cache/derive; None when no absolute, plainly named folder is known."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "derive")
    return Path(folder) if SAFE_PATH.fullmatch(folder) else None


def key(head: str, engine: str) -> str:
    """A hash of the preamble, the engine binary (path, size, time) and the TeX variables of the environment."""
    real = os.path.realpath(engine)
    info = os.stat(real)
    tex_vars = sorted((k, v) for k, v in os.environ.items() if k.startswith(("TEX", "KPSE")))
    parts = [head, real, str(info.st_size), str(info.st_mtime_ns), repr(tex_vars)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def format_for(head: str, engine: str, run: Runner) -> Path | None:
    """The cached format of `head` for `engine`, dumped now if missing or stale; None if it cannot be had."""
    folder = cache_dir()
    if folder is None or Path(engine).name != "pdflatex":
        return None
    try:
        name = f"pdflatex-{key(head, engine)}"
        fmt = folder / f"{name}.fmt"
        if given_up(folder / f"{name}.bad"):
            return None
        if fmt.exists() and inputs_unchanged(folder / f"{name}.inputs") and private(folder):
            return fmt
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return dump(head, engine, run, folder, name) if private(folder) else None
    except OSError:               # no cache folder to be had (read-only home, full disk): the plain run it is
        return None


def private(folder: Path) -> bool:
    """The cache folder is the user's own and nobody else may write to it (else a format is not trusted)."""
    info = folder.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def given_up(bad: Path) -> bool:
    """A recent note that this format failed (to dump, or to run documents that run without it)."""
    try:
        return time.time() - bad.stat().st_mtime < RETRY_BAD
    except FileNotFoundError:
        return False


def inputs_unchanged(listing: Path) -> bool:
    """Every file the dump read (TeX's own tree: packages, fonts, the base format) has its size and time still."""
    try:
        recorded = json.loads(listing.read_text(encoding="utf-8"))
        return all(_signature(path) == signature for path, signature in recorded.items())
    except (OSError, ValueError, AttributeError):
        return False


def _signature(path: str) -> list[int]:
    """Size and modification time of one file."""
    info = os.stat(path)
    return [info.st_size, info.st_mtime_ns]


def dump(head: str, engine: str, run: Runner, folder: Path, name: str) -> Path | None:
    """`pdflatex -ini "&pdflatex" head.tex` with `\\dump` after the preamble, in a private folder of the cache;
    the format and the list of what it read are moved into place (a failure is remembered as NAME.bad)."""
    work = Path(tempfile.mkdtemp(prefix="dump-", dir=folder))
    try:
        (work / "head.tex").write_text(head + "\\dump\n", encoding="utf-8")
        argv = [engine, "-ini", "-jobname=derive", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                "-recorder", "&pdflatex", "head.tex"]
        if run(argv, work) != 0 or not (work / "derive.fmt").exists():
            (folder / f"{name}.bad").write_text("the format could not be dumped; TeX runs without it\n")
            return None
        (work / "inputs").write_text(json.dumps(recorded_inputs(work / "derive.fls")), encoding="utf-8")
        os.replace(work / "inputs", folder / f"{name}.inputs")
        os.replace(work / "derive.fmt", folder / f"{name}.fmt")
        prune(folder)
        return folder / f"{name}.fmt"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def recorded_inputs(fls: Path) -> dict[str, list[int]]:
    """The absolute INPUT files of a -recorder listing, with their size and time."""
    paths = {line[6:] for line in fls.read_text(errors="replace").splitlines() if line.startswith("INPUT /")}
    return {path: _signature(path) for path in sorted(paths)}


def mark_bad(fmt: Path) -> None:
    """Remember that documents fail with this format but not without it: it will not be used again."""
    try:
        fmt.with_suffix(".bad").write_text("documents failed with this format and not without; not used\n")
    except OSError:               # the cache cannot be written: the format will be tried (and retried) again
        return


def prune(folder: Path) -> None:
    """Keep the KEEP newest formats; remove older ones with their listings and markers."""
    formats = sorted(folder.glob("pdflatex-*.fmt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in formats[KEEP:]:
        for suffix in (".fmt", ".inputs", ".bad"):
            old.with_suffix(suffix).unlink(missing_ok=True)
