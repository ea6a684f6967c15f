"""Canvas QTI 1.2 (SPEC §11): a zip with `imsmanifest.xml` and one assessment per variant (its id in the title),
one `numerical_question` per Moodle blank (the same number and tolerance: varequal, or varequal or the range
vargte…varlte) and an `essay_question` for a problem with no numbers."""
from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

from .blanks import bounds, number_text, problem_blanks
from .html import environment, question_html, solution_html
from .quiztext import item_text

STAMP = (1980, 1, 1, 0, 0, 0)      # every zip entry's date: the same bytes for the same spec, seed and ids


def ident(*parts: str) -> str:
    """A stable QTI identifier from the names it belongs to."""
    return "g" + hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:24]


def items(stem: str, vid: str, solutions: list, spec_check: dict | None) -> list[dict[str, Any]]:
    """The assessment's items: every blank of every problem in order, essays for problems without numbers."""
    out = []
    for solution in solutions:
        p = solution.problem
        blanks = problem_blanks(solution, spec_check)
        if not blanks:
            out.append({"type": "essay_question", "ident": ident(stem, vid, p.id), "title": p.id,
                        "html": str(question_html(p)), "feedback": str(solution_html(solution))})
        for k, b in enumerate(blanks):
            low, high = bounds(b)
            out.append({"type": "numerical_question", "ident": ident(stem, vid, p.id, str(k)),
                        "title": f"{p.id} {b.label}", "html": item_text(solution, b), "exact": number_text(b.value),
                        "range": None if b.tolerance == 0 else (number_text(low), number_text(high))})
    return out


def assessment(stem: str, vid: str, name: str, sheet: Any, solutions: list) -> dict[str, Any]:
    """One assessment (the spec, or one variant of it) as the templates write it."""
    title = sheet.title + (f" \u2014 {vid}" + (f" ({name})" if name else "") if vid else "")
    return {"ident": ident(stem, vid), "title": title, "items": items(stem, vid, solutions, sheet.check)}


def qti_zip(stem: str, variants: list[tuple[str, str, Any, list]]) -> bytes:
    """The zip: the manifest, then for each assessment its QTI file and Canvas's assessment_meta.xml."""
    env = environment()
    tests = [assessment(stem, vid, name, sheet, solutions) for vid, name, sheet, solutions in variants]
    files = {"imsmanifest.xml": env.get_template("qti-manifest.xml.j2").render(ident=ident(stem), tests=tests)}
    for t in tests:
        files[f"{t['ident']}/{t['ident']}.xml"] = env.get_template("qti-assessment.xml.j2").render(test=t)
        files[f"{t['ident']}/assessment_meta.xml"] = env.get_template("qti-meta.xml.j2").render(test=t)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            entry = zipfile.ZipInfo(path, STAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, text.encode("utf-8"))
    return buffer.getvalue()
