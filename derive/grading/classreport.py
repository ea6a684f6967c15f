"""The class report PDF (`derive check … --pdf` with many answer files): a bar per answer, the commonest slips."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..latex import Latex
from ..render import environment
from .cohort import Cohort
from .marked import typeset

STEM = "class-report"


def class_report_tex(cohort: Cohort) -> str:
    """The LaTeX of the class report."""
    table = cohort.per_answer()
    rows = [{"name": name, "right": r["right"], "judged": r["judged"],
             "fraction": Latex(f"{(r['share'] or 0):.4f}")} for name, r in table.items()]
    slips = [{"name": name, "slip": slip.replace("_", " "), "count": n}
             for name, r in table.items() for slip, n in r["slips"]]
    first = cohort.reports[0] if cohort.reports else None
    return environment().get_template("class-report.tex.j2").render(
        files=len(cohort.files), bad=len(cohort.bad()), spec=first.spec if first else "",
        title=first.title if first else None, right=cohort.total("right"), wrong=cohort.total("wrong"),
        carried=cohort.total("carried"), rows=rows, slips=slips)


def class_report_pdf(cohort: Cohort, out: Any) -> Path:
    """OUT/class-report.{tex,pdf}, written atomically."""
    return typeset(out, STEM, class_report_tex(cohort))
