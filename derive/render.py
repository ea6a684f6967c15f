"""The Jinja environment for LaTeX: \\VAR{}/\\BLOCK{} delimiters, StrictUndefined, escaping by type."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2
import sympy

from .latex import Latex, group_int, tex
from .prose import escape, to_latex
from .values import has_mapping


def finalize(value: Any) -> str:
    """Escape by type: Latex passes raw, SymPy goes through sympy.latex, everything else is escaped text."""
    if isinstance(value, Latex):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return escape(str(value))
    if isinstance(value, int):
        return group_int(value)
    if isinstance(value, (sympy.Basic, list)):
        return tex(value)
    return escape(str(value))


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The one Jinja environment (templates from the package's templates folder)."""
    from .jinjaenv import SETTINGS, loader
    env = jinja2.Environment(loader=loader(), finalize=finalize, **SETTINGS)
    env.filters["prose"] = lambda text: to_latex(text) if text else Latex("")
    env.filters["display"] = display
    env.globals["answer_line"] = answer_line
    env.globals["Latex"] = Latex
    env.tests["prose"] = lambda v: isinstance(v, Prose)
    env.tests["rows"] = lambda v: isinstance(v, Rows)
    return env


def fragment(template: str, **variables: Any) -> Latex:
    """Render a template from templates/ to a LaTeX fragment (a figure or table for a kind's step)."""
    return Latex(environment().get_template(template).render(**variables))


def _split_top(line: str) -> list[str]:
    """Split an equation chain at its top-level `=` and `\\approx` (outside braces and environments)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(line):
        ch = line[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif line.startswith(r"\begin", i):
            depth += 1
        elif line.startswith(r"\end", i):
            depth -= 1
        elif depth == 0 and (line.startswith(" = ", i) or line.startswith(r" \approx ", i)):
            parts.append(line[start:i])
            start = i + 1
        i += 1
    parts.append(line[start:])
    return parts


def width(line: str) -> int:
    """A rough count of the characters a display shows: a matrix counts as its widest row."""
    def matrix_width(m: re.Match) -> str:
        rows = m.group(1).split(r"\\")
        return "x" * max(len(re.sub(r"\\[a-zA-Z]+|[{}&]", "", r)) for r in rows)
    flat = re.sub(r"\\begin\{[bpv]?matrix\}(.*?)\\end\{[bpv]?matrix\}", matrix_width, line)
    flat = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: "x" * max(len(m.group(1)), len(m.group(2))), flat)
    return len(re.sub(r"\\[a-zA-Z]+|[{}^_]", "", flat))


WIDE = 90  # characters of LaTeX past which a chain is broken into aligned rows
LONG = 2 * WIDE  # a part of a chain past this is broken at its top-level + and − signs
MAX_ROWS = 12    # rows of one broken sum shown; the middle ones are elided (the key may elide, §15)


def display(line: str) -> Latex:
    """One display line; a long chain becomes aligned rows (lhs = … / = … / ≈ …), long sums several rows."""
    visible = width(line)
    parts = _split_top(line)
    if visible <= WIDE or (len(parts) < 2 and visible <= LONG):
        return Latex(line)
    if len(parts) < 2:
        parts = ["", line]
    rows = [parts[0] + " &" + row if k == 0 else "&\\quad " + row
            for k, row in enumerate(_sum_rows(parts[1]))]
    for part in parts[2:]:
        rows += ["&" + row if k == 0 else "&\\quad " + row for k, row in enumerate(_sum_rows(part))]
    return Latex(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")


def _sum_rows(part: str) -> list[str]:
    """A part of a chain as rows of at most WIDE characters, split at its top-level + and − (if over LONG)."""
    if width(part) <= LONG:
        return [part]
    rows, current = [], ""
    for term in _split_terms(part):
        if current and width(current + term) > WIDE:
            rows.append(current)
            current = term.lstrip()
        else:
            current += term
    rows.append(current)
    if len(rows) > MAX_ROWS:
        rows = rows[:MAX_ROWS - 3] + [r"\cdots"] + rows[-2:]
    return rows


OPENS = re.compile(r"\\(begin|left)(?![A-Za-z])")
CLOSES = re.compile(r"\\(end|right)(?![A-Za-z])")


def _split_terms(part: str) -> list[str]:
    """`a + b - c` → [`a`, ` + b`, ` - c`] at depth 0 (outside braces and environments)."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(part):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif OPENS.match(part, i):
            depth += 1
        elif CLOSES.match(part, i):
            depth -= 1
        elif depth == 0 and i > start and part.startswith((" + ", " - "), i):
            terms.append(part[start:i])
            start = i
    terms.append(part[start:])
    return terms


def answer_line(answer: Any, digits: int) -> Latex:
    """`symbol = exact ≈ decimal` for the answers box."""
    from .latex import chain
    lhs = answer.symbol or Latex(r"\text{%s}" % escape(answer.name.replace("_", " ")))
    if answer.display is not None:   # a display of decimals only reads lhs ≈ …
        joint = " " if answer.display.startswith(r"\approx") else " = "
        return Latex(f"{lhs}{joint}{answer.display}")
    return chain(lhs, answer.value, approx_digits=digits)


def render_document(worksheet: Any, solutions: list, questions: bool = False) -> str:
    """The whole .tex of a worksheet (solutions, or the question sheet)."""
    head, tail = document_parts(worksheet, questions)
    return head + "".join(problem_fragment(s, questions) for s in solutions) + tail


PROBLEMS_GO_HERE = "\x00derive: the problems\x00"


def document_parts(worksheet: Any, questions: bool = False) -> tuple[str, str]:
    """The .tex before the first problem and after the last (known before any problem is solved)."""
    title = worksheet.title
    if questions:
        title = re.sub(r"\s*[—–:-]+\s*(solutions?|answer key|answers|key)\s*$", "", title, flags=re.I) + " — Questions"
    text = environment().get_template("document.tex.j2").render(
        sheet=worksheet, title=title, fragments=[Latex(PROBLEMS_GO_HERE)], questions=questions)
    head, tail = text.split(PROBLEMS_GO_HERE)
    return head, tail


def problem_fragment(solution: Any, questions: bool) -> Latex:
    """One problem's LaTeX (key or question sheet), rendered once and kept on the solution."""
    key = "questions_tex" if questions else "tex"
    if key not in solution.cache:
        solution.cache[key] = Latex(environment().get_template("problem.tex.j2").render(
            item=_item(solution, questions), questions=questions))
    return solution.cache[key]


def _item(solution: Any, questions: bool) -> dict[str, Any]:
    """What the problem template needs of one solution."""
    p = solution.problem
    return {"problem": p, "solution": solution, "given": p.definition.given(p) if questions else [],
            "answers": boxed(solution)}


def boxed(solution: Any) -> list:
    """The answers the key's box shows (a layer table's mappings are shown by its figure instead)."""
    return [a for a in solution.answer_list if not has_mapping(a.value)]


class Prose(str):
    """A given value better written as text than as math (a layer list); wraps like a paragraph."""


class Rows(list):
    """A given value written as lines of text (the rows of a large matrix), each wrapping, never elided."""


def flow(value: Any) -> str:
    """A spec value written back in YAML flow style, for the question sheet (`{conv: 32, kernel: 3}`)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def render_solution(solution: Any) -> str:
    """One solution as a LaTeX fragment (as in the document)."""
    return problem_fragment(solution, False)


def notebook_latex(solution: Any) -> str:
    """A MathJax-friendly rendering for Jupyter: steps as text and math rows in one display."""
    rows = []
    for step in solution.steps:
        rows.append(r"\textbf{%s}" % _mathjax_text(step.title))
        rows.extend(step.math)
    d = solution.problem.digits
    from .latex import chain
    for a in boxed(solution):
        rows.append(r"\boxed{%s}" % chain(a.symbol or Latex(r"\text{%s}" % _mathjax_text(a.name)), a.value,
                                          approx_digits=d))
    return "$$\\begin{array}{l}" + r" \\[4pt] ".join(rows) + r"\end{array}$$"


def _mathjax_text(text: str) -> str:
    return re.sub(r"[{}\\$&#%_^~]", " ", text)
