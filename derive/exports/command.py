"""`derive export SPEC --format html|moodle|qti [-o DIR] [--count N | --roster FILE] [--seed S]` (SPEC §11).

Every variant is loaded, solved and checked, and every file made in memory, before anything is written; the
files then appear together (staged in DIR, moved in at the end). Exit 0 written, 2 a bad spec or roster
(nothing written), 1 anything else (a failed check, an unwritable DIR)."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from ..build import solve_all
from ..errors import BuildError, CheckFailed, SpecError
from ..limits import Limits
from ..spec import load
from ..staging import check_destinations, publish, staging_folder
from .html import page
from .moodle import moodle_xml
from .qti import qti_zip

Variant = tuple[str, str, Any, list]     # (id, name, worksheet, solutions); id "" for the spec as written


def variant_ids(args: argparse.Namespace) -> list[tuple[str, str]]:
    """[(id, name)] from --count or --roster (as `derive variants` gives them); [("", "")] without either."""
    if args.count is None and args.roster is None:
        return [("", "")]
    from ..variants.ids import ids_from
    return ids_from(count=args.count, roster=args.roster)


def solved(spec: str, limits: Limits, ids: list[tuple[str, str]], seed: int | None) -> list[Variant]:
    """Each variant's worksheet and checked solutions (a SpecError names the variant that failed)."""
    out = []
    for vid, name in ids:
        sheet = load(spec, limits, name=spec, variant=vid, seed=seed)
        try:
            out.append((vid, name, sheet, solve_all(sheet, limits, outputs=())))   # no .tex or .json to render
        except SpecError as exc:
            if vid:
                raise SpecError([type(m)(f"variant {vid}: {m.words}", m.file, m.line, m.path)
                                 for m in exc.messages]) from None
            raise
    return out


def html_files(stem: str, variants: list[Variant]) -> dict[str, bytes]:
    """`<stem>.html`, or `<stem>-<id>.html` for each variant."""
    return {(f"{stem}-{vid}.html" if vid else f"{stem}.html"): page(sheet, solutions, (vid, name) if vid else None)
            .encode("utf-8") for vid, name, sheet, solutions in variants}


def files_for(fmt: str, stem: str, variants: list[Variant]) -> dict[str, bytes]:
    """The files of one format, by name."""
    if fmt == "html":
        return html_files(stem, variants)
    if fmt == "moodle":
        return {f"{stem}.moodle.xml": moodle_xml(stem, variants)}
    return {f"{stem}.qti.zip": qti_zip(stem, variants)}


def write_all(out: Path, stem: str, files: dict[str, bytes]) -> list[Path]:
    """Stage every file in DIR, then move them in together (nothing changes if a write fails)."""
    names = list(files)
    check_destinations(out, names)
    work = staging_folder(out, stem)
    try:
        for name, data in files.items():
            (work / name).write_bytes(data)
        return publish(work, out, names)
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    """The subcommand: load, solve and check every variant, make the files, write them."""
    try:
        limits = Limits().with_overrides(args.limit)
        ids = variant_ids(args)
        variants = solved(args.spec, limits, ids, args.seed)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except CheckFailed as exc:
        print(f"{args.spec}: numeric check failed: {exc}", file=sys.stderr)
        return 1
    stem = Path(args.spec).stem
    try:
        written = write_all(Path(args.out), stem, files_for(args.format, stem, variants))
    except BuildError as exc:
        print(f"{args.spec}: export failed: {exc}", file=sys.stderr)
        return 1
    count = len(variants[0][3])
    print(f"{args.spec}: {count} problem{'' if count == 1 else 's'}"
          + (f" in {len(variants)} variants" if variants[0][0] else "")
          + f" exported as {args.format}; wrote " + ", ".join(str(p) for p in written))
    return 0
