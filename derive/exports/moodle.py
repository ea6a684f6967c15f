"""Moodle XML (SPEC §11): per problem a category `$course$/<stem>/<id>` holding one question per variant, a
`cloze` question with a NUMERICAL blank per number (a problem with no numbers: an `essay`)."""
from __future__ import annotations

from typing import Any

from .blanks import Blank, number_text, problem_blanks
from .html import environment, question_html, solution_html
from .quiztext import cloze_text


def cloze_code(blank: Blank) -> str:
    """`{1:NUMERICAL:=value:tolerance}`: one blank worth one mark."""
    return "{1:NUMERICAL:=" + number_text(blank.value) + ":" + number_text(blank.tolerance) + "}"


def question(stem: str, vid: str, name: str, solution: Any, spec_check: dict | None) -> dict[str, Any]:
    """One question of one variant, as the template writes it."""
    p = solution.problem
    title = p.id + (f" {p.title}" if p.title else "") + (f" ({vid}{', ' + name if name else ''})" if vid else "")
    blanks = problem_blanks(solution, spec_check)
    feedback = str(solution_html(solution))
    if not blanks:
        return {"type": "essay", "name": title, "idnumber": f"{p.id}-{vid}" if vid else p.id,
                "questiontext": str(question_html(p)), "feedback": feedback}
    return {"type": "cloze", "name": title, "idnumber": f"{p.id}-{vid}" if vid else p.id,
            "questiontext": cloze_text(solution, blanks, cloze_code), "feedback": feedback}


def moodle_xml(stem: str, variants: list[tuple[str, str, Any, list]]) -> bytes:
    """The quiz: for each problem (in spec order) its category, then its question in every variant."""
    categories = []
    first_sheet, first_solutions = variants[0][2], variants[0][3]
    for k, solution in enumerate(first_solutions):
        pid = solution.problem.id
        questions = [question(stem, vid, name, solutions[k], sheet.check) for vid, name, sheet, solutions in variants]
        categories.append({"path": f"$course$/{stem}/{pid}", "questions": questions})
    text = environment().get_template("moodle.xml.j2").render(title=first_sheet.title, categories=categories)
    return text.encode("utf-8")
