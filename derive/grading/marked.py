"""The marked copy (`derive check --pdf`): every given number beside the key, wrong ones in red with the slip."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import sympy

from ..errors import BuildError
from ..latex import Latex, approx, decimals, group_int, tex
from ..pdf import compile_pdf
from ..prose import escape
from ..render import environment
from ..staging import check_destinations, publish, staging_folder
from ..values import has_mapping
from .judge import as_exact
from .match import Mark, ProblemReport
from .report import Report, _plain, json_given, json_value


def marked_pdf(report: Report, out: Any) -> Path:
    """Typeset the marked copy (`--pdf`) as OUT/<answers stem>-marked.pdf (and .tex); nothing half-written."""
    return typeset(out, Path(report.answers).stem + "-marked", marked_tex(report))


def typeset(out: Any, stem: str, text: str) -> Path:
    """OUT/<stem>.tex and .pdf from LaTeX text, made in a staging folder and moved into place together."""
    out = Path(out)
    names = [f"{stem}.tex", f"{stem}.pdf"]
    check_destinations(out, names)
    work = staging_folder(out, stem)
    try:
        tex = work / names[0]
        tex.write_text(text, encoding="utf-8")
        compile_pdf(tex)
        return publish(work, out, names)[-1]
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def marked_tex(report: Report) -> str:
    """The LaTeX of the marked copy: every given number beside the key, wrong ones in red with the slip."""
    problems = [{"id": p.id, "title": p.title, "rows": _rows(p)} for p in report.problems]
    return environment().get_template("check.tex.j2").render(
        answers=breakable(report.answers), spec=breakable(report.spec), title=report.title,
        min_digits=report.rule.min_digits,
        rtol=_plain(report.rule.rtol), right=report.right, wrong=report.wrong, carried=report.carried,
        problems=problems)


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


LONG_EXACT = 60   # characters of an exact form's LaTeX past which the key shows the decimal and the exact form below
SHOWN_EXACT = 160  # … and past which the exact form is not shown at all


def _row(m: Mark, digits: int) -> dict[str, Any]:
    """One table row of the marked copy: short key in the row, a long exact form on its own line below."""
    expected, exact = _expected(m, digits)
    given = m.given.written if m.given else json.dumps(json_given(m.given_raw), separators=(", ", ": "))
    note = m.message or ""
    if m.carried:
        note = (note + "; " if note else "") + f"follows from your {m.carried} (carried)"
    if m.slip:
        note = (note + "; " if note else "") + "slip: " + m.slip
    return {"label": breakable(m.label()), "given": given, "expected": expected, "exact": exact, "ok": m.ok, "note": note}


def breakable(words: str) -> Latex:
    """An answer label or a file name that may break after a dot, a slash, an underscore or a hyphen."""
    pieces = re.split(r"(?<=[./_-])", words)
    return Latex(r"\allowbreak{}".join(escape(piece) for piece in pieces))


def _expected(m: Mark, digits: int) -> tuple[Latex, Latex | None]:
    """The key as the row shows it, and the exact form when it is too long for the row."""
    if m.expected is None:
        return Latex(r"\text{none}"), None
    if has_mapping(m.expected) or isinstance(m.expected, list):   # a layer list or a whole answer: as text
        entries = m.expected if isinstance(m.expected, list) else [m.expected]
        words = ", ".join(json.dumps(json_value(e, m.count), ensure_ascii=False) for e in entries)
        return Latex(r"\text{(below)}"), Latex(r"\texttt{" + escape(words) + "}")
    if m.count and isinstance(as_exact(m.expected), sympy.Integer):
        return group_int(int(m.expected)), None
    exact = as_exact(m.expected)
    full = approx(exact, digits)
    if len(full) <= LONG_EXACT:
        return full, None
    form = tex(exact)
    if len(form) > SHOWN_EXACT:   # too long to read (and to break): the key and its JSON hold it
        return Latex(r"\approx " + decimals(exact, digits)), Latex(r"\text{too long to show here; it is in the key}")
    return Latex(r"\approx " + decimals(exact, digits)), Latex(r"\(" + form + r"\)")
