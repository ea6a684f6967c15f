"""Kind `network`, the slips of real architectures (SPEC §14): a grouped conv counted as a full one, a dilated
kernel's span taken for its taps, the projection shortcuts left out, attention's T²·d terms left out, a
transposed conv counted on its output grid.

Each works on the parsed layers (`modify`: the problem with typed layers edited, solved again) or on the traced
rows (`transform`: the layer entries and totals shifted by what the slip leaves out or adds).
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Callable

from ..problem import Problem
from ..slipkit import Answers, Variant
from . import _arch as A
from ._arch import Layer, Row

Shift = Callable[[Row], tuple[int, int]]    # a row's own (params, multiplications) change under the slip


def _prefix(design: str | None) -> str:
    """The answer-name prefix of a network: '' for one network, 'direct.' for a design."""
    return f"{design}." if design else ""


def _edited(change: Callable[[Layer], Layer]) -> Callable[[Problem], Problem]:
    """A `modify`: every layer of every network passed through `change` (inside blocks too)."""
    def modify(p: Problem) -> Problem:
        if p.fields.designs is not None:
            return p.with_fields(designs={name: A.map_layers(layers, change)
                                          for name, layers in p.fields.designs.items()})
        return p.with_fields(layers=A.map_layers(p.fields.layers, change))
    return modify


def _every(p: Problem) -> list[Layer]:
    """Every layer of every network of the problem."""
    return [layer for net in A.networks(p).values() for layer in A.all_layers(net)]


# ---- modify: the layers themselves read wrongly ----------------------------------------------------------

def grouped_as_full(p: Problem, answers: Answers) -> list[Variant]:
    """A depthwise or grouped conv counted as if every filter saw every input channel."""
    grouped = [layer for layer in _every(p) if layer.type == "conv" and layer.groups > 1]
    if not grouped:
        return []
    full = lambda layer: dataclasses.replace(layer, groups=1) if layer.type == "conv" else layer  # noqa: E731
    return [Variant("a grouped (or depthwise) conv counted as a full conv: each filter given all "
                    "the input channels instead of C_in/g", modify=_edited(full))]


def dilated_taps(p: Problem, answers: Answers) -> list[Variant]:
    """A dilated kernel's reach d·(k − 1) + 1 taken as its number of taps."""
    if not any(layer.type == "conv" and layer.dilation != (1, 1) for layer in _every(p)):
        return []

    def spread(layer: Layer) -> Layer:
        if layer.type != "conv" or layer.dilation == (1, 1):
            return layer
        return dataclasses.replace(layer, kernel=A.span(layer), dilation=(1, 1))
    return [Variant("a dilated kernel counted with the taps of its whole reach d(k − 1) + 1 instead of its "
                    "k real taps", modify=_edited(spread))]


# ---- transform: what a block or a layer contributes, miscounted ------------------------------------------

def _shifted(p: Problem, shift: Shift) -> dict[str, list[tuple[int, int]]]:
    """Per network prefix, each top-level entry's (params, multiplications) change (blocks: their insides')."""
    out = {}
    for design, layers in A.networks(p).items():
        rows = A.trace(p.fields.input, layers)
        out[_prefix(design)] = [_inside(row, shift) for row in rows]
    return out


def _inside(row: Row, shift: Shift) -> tuple[int, int]:
    """A row's change and that of every row inside it."""
    dp, dm = shift(row)
    for rows in row.children:
        for inner in rows:
            a, b = _inside(inner, shift)
            dp, dm = dp + a, dm + b
    return dp, dm


def _transform(changes: dict[str, list[tuple[int, int]]]) -> Callable[[Problem, Answers], Answers]:
    """Layer entries and totals with each entry's change applied."""
    def transform(_p: Problem, a: Answers) -> Answers:
        out = {}
        for prefix, deltas in changes.items():
            if not any(d != (0, 0) for d in deltas):
                continue
            entries = copy.deepcopy(a[prefix + "layers"])
            for entry, (dp, dm) in zip(entries, deltas):
                entry["params"] += dp
                entry["multiplications"] += dm
            out[prefix + "layers"] = entries
            out[prefix + "params"] = a[prefix + "params"] + sum(d[0] for d in deltas)
            out[prefix + "multiplications"] = a[prefix + "multiplications"] + sum(d[1] for d in deltas)
        return out
    return transform


def _variant(p: Problem, words: str, shift: Shift) -> list[Variant]:
    """One variant when the slip changes some count, else none."""
    changes = _shifted(p, shift)
    if not any(d != (0, 0) for deltas in changes.values() for d in deltas):
        return []
    return [Variant(words, transform=_transform(changes))]


def _shortcut(row: Row) -> tuple[int, int]:
    """A residual block's projection shortcut, taken away."""
    if row.layer.type != "residual" or not row.children[1]:
        return 0, 0
    short = row.children[1]
    return -sum(r.params for r in short), -sum(r.mults for r in short)


def shortcut_left_out(p: Problem, answers: Answers) -> list[Variant]:
    """The projection shortcuts' parameters and multiplications left out of the blocks' counts."""
    return _variant(p, "the projection shortcuts (the layers on the skip path) left out of the residual blocks' "
                       "counts", _shortcut)


def _scores(row: Row) -> tuple[int, int]:
    """An attention layer's 2·T²·d (scores and weighted sum), taken away."""
    if row.layer.type != "attention":
        return 0, 0
    t, d = row.shape_in
    return 0, -2 * t * t * d


def attention_scores_left_out(p: Problem, answers: Answers) -> list[Variant]:
    """Only the four projections counted in an attention layer."""
    return _variant(p, "only the attention's four projections counted: the scores QKᵀ and the weighted sum of "
                       "the values (2·T²·d) left out", _scores)


def _on_output(row: Row) -> tuple[int, int]:
    """A transposed conv's multiplications on its output grid, as a conv's would be, instead of its input's."""
    if row.layer.type != "convtranspose":
        return 0, 0
    (h, w, c), (ho, wo, f) = row.shape_in, row.shape_out
    kh, kw = row.layer.kernel
    return 0, ho * wo * f * kh * kw * c - row.mults


def transposed_as_conv(p: Problem, answers: Answers) -> list[Variant]:
    """A transposed conv's multiplications counted per output position, as for a conv."""
    return _variant(p, "a transposed conv's multiplications counted per output position "
                       "(H_out·W_out·C_out·k·k·C_in, as for a conv) instead of per input value", _on_output)
