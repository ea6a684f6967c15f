"""`derive check SPEC ANSWERS…`: one answers file, or a class of them (files or folders) in one process."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import BuildError, CheckFailed, SpecError
from ..limits import Limits
from ..spec import load
from .cohort import Cohort, expand, grade_class
from .marked import marked_pdf
from .report import Report
from .run import Session, answers_meta, check, read_answers

EXIT_OK, EXIT_WRONG, EXIT_BAD = 0, 1, 2


class Sheets:
    """The spec loaded once per (variant, seed) a class answers, each with its grading session."""

    def __init__(self, args: Any, limits: Limits):
        self.args, self.limits = args, limits
        self.loaded: dict[tuple, tuple[Any, Session]] = {}

    def for_answers(self, name: str) -> tuple[Any, Any, Session, str]:
        """(sheet, answers document, session, variant) for one answers file; flags win over its keys."""
        doc = read_answers(name, self.limits)
        variant, seed = answers_meta(doc)
        variant = self.args.variant if self.args.variant is not None else (variant or "")
        seed = self.args.seed if self.args.seed is not None else seed
        sheet, session = self.sheet(variant, seed)
        return sheet, doc, session, variant

    def sheet(self, variant: str, seed: int | None) -> tuple[Any, Session]:
        """The spec loaded as (variant, seed), once, with its grading session."""
        key = (variant, seed)
        if key not in self.loaded:
            self.loaded[key] = (load(self.args.spec, self.limits, variant=variant, seed=seed), Session(self.limits))
        return self.loaded[key]


def run(args: Any) -> int:
    """Grade; print the report(s); 0 all right, 1 some wrong, 2 a bad spec or answers file."""
    for name in ("variant", "seed"):
        setattr(args, name, getattr(args, name, None))
    try:
        limits = Limits().with_overrides(list(getattr(args, "limit", None) or []))
        sheets = Sheets(args, limits)
        sheets.sheet(args.variant or "", args.seed)     # a bad spec fails first
    except SpecError as exc:
        return _bad(exc)
    given = args.answers if isinstance(args.answers, list) else [args.answers]
    files = expand(given)
    if len(files) == 1 and not Path(given[0]).is_dir():
        return run_one(args, sheets, files[0], limits)
    return run_class(args, sheets, files, limits)


def _bad(exc: SpecError) -> int:
    for message in exc.messages:
        print(str(message), file=sys.stderr)
    return EXIT_BAD


def run_one(args: Any, sheets: Sheets, answers: str, limits: Limits) -> int:
    """One answers file: its report (text or JSON), and with --pdf its marked copy."""
    try:
        sheet, doc, session, _variant = sheets.for_answers(answers)
        report = check(sheet, doc, min_digits=args.min_digits, rtol=args.rtol, limits=limits, session=session)
    except SpecError as exc:
        return _bad(exc)
    except CheckFailed as exc:
        print(f"{args.spec}: numeric check failed: {exc}", file=sys.stderr)
        return EXIT_WRONG
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(report.to_text(), end="")
    status = EXIT_OK if report.wrong == 0 else EXIT_WRONG
    if getattr(args, "pdf", False):
        return max(status, _marked(report, args.out, answers, sys.stderr if args.json else sys.stdout))
    return status


def _marked(report: Report, out: str, answers: str, stream: Any) -> int:
    """Typeset one marked copy; 1 when it could not be made."""
    try:
        print(f"wrote {marked_pdf(report, out)}", file=stream)
        return EXIT_OK
    except BuildError as exc:
        print(f"{answers}: the marked copy was not made: {exc}", file=sys.stderr)
        return EXIT_WRONG


def run_class(args: Any, sheets: Sheets, files: list[str], limits: Limits) -> int:
    """Many answers files: a line each and the class summary (or JSON), --csv, --pdf marked copies and report."""
    def grade_one(name: str) -> tuple[Report, str]:
        sheet, doc, session, variant = sheets.for_answers(name)
        report = check(sheet, doc, min_digits=args.min_digits, rtol=args.rtol, limits=limits, session=session)
        return report, variant
    cohort = grade_class(grade_one, files)
    for g in cohort.files:
        for error in g.errors:
            print(error, file=sys.stderr)
    if args.json:
        print(json.dumps(cohort.to_json(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(cohort.to_text(), end="")
    status = _class_status(cohort)
    if getattr(args, "csv", None):
        status = max(status, _write_csv(cohort, args.csv))
    if getattr(args, "pdf", False):
        status = max(status, _class_pdfs(cohort, args.out, sys.stderr if args.json else sys.stdout))
    return status


def _class_status(cohort: Cohort) -> int:
    """2 if any file was bad, else 1 if any number was wrong, else 0."""
    if cohort.bad():
        return EXIT_BAD
    return EXIT_WRONG if cohort.total("wrong") else EXIT_OK


def _write_csv(cohort: Cohort, path: str) -> int:
    """The CSV, written atomically."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".csv-", dir=target.parent if str(target.parent) else ".")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(cohort.to_csv())
        os.replace(tmp, target)
        return EXIT_OK
    except OSError as exc:
        print(f"{path}: cannot write the CSV: {exc.strerror}", file=sys.stderr)
        return EXIT_WRONG


def _class_pdfs(cohort: Cohort, out: str, stream: Any) -> int:
    """A marked copy per graded file and the class report."""
    from .classreport import class_report_pdf
    status = EXIT_OK
    for g in cohort.files:
        if g.report is not None:
            status = max(status, _marked(g.report, out, g.file, stream))
    try:
        print(f"wrote {class_report_pdf(cohort, out)}", file=stream)
    except BuildError as exc:
        print(f"the class report was not made: {exc}", file=sys.stderr)
        status = max(status, EXIT_WRONG)
    return status
