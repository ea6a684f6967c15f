"""The QR code on every sheet and key of a variant: `derive:<stem>:<id>:<seed>`, drawn with TeX rules (no image
file, so TeX reads nothing outside its folder and the .tex alone is the whole document)."""
from __future__ import annotations

from ..latex import Latex

WIDTH_MM = 22          # the code's width without its quiet zone (SPEC: at least 15 mm)
QUIET = 4              # modules of white around it, as the QR standard asks


def payload(stem: str, vid: str, seed: int) -> str:
    """The text of a variant's QR code, from which `--only <id>` rebuilds it."""
    return f"derive:{stem}:{vid}:{seed}"


def modules(text: str) -> list[list[bool]]:
    """The dark (True) and light modules of the QR code of `text`, row by row (error correction M)."""
    import segno
    code = segno.make(text, error="m", micro=False)
    return [[bool(m) for m in row] for row in code.matrix]


def runs(row: list[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    out, start = [], None
    for i, dark in enumerate(row + [False]):
        if dark and start is None:
            start = i
        elif not dark and start is not None:
            out.append((start, i - start))
            start = None
    return out


def qr_latex(text: str) -> Latex:
    """The QR code of `text` as a TeX box: one \\hbox of rules per row of modules, inside a group."""
    grid = modules(text)
    n = len(grid)
    rows = []
    for row in grid:
        cells, at = [], 0
        for start, length in runs(row):
            cells.append(rf"\qrdark{{{start - at}}}{{{length}}}")
            at = start + length
        rows.append(r"\qrrow{" + "".join(cells) + "}")
    head = (r"{\setlength{\unitlength}{%.4fmm}" % (WIDTH_MM / n)
            + r"\def\qrrow#1{\hbox to%d\unitlength{\vrule width0pt height\unitlength#1\hfil}}" % n
            + r"\def\qrdark#1#2{\kern#1\unitlength\vrule width#2\unitlength}"
            + r"\fboxsep=%d\unitlength\fboxrule=0pt\fbox{\vbox{\offinterlineskip" % QUIET)
    return Latex(head + "%\n" + "%\n".join(rows) + "}}}")
