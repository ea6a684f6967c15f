"""The numbers a quiz asks for (SPEC §11): one blank per number of each answer, in answer order and row-major
(a layer list's numbers included, its names and nulls skipped), each with the absolute tolerance of its
judging rule: 0 for counts, shapes and masks; rtol·|exact| (digits, relative); atol (absolute); half a unit of
the last kept digit (sigfig, decimals). §12's update rule does not apply to exports."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sympy

from ..grading.judge import HALF, SCALE, make_rule
from ..grading.match import index_text
from ..jsonout import value_json
from ..rules import Rule, rule_for
from ..values import evaluate, leaves



@dataclass(frozen=True)
class Blank:
    """One number to fill in: which answer and where in it, its value (as the JSON has it) and tolerance."""

    answer: str
    index: tuple
    value: int | float
    tolerance: int | float         # 0 (an int) for an exact count
    exact: Any

    @property
    def label(self) -> str:
        """`probabilities[0]`, `layers[1].params`, `loss`: where the number sits in its answer."""
        return index_text(self.answer, self.index)


def number_text(x: int | float) -> str:
    """A JSON value as quiz text: integers as written, floats by their shortest repr (1e-05, 0.6590011…)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or (isinstance(x, float) and not math.isfinite(x)):
        raise ValueError(f"not a finite number: {x!r}")
    return str(x) if isinstance(x, int) else repr(x)


def problem_blanks(solution: Any, spec_check: dict | None) -> list[Blank]:
    """Every blank of one problem, in answer order."""
    p = solution.problem
    spec_rule = make_rule(spec_check or None)
    out = []
    for answer in solution.answer_list:
        rule = rule_for(spec_rule, p.check, answer.name)
        count = p.definition.spec_of(answer.name).count
        found = [(i, leaf) for i, leaf in leaves(answer.value) if leaf is not None]
        scale = max((abs(evaluate(leaf, 30)) for _, leaf in found), default=sympy.Integer(0))
        for index, leaf in found:
            value = value_json(leaf)
            if value is None:
                raise ValueError(f"{p.id}.{answer.name}: a number beyond float64 cannot be a quiz blank")
            out.append(Blank(answer.name, index, value, tolerance(leaf, rule, count, scale), leaf))
    return out


def tolerance(exact: Any, rule: Rule, count: bool, scale: Any) -> int | float:
    """The absolute tolerance of one number under its rule (an exact count: 0)."""
    if count:
        return 0
    size = abs(evaluate(exact, 40))
    if rule.mode in ("digits", "relative"):
        tol = rule.rtol * size
    elif rule.mode == "absolute":
        tol = rule.atol
    elif size == 0:
        tol = SCALE * scale
    elif rule.mode == "sigfig":
        exponent = int(sympy.floor(sympy.log(sympy.Float(size, 40), 10)))
        tol = HALF * sympy.Rational(10) ** (exponent - rule.digits + 1)
    else:
        tol = HALF * sympy.Rational(10) ** -rule.digits
    return float(sympy.Float(tol, 30)) if tol else 0


def bounds(blank: Blank) -> tuple[float, float]:
    """The range [value − tolerance, value + tolerance] as floats (for QTI's vargte/varlte)."""
    exact, tol = sympy.Float(evaluate(blank.exact, 40), 40), sympy.Float(repr(blank.tolerance), 40)
    return float(exact - tol), float(exact + tol)
