"""How wide a display of the dense kinds is (an estimate in points of 11pt display math, from its LaTeX), and
values packed into rows that fit the line (SPEC §15: what does not fit is broken across lines, never shrunk
below 70 %)."""
from __future__ import annotations

import re
from functools import lru_cache

CHAR = 5.5          # pt: a digit or letter of 11pt math
NARROW = 3.1        # pt: `.`, `,`, `(` and the like
MINUS = 8.6         # pt: a minus sign (a binary one has its spacing)
COLUMN_GAP = 10.0   # pt: 2·\arraycolsep between the columns of a matrix
BRACKETS = 14.0     # pt: the two brackets of a bmatrix and their room
BUDGET = 520.0      # pt: the widest a row may be (the line is 472pt: scaled to 90 % at most, by the estimate)
ROW = 440.0         # pt: the widest row of values packed side by side (read at most a little scaled)

GAP = r"\\ {}\\[-4pt] "    # between stacked rows: an empty row (an array's \\[8pt] adds nothing below a tall matrix)
STACK = r"\begin{array}{@{}l@{}}"     # rows flush left (not a nested `aligned`: the MathML export reads only one)
MATRIX = re.compile(r"\\begin\{(bmatrix|aligned|array)\}((?:(?!\\begin\{(?:bmatrix|aligned|array)\}).)*?)"
                    r"\\end\{\1\}", re.S)
FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
COMMAND = re.compile(r"\\[A-Za-z]+")
NARROW_CHARS = set(".,;:()[]|!'")
INVISIBLE = {"left", "right", "begin", "end", "text", "mathbf", "mathrm", "operatorname", "displaystyle", "limits",
             "bigl", "bigr", "Bigl", "Bigr", "top"}
FUNCTIONS = {"tanh", "exp", "log", "ln", "max", "min", "sign", "sinh", "cosh"}
SPACES = {r"\quad": 11.0, r"\qquad": 22.0, r"\,": 1.8, r"\ ": 3.7, r"\;": 3.1}


def width(latex: str) -> float:
    """An estimate of the width of a display in points (a matrix by its columns, a fraction by its wider part)."""
    boxes: list[float] = []

    def matrix(m: re.Match) -> str:
        """A matrix as a placeholder for its width."""
        body = m.group(2)
        boxes.append(_matrix_width(body, boxes) if m.group(1) == "bmatrix" else _rows_width(body, boxes))
        return f"\x00{len(boxes) - 1}\x00"
    flat = latex.replace(STACK, r"\begin{array}")
    text = _reduce(FRAC, lambda m: max((m.group(1), m.group(2)), key=_flat_width), flat)
    return _flat_width(_reduce(MATRIX, matrix, text), boxes)


def _reduce(pattern: re.Pattern, replace, text: str) -> str:
    """Replace innermost matches until none is left."""
    while True:
        reduced = pattern.sub(replace, text)
        if reduced == text:
            return text
        text = reduced


def _matrix_width(body: str, boxes: list[float]) -> float:
    """A matrix's width: its widest entry in each column, the gaps and the brackets."""
    rows = [row.split("&") for row in body.split(r"\\")]
    columns = max(len(r) for r in rows)
    widest = [max((_flat_width(r[c], boxes) for r in rows if c < len(r)), default=0.0) for c in range(columns)]
    return sum(widest) + COLUMN_GAP * (columns - 1) + BRACKETS


def _rows_width(body: str, boxes: list[float]) -> float:
    """An `aligned` block's width: its widest row."""
    return max(_flat_width(re.sub(r"^\[[^\]]*\]", "", row).replace("&", ""), boxes) for row in body.split(r"\\"))


def _flat_width(text: str, boxes: list[float] | None = None) -> float:
    """The width of LaTeX with no matrix left in it (placeholders \\0k\\0 stand for measured boxes)."""
    if "\x00" not in text:
        return _text_width(text)
    return _measure(text, boxes)


@lru_cache(maxsize=1 << 16)
def _text_width(text: str) -> float:
    """`_measure` of text with no placeholder, made once per text (matrix cells repeat)."""
    return _measure(text, None)


def _measure(text: str, boxes: list[float] | None) -> float:
    """The width of LaTeX with no matrix left in it."""
    total = 0.0
    for name, pt in SPACES.items():
        total += text.count(name) * pt
        text = text.replace(name, "")
    parts = text.split("\x00")
    for i, part in enumerate(parts):
        if i % 2:
            total += (boxes or [0.0])[int(part)] if part.isdigit() else 0.0
            continue
        part = COMMAND.sub(_command, part)
        part = re.sub(r"[{}^_&]", "", part)
        total += sum(MINUS if ch in "-+=" else NARROW if ch in NARROW_CHARS else 0.0 if ch == " " else CHAR
                     for ch in part)
    return total


def _command(m: re.Match) -> str:
    """A command as the letters it prints: none for markup, its name for a function, one for a symbol."""
    name = m.group(0)[1:]
    if name in INVISIBLE:
        return ""
    return name if name in FUNCTIONS else "x"


def fits(latex: str, budget: float = BUDGET) -> bool:
    """True when a display is at most `budget` points wide (by the estimate)."""
    return width(latex) <= budget


def packed(parts: list[str], budget: float = ROW) -> str:
    """Values side by side with commas, as many to a row as fit; several rows stacked in an `aligned`."""
    rows: list[list[str]] = [[]]
    used = 0.0
    for part in parts:
        w = width(part)
        if rows[-1] and used + w > budget:
            rows.append([])
            used = 0.0
        rows[-1].append(part)
        used += w + 8.0
    lines = [r",\ ".join(row) for row in rows]
    if len(lines) == 1:
        return lines[0]
    return stacked(lines, "," + GAP)


def stacked(rows: list[str], sep: str = GAP) -> str:
    """Rows flush left, stacked (an array: the MathML export reads no `aligned` inside another)."""
    return STACK + sep.join(rows) + r"\end{array}"
