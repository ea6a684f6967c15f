"""`derive variants SPEC (--count N | --roster FILE) [--seed S] [-o DIR] [--no-pdf] [--only ID …] [--workers N]
[--scheduler ADDRESS]` (SPEC §10): everything is checked before anything is written (exit 2 for a bad spec or
roster); each variant's folder appears complete or not at all; a failed variant is named and the others kept
(exit 1); `questions.pdf`, `keys.pdf` and `index.csv` only when every variant was built."""
from __future__ import annotations

import argparse
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError, Message, SpecError
from ..limits import Limits
from ..staging import check_destinations, publish, staging_folder
from .build import Job, Outcome, names
from .combine import concatenate_all, index_csv
from .ids import ids_from
from .runner import Progress, default_workers, disconnect, outcomes, preconnect

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
BATCH_FILES = ("questions.pdf", "keys.pdf", "index.csv")


@dataclass
class Plan:
    """A checked run: what to build, where, and how."""

    shown: str
    source: str                          # the spec's text (sent to every worker)
    stem: str
    rows: list[tuple[str, str]]          # (id, name) of every variant of the roster or count, in order
    chosen: list[tuple[str, str]]        # those to build (all, or the --only ones)
    seed: int
    limits: Limits
    pdf: bool
    out: Path                            # DIR/<stem>-variants
    workers: int
    scheduler: str | None
    batch: bool                          # write the combined PDFs and index.csv (not with --only)

    def jobs(self) -> list[Job]:
        """One job per variant to build."""
        return [Job(self.shown, self.stem, vid, name, self.seed, self.limits, self.pdf) for vid, name in self.chosen]


def run(args: argparse.Namespace) -> int:
    """Check everything, then build; the exit status of SPEC §10."""
    try:
        plan = make_plan(args)
        if plan.scheduler is not None:
            preconnect(plan.scheduler)
        return execute(plan)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BuildError as exc:
        print(f"derive variants: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        disconnect()


def make_plan(args: argparse.Namespace) -> Plan:
    """Every check that needs no variant built: limits, roster, spec, --only, workers, TeX, destinations."""
    from ..spec import DrawsExhausted, check_seed, parse, read_text
    limits = Limits().with_overrides(args.limit)
    check_seed(args.seed)
    rows = ids_from(count=args.count, roster=args.roster)
    chosen = pick(rows, args.only, "roster" if args.roster else "count")
    if args.workers is not None and args.workers < 1:
        raise SpecError(Message(f"expected at least 1 worker, got {args.workers}", path="--workers"))
    text = read_text(Path(args.spec), limits, args.spec)
    try:
        seed = parse(text, args.spec, limits, variant=chosen[0][0], seed=args.seed).seed
    except DrawsExhausted as exc:       # that variant fails when it is built; the others may not
        seed = exc.seed
    pdf = not args.no_pdf
    check_tools(pdf, batch=not args.only)
    stem = Path(args.spec).stem
    out = Path(args.out) / f"{stem}-variants"
    check_folders(out, [vid for vid, _ in chosen])
    return Plan(args.spec, text, stem, rows, chosen, seed, limits, pdf, out, args.workers or default_workers(),
                args.scheduler, batch=not args.only)


def pick(rows: list[tuple[str, str]], only: list[str] | None, source: str) -> list[tuple[str, str]]:
    """The variants to build: all, or those named by --only (each must be in the roster or count)."""
    if not only:
        return rows
    known = {vid for vid, _ in rows}
    unknown = [vid for vid in only if vid not in known]
    if unknown:
        from ..fields import suggest
        raise SpecError([Message(f"no variant {vid!r} in the {source}{suggest(vid, known)}", path="--only")
                         for vid in unknown])
    wanted = set(only)
    return [row for row in rows if row[0] in wanted]


def check_tools(pdf: bool, batch: bool) -> None:
    """TeX (and pdfunite, to join the PDFs) are there before hours of work start."""
    if not pdf:
        return
    from ..pdf import command
    command("doc.tex")                   # raises TexMissing with the way to install TeX
    if batch and shutil.which("pdfunite") is None:
        raise BuildError("pdfunite is needed to join the variants' PDFs: install poppler-utils, or use --no-pdf")


def check_folders(out: Path, vids: list[str]) -> None:
    """DIR/<stem>-variants can be written, and each variant's place is a folder or free."""
    check_destinations(out, list(BATCH_FILES))
    for vid in vids:
        try:
            mode = (out / vid).lstat().st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BuildError(f"cannot write {out / vid}: {exc.strerror}") from None
        if not stat.S_ISDIR(mode):
            raise BuildError(f"cannot write {out / vid}: it is not a folder")


def execute(plan: Plan) -> int:
    """Build every chosen variant, placing each as it arrives; then the batch files if all were built."""
    work = staging_folder(plan.out, plan.stem)
    progress = Progress(len(plan.chosen))
    failed: list[str] = []
    try:
        for outcome in outcomes(plan.jobs(), plan.source, plan.workers, plan.scheduler):
            if outcome.error:
                failed.append(outcome.vid)
                progress.say(f"{outcome.vid}: failed: {outcome.error}")
            else:
                place(outcome, work, plan.out)
            progress.step()
        progress.close()
        if failed:
            print(f"{plan.shown}: {len(failed)} of {len(plan.chosen)} variants failed: {', '.join(failed)}; "
                  f"the others are in {plan.out}", file=sys.stderr)
            return EXIT_FAILED
        written = write_batch(plan, work) if plan.batch else []
        print(f"{plan.shown}: {len(plan.chosen)} variant{'' if len(plan.chosen) == 1 else 's'} built in {plan.out}"
              + (f"; wrote {', '.join(str(p) for p in written)}" if written else ""))
        return EXIT_OK
    except OSError as exc:
        raise BuildError(f"cannot write to {plan.out}: {exc.strerror}") from None
    finally:
        progress.close()
        shutil.rmtree(work, ignore_errors=True)


def place(outcome: Outcome, work: Path, out: Path) -> None:
    """Write a variant's files in staging, then rename a new folder into place whole, or replace each file of an
    existing one (files of your own there are kept)."""
    folder = work / outcome.vid
    folder.mkdir()
    for name, data in outcome.files.items():
        (folder / name).write_bytes(data)
    dest = out / outcome.vid
    if not os.path.lexists(dest):
        os.rename(folder, dest)
        return
    publish(folder, dest, list(outcome.files))
    shutil.rmtree(folder)


def write_batch(plan: Plan, work: Path) -> list[Path]:
    """questions.pdf and keys.pdf (the variants' PDFs joined in roster order) and index.csv, published together."""
    made = []
    if plan.pdf:
        key, questions = names(plan.stem, True)[3:5]
        concatenate_all([([plan.out / vid / questions for vid, _ in plan.rows], work / "questions.pdf"),
                         ([plan.out / vid / key for vid, _ in plan.rows], work / "keys.pdf")])
        made += ["questions.pdf", "keys.pdf"]
    (work / "index.csv").write_text(index_csv(plan.rows, plan.seed, plan.stem, plan.pdf), encoding="utf-8")
    return publish(work, plan.out, made + ["index.csv"])
