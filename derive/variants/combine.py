"""The batch's own files (SPEC §10): `questions.pdf` and `keys.pdf`, the variants' PDFs concatenated with nothing
added (poppler's pdfunite, then its random file ID replaced by one made from the content, so the same PDFs
always give the same bytes), and `index.csv`."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import BuildError

CHUNK = 200              # PDFs joined by one pdfunite run (file handles, argument length); more go in rounds
                         # (at least 2)
_ID_STRING = rb"(?:\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]*>)"          # a literal (…) or hex <…> string
TRAILER_ID = re.compile(rb"/ID\s*\[\s*" + _ID_STRING + rb"\s*" + _ID_STRING + rb"\s*\]", re.S)


def index_csv(rows: list[tuple[str, str]], seed: int, stem: str, pdf: bool) -> str:
    """index.csv: id,name,seed,questions,key; paths relative to it (the PDFs, or the .tex with --no-pdf)."""
    ext = ".pdf" if pdf else ".tex"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "seed", "questions", "key"])
    for vid, name in rows:
        writer.writerow([vid, name, seed, f"{vid}/{stem}-questions{ext}", f"{vid}/{stem}{ext}"])
    return out.getvalue()


def concatenate(pdfs: list[Path], target: Path) -> None:
    """Write the pages of `pdfs`, in order, into `target` (byte-identical for the same PDFs)."""
    tool = shutil.which("pdfunite")
    if tool is None:
        raise BuildError("pdfunite is needed to join the variants' PDFs: install poppler-utils "
                         "(Debian: apt-get install poppler-utils)")
    if len(pdfs) == 1:
        shutil.copyfile(pdfs[0], target)
        return
    with tempfile.TemporaryDirectory(prefix="join-", dir=target.parent) as folder, \
            ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        parts = list(pdfs)
        round_ = 0
        while len(parts) > CHUNK:            # a round of joins side by side, one pdfunite per core
            starts = range(0, len(parts), CHUNK)
            parts = list(pool.map(lambda at: unite(tool, parts[at:at + CHUNK],
                                                   Path(folder) / f"r{round_}-{at // CHUNK}.pdf"), starts))
            round_ += 1
        unite(tool, parts, target)
    fixed_id(target)


def concatenate_all(jobs: list[tuple[list[Path], Path]]) -> None:
    """Several joins at once (the question sheets and the keys)."""
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        for done in [pool.submit(concatenate, pdfs, target) for pdfs, target in jobs]:
            done.result()


def unite(tool: str, parts: list[Path], target: Path) -> Path:
    """One pdfunite run; a failure names the tool's complaint."""
    if len(parts) == 1:
        shutil.copyfile(parts[0], target)
        return target
    done = subprocess.run([tool, *map(str, parts), str(target)], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"pdfunite failed: {done.stderr.strip() or f'exit status {done.returncode}'}")
    return target


def fixed_id(path: Path) -> None:
    """Replace the clock-made file ID in the last trailer by a hash of the file (no offset moves: it ends the file)."""
    data = path.read_bytes()
    at = data.rfind(b"trailer")
    if at < 0:
        return                    # a cross-reference stream: no trailer dictionary to fix
    found = TRAILER_ID.search(data, at)
    if found is None:
        return
    digest = hashlib.md5(data[:at], usedforsecurity=False).hexdigest().upper().encode()
    new_id = b"/ID [<" + digest + b"> <" + digest + b">]"
    path.write_bytes(data[:found.start()] + new_id + data[found.end():])
