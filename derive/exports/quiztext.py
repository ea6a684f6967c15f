"""A problem's question text for a quiz: the statement and given data (as the question sheet shows them) and,
for Moodle, its blanks laid out in the shape of each answer (a vector as a row, a matrix as a table, a layer
list as a table of its numbers)."""
from __future__ import annotations

from typing import Any, Iterator

from markupsafe import Markup, escape

from .blanks import Blank
from .html import question_html

SLOT = "<derive-blank/>"       # cannot come from escaped text nor from checked MathML


def answer_layout(value: Any, slots: Iterator[str]) -> str:
    """HTML of one answer's blanks in its shape, taking one slot per number in row-major order."""
    if isinstance(value, dict):
        return ", ".join(f"{escape(k)}: {answer_layout(v, slots)}" for k, v in value.items()
                         if not isinstance(v, str))
    if not isinstance(value, list):
        return "\u2014" if value is None else next(slots)
    if value and all(isinstance(v, dict) for v in value):
        return layer_table(value, slots)
    if all(not isinstance(v, (list, dict)) for v in value):
        return "[ " + ", ".join(answer_layout(v, slots) for v in value) + " ]"
    if all(isinstance(v, list) and all(not isinstance(c, (list, dict)) for c in v) for v in value):
        rows = "".join("<tr>" + "".join(f"<td>{answer_layout(c, slots)}</td>" for c in row) + "</tr>"
                       for row in value)
        return f'<table class="blanks">{rows}</table>'
    items = "".join(f"<li>[{k}] {answer_layout(v, slots)}</li>" for k, v in enumerate(value))
    return f'<ol class="blanks" start="0">{items}</ol>'


def layer_table(entries: list[dict], slots: Iterator[str]) -> str:
    """A layer list as a table: the name, then one column per numeric key."""
    keys = [k for k in entries[0] if not isinstance(entries[0][k], str)]
    head = "<tr><th></th>" + "".join(f"<th>{escape(k.replace('_', ' '))}</th>" for k in keys) + "</tr>"
    rows = []
    for entry in entries:
        label = " ".join(str(escape(v)) for v in entry.values() if isinstance(v, str))
        cells = "".join(f"<td>{answer_layout(entry[k], slots)}</td>" for k in entry if not isinstance(entry[k], str))
        rows.append(f"<tr><th>{label}</th>{cells}</tr>")
    return f'<table class="blanks">{head}{"".join(rows)}</table>'


def blanks_html(solution: Any) -> tuple[str, int]:
    """Every answer's name and blanks, with a slot for each number; and how many slots there are."""
    parts, count = [], 0

    def slots() -> Iterator[str]:
        nonlocal count
        while True:
            count += 1
            yield SLOT

    source = slots()
    for answer in solution.answer_list:
        shown = answer_layout(answer.value, source)
        parts.append(f'<p><code>{escape(answer.name)}</code> = {shown}</p>')
    return "".join(parts), count


def cloze_text(solution: Any, blanks: list[Blank], code: Any) -> str:
    """Moodle's cloze question text: braces in every piece of text escaped, then each slot its blank's code."""
    layout, count = blanks_html(solution)
    if count != len(blanks):
        raise ValueError(f"{solution.problem.id}: {count} slots for {len(blanks)} numbers")
    page = str(question_html(solution.problem, Markup(layout)))
    page = page.replace("{", "&#123;").replace("}", "&#125;")
    pieces = page.split(SLOT)
    return pieces[0] + "".join(code(b) + rest for b, rest in zip(blanks, pieces[1:]))


def item_text(solution: Any, blank: Blank) -> str:
    """One QTI item's text: the problem as the question sheet shows it, then which number to give."""
    ask = Markup("<p>Give <code>") + blank.label + Markup("</code>.</p>")
    return str(question_html(solution.problem, ask))
