"""The variants' ids (SPEC §10): `--count N` gives v001 … vN; `--roster FILE` reads a UTF-8 CSV with an `id`
column (and optionally `name`). A bad roster is a SpecError listing every bad row."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import Message, SpecError
from ..spec import ID_PATTERN, read_capped, size_text

MAX_COUNT = 1_000_000          # variants in one run
ROSTER_BYTES = 64 << 20        # a roster file (a 50,000-student course with names is a few MiB)
MAX_MESSAGES = 20              # bad rows reported one by one; the rest counted
MAX_ID = 64                    # characters of one id (it names a folder and goes into a QR code)


def ids_from(count: int | None = None, roster: str | Path | None = None) -> list[tuple[str, str]]:
    """(id, name) of every variant, in order: from `count` (names empty) or from a roster CSV."""
    if (count is None) == (roster is None):
        raise SpecError("give either a count of variants or a roster")
    if count is not None:
        return counted(count)
    return read_roster(roster)


def counted(count: int) -> list[tuple[str, str]]:
    """v001 … vN, zero-padded to at least 3 digits."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise SpecError(Message(f"expected a whole number of variants from 1 to {MAX_COUNT:,}, got {count!r}",
                                path="--count"))
    width = max(3, len(str(count)))
    return [(f"v{i:0{width}d}", "") for i in range(1, count + 1)]


def read_roster(path: str | Path) -> list[tuple[str, str]]:
    """The roster's (id, name) rows, in file order; every bad row named with its line."""
    shown = str(path)
    data, size = read_capped(path, ROSTER_BYTES + 1, shown)
    if len(data) > ROSTER_BYTES:
        raise SpecError(Message(f"the roster is {size_text(max(size, len(data)))}, over the limit of "
                                f"{size_text(ROSTER_BYTES)}", shown))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(Message("the roster is not UTF-8 text", shown, data[:exc.start].count(b"\n") + 1)) from None
    return parse_roster(text, shown)


def parse_roster(text: str, shown: str = "<roster>") -> list[tuple[str, str]]:
    """Rows of a roster given as text (see `read_roster`)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise SpecError(Message(f"not a CSV file: {exc}", shown, reader.line_num or 1)) from None
    if not rows:
        raise SpecError(Message("the roster is empty: expected a header row with an id column", shown, 1))
    id_col, name_col = columns(rows[0][1], shown)
    out, messages, seen = [], [], {}
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue                          # a blank line
        vid = row[id_col].strip() if id_col < len(row) else ""
        problem = bad_id(vid, seen)
        if problem:
            messages.append(Message(problem, shown, line, "id"))
            continue
        seen[vid] = line
        out.append((vid, row[name_col].strip() if name_col is not None and name_col < len(row) else ""))
    if messages:
        extra = len(messages) - MAX_MESSAGES
        raise SpecError(messages[:MAX_MESSAGES] + ([Message(f"and {extra} more bad rows", shown)] if extra > 0 else []))
    if not out:
        raise SpecError(Message("the roster has a header but no students", shown, rows[0][0]))
    return out


def columns(header: list[str], shown: str) -> tuple[int, int | None]:
    """The positions of the `id` and `name` columns (names compared without case and surrounding spaces)."""
    cells = [cell.strip().lower() for cell in header]
    if "id" not in cells:
        found = ", ".join(repr(c) for c in header) or "nothing"
        raise SpecError(Message(f"the header row has no 'id' column (found {found})", shown, 1))
    for name in ("id", "name"):
        if cells.count(name) > 1:
            raise SpecError(Message(f"the header row has {cells.count(name)} {name!r} columns", shown, 1))
    return cells.index("id"), cells.index("name") if "name" in cells else None


def bad_id(vid: str, seen: dict[str, int]) -> str:
    """Why `vid` cannot be a variant id (empty, malformed, or already used), or ''."""
    if not vid:
        return "missing id"
    if not ID_PATTERN.fullmatch(vid):
        return f"id {vid!r} must use only letters, digits, '_' and '-'"
    if len(vid) > MAX_ID:
        return f"id {vid[:20]!r}… is longer than {MAX_ID} characters"
    if vid in seen:
        return f"duplicate id {vid!r} (first on line {seen[vid]})"
    return ""
