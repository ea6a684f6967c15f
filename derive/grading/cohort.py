"""A class at once (SPEC §12): many answer files against one spec in one process, a CSV row per file, and a
summary of what the class got right and the slips it made most."""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CheckFailed, SpecError
from .report import Report

ANSWER_SUFFIXES = (".yaml", ".yml")
TOP_SLIPS = 3


def expand(paths: list[str]) -> list[str]:
    """Files as given; a folder becomes its *.yaml / *.yml files, sorted (not recursive)."""
    out = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            out += [str(p) for p in sorted(path.iterdir()) if p.suffix in ANSWER_SUFFIXES and p.is_file()]
        else:
            out.append(given)
    return out


@dataclass
class Graded:
    """One answers file's outcome: its report, or the messages that made it bad."""

    file: str
    report: Report | None = None
    errors: list[str] = field(default_factory=list)
    variant: str = ""

    @property
    def judged(self) -> int:
        return self.report.right + self.report.wrong if self.report else 0

    def score(self) -> str:
        """right / judged with 4 decimals, empty when nothing was judged."""
        return f"{self.report.right / self.judged:.4f}" if self.judged else ""


@dataclass
class Cohort:
    """Every file of a class, in order."""

    files: list[Graded] = field(default_factory=list)

    @property
    def reports(self) -> list[Report]:
        return [g.report for g in self.files if g.report is not None]

    def total(self, what: str) -> int:
        return sum(getattr(r, what) for r in self.reports)

    def summary_line(self) -> str:
        return f"{self.total('right')} right, {self.total('wrong')} wrong ({self.total('carried')} carried)"

    def per_answer(self) -> dict[str, dict[str, Any]]:
        """`problem.answer` → {right, judged, share, slips: [[slip, count], …]} over the class."""
        table: dict[str, dict[str, Any]] = {}
        for report in self.reports:
            for p in report.problems:
                for m in p.marks:
                    row = table.setdefault(f"{p.id}.{m.name}", {"right": 0, "judged": 0, "slips": Counter()})
                    row["right"] += m.ok
                    row["judged"] += 1
                    if m.slip_names:
                        row["slips"][" + ".join(m.slip_names)] += 1
        for row in table.values():
            row["share"] = round(row["right"] / row["judged"], 4) if row["judged"] else None
            row["slips"] = [[name, n] for name, n in row["slips"].most_common(TOP_SLIPS)]
        return table

    def to_json(self) -> dict[str, Any]:
        """§12's class JSON: files (one report each), summary, and the totals."""
        files = []
        for g in self.files:
            entry: dict[str, Any] = {"file": g.file, "variant": g.variant or None}
            if g.report is not None:
                entry.update(g.report.to_json())
                entry["score"] = g.score() or None
            else:
                entry["errors"] = g.errors
            files.append(entry)
        return {"files": files, "summary": {"answers": self.per_answer(), "bad_files": self.bad()},
                "right": self.total("right"), "wrong": self.total("wrong"), "carried": self.total("carried")}

    def bad(self) -> list[str]:
        return [g.file for g in self.files if g.report is None]

    def to_text(self) -> str:
        """One line per file, the share right per answer with its commonest slips, then the totals."""
        lines = []
        for g in self.files:
            if g.report is None:
                lines.append(f"{g.file}: not graded (bad file)")
            else:
                score = f", score {g.score()}" if g.score() else ""
                lines.append(f"{g.file}: {g.report.summary(always_carried=True)}{score}")
        lines += ["", "Per answer (share right; commonest slips):"]
        for name, row in self.per_answer().items():
            slips = "; ".join(f"{s} ×{n}" for s, n in row["slips"])
            lines.append(f"  {name}: {row['right']}/{row['judged']} right" + (f"; {slips}" if slips else ""))
        lines += ["", self.summary_line()]
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        """`file,variant,right,wrong,carried,score`, one row per graded file."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["file", "variant", "right", "wrong", "carried", "score"])
        for g in self.files:
            if g.report is not None:
                writer.writerow([g.file, g.variant, g.report.right, g.report.wrong, g.report.carried, g.score()])
        return out.getvalue()


def grade_class(grade_one: Any, files: list[str]) -> Cohort:
    """Grade every file with `grade_one(file) -> (Report, variant)`; a bad file is recorded and skipped."""
    cohort = Cohort()
    for name in files:
        try:
            report, variant = grade_one(name)
            cohort.files.append(Graded(name, report, variant=variant))
        except SpecError as exc:
            cohort.files.append(Graded(name, errors=[str(m) for m in exc.messages]))
        except CheckFailed as exc:
            cohort.files.append(Graded(name, errors=[f"numeric check failed: {exc}"]))
    return cohort
