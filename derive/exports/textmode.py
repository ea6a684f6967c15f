"""LaTeX text mode as derive's kinds write it (table cells, figure labels, `\\text{…}`) read into pieces,
then written as HTML or as MathML; an unknown command is an error, never passed through."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from .tikzopts import FigureError, color

PLAIN, MATH, BREAK, GROUP = "plain", "math", "break", "group"
CHARS = {"_": "_", "&": "&", "%": "%", "#": "#", "$": "$", "{": "{", "}": "}", " ": " ", ",": "\u2009",
         ";": "\u2005", ":": "\u2005", "!": "", "-": "", "/": ""}
WORDS = {"textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^", "textless": "<",
         "textgreater": ">", "textbar": "|", "textbullet": "\u2022", "ldots": "\u2026", "dots": "\u2026",
         "quad": "\u2003", "qquad": "\u2003\u2003", "enspace": "\u2002", "relax": "", "centering": ""}
STYLES = {"textit": "i", "emph": "em", "textbf": "b", "texttt": "code"}
UPRIGHT = re.compile(r"text(?:rm|normal|sf|up)?|mbox")     # \\text and its plain relatives: no element
SIZES = {"tiny": "small", "scriptsize": "small", "footnotesize": "small", "small": "small", "normalsize": "",
         "large": "", "Large": ""}
ASSIGNED = frozenset({"hangindent", "hangafter", "parindent", "leftskip"})
LIGATURES = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"), ("~", "\u00a0"))
COMMAND = re.compile(r"\\([A-Za-z]+)\*?|\\(.)", re.S)


class TextModeError(ValueError):
    """Text-mode LaTeX outside what the exporter reads (the caller shows a note instead)."""


@dataclass
class Piece:
    """One piece of text: plain words, a formula, a line break, or a styled group of pieces."""

    kind: str
    value: str = ""
    children: list["Piece"] = field(default_factory=list)


def matching(tex: str, start: int) -> int:
    """The index just past the `}` that closes the `{` at `start` (escaped braces skipped)."""
    depth, i = 0, start
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            i += 2
            continue
        depth += (ch == "{") - (ch == "}")
        i += 1
        if depth == 0:
            return i
    raise TextModeError(f"unbalanced braces in {tex[start:start + 40]!r}")


def argument(tex: str, i: int) -> tuple[str, int]:
    """The braced argument starting at or after `i` (spaces skipped): (its contents, the index past it)."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex) or tex[i] != "{":
        raise TextModeError(f"expected {{…}} after a command in {tex[max(0, i - 20):i + 20]!r}")
    end = matching(tex, i)
    return tex[i + 1:end - 1], end


def dollar_end(tex: str, i: int) -> int:
    """The index of the `$` that closes inline math opened just before `i`."""
    while i < len(tex):
        if tex[i] == "\\":
            i += 2
            continue
        if tex[i] == "$":
            return i
        i += 1
    raise TextModeError("unclosed $ in a text-mode fragment")


def parse(tex: str) -> list[Piece]:
    """The pieces of a text-mode fragment (size declarations wrap the rest of their group)."""
    out: list[Piece] = []
    buf: list[str] = []
    i = 0

    def flush() -> None:
        if buf:
            out.append(Piece(PLAIN, ligatures("".join(buf))))
            buf.clear()

    while i < len(tex):
        ch = tex[i]
        if ch == "$":
            flush()
            end = dollar_end(tex, i + 1)
            out.append(Piece(MATH, tex[i + 1:end]))
            i = end + 1
        elif ch == "{":
            flush()
            end = matching(tex, i)
            out.append(Piece(GROUP, "", parse(tex[i + 1:end - 1])))
            i = end
        elif ch == "}":
            raise TextModeError(f"unbalanced braces in {tex[:40]!r}")
        elif ch == "\\":
            flush()
            piece, i, rest = command(tex, i)
            if rest:
                out.append(Piece(GROUP, piece.value, parse(tex[i:])))
                return out
            if piece.kind != PLAIN or piece.value:
                out.append(piece)
        else:
            buf.append(" " if ch in "\n\t" else ch)
            i += 1
    flush()
    return out


def command(tex: str, i: int) -> tuple[Piece, int, bool]:
    """The command at `i`: (its piece, the index past it, whether it is a size that styles the rest)."""
    m = COMMAND.match(tex, i)
    if m is None:
        raise TextModeError("a lone backslash at the end of a text-mode fragment")
    word, symbol = m.group(1), m.group(2)
    end = m.end()
    if symbol is not None:
        if symbol == "\\":
            skip = re.match(r"\[[^\]]*\]", tex[end:])
            return Piece(BREAK), end + (skip.end() if skip else 0), False
        if symbol not in CHARS:
            raise TextModeError(f"\\{symbol} is not read in text mode")
        return Piece(PLAIN, CHARS[symbol]), end, False
    if word in WORDS:
        if tex.startswith("{}", end):
            end += 2
        return Piece(PLAIN, WORDS[word]), end, False
    if word in ASSIGNED:                 # \hangindent=2em\hangafter=1: paragraph shape, not shown in HTML
        value = re.match(r"\s*=?\s*-?[\d.]+\s*(?:em|ex|pt|cm|mm)?", tex[end:])
        if value is None:
            raise TextModeError(f"\\{word} without a value")
        return Piece(PLAIN, ""), end + value.end(), False
    if word in SIZES:
        return Piece(GROUP, SIZES[word]), end, True
    if word in STYLES or UPRIGHT.fullmatch(word):
        body, end = argument(tex, end)
        return Piece(GROUP, STYLES.get(word, ""), parse(body)), end, False
    if word == "color":
        spec, end = argument(tex, end)
        try:
            return Piece(GROUP, "color:" + color(spec)), end, True
        except FigureError as exc:
            raise TextModeError(str(exc)) from None
    if word == "ensuremath":
        body, end = argument(tex, end)
        return Piece(MATH, body), end, False
    if word == "hspace":
        body, end = argument(tex, end)
        return Piece(PLAIN, "\u2003" * max(1, round(em(body)))), end, False
    raise TextModeError(f"\\{word} is not read in text mode")


def em(length: str) -> float:
    """A TeX length in em (1em, 0.5cm, 6pt), roughly."""
    m = re.fullmatch(r"\s*(-?[\d.]+)\s*(em|ex|pt|cm|mm)\s*", length)
    if m is None:
        raise TextModeError(f"a length {length!r} is not read")
    per_em = {"em": 1.0, "ex": 0.5, "pt": 1 / 10, "cm": 1 / 0.35, "mm": 1 / 3.5}
    return float(m.group(1)) * per_em[m.group(2)]


def ligatures(words: str) -> str:
    """TeX's text ligatures: --- — , -- – , `` “ , '' ” and ~ as a no-break space."""
    for tex, char in LIGATURES:
        words = words.replace(tex, char)
    return words


def to_html(pieces: list[Piece], math: "callable") -> str:
    """Pieces as HTML: words escaped, formulas through `math` (LaTeX → inline MathML), groups as elements."""
    out = []
    for piece in pieces:
        if piece.kind == PLAIN:
            out.append(escape(piece.value, quote=False))
        elif piece.kind == MATH:
            out.append(math(piece.value))
        elif piece.kind == BREAK:
            out.append("<br>")
        else:
            inner = to_html(piece.children, math)
            tag = piece.value
            if tag.startswith("color:"):
                out.append(f'<span style="color:{tag[6:]}">{inner}</span>')
            else:
                out.append(f'<span class="small">{inner}</span>' if tag == "small" else
                           f"<{tag}>{inner}</{tag}>" if tag else inner)
    return "".join(out)


def words_of(pieces: list[Piece]) -> list[Piece]:
    """The pieces flattened to plain words and formulas (styles and breaks become nothing and spaces)."""
    out: list[Piece] = []
    for piece in pieces:
        if piece.kind == GROUP:
            flat = words_of(piece.children)
        else:
            flat = [Piece(PLAIN, " ") if piece.kind == BREAK else piece]
        for p in flat:
            if out and p.kind == PLAIN and out[-1].kind == PLAIN:
                out[-1] = Piece(PLAIN, out[-1].value + p.value)
            else:
                out.append(p)
    return out
