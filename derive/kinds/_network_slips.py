"""Kind `network`, its slips: biases miscounted, a term missing from (or extra in) a total, a conv size off by one.

They work on the parsed layers (`p.fields.layers`, `p.fields.designs`), never on the spec's text.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Callable

from ..problem import Problem
from ..slipkit import Answers, Variant
from . import _arch as A
from ._arch import Layer, Row

WEIGHTED = A.WEIGHTED
INNER_TERMS = 40     # past this many terms, a missing term is looked for among the top-level layers only


def _prefix(design: str | None) -> str:
    """The answer-name prefix of a network: '' for one network, 'direct.' for a design."""
    return f"{design}." if design else ""


# ---- bias_count ---------------------------------------------------------------------------------------

def _weighted(layers: list[Layer]) -> list[Layer]:
    """The dense and conv layers of a list, those inside branches included."""
    return [layer for layer in A.all_layers(layers) if layer.type in WEIGHTED]


def _with_bias(layers: list[Layer], bias: bool) -> list[Layer]:
    """Copies of the layers with every weighted layer's bias set to `bias` (inside blocks too)."""
    return A.map_layers(layers, lambda layer: dataclasses.replace(layer, bias=bias) if layer.type in WEIGHTED
                        else layer)


def _biased(bias: bool) -> Callable[[Problem], Problem]:
    """A `modify`: every weighted layer of every network with (or without) its bias."""
    def modify(p: Problem) -> Problem:
        if p.fields.designs is not None:
            return p.with_fields(designs={name: _with_bias(layers, bias)
                                          for name, layers in p.fields.designs.items()})
        return p.with_fields(layers=_with_bias(p.fields.layers, bias))
    return modify


def bias_count(p: Problem, answers: Answers) -> list[Variant]:
    """Biases left out of a parameter count, or counted where a layer has `bias: false`."""
    layers = [layer for net in A.networks(p).values() for layer in _weighted(net)]
    out = []
    if any(layer.bias for layer in layers):
        out.append(Variant("the biases left out of the parameter count", modify=_biased(False)))
    if any(not layer.bias for layer in layers):
        out.append(Variant("biases counted although the layers have bias: false", modify=_biased(True)))
    return out


# ---- missing_term -------------------------------------------------------------------------------------

def _kernel(layer: Layer) -> int | None:
    """The kernel size of a conv layer (1 for a 1×1 conv), else None."""
    return layer.kernel[0] * layer.kernel[1] if layer.type == "conv" else None


def _terms(rows: list[Row], where: str) -> list[dict]:
    """Every layer's own counts (the layers inside blocks each on its own), its kernel and place."""
    out = []
    for i, row in enumerate(rows):
        place = f"{where}[{i}]"
        if not row.children:
            out.append({"params": row.params, "multiplications": row.mults, "kernel": _kernel(row.layer),
                        "place": place})
        elif row.layer.type == "residual":
            out += _terms(row.children[0], f"{place}.residual") + _terms(row.children[1], f"{place}.shortcut")
        else:
            for b, branch in enumerate(row.children):
                out += _terms(branch, f"{place}.branches[{b}]")
    return out


def _top_terms(rows: list[Row], where: str) -> list[dict]:
    """Each top-level layer's counts (a block's summed), its kernel and place."""
    return [{"params": r.params, "multiplications": r.mults, "kernel": _kernel(r.layer), "place": f"{where}[{i}]"}
            for i, r in enumerate(rows)]


def _less(name: str, amount: int) -> Callable[[Problem, Answers], Answers]:
    """A transform: the total `name` less `amount` (more, when negative)."""
    return lambda _p, a: {name: a[name] - amount}


def missing_term(p: Problem, answers: Answers) -> list[Variant]:
    """A total without one layer's term (or with one twice); a bottleneck or inception total without the 1×1s."""
    out = []
    for design, layers in A.networks(p).items():
        prefix = _prefix(design)
        rows, where_ = A.trace(p.fields.input, layers), f"designs.{design}" if design else "layers"
        terms = _terms(rows, where_)
        if sum(1 for t in terms if t["params"] or t["multiplications"]) > INNER_TERMS:
            terms = _top_terms(rows, where_)
        where = f" of {design}" if design else ""
        for key in ("multiplications", "params"):
            total = answers[prefix + key]
            ones = sum(t[key] for t in terms if t["kernel"] == 1)
            if 0 < ones < total:
                out.append(Variant(f"the 1×1 convolutions' {key} left out of the total{where}",
                                   transform=_less(prefix + key, ones)))
            counted = [(t["place"], t[key]) for t in terms if t[key]]
            if len(counted) < 2:
                continue
            for place, v in counted:
                out.append(Variant(f"a missing term in the sum: the {key} of {place} ({v:,}) left out of the total",
                                   transform=_less(prefix + key, v)))
                out.append(Variant(f"an extra term in the sum: the {key} of {place} ({v:,}) counted twice",
                                   transform=_less(prefix + key, -v)))
    return out


# ---- network_off_by_one -------------------------------------------------------------------------------

def _off_by_one(prefix: str, i: int, d: int, mult: int) -> Callable[[Problem, Answers], Answers]:
    """A transform: layer i's height and width d larger, its multiplications `mult`, and what follows."""
    def transform(_p: Problem, a: Answers) -> Answers:
        entries = copy.deepcopy(a[prefix + "layers"])
        old = entries[i]["multiplications"]
        hh, ww, cc = entries[i]["output_shape"]
        entries[i].update(output_shape=[hh + d, ww + d, cc], multiplications=mult)
        changed = {prefix + "layers": entries,
                   prefix + "multiplications": a[prefix + "multiplications"] - old + mult}
        if i == len(entries) - 1:
            changed[prefix + "output_shape"] = [hh + d, ww + d, cc]
        return changed
    return transform


def network_off_by_one(p: Problem, answers: Answers) -> list[Variant]:
    """A conv layer's output size off by one, and the multiplications that follow from it."""
    out = []
    for design, layers in A.networks(p).items():
        prefix = _prefix(design)
        where = f" of {design}" if design else ""
        for i, (layer, entry) in enumerate(zip(layers, answers[prefix + "layers"])):
            if layer.type != "conv":
                continue
            h, w, _c = entry["output_shape"]
            for d in (-1, 1):
                if h + d < 1 or w + d < 1:
                    continue
                mult = entry["multiplications"] * (h + d) * (w + d) // (h * w)
                out.append(Variant(f"the output size of layer {i}{where} off by one ({h + d}×{w + d} instead of "
                                   f"{h}×{w})", transform=_off_by_one(prefix, i, d, mult)))
    return out
