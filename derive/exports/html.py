"""The HTML key (SPEC §11): one self-contained page per spec or variant, the same steps, figures and answers
as the PDF key; Jinja with autoescape on, so every spec string is escaped and formulas arrive as MathML."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from ..render import Prose, Rows, answer_line, boxed, display
from ..resources import resource
from .figures import figure_html
from .htmltext import inline_math, math_html, prose_html


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The HTML templates (templates/html), autoescaped, strict about undefined names."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource("templates") / "html")),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["prose"] = prose_html
    env.filters["display"] = lambda tex: math_html(display(str(tex)), True)
    env.filters["inline"] = lambda tex: math_html(str(tex))
    env.filters["figure"] = lambda tex: figure_html(str(tex), inline_math)
    env.globals["answer_math"] = answer_math
    env.globals["given_data"] = given_data
    env.globals["boxed"] = boxed
    return env


def answer_math(answer: Any, digits: int) -> Markup:
    """`symbol = exact ≈ decimal` for the answers box, as display MathML."""
    return math_html(display(answer_line(answer, digits)), True)


def given_data(problem: Any) -> list[tuple[str, Markup, bool]]:
    """What the question sheet shows: (label, value as HTML, whether it is words rather than a formula)."""
    out = []
    for label, value in problem.definition.given(problem):
        if isinstance(value, Prose):
            out.append((str(label), Markup("<code>") + Markup.escape(str(value)) + Markup("</code>"), True))
        elif isinstance(value, Rows):     # the rows of a large matrix, a line of text each (as on the PDF sheet)
            lines = Markup("<br>").join(Markup("<code>") + Markup.escape(row) + Markup("</code>") for row in value)
            out.append((str(label), Markup('<div class="rows">') + lines + Markup("</div>"), True))
        else:
            out.append((str(label), math_html(str(value), True), False))
    return out


def page(sheet: Any, solutions: list, variant: tuple[str, str] | None = None) -> str:
    """The whole HTML page of a spec (or of one variant: its id and name in the header)."""
    return environment().get_template("document.html.j2").render(
        sheet=sheet, solutions=solutions, variant=variant)


def solution_html(solution: Any) -> Markup:
    """One problem's worked steps, figures, answers, notes and checks (also Moodle's feedback)."""
    return Markup(environment().get_template("solution.html.j2").render(s=solution, p=solution.problem))


def question_html(problem: Any, blanks: Markup | None = None) -> Markup:
    """A problem as the question sheet shows it: statement and given data, then `blanks` if any."""
    return Markup(environment().get_template("question.html.j2").render(p=problem, blanks=blanks))
