"""The answers box of `rnn`: each answer exact (≈ decimals) while short, else its decimals; a gated cell's stacked
answers one gate's block at a time, packed into rows; and, past what one box holds, the biggest answers named by
their shape (every number is in the JSON, and the worked steps show them)."""
from __future__ import annotations

from typing import Any

from ..latex import EDGE, MAX_SHOWN, Latex, decimal_text, decimals, is_plain
from ..solution import Solution
from ..values import flat
from . import _rnn_tex as TX
from ._rnn_run import Run
from ._rnn_tex import col

SYMBOLS = {"hidden": r"\mathbf{h}_{1..T}", "cells": r"\mathbf{c}_{1..T}",
           "grad_w_ih": r"\partial\mathcal{L}/\partial W_{ih}", "grad_w_hh": r"\partial\mathcal{L}/\partial W_{hh}",
           "grad_b_ih": r"\partial\mathcal{L}/\partial \mathbf{b}_{ih}",
           "grad_b_hh": r"\partial\mathcal{L}/\partial \mathbf{b}_{hh}",
           "grad_h0": r"\partial\mathcal{L}/\partial \mathbf{h}_0",
           "grad_inputs": r"\partial\mathcal{L}/\partial \mathbf{x}_{1..T}"}
GATE_SYMBOLS = {"lstm": r"(\mathbf{i}, \mathbf{f}, \mathbf{g}, \mathbf{o})_{1..T}",
                "gru": r"(\mathbf{r}, \mathbf{z}, \mathbf{n})_{1..T}"}
STACKED = {"gates", "grad_w_ih", "grad_w_hh", "grad_b_ih", "grad_b_hh"}
BOX_PT = 285          # points of one row of gate blocks: the 263pt beside the name and symbol, or scaled to ≥ 92 %
BOX_ROWS = 34         # matrix rows one answers box holds (it cannot break across pages)
KEPT = 9              # rows latex.matrix keeps of a matrix past MAX_SHOWN rows
WIDEST = 364          # points of one answer's value: the 263pt beside its name and symbol, or scaled to ≥ 72 %


def answers(s: Solution, r: Run, d: int) -> None:
    """Every answer, in order; a missing bias gradient is none."""
    shown = {name: box(r, name, value, d) for name, value in r.answers.items() if value is not None}
    total = sum(height for _, height in shown.values())
    for name in sorted(shown, key=lambda n: -shown[n][1]):
        if total <= BOX_ROWS:
            break
        total -= shown[name][1] - 1
        shown[name] = (by_shape(r.answers[name]), 1)
    for name, value in r.answers.items():
        symbol = GATE_SYMBOLS[r.net.cell] if name == "gates" else SYMBOLS[name]
        if value is None:
            s.answer(name, None, symbol=symbol, display=Latex(r"\text{none (no biases)}"))
        else:
            s.answer(name, value, approximate=name in r.approximate, symbol=symbol, display=shown[name][0])


def by_shape(value: list) -> Latex:
    """`… (a 12×4 matrix: every number is in the JSON)`."""
    shape = rf"{len(value)}\times {len(value[0])}\text{{ matrix" if isinstance(value[0], list) else \
        rf"{len(value)}\text{{-vector"
    return Latex(rf"\ldots\ (\text{{a }}{shape}: every number is in the JSON}})")


def rows(value: list) -> int:
    """The rows a matrix (or a vector, one row) takes once shown."""
    if not isinstance(value[0], list):
        return 1
    return len(value) if len(value) <= MAX_SHOWN else KEPT


def entry_pt(text: str) -> float:
    """The width in points of a decimal as TeX sets it at 11pt (measured: digit 5.475, point 3.04, minus 7.8;
    `e-5` becomes `× 10⁻⁵`)."""
    mantissa, _, exponent = text.partition("e")
    width = 5.475 * sum(c.isdigit() for c in mantissa) + 3.04 * mantissa.count(".") + 7.8 * mantissa.count("-")
    return width + (22 + 4 * len(exponent) if exponent else 0)


def block_pt(block: list, d: int) -> float:
    """The width in points of a matrix (or a row vector) with its label (measured: 24pt of label and brackets,
    10pt between columns); past MAX_SHOWN columns, those latex.matrix keeps and its dots."""
    rows_ = block if isinstance(block[0], list) else [block]
    kept = list(range(len(rows_[0])))
    if len(kept) > MAX_SHOWN:
        kept = kept[:EDGE] + kept[-EDGE:]
    texts = [[decimal_text(row[c], d) for c in kept] for row in rows_]
    dots = 25 if len(kept) < len(rows_[0]) else 0
    return 24 + dots + 10 * (len(kept) - 1) + sum(max(entry_pt(row[c]) for row in texts) for c in range(len(kept)))


def box(r: Run, name: str, value: Any, d: int) -> tuple[Latex, int]:
    """The answer as the box shows it, and the matrix rows it takes."""
    k, h = len(r.net.gates), r.net.h
    if k == 1 or name not in STACKED:
        shown = value if isinstance(value[0], list) or block_pt(value, d) <= WIDEST else col(value)
        if block_pt(shown, d) > WIDEST:
            return by_shape(value), 1
        text, short = TX.shown(shown, d)
        return (Latex(r"\ldots \approx " + text) if short else TX.value(shown, d)), rows(shown)
    if name == "gates":
        parts = [[row[j * h:(j + 1) * h] for row in value] for j in range(k)]
    else:
        parts = [value[j * h:(j + 1) * h] for j in range(k)]
        if not isinstance(parts[0][0], list) and block_pt(parts[0], d) > BOX_PT:   # long bias blocks: columns
            parts = [col(b) for b in parts]
    if max(block_pt(b, d) for b in parts) > WIDEST:
        return by_shape(value), 1
    plain = all(is_plain(v) for v in flat(value))
    shown = [rf"\mathbf{{{g}}}{{:}}\ " + (TX.ex(b) if plain else decimals(b, d)) for g, b in zip(r.net.gates, parts)]
    lines, line, used = [], [], 0.0
    for part, block in zip(shown, parts):
        width = block_pt(block, d)
        if line and used + width > BOX_PT:
            lines.append(line)
            line, used = [], 0.0
        line.append(part)
        used += width + 16     # `,\\quad` between blocks
    lines.append(line)
    body = r"\begin{gathered}" + r" \\ ".join(r",\quad ".join(x) for x in lines) + r"\end{gathered}"
    display = body if plain else r"\ldots\approx " + body   # no spaced ≈: the box keeps it on one row
    return Latex(display), len(lines) * rows(parts[0])
