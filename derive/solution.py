"""The one core type a problem flows through: its worked steps, exact answers and checks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .latex import Latex
from .problem import Problem


@dataclass
class Step:
    """One worked step: a heading, plain-text explanation, display-math lines, optional figure."""

    title: str
    text: str = ""                                  # plain text, escaped when typeset
    math: list[Latex] = field(default_factory=list)  # display lines, already LaTeX
    figure: Latex | None = None                     # a raw LaTeX block (TikZ, table) made by the kind


@dataclass
class Answer:
    """One named answer: an exact value (nested lists of SymPy numbers, ints, None, or dicts)."""

    name: str
    value: Any
    approximate: bool = False      # carried as a 50-digit decimal (SPEC §2)
    symbol: Latex | None = None    # how the key writes it (e.g. p, \mathcal{L})
    display: Latex | None = None   # the kind's own rendering of the value for the answers box, if any


@dataclass
class Solution:
    """A problem's worked solution: steps, answers (exact) and the checks they passed."""

    problem: Problem
    steps: list[Step] = field(default_factory=list)
    answer_list: list[Answer] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)   # plain-text sentences shown in the key
    notes: list[str] = field(default_factory=list)    # plain-text remarks after the answers (interpretation)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # rendered forms, made once

    def step(self, title: str, *math: Latex, text: str = "", figure: Latex | None = None) -> Step:
        """Add a worked step and return it."""
        s = Step(title, text, list(math), figure)
        self.steps.append(s)
        return s

    def answer(self, name: str, value: Any, *, approximate: bool = False, symbol: str | None = None,
               display: Latex | None = None) -> None:
        """Record a final answer (exact); `display` overrides how the answers box shows its value."""
        self.answer_list.append(Answer(name, value, approximate, Latex(symbol) if symbol else None,
                                       Latex(display) if display else None))

    def check(self, sentence: str) -> None:
        """Record a check the answer passed, as a sentence for the key."""
        self.checks.append(sentence)

    def note(self, sentence: str) -> None:
        """Record a remark for the reader (what the result means)."""
        self.notes.append(sentence)

    @property
    def answers(self) -> dict[str, Any]:
        """Answer name → exact value."""
        return {a.name: a.value for a in self.answer_list}

    @property
    def approximate(self) -> set[str]:
        """Names of answers carried as decimals."""
        return {a.name for a in self.answer_list if a.approximate}

    def __repr__(self) -> str:
        names = ", ".join(a.name for a in self.answer_list) or "no answers"
        return f"<Solution {self.problem.id} ({self.problem.kind}): {len(self.steps)} steps; {names}>"

    def to_latex(self) -> str:
        """This solution typeset as a LaTeX fragment (the same one the PDF uses)."""
        from .render import render_solution
        return render_solution(self)

    def _repr_latex_(self) -> str:
        from .render import notebook_latex
        return notebook_latex(self)

    def to_json(self) -> dict:
        """This problem's entry of the JSON output."""
        from .jsonout import problem_json
        return problem_json(self)
