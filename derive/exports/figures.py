"""A kind's figure (raw LaTeX: TikZ pictures and tabulars in savebox wrappers) as HTML: each picture redrawn as
inline SVG, each tabular an HTML table; a figure outside that subset becomes a note naming the PDF key."""
from __future__ import annotations

import re
from typing import Callable

from markupsafe import Markup

from . import textmode
from .mathml import MathMLError, split_top
from .tikz import FigureError, tikz_svg

BOILERPLATE = [
    r"\\ifdefined\\(\w+)\\else\\newsavebox\{\\\1\}\\fi",
    r"\\ifdim\\wd\\(\w+)\s*>\s*\\linewidth\s*\\resizebox\{\\linewidth\}\{!\}\{\\usebox\{\\\1\}\}\\else"
    r"\\usebox\{\\\1\}\\fi",
    r"\\sbox\{\\\w+\}",
    r"\\renewcommand\{\\arraystretch\}\{[\d.]+\}",
    r"\\(?:par|medskip|smallskip|bigskip|quad|qquad|centering|noindent|hfill|hfil)(?![A-Za-z])",
    r"\\begin\{center\}|\\end\{center\}",
    r"%[^\n]*",
]
BLOCK = re.compile(r"\\begin\{(tikzpicture|tabular)\}")
RULES = re.compile(r"\s*\\(toprule|midrule|bottomrule|hline)(?![A-Za-z])(?:\[[^\]]*\])?")
NOTE = "This figure is drawn in the PDF key only."


def figure_html(tex: str, formula: Callable[[str], str]) -> Markup:
    """The figure as HTML blocks side by side; a note when any part is outside the redrawn subset."""
    try:
        blocks = [render_block(kind, body, formula) for kind, body in split_blocks(str(tex))]
    except (FigureError, textmode.TextModeError, MathMLError):
        return Markup('<p class="note">') + NOTE + Markup("</p>")
    return Markup('<div class="figure">' + "".join(f'<div class="figure-block">{b}</div>' for b in blocks)
                  + "</div>")


def split_blocks(tex: str) -> list[tuple[str, str]]:
    """The pictures and tabulars of a figure in order; any other material is a FigureError."""
    blocks, rest, i = [], [], 0
    for m in BLOCK.finditer(tex):
        if m.start() < i:
            continue
        end_tag = r"\end{" + m.group(1) + "}"
        end = tex.find(end_tag, m.end())
        if end < 0:
            raise FigureError(f"\\begin{{{m.group(1)}}} without its end")
        rest.append(tex[i:m.start()])
        blocks.append((m.group(1), tex[m.end():end]))
        i = end + len(end_tag)
    rest.append(tex[i:])
    leftover = "".join(rest)
    for pattern in BOILERPLATE:
        leftover = re.sub(pattern, "", leftover)
    if leftover.strip(" \t\n{}%"):
        raise FigureError(f"figure material not redrawn: {leftover.strip()[:60]!r}")
    if not blocks:
        raise FigureError("a figure with no picture or table")
    return blocks


def render_block(kind: str, body: str, formula: Callable[[str], str]) -> str:
    """One block: a picture as SVG, a tabular as a table."""
    if kind == "tikzpicture":
        head = re.match(r"\s*(\[(?:[^\[\]]|\[[^\]]*\])*\])?", body)
        return tikz_svg(body[head.end():], head.group(1) or "", formula)
    return table(body, formula)


def columns(spec: str) -> list[str]:
    """A tabular column spec (`@{}lrr@{}`, `l c c c`, `>{\\raggedright}p{3cm}r`) as CSS alignments."""
    names = {"l": "left", "c": "center", "r": "right", "p": "left", "m": "left", "b": "left", "X": "left"}
    out, i = [], 0
    while i < len(spec):
        ch = spec[i]
        if ch in "@<>!":                      # inserted material: skipped
            _, i = textmode.argument(spec, i + 1)
        elif ch in names:
            out.append(names[ch])
            i += 1
            if ch in "pmb":
                _, i = textmode.argument(spec, i)
        elif ch in " |\n":
            i += 1
        else:
            raise FigureError(f"tabular columns {spec!r} are not read")
    return out


def table(body: str, formula: Callable[[str], str]) -> str:
    """A tabular (its optional position, column spec and rows) as an HTML table; rules become borders."""
    m = re.match(r"\s*(?:\[[a-z]\])?\s*\{((?:[^{}]|\{[^{}]*\})*)\}", body)
    if m is None:
        raise FigureError("a tabular without a column spec")
    align = columns(m.group(1))
    rows, header = [], None
    for raw in split_top(body[m.end():], r"\\"):
        raw = re.sub(r"^\[[^\]]*\]", "", raw)
        rules = RULES.findall(raw)
        raw = RULES.sub("", raw)
        if "midrule" in rules and header is None and rows:
            header = len(rows)
        if not raw.strip():
            continue
        cells = split_top(raw, "&")
        if len(cells) > len(align):
            raise FigureError("a tabular row with more cells than columns")
        html = [textmode.to_html(textmode.parse(c.strip()), formula) for c in cells]
        rows.append((html, "midrule" in rules or "hline" in rules))
    out = ['<table class="tex">']
    for k, (cells, rule) in enumerate(rows):
        tag = "th" if header is not None and k < header else "td"
        cls = ' class="rule"' if rule and k else ""
        out.append(f"<tr{cls}>" + "".join(f'<{tag} style="text-align:{align[j]}">{c}</{tag}>'
                                          for j, c in enumerate(cells)) + "</tr>")
    out.append("</table>")
    return "".join(out)

