"""Name the slip behind each wrong number: re-solve the problem as each slip would (typed fields, no YAML),
and keep the slip, or the pair of slips from two entries, whose values reproduce the most wrong numbers."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable

from .. import registry
from ..errors import CheckFailed, SpecError
from ..kind import Answers, Slip, Variant
from ..limits import DEFAULT, Limits
from ..problem import Problem
from ..slipkit import SHARED
from ..values import flat

MAX_SOLVES = 48        # re-solved variants per problem (singles and pairs together)
MAX_SECONDS = 20       # time spent re-solving variants of one problem
NONE, WEAK, STRONG = 0, 1, 2


@dataclass(frozen=True)
class Query:
    """A wrong number: which answer, its row-major position, and how well a value reproduces it.

    `matches(value)` is STRONG when the value reproduces the number by equality or by rounding at the decimals
    it was written with, WEAK when only by the relative tolerance, NONE otherwise.
    """

    name: str
    position: int
    matches: Callable[[Any], int]
    differs: Callable[[Any], bool] = lambda value: True   # does a value differ from the exact one here?


@dataclass(frozen=True)
class Found:
    """The slip behind a wrong number, and the value it gives there."""

    words: str
    value: Any
    slips: tuple[str, ...]


def slips_of(p: Problem) -> tuple[Slip, ...]:
    """The slips that can happen in a problem: its kind's own, then those of every kind."""
    return tuple(p.definition.slips) + SHARED


def catalogue() -> list[Slip]:
    """Every slip of every installed kind, once each (by name)."""
    seen: dict[str, Slip] = {}
    for name in registry.names():
        for slip in registry.get(name).slips:
            seen.setdefault(slip.name, slip)
    for slip in SHARED:
        seen.setdefault(slip.name, slip)
    return list(seen.values())


def __getattr__(name: str) -> Any:
    if name == "CATALOGUE":
        return catalogue()
    if name == "BY_NAME":
        return {slip.name: slip for slip in catalogue()}
    raise AttributeError(name)


def solve_variant(q: Problem) -> Any:
    """The exact solution of an edited problem (no float re-check); None when the edit makes it invalid."""
    try:
        q.definition.validate(q)
        return q.definition.solve(q)
    except (SpecError, CheckFailed, ArithmeticError):
        return None


class Trials:
    """The answers each variant (or pair of variants) gives for one problem, computed once each."""

    def __init__(self, p: Problem, solution: Any, limits: Limits = DEFAULT):
        self.p, self.solution, self.limits = p, solution, limits
        self.solved: dict[tuple, Any] = {}
        self.budget = min(MAX_SECONDS, limits.seconds)   # seconds of re-solving (shared by a class's files)
        self.variants = variants_for(p, solution.answers)

    def base(self, mods: list[Callable]) -> Any:
        """The solution of the problem with `mods` applied in turn (None: not applicable or over budget)."""
        if not mods:
            return self.solution
        key = tuple(mods)
        if key not in self.solved:
            if len(self.solved) >= MAX_SOLVES or self.budget <= 0:
                return None
            start = time.monotonic()
            q: Problem | None = self.p
            for mod in mods:
                q = mod(q) if q is not None else None
            self.solved[key] = solve_variant(q) if q is not None else None
            self.budget -= time.monotonic() - start
        return self.solved[key]

    def reaches(self, variant: Variant, answer: str) -> bool:
        """Does this variant alone change the answer (so a slip text for it may name the variant)?"""
        alone = self.outcome((variant,))
        if alone is None or answer not in alone:
            return False
        return flat(alone[answer]) != flat(self.solution.answers[answer])

    def outcome(self, combo: tuple[Variant, ...]) -> Answers | None:
        """The answers a combination of variants gives."""
        base = self.base([v.modify for v in combo if v.modify])
        if base is None:
            return None
        answers = dict(base.answers)
        try:
            for v in combo:
                if v.transform:
                    answers.update(v.transform(base.problem, answers))
        except ArithmeticError:   # the slip's formula divides by zero here: it cannot have happened
            return None
        return answers


def variants_for(p: Problem, answers: Answers) -> list[tuple[str, Variant]]:
    """Every (slip name, variant) that applies to this problem."""
    return [(slip.name, v) for slip in slips_of(p) for v in slip.variants(p, answers)]


def numbers_of(answers: Answers, name: str, width: int) -> list | None:
    """The numbers of one answer in row-major order, if it has the expected count."""
    if name not in answers:
        return None
    numbers = flat(answers[name])
    return numbers if len(numbers) == width else None


def consistent(queries: list[Query], values: dict[int, Any], hits: dict[int, Any]) -> dict[int, Any]:
    """Keep a candidate's hits in an answer only where it explains more than half of the wrong numbers it changes.

    A slip made consistently reproduces every number it changes; one lucky number among many is a coincidence.
    """
    kept = {}
    for name in {queries[i].name for i in hits}:
        changed = [i for i, q in enumerate(queries) if q.name == name and values[i] is not None
                   and q.differs(values[i])]
        mine = {i: v for i, v in hits.items() if queries[i].name == name}
        if 2 * len(mine) > len(changed):
            kept.update(mine)
    return kept


def score(trials: Trials, candidates: list, queries: list[Query], widths: dict[str, int]) -> list[tuple]:
    """(slip names, variants, {query: value}) for every candidate that reproduces some wrong number."""
    scored = []
    for names, combo in candidates:
        answers = trials.outcome(combo)
        if answers is None:
            continue
        numbers = {name: numbers_of(answers, name, width) for name, width in widths.items()}
        values = {i: numbers[q.name][q.position] if numbers[q.name] is not None else None
                  for i, q in enumerate(queries)}
        grades = {i: queries[i].matches(v) for i, v in values.items()}
        hits = consistent(queries, values, {i: values[i] for i, g in grades.items() if g != NONE})
        if len(hits) < 2:   # a number matched only within rtol needs a second number to back the slip
            hits = {i: v for i, v in hits.items() if grades[i] == STRONG}
        if hits:
            scored.append((names, combo, hits))
    return scored


def diagnose(p: Problem, solution: Any, queries: list[Query], limits: Limits = DEFAULT,
             trials: Trials | None = None) -> list[Found | None]:
    """The slip behind each wrong number: single slips first, then pairs; the one explaining most wins."""
    widths = {name: len(flat(solution.answers[name])) for name in {q.name for q in queries}}
    trials = trials or Trials(p, solution, limits)
    found: list[Found | None] = [None] * len(queries)
    left = set(range(len(queries)))
    singles = [((n,), (v,)) for n, v in trials.variants]
    pairs = [((n1, n2), (v1, v2)) for (n1, v1), (n2, v2) in itertools.combinations(trials.variants, 2) if n1 != n2]
    scored = score(trials, singles, queries, widths)
    explained = set().union(*(hits for _, _, hits in scored)) if scored else set()
    if len(explained) < len(queries):
        scored += score(trials, pairs, queries, widths)
    while left and scored:
        names, combo, hits = max(scored, key=lambda s: len(left & set(s[2])))
        explained = left & set(hits)
        if not explained:
            break
        for i in explained:
            reach = [k for k, v in enumerate(combo) if len(combo) == 1 or trials.reaches(v, queries[i].name)]
            found[i] = Found(", and ".join(combo[k].words for k in reach), hits[i], tuple(names[k] for k in reach))
        left -= explained
    return found
