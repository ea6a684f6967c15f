"""The command line: `derive build` and `derive check`, with SPEC's exit statuses (0 ok, 1 failed, 2 bad input)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import BuildError, CheckFailed, SpecError
from .limits import Limits

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
QUICK_EXIT = {"build", "check", "export", "kinds"}


def parser() -> argparse.ArgumentParser:
    """The argument parser of `derive`."""
    top = argparse.ArgumentParser(prog="derive", description="Exact, checked, typeset worked solutions "
                                  "for deep-learning worksheet problems.")
    top.add_argument("--version", action="version", version="derive 0.1.0")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    b = sub.add_parser("build", help="build answer keys (.tex, .json, .pdf) from specs",
                       description="Build each SPEC into DIR/<stem>.tex, .json and .pdf. With no SPEC, builds "
                                   "the bundled worksheet. Exit status: 0 built, 2 a bad spec, 1 anything else.")
    b.add_argument("specs", nargs="*", metavar="SPEC", help="spec files (default: the bundled worksheet)")
    b.add_argument("-o", "--out", default="build", metavar="DIR", help="output folder (default: build/)")
    b.add_argument("--no-pdf", action="store_true", help="write .tex and .json only (no TeX needed)")
    b.add_argument("--questions", action="store_true", help="also write the question sheet <stem>-questions")
    b.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help=f"change a size limit ({Limits.describe()})")
    c = sub.add_parser("check", help="grade an answers file against a spec's exact answers",
                       description="Judge every given number and name the slip behind a wrong one. Exit status: 0 all "
                                   "right, 1 some wrong, 2 a bad spec or answers file.")
    c.add_argument("spec", metavar="SPEC", help="the spec whose exact answers are the key")
    c.add_argument("answers", metavar="ANSWERS", nargs="+",
                   help="YAML: problem id → answer name → number(s); several files or folders grade a class")
    c.add_argument("--csv", metavar="FILE", help="with a class: one row per file (file,variant,right,wrong,"
                                                 "carried,score)")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.add_argument("--min-digits", type=int, default=None, metavar="N",
                   help="significant digits a rounded answer needs (default 2, or the spec's check: block)")
    c.add_argument("--rtol", type=float, default=None, metavar="R",
                   help="relative tolerance for answers with 3+ significant digits (default 0.01)")
    c.add_argument("--pdf", action="store_true", help="also typeset a marked copy into DIR")
    c.add_argument("-o", "--out", default="build", metavar="DIR", help="folder for --pdf (default: build/)")
    c.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE", help="change a size limit")
    c.add_argument("--variant", metavar="ID", help="grade against this variant (SPEC §10); else the answers "
                                                   "file's `variant:` key, else the spec as written")
    c.add_argument("--seed", type=int, default=None, metavar="S", help="the seed the variant was drawn with "
                                                                       "(replaces the spec-level seed)")
    v = sub.add_parser("variants", help="one question sheet and key per student (drawn values, QR codes)",
                       description="Build a variant of SPEC per id (from --count or a roster CSV) into "
                                   "DIR/<stem>-variants/. Exit status: 0 all built, 2 a bad spec or roster, "
                                   "1 a variant failed (the others are kept).")
    v.add_argument("spec", metavar="SPEC", help="the spec (its draws are drawn anew per variant)")
    ids = v.add_mutually_exclusive_group(required=True)
    ids.add_argument("--count", type=int, metavar="N", help="N variants, ids v001 …")
    ids.add_argument("--roster", metavar="FILE", help="a UTF-8 CSV with an id column (and optionally name)")
    v.add_argument("--seed", type=int, default=None, metavar="S", help="replaces the spec-level seed")
    v.add_argument("-o", "--out", default="build", metavar="DIR", help="output folder (default: build/)")
    v.add_argument("--no-pdf", action="store_true", help="write .tex and .json only")
    v.add_argument("--only", nargs="+", metavar="ID", help="rebuild only these variants (no combined PDFs)")
    v.add_argument("--workers", type=int, default=None, metavar="N", help="parallel processes (default: CPUs)")
    v.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask distributed scheduler "
                                                          "(e.g. tcp://127.0.0.1:8786; needs derive[dask])")
    v.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE", help="change a size limit")
    e = sub.add_parser("export", help="an offline HTML key, Moodle XML or Canvas QTI quiz",
                       description="Export SPEC as html (DIR/<stem>.html), moodle (DIR/<stem>.moodle.xml) or qti "
                                   "(DIR/<stem>.qti.zip); with --count/--roster, one per variant.")
    e.add_argument("spec", metavar="SPEC", help="the spec to export")
    e.add_argument("--format", required=True, choices=("html", "moodle", "qti"), help="what to write")
    e.add_argument("-o", "--out", default="build", metavar="DIR", help="output folder (default: build/)")
    eids = e.add_mutually_exclusive_group()
    eids.add_argument("--count", type=int, metavar="N", help="N variants, ids v001 … (as derive variants)")
    eids.add_argument("--roster", metavar="FILE", help="a roster CSV (as derive variants)")
    e.add_argument("--seed", type=int, default=None, metavar="S", help="replaces the spec-level seed")
    e.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE", help="change a size limit")
    k = sub.add_parser("kinds", help="list every installed kind: its package, fields and answers",
                       description="List every kind derive knows (its own and installed plugins).")
    k.add_argument("--json", action="store_true", help="print the listing as JSON")
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parser().parse_args(argv)
    from .staging import exit_on_signals
    exit_on_signals()
    if args.command == "build":
        return run_build(args)
    if args.command == "check":
        from .grading.command import run
        return run(args)
    if args.command == "kinds":
        return run_kinds(args)
    if args.command == "variants":
        from .variants.command import run as run_variants
        return run_variants(args)
    if args.command == "export":
        from .exports.command import run as run_export
        return run_export(args)
    parser().print_help(sys.stderr)
    return EXIT_BAD_INPUT


def run_build(args: argparse.Namespace) -> int:
    """Build every spec; report each failure; the worst status wins (2 bad spec, 1 anything else)."""
    from .build import build_spec, default_spec
    try:
        limits = Limits().with_overrides(args.limit)
    except SpecError as exc:
        print(f"derive: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    specs = [(Path(s), s) for s in args.specs] or [default_spec()]
    status = EXIT_OK
    for path, shown in specs:
        if not shown:
            print("'': no such file (the file name is empty)", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        try:
            built = build_spec(path, args.out, pdf=not args.no_pdf, questions=args.questions, limits=limits,
                               shown=shown)
            print(f"{shown}: {built.problems} problem{'' if built.problems == 1 else 's'} solved and checked; wrote "
                  + ", ".join(str(p) for p in built.paths))
        except SpecError as exc:
            print(str(exc), file=sys.stderr)
            status = EXIT_BAD_INPUT
        except (CheckFailed, BuildError) as exc:
            kind = "numeric check failed" if isinstance(exc, CheckFailed) else "build failed"
            print(f"{shown}: {kind}: {exc}", file=sys.stderr)
            status = max(status, EXIT_FAILED) if status != EXIT_BAD_INPUT else status
    return status


def run_kinds(args: argparse.Namespace) -> int:
    """`derive kinds [--json]`; a kind declared by two distributions is exit 2."""
    from .kinds_cli import run
    try:
        return run(args.json)
    except SpecError as exc:
        print(f"derive: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def entry() -> None:  # pragma: no cover
    """The `derive` command."""
    exit_now(main(), sys.argv[1:2])


def exit_now(status: int, command: list[str]) -> None:
    """Exit with `status`. After `build`, `check`, `export` and `kinds`, whose files are all closed by now, skip
    the interpreter's teardown of SymPy's objects (0.1 s of every run); `variants` may own worker processes and
    exits the usual way."""
    if command and command[0] in QUICK_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    exit_now(main(), sys.argv[1:2])
