"""TikZ option lists, xcolor expressions, lengths and fonts, as derive's kinds write them, for tikz.py."""
from __future__ import annotations

import re

PX = 38.0                      # SVG pixels per TikZ centimetre
BASE = {"red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1), "black": (0, 0, 0), "white": (1, 1, 1),
        "orange": (1, .5, 0), "gray": (.5, .5, .5), "yellow": (1, 1, 0), "cyan": (0, 1, 1), "magenta": (1, 0, 1),
        "violet": (.5, 0, .5), "purple": (.75, 0, .25), "brown": (.75, .5, .25), "teal": (0, .5, .5),
        "lightgray": (.75, .75, .75), "darkgray": (.25, .25, .25), "olive": (.5, .5, 0), "pink": (1, .75, .75),
        "keyblue": (24 / 255, 74 / 255, 138 / 255), "okgreen": (20 / 255, 110 / 255, 40 / 255),
        "badred": (190 / 255, 30 / 255, 30 / 255)}       # the last three: the key's preamble colours
FONT = {"tiny": 8.0, "scriptsize": 9.5, "footnotesize": 11.5, "small": 13.0, "normalsize": 14.5, "large": 17.0,
        "Large": 20.0}
WIDTH = {"ultra thin": .3, "very thin": .5, "thin": .7, "semithick": 1.0, "thick": 1.3, "very thick": 2.0,
         "ultra thick": 2.8}
INK = re.compile(r"text|color")       # `text=white`: the colour of a node's words
PLACES = {"left": "east", "right": "west", "above": "south", "below": "north"}


class FigureError(ValueError):
    """A figure outside the subset the exporter redraws."""


def options(text: str | None) -> list[str]:
    """`[a, b=c, d={e, f}]` → its items, split at top-level commas."""
    if not text:
        return []
    body, items, depth, start = text.strip()[1:-1], [], 0, 0
    for i, ch in enumerate(body):
        depth += (ch in "{[") - (ch in "}]")
        if ch == "," and depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
    items.append(body[start:].strip())
    return [item for item in items if item]


def top_split(item: str) -> tuple[str, str, str]:
    """`key=value` split at its first `=` outside braces and brackets: (key, "=" or "", value)."""
    depth = 0
    for i, ch in enumerate(item):
        depth += (ch in "{[") - (ch in "}]")
        if ch == "=" and depth == 0:
            return item[:i].strip(), "=", item[i + 1:].strip()
    return item.strip(), "", ""


def color(spec: str) -> str:
    """An xcolor expression (`blue!55!black`, `black!45`, `orange!40`) as `#rrggbb`."""
    parts = [p.strip() for p in spec.split("!")]
    if parts[0] not in BASE:
        raise FigureError(f"colour {spec!r} is not known")
    rgb = BASE[parts[0]]
    rest = parts[1:]
    while rest:
        if not re.fullmatch(r"\d+(\.\d+)?", rest[0]):
            raise FigureError(f"colour {spec!r} is not read")
        share = float(rest[0]) / 100
        other = BASE.get(rest[1] if len(rest) > 1 else "white")
        if other is None:
            raise FigureError(f"colour {spec!r} is not known")
        rgb = tuple(share * a + (1 - share) * b for a, b in zip(rgb, other))
        rest = rest[2:]
    return "#" + "".join(f"{round(255 * c):02x}" for c in rgb)


def is_color(item: str) -> bool:
    """True when an option item is a bare colour."""
    return item.split("!")[0].strip() in BASE


def resolve(items: list[str], styles: dict[str, list[str]]) -> dict[str, str]:
    """Option items with named styles expanded: key → value (flags map to themselves; a bare colour → color)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = top_split(item)
        if not sep and key in styles:
            out.update(resolve(styles[key], styles))
        elif not sep and is_color(key):
            out["color"] = key
        elif sep and INK.fullmatch(key):
            out["color"] = value
        elif not sep and key in PLACES:
            out["anchor"] = PLACES[key]
        else:
            out[key] = value if sep else key
    return out


def length(value: str, unit: float = PX) -> float:
    """`1.1cm`, `4pt`, `2mm` (a bare number in `unit`s) in SVG pixels."""
    m = re.fullmatch(r"\s*(-?[\d.]+)\s*(cm|mm|pt|em)?\s*", value)
    if m is None:
        raise FigureError(f"length {value!r} is not read")
    per = {"cm": PX, "mm": PX / 10, "pt": PX / 28.45, "em": 14.5, None: unit}
    return float(m.group(1)) * per[m.group(2)]


def font_size(value: str | None, default: float) -> float:
    """A TikZ `font=\\small` as a size in pixels."""
    if not value:
        return default
    name = value.strip().lstrip("\\")
    if name not in FONT:
        raise FigureError(f"font {value!r} is not read")
    return FONT[name]


def visible(content: str) -> tuple[float, float]:
    """Roughly (characters wide, lines tall) of a node's LaTeX: a small matrix counts its widest row."""
    lines, depth, in_math, start = [], 0, False, 0
    i = 0
    while i < len(content):
        ch = content[i]
        if ch == "\\" and content.startswith(r"\\", i) and not in_math and depth == 0:
            lines.append(content[start:i])
            i += 2
            start = i
            continue
        if ch == "\\":
            i += 2
            continue
        in_math ^= ch == "$"
        depth += (ch == "{") - (ch == "}")
        i += 1
    lines.append(content[start:])
    wide, tall = 0.0, 0.0
    for line in lines:
        rows = 1.0
        def squeeze(m: re.Match) -> str:
            nonlocal rows
            cells = [r.split("&") for r in m.group(1).split(r"\\")]
            rows = max(rows, 0.9 * len(cells))
            return "x" * round(0.85 * max(len(_chars(" ".join(r))) for r in cells) + 1)
        flat = re.sub(r"\\begin\{smallmatrix\}(.*?)\\end\{smallmatrix\}", squeeze, line, flags=re.S)
        flat = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1", flat)
        wide = max(wide, len(_chars(flat)))
        tall += rows
    return wide, tall


def _chars(tex: str) -> str:
    """The characters a piece of LaTeX shows, roughly (a command counts as one, sizes and colours as none)."""
    tex = re.sub(r"\\(?:color)\{[^{}]*\}|\\(?:scriptsize|footnotesize|small|tiny|left|right|mathbf|mathrm|"
                 r"mathcal|hat|tilde)(?![A-Za-z])", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return re.sub(r"[{}$^_\\ ]", "", tex)
