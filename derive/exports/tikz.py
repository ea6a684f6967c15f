"""The TikZ that derive's kinds draw (nodes, rectangles, grids, arrows between nodes) redrawn as inline SVG.

Only that subset is read: `\\node[…] (name) at (x,y) {…}` (or `above=1cm of name`), `\\draw`/`\\fill[…] (x,y)
rectangle (x,y)` (or `++(dx,dy)`), `\\draw[…] (x,y) grid (x,y)`, `\\draw[…] (a) -- [node[…] {…}] (b)`; anything
else is a FigureError, and the caller shows a note instead of guessing.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape
from typing import Callable

from . import textmode
from .tikzopts import FONT, WIDTH, FigureError, color, font_size, length, options, resolve, visible

NUMBER = r"(-?\d*\.?\d+)"
POINT = r"\(\s*" + NUMBER + r"\s*,\s*" + NUMBER + r"\s*\)"
OPTS = r"(\[(?:[^\[\]]|\[[^\]]*\])*\])?"
NODE = re.compile(r"\\node\s*" + OPTS + r"\s*(?:\((\w+)\))?\s*(?:at\s*" + POINT + r")?\s*\{", re.S)
RECT = re.compile(r"\\(draw|fill)\s*" + OPTS + r"\s*" + POINT + r"\s*(rectangle|grid)\s*(\+\+)?" + POINT, re.S)
END = r"\(\s*(?:\[([^\]]*)\])?\s*(\w+)(?:\.(north|south|east|west|center))?\s*\)"
EDGE = re.compile(r"\\draw\s*" + OPTS + r"\s*" + END + r"\s*--\s*(?:node\s*" + OPTS + r"\s*\{)?", re.S)
TARGET = re.compile(r"\s*" + END, re.S)
SIMPLE = re.compile(r"\$?\s*(-?[\d.]+)\s*\$?")
OF = re.compile(r"\s*(-?[\d.]+\s*(?:cm|mm|pt|em)?)\s+of\s+(\w+)\s*")


@dataclass
class Box:
    """A node as drawn: its centre and half sizes, and whether it is a circle."""

    x: float
    y: float
    hw: float
    hh: float
    circle: bool


class Picture:
    """One tikzpicture being redrawn: its styles, scale, nodes and SVG elements."""

    def __init__(self, head: str, formula: Callable[[str], str]):
        items = options(head)
        self.styles = {i.split("/.style")[0].strip(): options("[" + i.partition("=")[2].strip()[1:-1] + "]")
                       for i in items if "/.style" in i}
        top = resolve([i for i in items if "/.style" not in i], {})
        self.sx = length(top.get("x", "1cm"))
        self.sy = length(top.get("y", "1cm"))
        self.font = font_size(top.get("font"), FONT["normalsize"])
        self.formula = formula
        self.nodes: dict[str, Box] = {}
        self.parts: list[str] = []
        self.bounds = [math.inf, math.inf, -math.inf, -math.inf]

    def point(self, x: str | float, y: str | float) -> tuple[float, float]:
        """TikZ coordinates → SVG pixels (SVG's y points down)."""
        return float(x) * self.sx, -float(y) * self.sy

    def grow(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Extend the picture's bounds to a box."""
        b = self.bounds
        b[0], b[1], b[2], b[3] = min(b[0], x0, x1), min(b[1], y0, y1), max(b[2], x0, x1), max(b[3], y0, y1)

    def rectangle(self, verb: str, opts: str | None, p: tuple, shape: str, relative: bool) -> None:
        """`\\draw`/`\\fill` of a rectangle, or a `grid` of unit lines."""
        o = resolve(options(opts), self.styles)
        x2, y2 = (float(p[0]) + float(p[2]), float(p[1]) + float(p[3])) if relative else (p[2], p[3])
        (x0, y0), (x1, y1) = self.point(p[0], p[1]), self.point(x2, y2)
        stroke = color(o.get("draw", o.get("color", "black")))
        width = next((w for k, w in WIDTH.items() if k in o), .6)
        if shape == "grid":
            self.grid(float(p[0]), float(p[1]), float(x2), float(y2), stroke, width)
        else:
            inside = color(o["fill"]) if "fill" in o else "none"
            paint = f'fill="{color(o.get("fill", o.get("color", "black")))}" stroke="none"' if verb == "fill" \
                else f'fill="{inside}" stroke="{stroke}" stroke-width="{width:g}"'
            self.parts.append(f'<rect x="{min(x0, x1):.1f}" y="{min(y0, y1):.1f}" width="{abs(x1 - x0):.1f}" '
                              f'height="{abs(y1 - y0):.1f}" {paint}/>')
        self.grow(x0, y0, x1, y1)

    def grid(self, x0: float, y0: float, x1: float, y1: float, stroke: str, width: float) -> None:
        """Lines at every whole unit between two corners."""
        lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        for x in range(math.ceil(lo_x), math.floor(hi_x) + 1):
            self.line(self.point(x, lo_y), self.point(x, hi_y), stroke, width)
        for y in range(math.ceil(lo_y), math.floor(hi_y) + 1):
            self.line(self.point(lo_x, y), self.point(hi_x, y), stroke, width)

    def line(self, a: tuple[float, float], b: tuple[float, float], stroke: str, width: float) -> None:
        """A straight line between two SVG points."""
        self.parts.append(f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
                          f'stroke="{stroke}" stroke-width="{width:g}"/>')

    def place(self, o: dict[str, str], at: tuple | None) -> tuple[float, float, str | None]:
        """A node's reference point and anchor: `at (x,y)`, or `above=D of name` and the like."""
        for side, anchor in (("above", "south"), ("below", "north"), ("left", "east"), ("right", "west")):
            m = OF.fullmatch(o.get(side, "")) if o.get(side) not in (None, side) else None
            if m:
                if m.group(2) not in self.nodes:
                    raise FigureError(f"a node is placed relative to an unknown node {m.group(2)}")
                ref, gap = self.nodes[m.group(2)], length(m.group(1))
                dx = {"east": -ref.hw - gap, "west": ref.hw + gap}.get(anchor, 0.0)
                dy = {"south": -ref.hh - gap, "north": ref.hh + gap}.get(anchor, 0.0)
                return ref.x + dx, ref.y + dy, anchor
        if at is None:
            raise FigureError("a node without a position")
        x, y = self.point(*at)
        return x, y, o.get("anchor")

    def node(self, opts: str | None, name: str | None, at: tuple | None, content: str) -> Box:
        """A node: its shape (when drawn or filled) and its content, centred or anchored."""
        o = resolve(options(opts), self.styles)
        x, y, anchor = self.place(o, at)
        size = font_size(o.get("font"), self.font)
        wide, tall = visible(content)
        hw = max(wide * size * 0.62 + 10, length(o.get("minimum width", o.get("minimum size", "0")))) / 2
        hh = max(tall * size * 1.45 + 8, length(o.get("minimum height", o.get("minimum size", "0")))) / 2
        circle = "circle" in o
        if circle:
            hw = hh = max(hw, hh)
        x += {"east": -hw, "west": hw}.get(anchor or "", 0.0)
        y += {"south": -hh, "north": hh}.get(anchor or "", 0.0)
        if "draw" in o or "fill" in o:
            fill = color(o["fill"]) if "fill" in o else "none"
            stroke = color(o["draw"]) if "draw" in o else "none"
            radius = length(o["rounded corners"]) if "rounded corners" in o else 0.0
            self.parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{hw:.1f}" fill="{fill}" stroke="{stroke}"/>' if circle else
                f'<rect x="{x - hw:.1f}" y="{y - hh:.1f}" width="{2 * hw:.1f}" height="{2 * hh:.1f}" '
                f'rx="{radius:.1f}" fill="{fill}" stroke="{stroke}"/>')
        self.parts.append(self.label(content, Box(x, y, hw, hh, circle), size,
                                     color(o["color"]) if "color" in o else None))
        box = Box(x, y, hw, hh, circle)
        if name:
            self.nodes[name] = box
        self.grow(x - hw, y - hh, x + hw, y + hh)
        return box

    def label(self, content: str, box: Box, size: float, ink: str | None) -> str:
        """A node's content: plain SVG text for a number, else HTML with MathML in a foreignObject."""
        fill = f' fill="{ink}"' if ink else ""
        simple = SIMPLE.fullmatch(content.strip())
        if simple:
            number = simple.group(1).replace("-", "\u2212")
            return (f'<text x="{box.x:.1f}" y="{box.y:.1f}" font-size="{size:g}" text-anchor="middle" '
                    f'dominant-baseline="central"{fill}>{escape(number)}</text>')
        html = textmode.to_html(textmode.parse(content), self.formula)
        style = f"font-size:{size:g}px" + (f";color:{ink}" if ink else "")
        return (f'<foreignObject x="{box.x - box.hw:.1f}" y="{box.y - box.hh:.1f}" width="{2 * box.hw:.1f}" '
                f'height="{2 * box.hh:.1f}"><div xmlns="http://www.w3.org/1999/xhtml" class="node" '
                f'style="{style}">{html}</div></foreignObject>')

    def anchor(self, end: tuple) -> tuple[Box, tuple[float, float] | None]:
        """An edge's end `([xshift=…,yshift=…]name.anchor)`: the node, and the exact point when anchored."""
        shift, name, side = end
        if name not in self.nodes:
            raise FigureError(f"an edge names an unknown node {name}")
        box = self.nodes[name]
        if not side and not shift:
            return box, None
        o = resolve(options("[" + (shift or "") + "]"), {})
        dx = {"east": box.hw, "west": -box.hw}.get(side or "", 0.0) + length(o.pop("xshift", "0"))
        dy = {"north": -box.hh, "south": box.hh}.get(side or "", 0.0) - length(o.pop("yshift", "0"))
        if o:
            raise FigureError(f"edge end options {sorted(o)} are not read")
        return box, (box.x + dx, box.y + dy)

    def edge(self, opts: str | None, a: tuple, b: tuple, label: tuple[str | None, str] | None) -> None:
        """An arrow from one node to another, border to border, with an optional label at its middle."""
        o = resolve(options(opts), self.styles)
        (start, p0), (end, p1) = self.anchor(a), self.anchor(b)
        x0, y0 = p0 or border(start, *(p1 or (end.x, end.y)))
        x1, y1 = p1 or border(end, *(p0 or (start.x, start.y)))
        ink = color(o.get("draw", o.get("color", "black")))
        self.line((x0, y0), (x1, y1), ink, 1.1)
        if any(k.startswith("-") for k in o):
            angle = math.atan2(y1 - y0, x1 - x0)
            tip = [(x1, y1)] + [(x1 - 7 * math.cos(angle + s), y1 - 7 * math.sin(angle + s)) for s in (.4, -.4)]
            self.parts.append(f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in tip)}" fill="{ink}"/>')
        if label:
            mid = ((x0 + x1) / 2 / self.sx, -(y0 + y1) / 2 / self.sy)
            self.node(label[0], None, mid, label[1])

    def svg(self) -> str:
        """The picture as an `<svg>` element at its natural size."""
        x0, y0, x1, y1 = self.bounds
        if x0 > x1:
            raise FigureError("an empty picture")
        pad = 4.0
        w, h = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="tikz" viewBox="{x0 - pad:.1f} {y0 - pad:.1f} '
                f'{w:.1f} {h:.1f}" width="{w:.0f}" height="{h:.0f}" font-family="serif" role="img">'
                + "".join(self.parts) + "</svg>")


def border(box: Box, tx: float, ty: float) -> tuple[float, float]:
    """Where the segment from a box's centre toward (tx, ty) leaves the box."""
    dx, dy = tx - box.x, ty - box.y
    if dx == 0 and dy == 0:
        return box.x, box.y
    if box.circle:
        d = math.hypot(dx, dy)
        return box.x + box.hw * dx / d, box.y + box.hw * dy / d
    t = min(box.hw / abs(dx) if dx else math.inf, box.hh / abs(dy) if dy else math.inf)
    return box.x + dx * t, box.y + dy * t


def statement(pic: Picture, body: str, i: int) -> int:
    """Draw the statement starting at `i`; the index just past it."""
    if m := NODE.match(body, i):
        end = textmode.matching(body, m.end() - 1)
        at = (m.group(3), m.group(4)) if m.group(3) is not None else None
        pic.node(m.group(1), m.group(2), at, body[m.end():end - 1])
        return end
    if m := RECT.match(body, i):
        pic.rectangle(m.group(1), m.group(2), m.group(3, 4, 7, 8), m.group(5), bool(m.group(6)))
        return m.end()
    if m := EDGE.match(body, i):
        label, j = None, m.end()
        if body[m.end() - 1] == "{":
            j = textmode.matching(body, m.end() - 1)
            label = (m.group(5), body[m.end():j - 1])
        target = TARGET.match(body, j)
        if target is None:
            raise FigureError(f"an edge without its target node at {body[j:j + 40]!r}")
        pic.edge(m.group(1), m.group(2, 3, 4), target.group(1, 2, 3), label)
        return target.end()
    raise FigureError(f"TikZ not redrawn: {body[i:i + 60]!r}")


def tikz_svg(body: str, head: str, formula: Callable[[str], str]) -> str:
    """The statements of one tikzpicture (between its options and `\\end`) as SVG."""
    pic = Picture(head, formula)
    i = 0
    while True:
        while i < len(body) and body[i] in " \t\n%":
            i += 1
        if i >= len(body):
            return pic.svg()
        i = statement(pic, body, i)
        rest = body[i:].lstrip()
        if rest and not rest.startswith(";"):
            raise FigureError(f"expected ';' after a TikZ statement at {rest[:40]!r}")
        i = len(body) - len(rest) + (1 if rest else 0)


__all__ = ["FigureError", "tikz_svg"]
