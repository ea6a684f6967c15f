"""Load a spec file: safe YAML, exact numbers, every field checked, every bad problem reported at once."""
from __future__ import annotations

import os
import re
import stat
import zlib
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
REDRAWS = 100      # a problem whose draws make it invalid is drawn again, at most this many times (SPEC §10)
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


class DrawsExhausted(SpecError):
    """Every draw of a problem (the first and REDRAWS more) made it invalid: a bad spec for `derive build`,
    one failed variant for `derive variants`. `seed` is the spec-level seed in force."""

    seed: int = 0


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
    variant: str = ""                 # the variant its draws were drawn for ("" for `derive build`)
    mark: Any = None                  # what the first page prints of a variant (id, name, QR code), or None

    @property
    def stem(self) -> str:
        return Path(self.file).stem


def load(path: str | Path, limits: Limits = DEFAULT, name: str | None = None, variant: str = "",
         seed: int | None = None) -> Worksheet:
    """Read and check a spec file; a SpecError lists every bad problem, each with file and line.

    `variant` draws the spec's draws (and random weights) for that variant (SPEC §10; "" as `derive build`);
    `seed`, when given, replaces the spec-level seed (a problem's own `seed` still wins).
    """
    shown = name or str(path)
    return parse(read_text(path, limits, shown), shown, limits, variant, seed)


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


def parse(text: str, file: str = "<string>", limits: Limits = DEFAULT, variant: str = "",
          seed: int | None = None) -> Worksheet:
    """Check a spec given as text (see `load`)."""
    check_seed(seed)
    doc = read_yaml(text, file, max_nodes=2 * limits.numbers + 10_000)
    if not isinstance(doc.data, dict):
        got = "nothing" if doc.data is None else ("a list" if isinstance(doc.data, list) else "a single value")
        raise SpecError(Message(f"expected a mapping with 'title' and 'problems' at the top, got {got}",
                                file, doc.line(()) or 1))
    budget = F.Budget(limits)
    top_ctx = F.Ctx(file, doc.line, (), (), None, budget)
    header = F.read_mapping(doc.data, top_ctx, TOP, what="top-level field")
    header["seed"] = header["seed"] if seed is None else seed
    raw_problems = doc.data["problems"]
    pctx = top_ctx.child("problems")
    if not isinstance(raw_problems, list) or not raw_problems:
        raise pctx.error("expected a non-empty list of problems")
    problems, messages, seen, exhausted = [], [], {}, True
    for i, raw in enumerate(raw_problems):
        pid = raw.get("id") if isinstance(raw, dict) else None
        try:
            if isinstance(pid, str) and pid in seen:
                ctx = F.Ctx(file, doc.line, ("problems", i), ("id",), pid, budget)
                raise ctx.error(f"duplicate id {pid!r} (first used on line {seen[pid]})")
            if isinstance(pid, str):
                seen[pid] = doc.line(("problems", i, "id"))
            problems.append(build_problem(raw, doc, i, budget, header["seed"], header["digits"],
                                          header["check"], variant))
        except SpecError as exc:
            messages.extend(exc.messages[:1])
            exhausted = exhausted and isinstance(exc, DrawsExhausted)
    if messages and not exhausted:
        raise SpecError(messages)
    if messages:
        error = DrawsExhausted(messages)
        error.seed = header["seed"]
        raise error
    return Worksheet(header["title"], problems, file, header["course"], header["author"], header["date"],
                     header["seed"], header["digits"], header["check"] or {}, variant)


def check_seed(seed: int | None) -> None:
    """A seed given from outside the spec (`--seed`): a whole number ≥ 0, as a spec's own."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise SpecError(Message(f"the seed must be zero or a positive whole number, got {seed!r}", path="seed"))


def build_problem(raw: Any, doc: Document, index: int, budget: F.Budget, seed: int, digits: int,
                  check: dict | None = None, variant: str = "") -> Problem:
    """One problem of a spec file, checked."""
    pid = raw.get("id") if isinstance(raw, dict) else None
    label = pid if isinstance(pid, str) and ID_PATTERN.fullmatch(pid) else f"problems[{index}]"
    ctx = F.Ctx(doc.file, doc.line, ("problems", index), (), str(label), budget)
    return make_problem(raw, ctx, seed, digits, check, variant)


def make_problem(raw: Any, ctx: F.Ctx, seed: int = 0, digits: int = 4, check: dict | None = None,
                 variant: str = "") -> Problem:
    """Check a problem mapping (from a file or from Python), its draws drawn for `variant` (SPEC §10)."""
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
    own = {k: v for k, v in raw.items() if k not in COMMON}
    seed = seed if common["seed"] is None else common["seed"]
    settings = (seed, digits if common["digits"] is None else common["digits"], check, variant)
    if F.has_draws(own):
        return redraw(raw, own, ctx, definition, common, settings)
    return checked(raw, own, ctx, definition, common, settings)


def checked(raw: dict, own: dict, ctx: F.Ctx, definition: Any, common: dict, settings: tuple) -> Problem:
    """The problem from its kind's fields (`own`, drawn values in place of draws), validated by its kind."""
    seed, digits, check, variant = settings
    kind = common["kind"]
    values = F.read_mapping(own, ctx, definition.fields, ignore=set(COMMON), what=f"field for kind {kind}")
    statement = common["statement"]
    if statement is not None:
        try:
            to_latex(statement)
        except UnsafeText as exc:
            raise ctx.child("statement").error(str(exc)) from None
    problem = Problem(common["id"], kind, F.record(kind, definition.fields, values), ctx, common["title"],
                      statement, seed, digits, raw, definition, common["check"], variant)
    definition.validate(problem)
    check_problem_block(common["check"], Rule().over(check), list(definition.answers), ctx.child("check"))
    return problem


def redraw(raw: dict, own: dict, ctx: F.Ctx, definition: Any, common: dict, settings: tuple) -> Problem:
    """The problem drawn, and drawn again from the same generator while invalid (at most REDRAWS times)."""
    F.check_keys(own, ctx, definition.fields, set(COMMON), f"field for kind {common['kind']}")
    rng = draw_rng(settings[0], common["id"], settings[3])
    start, last = ctx.budget.numbers, None
    for _ in range(1 + REDRAWS):
        ctx.budget.numbers = start          # each draw's numbers are counted once
        drawn, moved = F.draw_values(own, ctx, rng)
        here = relocated(ctx, moved)
        try:
            problem = checked({k: drawn.get(k, v) for k, v in raw.items()}, drawn, here, definition, common, settings)
            problem.note_varies()
            return problem
        except SpecError as exc:
            last = exc.messages[0]
    where = f"{last.path} (line {last.line})" if last.path and last.line else (last.path or f"line {last.line}")
    raise DrawsExhausted(ctx.message(f"still invalid after {REDRAWS} redraws of its draws; the last: {where}: "
                                     f"{last.words}"))


def draw_rng(seed: int, pid: str, variant: str) -> Any:
    """The generator of a problem's draws in a variant: default_rng([seed, crc32(id), crc32("draw:" + V)])."""
    import numpy as np
    return np.random.default_rng([seed, zlib.crc32(pid.encode("utf-8")),
                                  zlib.crc32(("draw:" + variant).encode("utf-8"))])


def relocated(ctx: F.Ctx, moved: dict[tuple, tuple]) -> F.Ctx:
    """`ctx` whose lines follow chosen entries back to where they are written (itself when nothing moved)."""
    if not moved:
        return ctx
    lines, root, order = ctx.lines, ctx.root, sorted(moved, key=len, reverse=True)

    def line(path: tuple) -> int | None:
        rest = tuple(path)[len(root):]
        for target in order:
            if rest[:len(target)] == target:
                return lines(root + moved[target] + rest[len(target):])
        return lines(path)
    return F.Ctx(ctx.file, line, root, ctx.path, ctx.label, ctx.budget)
