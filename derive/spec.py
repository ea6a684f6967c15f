"""Load a spec file: safe YAML, exact numbers, every field checked, every bad problem reported at once."""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import fields as F
from .errors import Message, SpecError
from . import registry
from .limits import DEFAULT, Limits
from .problem import Problem
from .rules import Rule, check_problem_block, problem_block, spec_block
from .prose import UnsafeText, to_latex
from .yamlsafe import Document, read_yaml

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
COMMON = F.table(
    id=F.Field(F.words, required=True),
    kind=F.Field(F.words, required=True),
    title=F.Field(F.words),
    statement=F.Field(F.words),
    seed=F.Field(F.nonnegative_int),
    digits=F.Field(F.positive_int),
    check=F.Field(problem_block),
)
TOP = F.table(
    title=F.Field(F.words, required=True),
    course=F.Field(F.words), author=F.Field(F.words), date=F.Field(F.words),
    seed=F.Field(F.nonnegative_int, 0),
    digits=F.Field(F.positive_int, 4),
    check=F.Field(spec_block, None),
    problems=F.Field(lambda v, c: v, required=True),
)


@dataclass
class Worksheet:
    """A parsed spec: its header and its problems, in order."""

    title: str
    problems: list[Problem]
    file: str = "<python>"
    course: str | None = None
    author: str | None = None
    date: str | None = None
    seed: int = 0
    digits: int = 4
    check: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return Path(self.file).stem


def load(path: str | Path, limits: Limits = DEFAULT, name: str | None = None) -> Worksheet:
    """Read and check a spec file; a SpecError lists every bad problem, each with file and line."""
    shown = name or str(path)
    return parse(read_text(path, limits, shown), shown, limits)


def read_text(path: str | Path, limits: Limits, shown: str) -> str:
    """A spec or answers file as text: a regular file, read no further than the `spec_bytes` limit, UTF-8."""
    data, size = read_capped(path, limits.spec_bytes + 1, shown)
    if len(data) > limits.spec_bytes:
        raise SpecError(Message(f"the file is {size_text(max(size, len(data)))}, over the limit of "
                                f"{size_text(limits.spec_bytes)} (limit 'spec_bytes')", shown))
    if b"\0" in data:
        line = data[:data.index(b"\0")].count(b"\n") + 1
        raise SpecError(Message("the file holds a NUL byte: it is not a text file", shown, line))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SpecError(Message("the file is not UTF-8 text", shown, line)) from None


def read_capped(path: str | Path, cap: int, shown: str) -> tuple[bytes, int]:
    """At most `cap` bytes of a regular file, and its size; FIFOs, devices and folders are refused unread."""
    if str(path) == "" or shown == "":
        raise SpecError(Message("no such file (the file name is empty)", "''"))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SpecError(Message("no such file", shown)) from None
    except OSError as exc:
        raise SpecError(Message(f"cannot read: {exc.strerror}", shown)) from None
    info = os.fstat(fd)
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "it is a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe, socket or device)"
        raise SpecError(Message(f"cannot read: {what}", shown))
    with os.fdopen(fd, "rb") as handle:
        return handle.read(cap), info.st_size


def size_text(n: int) -> str:
    """`10.0 MiB`, `1 MiB`, or `300 bytes`: a size as a person reads it (whole MiB shown whole)."""
    if n >= 2**20:
        return f"{n // 2**20} MiB" if n % 2**20 == 0 else f"{n / 2**20:.2f} MiB"
    return f"{n:,} bytes"


def parse(text: str, file: str = "<string>", limits: Limits = DEFAULT) -> Worksheet:
    """Check a spec given as text (see `load`)."""
    doc = read_yaml(text, file, max_nodes=2 * limits.numbers + 10_000)
    if not isinstance(doc.data, dict):
        got = "nothing" if doc.data is None else ("a list" if isinstance(doc.data, list) else "a single value")
        raise SpecError(Message(f"expected a mapping with 'title' and 'problems' at the top, got {got}",
                                file, doc.line(()) or 1))
    budget = F.Budget(limits)
    top_ctx = F.Ctx(file, doc.line, (), (), None, budget)
    header = F.read_mapping(doc.data, top_ctx, TOP, what="top-level field")
    raw_problems = doc.data["problems"]
    pctx = top_ctx.child("problems")
    if not isinstance(raw_problems, list) or not raw_problems:
        raise pctx.error("expected a non-empty list of problems")
    problems, messages, seen = [], [], {}
    for i, raw in enumerate(raw_problems):
        pid = raw.get("id") if isinstance(raw, dict) else None
        try:
            if isinstance(pid, str) and pid in seen:
                ctx = F.Ctx(file, doc.line, ("problems", i), ("id",), pid, budget)
                raise ctx.error(f"duplicate id {pid!r} (first used on line {seen[pid]})")
            if isinstance(pid, str):
                seen[pid] = doc.line(("problems", i, "id"))
            problems.append(build_problem(raw, doc, i, budget, header["seed"], header["digits"],
                                          header["check"]))
        except SpecError as exc:
            messages.extend(exc.messages[:1])
    if messages:
        raise SpecError(messages)
    return Worksheet(header["title"], problems, file, header["course"], header["author"], header["date"],
                     header["seed"], header["digits"], header["check"] or {})


def build_problem(raw: Any, doc: Document, index: int, budget: F.Budget, seed: int, digits: int,
                  check: dict | None = None) -> Problem:
    """One problem of a spec file, checked."""
    pid = raw.get("id") if isinstance(raw, dict) else None
    label = pid if isinstance(pid, str) and ID_PATTERN.fullmatch(pid) else f"problems[{index}]"
    ctx = F.Ctx(doc.file, doc.line, ("problems", index), (), str(label), budget)
    return make_problem(raw, ctx, seed, digits, check)


def make_problem(raw: Any, ctx: F.Ctx, seed: int = 0, digits: int = 4, check: dict | None = None) -> Problem:
    """Check a problem mapping (from a file or from Python) against its kind's field table."""
    if not isinstance(raw, dict):
        raise ctx.error(f"expected a problem (a mapping with id and kind), got {F.describe(raw)}")
    if "kind" not in raw:
        raise ctx.child("kind").error(f"required: one of {', '.join(registry.names())}")
    kind = F.words(raw["kind"], ctx.child("kind"))
    if not registry.has(kind):
        names = registry.names()
        raise ctx.child("kind").error(f"unknown kind {kind!r}{F.suggest(kind, names)}; kinds: {', '.join(names)}")
    definition = registry.get(kind)
    common = F.read_mapping({k: v for k, v in raw.items() if k in COMMON}, ctx, COMMON)
    if not ID_PATTERN.fullmatch(common["id"]):
        raise ctx.child("id").error(f"id {common['id']!r} must use only letters, digits, '_' and '-'")
    values = F.read_mapping({k: v for k, v in raw.items() if k not in COMMON}, ctx, definition.fields,
                            ignore=set(COMMON), what=f"field for kind {kind}")
    statement = common["statement"]
    if statement is not None:
        try:
            to_latex(statement)
        except UnsafeText as exc:
            raise ctx.child("statement").error(str(exc)) from None
    problem = Problem(common["id"], kind, F.record(kind, definition.fields, values), ctx, common["title"],
                      statement, seed if common["seed"] is None else common["seed"],
                      digits if common["digits"] is None else common["digits"], raw, definition, common["check"])
    definition.validate(problem)
    check_problem_block(common["check"], Rule().over(check), list(definition.answers), ctx.child("check"))
    return problem
