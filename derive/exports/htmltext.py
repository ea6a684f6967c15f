"""Spec prose (plain text, `- ` bullets, `$…$` math) and formulas as HTML: words escaped, math as MathML.

A formula the converter cannot read is shown as its LaTeX source in a `<code>` element, escaped."""
from __future__ import annotations

from markupsafe import Markup, escape

from ..prose import DOLLAR, blocks
from .mathml import MathMLError, to_mathml


def math_html(tex: str, display: bool = False) -> Markup:
    """A formula as MathML, or (should the converter fail) its source shown literally."""
    try:
        return to_mathml(tex, display)
    except MathMLError:
        return Markup('<code class="tex-source">') + escape(tex) + Markup("</code>")


def inline_math(tex: str) -> str:
    """An inline formula as HTML text (the callback that tables and figure labels use)."""
    return str(math_html(tex))


def inline(text: str) -> Markup:
    """One paragraph: words escaped, `$…$` as inline MathML, `\\$` a literal dollar."""
    pieces = DOLLAR.split(text)
    if len(pieces) % 2 == 0:               # an unclosed $ (refused at load for statements): shown as written
        return escape(text)
    out = Markup("")
    for k, piece in enumerate(pieces):
        out += math_html(piece) if k % 2 else escape(piece.replace("\\$", "$"))
    return out


def prose_html(text: str | None) -> Markup:
    """Paragraphs (blank-line separated) and `- ` bullet lists, as the LaTeX key reads them (prose.blocks)."""
    if not text:
        return Markup("")
    out = [Markup("<ul>") + Markup("").join(Markup("<li>") + inline(i) + Markup("</li>") for i in body)
           + Markup("</ul>") if kind == "items" else Markup("<p>") + inline(body) + Markup("</p>")
           for kind, body in blocks(text)]
    return Markup("\n").join(out)
