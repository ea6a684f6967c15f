"""LaTeX math → MathML: latex2mathml for the formula, derive's own handling of `aligned` rows, `\\text{…}`
and `{,}` digit groups; every result is parsed and rebuilt from a whitelist of MathML elements and attributes,
so nothing but MathML with escaped characters reaches a page."""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from xml.parsers import expat

from latex2mathml.converter import convert
from markupsafe import Markup

from . import textmode

NS = "http://www.w3.org/1998/Math/MathML"
ELEMENTS = frozenset("""math mrow mi mn mo mtext ms mspace msup msub msubsup mfrac msqrt mroot mover munder
munderover mtable mtr mtd mstyle mpadded mphantom menclose semantics annotation""".split())
ATTRIBUTES = frozenset("""display stretchy fence form separator lspace rspace minsize maxsize mathvariant accent
accentunder width height depth linebreak scriptlevel displaystyle rowspacing columnspacing columnalign rowalign
columnlines rowlines frame movablelimits largeop symmetric notation class encoding""".split())
LIFTED = re.compile(r"\\(?:text(?:rm|normal|sf|up)?|mbox)(?![A-Za-z])\s*")
PLACEHOLDER = "DERIVEPIECE{}X"
GROUPED = re.compile(r"<mn>(\d+)</mn>((?:<mrow><mo>&#x0002C;</mo></mrow><mn>\d{3}</mn>)+)")
NAMED = re.compile(r"<mo>([A-Za-z]{2,})</mo>")         # \operatorname{relu}, \max: upright words, no spacing
UNARY = re.compile(r"(?<=</mo>)<mo>(&#x02212;|&#x0002B;)</mo>")
CLOSERS = frozenset({")", "]", "}", "|", "&#x00029;", "&#x0005D;", "&#x0007D;", "&#x0007C;", "&#x0230B;"})
ARRAY = re.compile(r"\\begin\{array\}\s*(?:\[[tcb]\])?\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
ROW_SKIP = re.compile(r"\\\\\s*\[\s*-?[\d.]+\s*(?:pt|em|ex|mm|cm)\s*\]")
ALIGNED = (r"\begin{aligned}", r"\end{aligned}")
RELATION = re.compile(r"\s*(=|\\approx|<|>|\\le|\\ge|\\leq|\\geq|\\ne|\\to|\\Rightarrow)(?![A-Za-z])")


class MathMLError(ValueError):
    """A formula the converter could not turn into whitelisted MathML."""


def to_mathml(tex: str, display: bool = False) -> Markup:
    """A formula as a `<math>` element (block or inline), checked; raises MathMLError when it cannot."""
    return Markup(_cached(str(tex), display))


@lru_cache(maxsize=4096)
def _cached(tex: str, display: bool) -> str:
    """The converted formula (the same LaTeX recurs across steps and variants)."""
    mode = "block" if display else "inline"
    return f'<math xmlns="{NS}" display="{mode}">{formula(tex)}</math>'


def formula(tex: str) -> str:
    """A formula's MathML without its `<math>` wrapper; a top-level `aligned` becomes a table of rows."""
    tex = ROW_SKIP.sub(r"\\\\", tex)
    tex = ARRAY.sub(lambda m: r"\begin{array}{" + re.sub(r"@\{[^{}]*\}|[|\s]", "", m.group(1)) + "}", tex)
    start = _top_level(tex, ALIGNED[0])
    if start < 0:
        return piece(tex)
    end = _closing(tex, start)
    before, body, after = tex[:start], tex[start + len(ALIGNED[0]):end], tex[end + len(ALIGNED[1]):]
    parts = [piece(before) if before.strip() else "", aligned(body), formula(after) if after.strip() else ""]
    return "<mrow>" + "".join(parts) + "</mrow>"


def aligned(body: str) -> str:
    """`a &= b \\\\ &= c`: one row per line, cells right- then left-aligned in turn, as LaTeX sets them."""
    rows = []
    for row in (r for r in split_top(body, r"\\") if r.strip()):
        cells = []
        for k, cell in enumerate(split_top(row, "&")):
            if k % 2 and RELATION.match(cell):
                cell = "{}" + cell           # a relation opening a cell keeps its spacing
            cells.append(f'<mtd class="{"left" if k % 2 else "right"}">{piece(cell)}</mtd>')
        rows.append("<mtr>" + "".join(cells) + "</mtr>")
    return '<mtable class="aligned" displaystyle="true">' + "".join(rows) + "</mtable>"


def piece(tex: str) -> str:
    """A formula without `aligned`: `\\text` lifted out, latex2mathml, digit groups joined, checked."""
    if not tex.strip():
        return ""
    lifted: list[str] = []
    source = _lift(tex, lifted)
    try:
        xml = convert(source)
    except Exception as exc:  # latex2mathml raises its own types (and IndexError) on input it cannot read
        raise MathMLError(f"latex2mathml cannot read {tex[:80]!r}: {type(exc).__name__}: {exc}") from None
    xml = GROUPED.sub(lambda m: "<mn>" + m.group(1) + re.sub(r"<[^>]+>", "", m.group(2))
                      .replace("&#x0002C;", ",") + "</mn>", xml)
    xml = NAMED.sub(r"<mi>\1</mi>", xml)
    xml = unary(xml)
    for k, fragment in enumerate(lifted):
        xml = xml.replace(f"<mtext>{PLACEHOLDER.format(k)}</mtext>", fragment)
    return checked(xml)


def unary(xml: str) -> str:
    """A minus or plus right after an operator, an opening bracket or a comma is a sign (prefix), as in TeX."""
    def mark(m: re.Match) -> str:
        before = xml[:m.start()]
        previous = before[before.rfind(">", 0, len(before) - 5) + 1:-5]
        return m.group(0) if previous in CLOSERS else f'<mo form="prefix">{m.group(1)}</mo>'
    return UNARY.sub(mark, xml)


def _lift(tex: str, lifted: list[str]) -> str:
    """Replace each `\\text{…}` by a placeholder, keeping its contents rendered as MathML in `lifted`."""
    out, i = [], 0
    for m in LIFTED.finditer(tex):
        if m.start() < i:
            continue
        if m.end() >= len(tex) or tex[m.end()] != "{":
            raise MathMLError(f"\\text without a braced argument in {tex[:80]!r}")
        try:
            end = textmode.matching(tex, m.end())
            lifted.append(words(tex[m.end() + 1:end - 1]))
        except textmode.TextModeError as exc:
            raise MathMLError(str(exc)) from None
        out.append(tex[i:m.start()] + r"\text{" + PLACEHOLDER.format(len(lifted) - 1) + "}")
        i = end
    out.append(tex[i:])
    return "".join(out)


def words(tex: str) -> str:
    """Text-mode contents of `\\text{…}` as MathML: words in `<mtext>` (spaces kept), formulas inline."""
    out = []
    for p in textmode.words_of(textmode.parse(tex)):
        if p.kind == textmode.MATH:
            out.append("<mrow>" + formula(p.value) + "</mrow>")
        elif p.value:
            out.append("<mtext>" + escape(p.value.replace(" ", "\u00a0"), quote=False) + "</mtext>")
    return "<mrow>" + "".join(out) + "</mrow>"


def checked(xml: str) -> str:
    """The children of a `<math>` element, parsed and written anew: elements and attributes from the
    whitelists only, characters escaped; anything else is a MathMLError."""
    out: list[str] = []
    depth = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        bad = [a for a in attrs if a not in ATTRIBUTES and not (depth == 1 and a == "xmlns" and attrs[a] == NS)]
        if tag not in ELEMENTS or (depth == 1) != (tag == "math") or bad:
            raise MathMLError(f"<{tag}> {' '.join(bad)} is not allowed in MathML output")
        if depth > 1:
            out.append(f"<{tag}" + "".join(f' {k}="{escape(v, quote=True)}"' for k, v in sorted(attrs.items()))
                       + ">")

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        if depth:
            out.append(f"</{tag}>")

    parser = expat.ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = lambda data: out.append(escape(data, quote=False))
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise MathMLError(f"the converter gave malformed MathML: {exc}") from None
    return "".join(out)


def split_top(tex: str, sep: str) -> list[str]:
    """Split at `sep` outside braces and environments (`&` and `\\\\` of the outermost table only)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        if tex.startswith(r"\begin", i) or tex.startswith(r"\left", i) and not tex[i + 5:i + 6].isalpha():
            depth += 1
        elif tex.startswith(r"\end", i) or tex.startswith(r"\right", i) and not tex[i + 6:i + 7].isalpha():
            depth -= 1
        if depth == 0 and tex.startswith(sep, i):
            parts.append(tex[start:i])
            i += len(sep)
            start = i
            continue
        if tex[i] == "\\":
            i += 2 if not tex[i + 1:i + 2].isalpha() else 1
            continue
        depth += (tex[i] == "{") - (tex[i] == "}")
        i += 1
    parts.append(tex[start:])
    return parts


def _top_level(tex: str, needle: str) -> int:
    """Where `needle` first occurs outside braces, or −1."""
    depth, i = 0, 0
    while i < len(tex):
        if depth == 0 and tex.startswith(needle, i):
            return i
        if tex[i] == "\\":
            i += 2 if tex[i + 1:i + 2] in "{}" else 1
            continue
        depth += (tex[i] == "{") - (tex[i] == "}")
        i += 1
    return -1


def _closing(tex: str, start: int) -> int:
    """Where the `\\end{aligned}` matching the `\\begin{aligned}` at `start` begins."""
    depth, i = 0, start
    while i < len(tex):
        if tex.startswith(ALIGNED[0], i):
            depth += 1
        elif tex.startswith(ALIGNED[1], i):
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise MathMLError(r"\begin{aligned} without its \end{aligned}")
