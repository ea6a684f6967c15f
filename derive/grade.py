"""`derive check`: grade someone's answers against the exact key (SPEC §5) and name the slip behind a wrong number."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import sympy

from .errors import BuildError, CheckFailed, Message, SpecError
from .fields import suggest
from .limits import DEFAULT, Limits
from .numbers import DECIMAL, NotANumber, describe, to_number
from .values import as_sympy, evaluate
from .yamlsafe import Document, Plain, read_yaml

ROUNDED_COUNT = "a count or shape rounded: counts and shapes are right only when exact"
COUNT_NAMES = frozenset({"params", "multiplications", "output_shape", "layers"})  # judged by equality only
NULL_WORDS = frozenset({"null", "Null", "NULL", "~", ""})
DEFAULT_MIN_DIGITS = 2
DEFAULT_RTOL = sympy.Rational(1, 100)
PRECISION = 60          # digits used to compare with an irrational exact value
SHOWN_EXACT = 48        # characters of an exact value's SymPy text shown in the report


# ---- the judging rule (SPEC §5) ------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """How precisely a number must be written: `min_digits` for rounding, `rtol` for 3+ digits."""

    min_digits: int = DEFAULT_MIN_DIGITS
    rtol: sympy.Rational = DEFAULT_RTOL


@dataclass(frozen=True)
class Given:
    """One given number: its text as written, its exact value, and its precision."""

    text: str
    value: sympy.Rational | None     # None for a given null (no value)
    digits: int | None = None        # significant digits as written; None: a fraction (equality only)
    decimals: int | None = None      # decimals as written (`1.5e3` has −2)


def precision(text: str) -> tuple[int, int]:
    """(significant digits, decimals) of a decimal as written: `0.0099` (2, 4), `30` (2, 0), `30.0` (3, 1)."""
    mantissa, _, exponent = text.lstrip("+-").lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    return len((whole + frac).lstrip("0")), len(frac) - int(exponent or 0)


def read_given(value: Any) -> Given:
    """A given number from YAML or Python (floats through their shortest repr); NotANumber says why not."""
    if value is None or (isinstance(value, Plain) and str(value) in NULL_WORDS):
        return Given("null", None)
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (Fraction, sympy.Rational)) and not isinstance(value, sympy.Integer):
        text = f"{value.numerator}/{value.denominator}" if isinstance(value, Fraction) else f"{value.p}/{value.q}"
    elif isinstance(value, (int, sympy.Integer)) and not isinstance(value, bool):
        text = str(int(value))
    elif isinstance(value, (str, bool)):
        text = str(value)
    else:
        raise NotANumber(f"expected a number, got {describe(value)}")
    number = to_number(value)
    if DECIMAL.fullmatch(text.strip()):
        digits, decimals = precision(text.strip())
        return Given(text.strip(), number, digits, decimals)
    return Given(text.strip(), number)


def as_exact(x: Any) -> Any:
    """An exact answer leaf as a SymPy number (Python ints become Integers)."""
    if isinstance(x, int) and not isinstance(x, bool):
        return sympy.Integer(x)
    return as_sympy(x) if isinstance(x, (float, Fraction)) else x


def gap(value: sympy.Rational, exact: Any) -> tuple[Any, Any]:
    """(|given − exact|, |exact|): exact rationals when the key is rational, else 60-digit decimals (0 if equal)."""
    exact = as_exact(exact)
    if isinstance(exact, sympy.Rational):
        return abs(value - exact), abs(exact)
    size = abs(evaluate(exact, PRECISION))
    diff = abs(evaluate(value - exact, PRECISION))
    if diff <= sympy.Float(10, PRECISION) ** (10 - PRECISION) * max(size, 1):
        return sympy.Integer(0), size
    return diff, size


def judge(given: Given, exact: Any, rule: Rule, count: bool = False) -> bool:
    """SPEC §5: equal; or ≥ min_digits and rounds to the exact value; or ≥ 3 digits and within rtol."""
    if exact is None or given.value is None:
        return exact is None and given.value is None
    if isinstance(exact, (list, dict, str)):
        return False
    diff, size = gap(given.value, exact)
    if bool(diff == 0):
        return True
    if count or given.digits is None:
        return False
    if given.digits >= rule.min_digits and bool(diff <= sympy.Rational(1, 2) * sympy.Rational(10) ** -given.decimals):
        return True
    return given.digits >= 3 and bool(diff <= rule.rtol * size)


def rounded_count(given: Given, exact: Any) -> bool:
    """Is a wrong count the exact count rounded (43352000 for 43,352,064; 4.34e7)?"""
    if given.value is None or given.digits is None or not isinstance(as_exact(exact), sympy.Integer):
        return False
    place = -given.decimals                        # power of ten of the last digit written
    mantissa = given.text.lstrip("+-").lower().partition("e")[0]
    if "." not in mantissa and "e" not in given.text.lower():
        place += len(mantissa) - len(mantissa.rstrip("0")) if mantissa.strip("0") else 0
    kept = given.digits - (place + given.decimals)  # significant digits left after the rounding zeros
    half_step = sympy.Rational(1, 2) * sympy.Integer(10) ** place
    return place >= 1 and kept >= 2 and abs(given.value - as_exact(exact)) <= half_step


def make_rule(check: dict | None, min_digits: Any = None, rtol: Any = None) -> Rule:
    """The spec's `check:` block, overridden by --min-digits / --rtol."""
    check = check or {}
    digits = min_digits if min_digits is not None else check.get("min_digits") or DEFAULT_MIN_DIGITS
    tol = rtol if rtol is not None else check.get("rtol")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise SpecError(f"--min-digits must be a positive whole number, got {digits!r}")
    if tol is None:
        return Rule(digits, DEFAULT_RTOL)
    try:
        tol = to_number(Plain(tol) if isinstance(tol, str) else tol)
    except NotANumber as exc:
        raise SpecError(f"--rtol: {exc}") from None
    if tol < 0:
        raise SpecError(f"--rtol must be zero or positive, got {tol}")
    return Rule(digits, tol)


# ---- answers: shapes, leaves, matching -------------------------------------------------------------

Index = tuple  # (row, col) or (layer, "params") — the position inside the answer's shape


def leaves(value: Any, index: Index = ()) -> list[tuple[Index, Any]]:
    """Every number of an answer in row-major order, with its index (a layer's `name` is not a number)."""
    if isinstance(value, dict):
        return [leaf for key, v in value.items() if key != "name" and not isinstance(v, str)
                for leaf in leaves(v, index + (key,))]
    if isinstance(value, (list, tuple)):
        return [leaf for i, v in enumerate(value) for leaf in leaves(v, index + (i,))]
    return [(index, value)]


def has_mapping(value: Any) -> bool:
    """True when a given value holds a mapping somewhere (a `layers` answer written entry by entry)."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(has_mapping(v) for v in value)


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
          count: bool, index: Index = (), offset: int = 0) -> list[Mark]:
    """Judge a given answer against the exact one: entry by entry for mappings, else row-major by count."""
    if has_mapping(given) and not has_mapping(exact):
        where = _first_mapping(given, path)
        answers.error(where, "expected a number, got a mapping")
        return []
    if has_mapping(given):
        return _match_entries(name, exact, given, path, answers, rule, count, index, offset)
    want = leaves(exact, index)
    got = given_numbers(given, path, answers)
    if any(g is None for _, g in got):
        return []
    if len(got) != len(want):
        return [Mark(name, index, None, exact, False, count, offset, given_raw=given,
                     message=f"expected {len(want)} number{'s' * (len(want) != 1)}, got {len(got)}")]
    return [Mark(name, idx, g, x, judge(g, x, rule, count), count, offset + k)
            for k, ((idx, x), (_, g)) in enumerate(zip(want, got))]


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
            at += len(leaves(value))
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


def is_count(name: str) -> bool:
    """Counts and shapes (`params`, `bottleneck.multiplications`, `output_shape`, `layers`): equality only."""
    return name.rpartition(".")[2] in COUNT_NAMES


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

    def to_json(self) -> dict[str, Any]:
        """SPEC §5's JSON: problems → answers {name, index, given, expected, ok, slip}; right; wrong."""
        return {"problems": [{"id": p.id, "answers": [mark_json(m) for m in p.marks]} for p in self.problems],
                "right": self.right, "wrong": self.wrong}

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
        lines.append(f"{self.right} right, {self.wrong} wrong")
        return "\n".join(lines) + "\n"


def _plain(x: Any) -> str:
    """A rational as a short decimal when it has one (0.01), else p/q."""
    from .latex import is_plain, terminating
    return terminating(x) if isinstance(x, sympy.Rational) and is_plain(x) else str(x)


def shown(x: Any, digits: int, count: bool = False) -> str:
    """`exp(2)/(…) ≈ 0.6590`, `8`, `43352064`: the exact value and its decimal."""
    from .latex import decimal_text, is_plain
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
    from .latex import decimal_text, is_plain
    x = as_exact(x)
    return _plain(x) if isinstance(x, sympy.Rational) and is_plain(x) else decimal_text(x, digits)


def mark_lines(m: Mark, width: int, digits: int) -> list[str]:
    """One or two lines of the text report."""
    given = m.given.text if m.given else json.dumps(json_given(m.given_raw))
    verdict = "right" if m.ok else "WRONG"
    head = f"  {m.label():<{width}}  {given:>10}  {verdict}"
    if m.ok:
        return [f"{head}  ({shown(m.expected, digits, m.count)})"]
    lines = [f"{head}  expected {shown(m.expected, digits, m.count)}" + (f": {m.message}" if m.message else "")]
    if m.slip:
        lines.append(f"  {'':<{width}}  {'':>10}  slip: {m.slip}")
    return lines


def json_value(x: Any, count: bool = False) -> Any:
    """An exact value as JSON: float64 (ints for counts), nested like the answer; None stays null."""
    from .jsonout import value_json
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
    if g.value.is_integer and g.digits is not None and not any(c in g.text for c in ".eE"):
        return int(g.value)
    return float(g.value)


def given_json(m: Mark) -> Any:
    """The `given` of a JSON entry."""
    return json_given(m.given_raw) if m.given is None else given_number(m.given)


def mark_json(m: Mark) -> dict[str, Any]:
    """One entry of the JSON report."""
    entry = {"name": m.name, "index": list(m.index), "given": given_json(m),
             "expected": json_value(m.expected, m.count), "ok": m.ok, "slip": m.slip}
    if m.message:
        entry["message"] = m.message
    return entry


# ---- checking -------------------------------------------------------------------------------------

def read_answers(answers: Any, limits: Limits = DEFAULT) -> Document:
    """The answers file (safe YAML, size-limited) or a Python mapping, as a Document."""
    if isinstance(answers, dict):
        return Document({str(k): v for k, v in answers.items()}, "<answers>")
    from .spec import read_text
    shown = str(answers)
    return read_yaml(read_text(answers, limits, shown), shown, max_nodes=2 * limits.numbers + 10_000)


def check(spec: Any, answers: Any, min_digits: int | None = None, rtol: Any = None,
          limits: Limits = DEFAULT, diagnose: bool = True) -> Report:
    """Grade answers (a file or a mapping) against a spec (a file or a loaded Worksheet)."""
    from .spec import Worksheet, load
    sheet = spec if isinstance(spec, Worksheet) else load(spec, limits)
    rule = make_rule(sheet.check, min_digits, rtol)
    doc = read_answers(answers, limits)
    report = Report(sheet.file, doc.file, rule, title=sheet.title)
    report.problems = grade(sheet, doc, rule, limits, diagnose)
    return report


def grade(sheet: Any, doc: Document, rule: Rule, limits: Limits, diagnose: bool = True) -> list[ProblemReport]:
    """Judge every given number; a SpecError lists every problem with the answers file."""
    data = doc.data
    if not isinstance(data, dict):
        got = "nothing" if data is None else ("a list" if isinstance(data, list) else "a single value")
        raise SpecError(Message(f"expected a mapping of problem ids to answers, got {got}", doc.file,
                                doc.line(()) or 1))
    answers = AnswersFile(doc, limits)
    problems = {p.id: p for p in sheet.problems}
    for pid in data:
        if str(pid) not in problems:
            answers.error((pid,), f"unknown problem id{suggest(pid, problems)}; the spec has {', '.join(problems)}")
    reports = []
    for p in sheet.problems:
        if p.id in data:
            reports.append(grade_problem(p, data[p.id], answers, rule, limits))
    if answers.messages:
        raise SpecError(answers.messages)
    if diagnose:
        for report, p in zip(reports, [q for q in sheet.problems if q.id in data]):
            name_slips(report, p, limits, rule)
    return reports


def grade_problem(p: Any, given: Any, answers: AnswersFile, rule: Rule, limits: Limits) -> ProblemReport:
    """The marks of one problem (errors are recorded in `answers`)."""
    report = ProblemReport(p.id, p.kind, p.digits, title=p.title)
    if not isinstance(given, dict):
        answers.error((p.id,), f"expected a mapping of answer names to numbers, got {describe(given)}")
        return report
    solution = solve(p, limits)
    report.solution = solution
    exact = solution.answers
    if not exact:
        answers.error((p.id,), f"{p.id} ({p.kind}) has no answers to check")
        return report
    for name, value, path in named_answers(given, list(exact), (p.id,), answers):
        report.marks += match(name, exact[name], value, path, answers, rule, is_count(name))
    return report


def solve(p: Any, limits: Limits) -> Any:
    """The exact, checked solution of one problem."""
    from .engine import solve as engine_solve
    return engine_solve(p, limits=limits)


def name_slips(report: ProblemReport, p: Any, limits: Limits, rule: Rule) -> None:
    """Ask the slip catalogue about each wrong number of a problem."""
    from . import slips
    wrong = [m for m in report.marks if not m.ok and m.given is not None and m.given.value is not None]
    if not wrong:
        return
    queries = [slips.Query(m.name, m.position, _matcher(m, rule), _differs(m.expected)) for m in wrong]
    for m, found in zip(wrong, slips.diagnose(p, report.solution, queries, limits)):
        if found is not None:
            m.slip = f"{found.text} (that gives {slip_value(found.value, report.digits)})"
            m.slip_names = found.slips
        elif m.count and rounded_count(m.given, m.expected):
            m.slip, m.slip_names = ROUNDED_COUNT, ("rounded_count",)


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
    from .slips import NONE, STRONG, WEAK

    def matches(value: Any) -> int:
        if value is None or isinstance(value, (list, dict, str)) or not judge(m.given, value, rule, m.count):
            return NONE
        return STRONG if judge(m.given, value, Rule(rule.min_digits, sympy.Integer(0)), m.count) else WEAK
    return matches


# ---- the command ----------------------------------------------------------------------------------

def run(args: Any) -> int:
    """`derive check SPEC ANSWERS`: print the report; 0 all right, 1 some wrong, 2 a bad spec or answers file."""
    try:
        limits = Limits().with_overrides(list(getattr(args, "limit", None) or []))
        report = check(args.spec, args.answers, min_digits=args.min_digits, rtol=args.rtol, limits=limits)
    except SpecError as exc:
        for message in exc.messages:
            print(str(message), file=sys.stderr)
        return 2
    except CheckFailed as exc:
        print(f"{args.spec}: numeric check failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(report.to_text(), end="")
    status = 0 if report.wrong == 0 else 1
    if getattr(args, "pdf", False):
        try:
            path = marked_pdf(report, args.out)
            print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
        except BuildError as exc:
            print(f"{args.answers}: the marked copy was not made: {exc}", file=sys.stderr)
            return 1
    return status


def marked_pdf(report: Report, out: Any) -> Path:
    """Typeset the marked copy (`--pdf`) as OUT/<answers stem>-marked.pdf (and .tex); nothing half-written."""
    import os
    import shutil
    from .build import staging_folder
    from .pdf import compile_pdf
    out = Path(out)
    stem = Path(report.answers).stem + "-marked"
    work = staging_folder(out, stem)
    try:
        tex = work / f"{stem}.tex"
        tex.write_text(marked_tex(report), encoding="utf-8")
        pdf = compile_pdf(tex)
        os.replace(tex, out / tex.name)
        os.replace(pdf, out / pdf.name)
        return out / pdf.name
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def marked_tex(report: Report) -> str:
    """The LaTeX of the marked copy: every given number beside the key, wrong ones in red with the slip."""
    from .render import environment
    problems = [{"id": p.id, "title": p.title, "rows": _rows(p)} for p in report.problems]
    return environment().get_template("check.tex.j2").render(
        answers=report.answers, spec=report.spec, title=report.title, min_digits=report.rule.min_digits,
        rtol=_plain(report.rule.rtol), right=report.right, wrong=report.wrong, problems=problems)


def _rows(p: ProblemReport) -> list[dict[str, Any]]:
    """The rows of one problem; a slip repeated on the next number of the same answer is written once."""
    rows, previous = [], None
    for m in p.marks:
        row = _row(m, p.digits)
        key = (m.name, tuple(m.slip_names))
        if m.slip and key == previous:
            row["note"] = "slip: the same as above"
        previous = key if m.slip else None
        rows.append(row)
    return rows


def _row(m: Mark, digits: int) -> dict[str, Any]:
    """One table row of the marked copy."""
    from .latex import Latex, approx, decimals, group_int
    from .prose import escape
    from .values import has_mapping
    if m.expected is None:
        expected = Latex(r"\text{none}")
    elif has_mapping(m.expected):   # a network's layer list: its numbers as text, never evaluated
        entries = m.expected if isinstance(m.expected, list) else [m.expected]
        lines = [escape(json.dumps(json_value(e, m.count), ensure_ascii=False)) for e in entries]
        expected = Latex(r"\text{\parbox[t]{0.55\linewidth}{\raggedright\small " + r"\\ ".join(lines) + "}}")
    elif isinstance(m.expected, list):
        expected = decimals(m.expected, digits)
    elif m.count and isinstance(as_exact(m.expected), sympy.Integer):
        expected = group_int(int(m.expected))
    else:
        expected = approx(as_exact(m.expected), digits)
    given = m.given.text if m.given else json.dumps(json_given(m.given_raw))
    note = m.message or ""
    if m.slip:
        note = (note + "; " if note else "") + "slip: " + m.slip
    return {"label": m.label(), "given": given, "expected": expected, "ok": m.ok, "note": note}
