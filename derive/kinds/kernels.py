"""Known kernels as data, and what a recognised one says about an image (unknown kernels get no story)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ._images import value_text

R = sympy.Rational


@dataclass(frozen=True)
class Known:
    """One catalogue entry: a kernel as cross-correlation uses it, and what it does."""

    name: str          # "Prewitt"
    family: str        # vertical | horizontal | laplacian | blur | sharpen | identity
    matrix: tuple      # rows of exact numbers
    detects: str       # "a vertical edge detector"
    signed: bool       # a negated copy is the same detector with the sign of its response reversed


def _m(*rows: tuple, scale: Any = 1) -> tuple:
    """Rows of exact numbers, each times scale."""
    return tuple(tuple(R(v) * R(scale) for v in row) for row in rows)


_GAUSS5 = (1, 4, 6, 4, 1)

CATALOGUE: tuple[Known, ...] = (
    Known("Prewitt", "vertical", _m((1, 0, -1), (1, 0, -1), (1, 0, -1)), "a vertical edge detector", True),
    Known("Prewitt", "horizontal", _m((1, 1, 1), (0, 0, 0), (-1, -1, -1)), "a horizontal edge detector", True),
    Known("Sobel", "vertical", _m((1, 0, -1), (2, 0, -2), (1, 0, -1)), "a vertical edge detector", True),
    Known("Sobel", "horizontal", _m((1, 2, 1), (0, 0, 0), (-1, -2, -1)), "a horizontal edge detector", True),
    Known("Scharr", "vertical", _m((3, 0, -3), (10, 0, -10), (3, 0, -3)), "a vertical edge detector", True),
    Known("Scharr", "horizontal", _m((3, 10, 3), (0, 0, 0), (-3, -10, -3)), "a horizontal edge detector", True),
    Known("4-neighbour", "laplacian", _m((0, 1, 0), (1, -4, 1), (0, 1, 0)),
          "a Laplacian (second-derivative) filter", True),
    Known("8-neighbour", "laplacian", _m((1, 1, 1), (1, -8, 1), (1, 1, 1)),
          "a Laplacian (second-derivative) filter", True),
    Known("3×3 box", "blur", _m((1, 1, 1), (1, 1, 1), (1, 1, 1), scale=R(1, 9)),
          "a mean blur", False),
    Known("5×5 box", "blur", _m(*[(1,) * 5] * 5, scale=R(1, 25)), "a mean blur", False),
    Known("3×3 Gaussian", "blur", _m((1, 2, 1), (2, 4, 2), (1, 2, 1), scale=R(1, 16)),
          "a Gaussian blur", False),
    Known("5×5 Gaussian", "blur", _m(*[tuple(a * b for b in _GAUSS5) for a in _GAUSS5], scale=R(1, 256)),
          "a Gaussian blur", False),
    Known("3×3", "sharpen", _m((0, -1, 0), (-1, 5, -1), (0, -1, 0)), "a sharpening filter", False),
    Known("3×3", "identity", _m((0, 0, 0), (0, 1, 0), (0, 0, 0)), "the identity filter", False),
    Known("1×1", "identity", _m((1,)), "the identity filter", False),
)


@dataclass(frozen=True)
class Match:
    """A kernel recognised as `scale` times a catalogue entry."""

    known: Known
    scale: sympy.Rational

    def title(self) -> str:
        """`a vertical edge detector (Prewitt)`, with the scale or the negation said."""
        extra = ""
        if self.scale == -1:
            extra = ", negated"
        elif self.scale != 1:
            extra = f", scaled by {value_text(self.scale)}"
        return f"{self.known.detects} ({self.known.name}{extra})"


def match(kernel: list[list]) -> Match | None:
    """The catalogue entry this kernel is a nonzero multiple of (negations only for signed entries)."""
    shape = (len(kernel), len(kernel[0]))
    for known in CATALOGUE:
        if (len(known.matrix), len(known.matrix[0])) != shape:
            continue
        scale = _scale(kernel, known.matrix)
        if scale is None or (scale < 0 and not known.signed):
            continue
        return Match(known, scale)
    return None


def _scale(kernel: list[list], ref: tuple) -> sympy.Rational | None:
    """c with kernel = c·ref exactly (c ≠ 0), else None."""
    pivot = next((rc for rc in ((r, c) for r in range(len(ref)) for c in range(len(ref[0]))) if ref[rc[0]][rc[1]] != 0))
    c = sympy.Rational(kernel[pivot[0]][pivot[1]]) / ref[pivot[0]][pivot[1]]
    if c == 0:
        return None
    for row_k, row_r in zip(kernel, ref):
        for a, b in zip(row_k, row_r):
            if a != c * b:
                return None
    return c


# ---- stories: what the response means in this image ------------------------------------------------

def story(m: Match, image: list[list], response: list[list], window: tuple, plain_output: bool) -> str:
    """One or two sentences: what the kernel detects and where its response is in this image.

    image: the input (channels summed, unpadded); response: the cross-correlation without bias or activation;
    window: (stride_r, stride_c, pad_top, pad_left, kh, kw) to map output entries back to the image;
    plain_output: True when the output equals the response (no bias, linear), so its values can be named.
    """
    family = m.known.family
    if family in ("vertical", "horizontal"):
        return _edge_story(m, image, response, window, plain_output)
    lead = f"The kernel is {m.title()}"
    if family == "laplacian":
        return (lead + ": it gives 0 wherever the image is flat or changes linearly, and responds to edges, "
                "lines and isolated spots." + _peak_text(response, plain_output))
    if family == "blur":
        total = sum(sum(row) for row in m.known.matrix) * m.scale
        what = "weighted mean" if "Gaussian" in m.known.name else "mean"
        factor = "the" if total == 1 else f"{value_text(total)} times the"
        return (lead + f": each output entry is {factor} {what} of its window, so sharp changes are smoothed out. "
                + _range_text(image, response, plain_output))
    if family == "sharpen":
        return (lead + ": it weighs each pixel 5 against its four neighbours (the identity minus the Laplacian), "
                "so flat regions pass unchanged and edges are exaggerated." + _peak_text(response, plain_output))
    return (lead + ": each output entry is " + ("" if m.scale == 1 else f"{value_text(m.scale)} times ")
            + "the input pixel under the kernel's centre, so the output copies the image"
            + (" (cropped to the positions the kernel fits)." if len(m.known.matrix) > 1 else "."))


def _peaks(response: list[list]) -> tuple[sympy.Rational, list[tuple[int, int]]]:
    """The largest magnitude and the entries that reach it."""
    peak = max(abs(v) for row in response for v in row)
    spots = [(i, j) for i, row in enumerate(response) for j, v in enumerate(row) if peak != 0 and abs(v) == peak]
    return peak, spots


def _values_text(response: list[list], spots: list[tuple[int, int]], plain_output: bool) -> str:
    """`the 30s`, `the 30s and −30s`, `the response of 30 (before the bias and activation)`."""
    values = sorted({response[i][j] for i, j in spots}, reverse=True)
    many = len(spots) > 1
    if plain_output:
        return "the " + " and ".join(value_text(v) + ("s" if many else "") for v in values)
    names = " and ".join(value_text(v) for v in values)
    return f"the response{'s' if many else ''} of {names} (before the bias and activation)"


def _strongest(response: list[list], spots: list[tuple[int, int]], plain_output: bool) -> tuple[str, bool]:
    """`the strongest responses, 30 and −30,` and whether it is plural."""
    values = sorted({response[i][j] for i, j in spots}, reverse=True)
    many = len(spots) > 1
    qualifier = "" if plain_output else " (before the bias and activation)"
    numbers = " and ".join(value_text(v) for v in values)
    return f"the strongest response{'s' if many else ''}{qualifier}, {numbers},", many


def _positions(spots: list[tuple[int, int]]) -> str:
    """`(0, 1), (2, 3) and 2 more`."""
    shown = ", ".join(f"({i}, {j})" for i, j in spots[:4])
    return shown + (f" and {len(spots) - 4} more" if len(spots) > 4 else "")


def _peak_text(response: list[list], plain_output: bool) -> str:
    """Where the strongest responses are, or that the response is 0 everywhere."""
    peak, spots = _peaks(response)
    if peak == 0:
        return " Here the response is 0 everywhere."
    subject, many = _strongest(response, spots, plain_output)
    return (f" Here {subject} {'are' if many else 'is'} at output {'entries' if many else 'entry'} "
            f"(row, column) {_positions(spots)}.")


def _range_text(image: list[list], response: list[list], plain_output: bool) -> str:
    """The image's range and the response's."""
    lo_in, hi_in = min(min(r) for r in image), max(max(r) for r in image)
    lo, hi = min(min(r) for r in response), max(max(r) for r in response)
    what = "output" if plain_output else "response (before the bias and activation)"
    return (f"Here the image ranges from {value_text(lo_in)} to {value_text(hi_in)} and the {what} "
            f"from {value_text(lo)} to {value_text(hi)}.")


def _transpose(a: list[list]) -> list[list]:
    """Rows become columns."""
    return [list(r) for r in zip(*a)]


def _edge_story(m: Match, image: list[list], response: list[list], window: tuple, plain_output: bool) -> str:
    """Vertical (left/right) or horizontal (top/bottom) edges; the horizontal case is the transpose."""
    vertical = m.known.family == "vertical"
    sides = ("left", "right") if vertical else ("top", "bottom")
    first, second = sides if m.scale > 0 else sides[::-1]
    lead = (f"The kernel is {m.title()}: it responds where the brightness changes from {sides[0]} to {sides[1]}, "
            f"positive where the {first} side is brighter than the {second}, and 0 where the image is flat.")
    peak, spots = _peaks(response)
    if peak == 0:
        return lead + f" Here the response is 0 everywhere: the image has no {m.known.family} edge."
    img, resp = (image, response) if vertical else (_transpose(image), _transpose(response))
    sr, sc, pt, pl, kh, kw = window if vertical else (window[1], window[0], window[3], window[2], window[5], window[4])
    lines = sorted({(j if vertical else i) for i, j in spots})
    named = _values_text(response, spots, plain_output)
    split = _two_flat_parts(img)
    full = all(all(abs(resp[r][j]) == peak for r in range(len(resp))) for j in lines)
    if split is not None and full:
        b, a_val, b_val = split
        width = len(img[0])
        covered = all(j * sc - pl <= b - 1 and b <= j * sc - pl + kw - 1 for j in lines)
        if covered:
            if 2 * b == width:
                part = ("half", "half")
            else:
                part = (f"part ({_count(b, 'column' if vertical else 'row')})",
                        f"part ({_count(width - b, 'column' if vertical else 'row')})")
            bright_first = a_val > b_val
            return lead + (f" Here {named} mark the boundary between the "
                           f"{'bright' if bright_first else 'dark'} {sides[0]} {part[0]} and the "
                           f"{'dark' if bright_first else 'bright'} {sides[1]} {part[1]} of the image.")
    kind = "column" if vertical else "row"
    where = ", ".join(str(j) for j in lines[:4]) + (f" and {len(lines) - 4} more" if len(lines) > 4 else "")
    place = f"output {kind}{'s' if len(lines) > 1 else ''} {where}"
    subject, many = _strongest(response, spots, plain_output)
    return lead + (f" Here {subject} {'lie' if many else 'lies'} in {place}, where the {sides[0]}-to-{sides[1]} "
                   "change in brightness is strongest.")


def _count(n: int, what: str) -> str:
    """`1 column`, `2 columns`."""
    return f"{n} {what}{'s' if n != 1 else ''}"


def _two_flat_parts(img: list[list]) -> tuple[int, Any, Any] | None:
    """(b, a, c) when columns < b all equal a and columns ≥ b all equal c (a ≠ c); else None."""
    first = img[0]
    if any(row != first for row in img[1:]):
        return None
    changes = [j for j in range(1, len(first)) if first[j] != first[j - 1]]
    if len(changes) != 1:
        return None
    return changes[0], first[0], first[-1]
