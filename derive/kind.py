"""The kind protocol (SPEC §9): everything derive knows about one kind of problem, in one object.

A kind is an instance of a `Kind` subclass, published through the entry-point group `derive.kinds`:

    class Softmax(Kind):
        name = "softmax"
        fields = F.table(logits=F.Field(F.vector_or_matrix, required=True), ...)
        answers = {"probabilities": AnswerSpec(), "loss": AnswerSpec(depends=("probabilities",)), ...}
        slips = (Slip("log_base", "log base 2 or 10 instead of the natural logarithm", log_base), ...)
        examples = ({"logits": [2.0, 1.0, 0.1], "target": 0},)
        def solve(self, p): ...        # exact, with steps → Solution
        def recompute(self, p): ...    # independent float64 → {answer: array}
    KIND = Softmax()

A problem's checked field values arrive as `p.fields`, a frozen record (one attribute per field).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable

import sympy

from . import fields as F
from .latex import Latex
from .problem import Problem
from .prose import escape
from .render import Prose, flow
from .sheet import given_entries
from .solution import Solution
from .values import flat, has_mapping

Answers = dict   # answer name → exact value


@dataclass(frozen=True)
class AnswerSpec:
    """What derive must know of one answer to judge it."""

    count: bool = False              # a count or a shape: right only when exactly equal
    shape: bool = False              # a shape (a count that no scaling slip touches)
    depends: tuple[str, ...] = ()    # the answers it is computed from (follow-through marking, §12)
    update_of: str | None = None     # the answer holding the value this one updates (§12's update rule)
    needs: str | None = None         # a field that must be given for the answer to be produced (`upstream`)


@dataclass(frozen=True)
class Variant:
    """One way a slip happens in one problem: what the report says, and how to compute what it gives.

    `modify` returns a copy of the problem with edited fields (it is then solved again); `transform` recomputes
    some answers from the exact ones by a small formula; either or both may be given.
    """

    words: str
    modify: Callable[[Problem], Problem | None] | None = None
    transform: Callable[[Problem, Answers], Answers] | None = None


@dataclass(frozen=True)
class Slip:
    """A catalogue entry: its name, what it is about, and its variants for one problem ([] when it cannot happen)."""

    name: str
    about: str
    variants: Callable[[Problem, Answers], list[Variant]]


class delegate:
    """A kind method that calls the function of the same name in the kind's module (or `module`), looked up at
    call time: `solve = delegate()` in a Kind subclass runs the module's `solve(p)`."""

    def __init__(self, module: Any = None):
        self.module, self.name = module, ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.module = self.module or sys.modules[owner.__module__]

    def __get__(self, obj: Any, owner: type | None = None) -> Callable[..., Any]:
        return getattr(self.module, self.name)


class Kind:
    """The base of every kind; a subclass sets the class attributes and overrides solve and recompute."""

    name: str = ""
    summary: str = ""                          # one line for `derive kinds`
    fields: dict[str, F.Field] = {}            # the table of parsers, in the order a spec lists them
    answers: dict[str, AnswerSpec] = {}        # every answer the kind can give, in order
    slips: tuple[Slip, ...] = ()               # this kind's own slips (slips of every kind live in derive.slipkit)
    examples: tuple[dict[str, Any], ...] = ()  # problems (fields only) that build; the contract test runs them
    positional: tuple[str, ...] = ()           # the Python helper's positional arguments (default: required fields)

    def validate(self, p: Problem) -> None:
        """Cross-field checks after every field parsed (raise `p.error(path, message)`)."""

    def solve(self, p: Problem) -> Solution:
        """The exact worked solution."""
        raise NotImplementedError(f"kind {self.name} has no solve")

    def recompute(self, p: Problem) -> dict[str, Any]:
        """Every answer again, independently, in float64 (NumPy), keyed like the solution's answers."""
        raise NotImplementedError(f"kind {self.name} has no recompute")

    def answer_names(self, p: Problem) -> list[str]:
        """The answers this problem produces (default: all declared, but those whose `needs` field is not given)."""
        return [name for name, spec in self.answers.items()
                if spec.needs is None or getattr(p.fields, spec.needs) is not None]

    def spec_of(self, answer: str) -> AnswerSpec:  # noqa: D401
        """The AnswerSpec of an answer name as the solution gives it (a kind with prefixed names overrides)."""
        return self.answers.get(answer, AnswerSpec())

    def value_before(self, p: Problem, answer: str, answers: Answers) -> Any:
        """For an answer that updates a value (§12), the value before the update, shaped like the answer."""
        spec = self.spec_of(answer)
        return answers.get(spec.update_of) if spec.update_of else None

    def follow(self, p: Problem, answer: str, given: Answers) -> Any:
        """The answer recomputed from a student's values of the answers it depends on (§12), or None.

        `given` holds the student's exact values of some of `spec_of(answer).depends`; a kind that can redo the
        step from them returns the value that follows (shaped like the answer), else None.
        """
        return None

    def given(self, p: Problem) -> list[tuple[str, Latex]]:
        """The data the question sheet shows (`logits = [2, 1, 0.1]`); words and layer lists as text."""
        out = []
        for name in self.fields:
            value = getattr(p.fields, name)
            value = list(value) if isinstance(value, tuple) else value
            label = name.replace("_", " ")
            if value is None:
                continue
            if isinstance(value, (str, bool)):
                out.append((label, Latex(r"\text{%s}" % escape(str(value).lower()))))
                continue
            raw = p.raw.get(name, value)
            if isinstance(raw, dict):
                out.extend((f"{label} {key}", Prose(flow(v))) for key, v in raw.items())
            elif has_mapping(raw) or (isinstance(raw, list) and not all(_numeric(v) for v in flat(value))):
                out.append((label, Prose(flow(raw))))
            elif _numeric(value) or (isinstance(value, list) and value and all(_numeric(v) for v in flat(value))):
                out.extend(given_entries(label, value, raw))
        return out

    def helper_arguments(self) -> tuple[str, ...]:
        """The Python helper's positional argument names."""
        return self.positional or tuple(n for n, f in self.fields.items() if f.required)


def _numeric(value: Any) -> bool:
    return isinstance(value, (sympy.Basic, int)) and not isinstance(value, bool)
