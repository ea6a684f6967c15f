"""`derive check` and `derive.check`: grade answers against a spec's exact key, then name the slips."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from ..engine import solve as engine_solve
from ..errors import Message, SpecError
from ..fields import suggest
from ..limits import DEFAULT, Limits
from ..numbers import describe
from ..rules import Rule, rule_for
from ..spec import Worksheet, load, read_text
from ..values import evaluate, leaves
from ..yamlsafe import Document, read_yaml
from . import diagnose as slips
from .diagnose import NONE, STRONG, WEAK
from .judge import as_exact, judge, make_rule, rounded_count
from .match import AnswersFile, Mark, ProblemReport, match, named_answers
from .report import Report, slip_value

ROUNDED_COUNT = "a count or shape rounded: counts and shapes are right only when exact"

# ---- checking -------------------------------------------------------------------------------------

def read_answers(answers: Any, limits: Limits = DEFAULT) -> Document:
    """The answers file (safe YAML, size-limited) or a Python mapping, as a Document."""
    if isinstance(answers, Document):
        return answers
    if isinstance(answers, dict):
        return Document({str(k): v for k, v in answers.items()}, "<answers>")
    shown = str(answers)
    return read_yaml(read_text(answers, limits, shown), shown, max_nodes=2 * limits.numbers + 10_000)


@dataclass
class Session:
    """What grading many files against one spec computes once: each problem's solution and its slip trials."""

    limits: Limits = DEFAULT
    solutions: dict[str, Any] = field(default_factory=dict)
    trials: dict[str, slips.Trials] = field(default_factory=dict)

    def solution(self, p: Any) -> Any:
        """The exact, checked solution of one problem (solved once)."""
        if p.id not in self.solutions:
            self.solutions[p.id] = engine_solve(p, limits=self.limits)
        return self.solutions[p.id]

    def trial(self, p: Any, solution: Any) -> slips.Trials:
        """The problem's slip variants and their outcomes (computed once, shared by every file)."""
        if p.id not in self.trials:
            self.trials[p.id] = slips.Trials(p, solution, self.limits)
        return self.trials[p.id]


META = ("variant", "seed")   # top-level keys of an answers file that say which variant it answers (§10)


def answers_meta(doc: Document) -> tuple[str | None, int | None]:
    """The `variant:` and `seed:` keys of an answers file (removed from its data), each None when absent."""
    data = doc.data if isinstance(doc.data, dict) else {}
    variant, seed = data.get("variant"), data.get("seed")
    if isinstance(variant, (dict, list)) or isinstance(seed, (dict, list)):
        return None, None   # a problem named `variant` or `seed`: not metadata
    for key in META:
        data.pop(key, None)
    if seed is not None:
        try:
            seed = int(str(seed))
        except ValueError:
            raise SpecError(Message(f"seed: expected a whole number, got {describe(seed)}", doc.file,
                                    doc.line(("seed",)))) from None
    return (None if variant is None else str(variant)), seed


def check(spec: Any, answers: Any, min_digits: int | None = None, rtol: Any = None,
          limits: Limits = DEFAULT, diagnose: bool = True, session: Session | None = None) -> Report:
    """Grade answers (a file or a mapping) against a spec (a file or a loaded Worksheet)."""
    sheet = spec if isinstance(spec, Worksheet) else load(spec, limits)
    rule = make_rule(sheet.check, min_digits, rtol)
    doc = read_answers(answers, limits)
    report = Report(sheet.file, doc.file, rule, title=sheet.title)
    report.problems = grade(sheet, doc, rule, session or Session(limits), diagnose)
    return report


def grade(sheet: Any, doc: Document, rule: Rule, session: Session, diagnose: bool = True) -> list[ProblemReport]:
    """Judge every given number; a SpecError lists every problem with the answers file."""
    data = doc.data
    if not isinstance(data, dict):
        got = "nothing" if data is None else ("a list" if isinstance(data, list) else "a single value")
        raise SpecError(Message(f"expected a mapping of problem ids to answers, got {got}", doc.file,
                                doc.line(()) or 1))
    answers = AnswersFile(doc, session.limits)
    problems = {p.id: p for p in sheet.problems}
    for pid in data:
        if str(pid) not in problems:
            answers.error((pid,), f"unknown problem id{suggest(pid, problems)}; the spec has {', '.join(problems)}")
    reports = []
    for p in sheet.problems:
        if p.id in data:
            reports.append(grade_problem(p, data[p.id], answers, rule, session))
    if answers.messages:
        raise SpecError(answers.messages)
    for report, p in zip(reports, [q for q in sheet.problems if q.id in data]):
        follow_through(report, p)
        if diagnose:
            name_slips(report, p, session, rule)
    return reports


def grade_problem(p: Any, given: Any, answers: AnswersFile, rule: Rule, session: Session) -> ProblemReport:
    """The marks of one problem (errors are recorded in `answers`)."""
    report = ProblemReport(p.id, p.kind, p.digits, title=p.title)
    if not isinstance(given, dict):
        answers.error((p.id,), f"expected a mapping of answer names to numbers, got {describe(given)}")
        return report
    solution = session.solution(p)
    report.solution = solution
    exact = solution.answers
    if not exact:
        answers.error((p.id,), f"{p.id} ({p.kind}) has no answers to check")
        return report
    for name, value, path in named_answers(given, list(exact), (p.id,), answers):
        report.marks += match(name, exact[name], value, path, answers, rule_for(rule, p.check, name),
                              p.definition.spec_of(name).count, scale=magnitude(exact[name]),
                              before=p.definition.value_before(p, name, exact))
    return report


def magnitude(value: Any) -> Any:
    """The largest magnitude among an answer's exact numbers (0 for none)."""
    sizes = [abs(evaluate(x, 20)) for _, x in leaves(value) if x is not None]
    return max(sizes, default=0)


def name_slips(report: ProblemReport, p: Any, session: Session, rule: Rule) -> None:
    """Ask the slip catalogue about each wrong number of a problem."""
    wrong = [m for m in report.marks if not m.ok and m.given is not None and m.given.value is not None
             and m.carried is None]
    if not wrong:
        return
    queries = [slips.Query(m.name, m.position, _matcher(m, rule), _differs(m.expected)) for m in wrong]
    trials = session.trial(p, report.solution)
    for m, found in zip(wrong, slips.diagnose(p, report.solution, queries, session.limits, trials)):
        if found is not None:
            m.slip = f"{found.words} (that gives {slip_value(found.value, report.digits)})"
            m.slip_names = found.slips
        elif m.count and rounded_count(m.given, m.expected):
            m.slip, m.slip_names = ROUNDED_COUNT, ("rounded_count",)


def follow_through(report: ProblemReport, p: Any) -> None:
    """Mark wrong numbers that are right when redone from the student's own earlier answers (§12: carried)."""
    if report.solution is None:
        return
    exact = report.solution.answers
    by_answer: dict[str, list[Mark]] = {}
    for m in report.marks:
        by_answer.setdefault(m.name, []).append(m)
    order = list(exact)
    for name, marks in by_answer.items():
        wrong = [m for m in marks if not m.ok and m.given is not None and m.given.value is not None]
        depends = [d for d in p.definition.spec_of(name).depends if d in by_answer]
        if not wrong or not depends:
            continue
        given = {d: student_value(exact[d], by_answer[d]) for d in depends}
        given = {d: v for d, v in given.items() if v is not None}
        wrong_deps = sorted((d for d in given if any(not m.ok for m in by_answer[d])), key=order.index)
        if not wrong_deps:
            continue
        followed = p.definition.follow(p, name, given)
        if followed is None:
            continue
        _carry(wrong, followed, wrong_deps[0])


def student_value(exact: Any, marks: list[Mark]) -> Any:
    """The student's whole answer, shaped like the exact one (None when it cannot be read whole)."""
    if any(m.given is None or m.given.value is None for m in marks):
        return None
    value = copy.deepcopy(exact)
    if not marks or marks[0].index == ():
        return marks[0].given.value if marks else None
    for m in marks:
        holder = value
        for key in m.index[:-1]:
            holder = holder[key]
        holder[m.index[-1]] = m.given.value
    return value


def _carry(wrong: list[Mark], followed: Any, source: str) -> None:
    """Wrong numbers that are right against the followed-through value become carried."""
    values = dict(leaves(followed))
    for m in wrong:
        if m.index in values and judge(m.given, values[m.index], m.rule or Rule(), m.count, m.scale):
            m.carried = source


def _differs(exact: Any) -> Callable[[Any], bool]:
    """Does a slip's value differ from the exact value (so the slip changes this number)?"""
    def differs(value: Any) -> bool:
        if value is None or exact is None or isinstance(value, (list, dict, str)):
            return value is not exact
        a, b = as_exact(value), as_exact(exact)
        if isinstance(a, sympy.Rational) and isinstance(b, sympy.Rational):
            return a != b
        diff = evaluate(a - b, 30)
        return bool(abs(diff) > sympy.Float("1e-25") * max(abs(evaluate(as_exact(exact), 30)), 1))
    return differs


def _matcher(m: Mark, rule: Rule) -> Callable[[Any], int]:
    """How well a slip's value reproduces this given number under the same judging rule (see slips.Query)."""

    rule = m.rule or rule

    def matches(value: Any) -> int:
        if value is None or isinstance(value, (list, dict, str)) or not judge(m.given, value, rule, m.count, m.scale,
                                                                             m.step):
            return NONE
        strict = Rule(rule.min_digits, sympy.Integer(0))
        return STRONG if judge(m.given, value, strict, m.count) else WEAK
    return matches


# ---- the command ----------------------------------------------------------------------------------
