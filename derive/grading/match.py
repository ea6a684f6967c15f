"""Given answers matched to the exact ones: entry by entry for mappings, else row-major by count."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..errors import Message
from ..fields import suggest
from ..limits import Limits
from ..numbers import NotANumber, describe
from ..values import has_mapping, leaves
from ..yamlsafe import Document
from .judge import Given, Rule, judge, read_given

Index = tuple  # (row, col) or (layer, "params") — the position inside the answer's shape


def index_text(name: str, index: Index) -> str:
    """`probabilities[2]`, `layers[0].params`."""
    return name + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in index)


@dataclass
class Mark:
    """One judged number (or, with `message`, a given answer whose count of numbers is wrong)."""

    name: str
    index: Index
    given: Given | None
    expected: Any
    ok: bool
    count: bool = False
    position: int = 0               # position among the answer's numbers (row-major), for slips
    slip: str | None = None
    slip_names: tuple[str, ...] = ()  # the catalogue entries behind `slip`
    message: str | None = None      # "expected 4 numbers, got 3"
    given_raw: Any = None
    rule: Rule | None = None        # the rule it was judged by
    scale: Any = 0                  # the answer's largest magnitude (§12's scale rule)
    step: Any = None                # the exact update step, for an answer that updates a value
    carried: str | None = None      # the earlier answer of the student's it follows from (§12), if any

    def label(self) -> str:
        return index_text(self.name, self.index)


@dataclass
class ProblemReport:
    """The marks of one problem."""

    id: str
    kind: str
    digits: int
    marks: list[Mark] = field(default_factory=list)
    solution: Any = None
    title: str | None = None


class AnswersFile:
    """The answers as data with the line of each value, and the errors found in them (collected)."""

    def __init__(self, doc: Document, limits: Limits):
        self.doc, self.limits, self.messages, self.numbers = doc, limits, [], 0

    def error(self, path: tuple, text: str) -> None:
        self.messages.append(Message(text, self.doc.file, self.doc.line(path) or (1 if self.doc.lines else None),
                                     _label(path) or None))

    def number(self, value: Any, path: tuple) -> Given | None:
        """A given number, or None after recording why it is not one."""
        self.numbers += 1
        if self.numbers == self.limits.numbers + 1:
            self.error(path, f"more than {self.limits.numbers:,} numbers in one answers file (limit 'numbers')")
        try:
            return read_given(value)
        except NotANumber as exc:
            self.error(path, str(exc).replace(" (nothing in a spec is evaluated)", ""))
            return None


def _label(path: tuple) -> str:
    """`q1.probabilities[1]` for ("q1", "probabilities", 1)."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def given_numbers(value: Any, path: tuple, answers: AnswersFile) -> list[tuple[tuple, Given | None]]:
    """The numbers of a given answer in row-major order, each with its path in the answers file."""
    if isinstance(value, list):
        return [g for i, v in enumerate(value) for g in given_numbers(v, path + (i,), answers)]
    if isinstance(value, dict):
        answers.error(path, f"expected a number or a list of numbers, got {describe(value)}")
        return []
    return [(path, answers.number(value, path))]


def match(name: str, exact: Any, given: Any, path: tuple, answers: AnswersFile, rule: Rule,
          count: bool, index: Index = (), offset: int = 0, scale: Any = 0, before: Any = None) -> list[Mark]:
    """Judge a given answer against the exact one: entry by entry for mappings, else row-major by count.

    `scale` is the answer's largest magnitude; `before` the value an update answer updates (same shape).
    """
    if has_mapping(given) and not has_mapping(exact):
        where = _first_mapping(given, path)
        answers.error(where, "expected a number, got a mapping")
        return []
    if has_mapping(given):
        return _match_entries(name, exact, given, path, answers, rule, count, index, offset)
    want = list(leaves(exact, index))
    got = given_numbers(given, path, answers)
    if any(g is None for _, g in got):
        return []
    if len(got) != len(want):
        return [Mark(name, index, None, exact, False, count, offset, given_raw=given,
                     message=f"expected {len(want)} number{'s' * (len(want) != 1)}, got {len(got)}")]
    steps = _steps(want, before)
    return [Mark(name, idx, g, x, judge(g, x, rule, count, scale, step), count, offset + k, rule=rule, scale=scale,
                 step=step) for k, ((idx, x), (_, g), step) in enumerate(zip(want, got, steps))]


def _steps(want: list, before: Any) -> list:
    """The exact update step of each number (exact − value before), or None where there is no update."""
    if before is None:
        return [None] * len(want)
    olds = [v for _, v in leaves(before)]
    if len(olds) != len(want):
        return [None] * len(want)
    return [None if x is None or b is None else x - b for (_, x), b in zip(want, olds)]


def _first_mapping(value: Any, path: tuple) -> tuple:
    """The path of the first mapping inside a given value."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            if has_mapping(v):
                return _first_mapping(v, path + (i,))
    return path


def _match_entries(name: str, exact: Any, given: Any, path: tuple, answers: AnswersFile, rule: Rule,
                   count: bool, index: Index, offset: int) -> list[Mark]:
    """A given answer with mappings inside (a network's `layers`): judged entry by entry."""
    where = index_text(name, index)
    if isinstance(given, dict):
        if not isinstance(exact, dict):
            answers.error(path, f"expected {'a list' if isinstance(exact, list) else 'a number'}, got a mapping")
            return []
        marks, starts = [], _offsets(exact, offset)
        for key, value in given.items():
            if key == "name":
                continue
            if key not in exact:
                keys = [k for k in exact if k != "name"]
                answers.error(path + (key,), f"no entry {key!r} in {where}{suggest(key, keys)}; "
                                             f"entries: {', '.join(keys)}")
                continue
            marks += match(name, exact[key], value, path + (key,), answers, rule, count, index + (key,), starts[key])
        return marks
    if not isinstance(exact, list) or len(exact) != len(given):
        want = f"{len(exact)} entries" if isinstance(exact, list) else "one number"
        return [Mark(name, index, None, exact, False, count, offset, given_raw=given,
                     message=f"expected {want}, got {len(given)}")]
    starts = _offsets(dict(enumerate(exact)), offset)
    return [m for i, value in enumerate(given)
            for m in match(name, exact[i], value, path + (i,), answers, rule, count, index + (i,), starts[i])]


def _offsets(exact: dict, offset: int) -> dict:
    """The row-major position of each entry's first number."""
    out, at = {}, offset
    for key, value in exact.items():
        out[key] = at
        if key != "name" and not isinstance(value, str):
            at += len(list(leaves(value)))
    return out


def named_answers(given: dict, names: list[str], path: tuple,
                  answers: AnswersFile) -> Iterator[tuple[str, Any, tuple]]:
    """(answer name, given value, path) — design answers flat (`direct.params`) or nested (`direct: {params}`)."""
    seen: set[str] = set()
    for key, value in given.items():
        if key in names:
            pairs = [(key, value, path + (key,))]
        elif isinstance(value, dict) and any(n.startswith(f"{key}.") for n in names):
            pairs = [(f"{key}.{sub}", v, path + (key, sub)) for sub, v in value.items()]
        else:
            pairs = [(key, value, path + (key,))]
        for name, v, where in pairs:
            if name not in names:
                answers.error(where, f"unknown answer name{suggest(name, names)}; "
                                     f"{path[0]} has {', '.join(names)}")
            elif name in seen:
                answers.error(where, f"answer {name!r} is given twice")
            else:
                seen.add(name)
                yield name, v, where
