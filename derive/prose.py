"""Plain text from a spec to LaTeX: everything escaped, `$…$` math parsed against a grammar (texmath)."""
from __future__ import annotations

import re
from typing import Any, Iterator

from .latex import Latex
from .texmath import COMMANDS, MathError, parse

SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
            "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
UNICODE = {"−": r"\ensuremath{-}", "×": r"\ensuremath{\times}", "·": r"\ensuremath{\cdot}", "≈": r"\ensuremath{\approx}",
           "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}", "≠": r"\ensuremath{\ne}", "→": r"\ensuremath{\to}",
           "←": r"\ensuremath{\leftarrow}", "∂": r"\ensuremath{\partial}", "√": r"\ensuremath{\surd}",
           "Σ": r"\ensuremath{\Sigma}", "∑": r"\ensuremath{\sum}", "∈": r"\ensuremath{\in}", "ŷ": r"\ensuremath{\hat y}",
           "⌊": r"\ensuremath{\lfloor}", "⌋": r"\ensuremath{\rfloor}", "⋯": r"\ensuremath{\cdots}",
           "…": r"\ldots{}", "—": "---", "–": "--", "“": "``", "”": "''", "‘": "`", "’": "'", "•": r"\textbullet{}",
           "²": r"\ensuremath{^2}", "³": r"\ensuremath{^3}", "¹": r"\ensuremath{^1}", "⁻": r"\ensuremath{^-}",
           "ᵀ": r"\ensuremath{^\top}", "∞": r"\ensuremath{\infty}", "±": r"\ensuremath{\pm}", "°": r"\ensuremath{^\circ}"}
GREEK = dict(zip("αβγδεζηθικλμνξπρστυφχψω",
                 "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon "
                 "phi chi psi omega".split()))
UNICODE.update({ch: rf"\ensuremath{{\{name}}}" for ch, name in GREEK.items()})
UNICODE["ς"] = r"\ensuremath{\varsigma}"
for _ch, _cmd in zip("ΓΔΘΛΞΠΦΨΩ", "Gamma Delta Theta Lambda Xi Pi Phi Psi Omega".split()):
    UNICODE[_ch] = rf"\ensuremath{{\{_cmd}}}"

MATH_COMMANDS = COMMANDS     # the whitelist, kept under its old name
DOLLAR = re.compile(r"(?<!\\)\$")  # a `$` that opens or closes math (`\$` is a dollar sign)


class UnsafeText(ValueError):
    """Raised when `$…$` math is outside the grammar of derive/texmath.py."""


def escape(text: str) -> Latex:
    """Plain text, typeset literally: every TeX special escaped, common Unicode mapped."""
    out = []
    for ch in str(text):
        if ch in SPECIALS:
            out.append(SPECIALS[ch])
        elif ch in UNICODE:
            out.append(UNICODE[ch])
        elif ord(ch) < 128 or 0xA0 <= ord(ch) <= 0x17F:
            out.append(ch if ch != "\t" else " ")
        else:
            out.append(rf"\texttt{{[U+{ord(ch):04X}]}}")
    return Latex("".join(out))


def check_math(math: str) -> Latex:
    """Validate inline math by parsing it (derive/texmath.py): what passes compiles in the document's preamble."""
    try:
        parse(math)
    except MathError as exc:
        raise UnsafeText(str(exc)) from None
    return Latex(math)


def inline(text: str) -> Latex:
    """One paragraph: text escaped, `$…$` checked and kept; a `\\$` is a literal dollar."""
    out = []
    pieces = DOLLAR.split(text)
    if len(pieces) % 2 == 0:
        raise UnsafeText("unclosed $ (write \\$ for a dollar sign)")
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append("$" + breakable(check_math(piece)) + "$")
        else:
            out.append(escape(piece.replace("\\$", "$")))
    return Latex("".join(out))


def breakable(math: str) -> Latex:
    """Inline math that may break after a comma followed by a space (a list of tuples wraps like text)."""
    return Latex(math.replace(", ", ",\\allowbreak "))


def blocks(text: str) -> Iterator[tuple[str, Any]]:
    """Paragraphs (blank-line separated) and `- ` bullet lists, in order: ("para", text) or ("items", [text, …])
    (the one reading of spec prose, for the LaTeX key and the HTML alike)."""
    for block in re.split(r"\n\s*\n", str(text).strip()):
        items: list[str] = []
        para: list[str] = []
        for ln in (ln.strip() for ln in block.splitlines() if ln.strip()):
            if ln.startswith("- "):
                if para:
                    yield "para", " ".join(para)
                    para = []
                items.append(ln[2:])
            elif items and not para:
                items[-1] += " " + ln
            else:
                para.append(ln)
        if items:
            yield "items", items
        if para:
            yield "para", " ".join(para)


def to_latex(text: str) -> Latex:
    """Paragraphs (blank-line separated) and `- ` bullet lists, safely typeset."""
    out = [Latex(r"\begin{itemize}" + "".join(r"\item " + inline(i) for i in body) + r"\end{itemize}")
           if kind == "items" else inline(body) for kind, body in blocks(text)]
    return Latex("\n\n".join(out))
