"""The report of `derive check`: text for a person, JSON for a script (SPEC §5)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sympy

from ..jsonout import value_json
from ..latex import decimal_text, is_plain, terminating
from ..numbers import NotANumber
from .judge import Given, Rule, as_exact, read_given
from .match import Mark, ProblemReport

SHOWN_EXACT = 48        # characters of an exact value's SymPy text shown in the report

# ---- the report ------------------------------------------------------------------------------------

@dataclass
class Report:
    """What `derive check` found: per problem, per number, right or wrong, and the slip."""

    spec: str
    answers: str
    rule: Rule
    problems: list[ProblemReport] = field(default_factory=list)
    title: str | None = None        # the spec's title

    @property
    def right(self) -> int:
        return sum(m.ok for p in self.problems for m in p.marks)

    @property
    def wrong(self) -> int:
        return sum(not m.ok for p in self.problems for m in p.marks)

    @property
    def carried(self) -> int:
        return sum(m.carried is not None for p in self.problems for m in p.marks)

    def summary(self, always_carried: bool = False) -> str:
        """`4 right, 8 wrong (3 carried)` (the carried count only when there are some, unless asked)."""
        tail = f" ({self.carried} carried)" if self.carried or always_carried else ""
        return f"{self.right} right, {self.wrong} wrong{tail}"

    def to_json(self) -> dict[str, Any]:
        """SPEC §5's JSON: problems → answers {name, index, given, expected, ok, slip, carried}; right; wrong."""
        return {"problems": [{"id": p.id, "answers": [mark_json(m) for m in p.marks]} for p in self.problems],
                "right": self.right, "wrong": self.wrong, "carried": self.carried}

    def to_text(self) -> str:
        """The report for a person: one line per number, the slip under a wrong one, a summary line."""
        lines = [f"Checking {self.answers} against {self.spec} (min_digits {self.rule.min_digits}, "
                 f"rtol {_plain(self.rule.rtol)})"]
        for p in self.problems:
            lines.append("")
            lines.append(f"{p.id} ({p.kind})")
            width = max((len(m.label()) for m in p.marks), default=0)
            for m in p.marks:
                lines.extend(mark_lines(m, width, p.digits))
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines) + "\n"


def _plain(x: Any) -> str:
    """A rational as a short decimal when it has one (0.01), else p/q."""
    return terminating(x) if isinstance(x, sympy.Rational) and is_plain(x) else str(x)


def shown(x: Any, digits: int, count: bool = False) -> str:
    """`exp(2)/(…) ≈ 0.6590`, `8`, `43352064`: the exact value and its decimal."""
    if x is None:
        return "null (no value)"
    if isinstance(x, (list, dict)):
        return json.dumps(json_value(x, count))
    x = as_exact(x)
    if isinstance(x, sympy.Rational) and is_plain(x):
        return _plain(x)
    text = str(x)
    decimal = decimal_text(x, digits)
    if len(text) > SHOWN_EXACT or isinstance(x, sympy.Float):
        return f"≈ {decimal}"
    return f"{text} ≈ {decimal}"


def slip_value(x: Any, digits: int) -> str:
    """What a slip gives, briefly: `0`, `2.828`."""
    x = as_exact(x)
    return _plain(x) if isinstance(x, sympy.Rational) and is_plain(x) else decimal_text(x, digits)


def mark_lines(m: Mark, width: int, digits: int) -> list[str]:
    """One or two lines of the text report."""
    given = m.given.written if m.given else json.dumps(json_given(m.given_raw))
    verdict = "right" if m.ok else ("WRONG, follows from your " + m.carried if m.carried else "WRONG")
    head = f"  {m.label():<{width}}  {given:>10}  {verdict}"
    if m.ok:
        return [f"{head}  ({shown(m.expected, digits, m.count)})"]
    lines = [f"{head}  expected {shown(m.expected, digits, m.count)}" + (f": {m.message}" if m.message else "")]
    if m.slip:
        lines.append(f"  {'':<{width}}  {'':>10}  slip: {m.slip}")
    return lines


def json_value(x: Any, count: bool = False) -> Any:
    """An exact value as JSON: float64 (ints for counts), nested like the answer; None stays null."""
    if x is None:
        return None
    if isinstance(x, (list, dict)):
        return value_json(x) if not isinstance(x, list) else [json_value(v, count) for v in x]
    if count and isinstance(as_exact(x), sympy.Integer):
        return int(x)
    return value_json(x)


def json_given(value: Any) -> Any:
    """A given answer (a list, when its count was wrong) as JSON numbers."""
    if isinstance(value, list):
        return [json_given(v) for v in value]
    try:
        return given_number(read_given(value))
    except NotANumber:
        return str(value)


def given_number(g: Given) -> Any:
    """A given number as JSON: an int when written as one, else a float; null for null."""
    if g.value is None:
        return None
    if g.value.is_integer and g.digits is not None and not any(c in g.written for c in ".eE"):
        return int(g.value)
    return float(g.value)


def given_json(m: Mark) -> Any:
    """The `given` of a JSON entry."""
    return json_given(m.given_raw) if m.given is None else given_number(m.given)


def mark_json(m: Mark) -> dict[str, Any]:
    """One entry of the JSON report."""
    entry = {"name": m.name, "index": list(m.index), "given": given_json(m),
             "expected": json_value(m.expected, m.count), "ok": m.ok, "slip": m.slip,
             "carried": m.carried is not None}
    if m.message:
        entry["message"] = m.message
    return entry


