"""The question sheet of the dense kinds (SPEC §15): every number a student needs, as written in the spec, drawn
weights and biases as their values (shortest decimals), each matrix's layout said, never elided, never `random`."""
from __future__ import annotations

from typing import Any

from ..latex import Latex
from ..problem import Problem
from ..render import Prose, Rows
from ..sheet import given_entries, written
from . import _dense_fit as F
from . import _layers as L
from ._dense_show import transpose

Entry = tuple[str, Any]


def _raw_layer(p: Problem, i: int) -> dict:
    """The layer as the spec wrote it (an empty mapping when it is not known)."""
    raw = p.raw.get("layers")
    return raw[i] if isinstance(raw, list) and i < len(raw) and isinstance(raw[i], dict) else {}


def _activation(layer: L.Layer, raw: dict) -> str:
    """`relu`, `leaky relu, slope 0.1` (the slope as written)."""
    name = layer.activation.replace("_", " ")
    if layer.activation != "leaky_relu":
        return name
    return f"{name}, slope {written(layer.slope, raw.get('slope'))}"


def _fitted(entries: list[Entry]) -> list[Entry]:
    """Given entries whose matrix, beside its label, would not fit the line written as rows of text instead."""
    out: list[Entry] = []
    for label, value in entries:
        if isinstance(value, Latex) and not F.fits(r"\text{%s} = %s" % (label, value), F.BUDGET):
            value = Rows([f"row {i}: " + line for i, line in enumerate(_text_rows(value))])
        out.append((label, value))
    return out


def _text_rows(grid: Latex) -> list[str]:
    """The rows of a matrix of written numbers as text (`[1.5, -2, 0.25]`)."""
    body = grid.split(r"\begin{bmatrix}", 1)[1].rsplit(r"\end{bmatrix}", 1)[0]
    return ["[" + ", ".join(c.strip() for c in row.split("&")) + "]" for row in body.split(r"\\")]


def _numbers(label: str, value: Any, raw: Any) -> list[Entry]:
    """A numeric value as written, never elided; too wide a matrix as rows of text."""
    return _fitted(given_entries(label, value, raw))


def _layer(layer: L.Layer, raw: dict) -> Entry:
    """The layer in words: units, activation, inputs."""
    u = layer.units
    return (f"layer {layer.index + 1}", Prose(f"{u} unit{'s' if u > 1 else ''}, {_activation(layer, raw)}, "
                                              f"{layer.inputs} input{'s' if layer.inputs > 1 else ''}"))


def _weights(layer: L.Layer, raw: dict) -> list[Entry]:
    """The weight matrix with its layout: units × inputs, or as given for layout: in_out (inputs × units)."""
    k = layer.index + 1
    if layer.drawn_weights:
        return _numbers(f"W[{k}], drawn (units × inputs)", layer.weights, None)
    if layer.layout == "in_out":
        return _numbers(f"W[{k}] transposed, as given (inputs × units, layout: in_out)", transpose(layer.weights),
                        raw.get("weights"))
    return _numbers(f"W[{k}] (units × inputs)", layer.weights, raw.get("weights"))


def _bias(layer: L.Layer, raw: dict) -> list[Entry]:
    """The bias (one per unit), drawn or as given; `none` without one."""
    k = layer.index + 1
    if layer.bias is None:
        return [(f"b[{k}]", Latex(r"\text{none}"))]
    label = f"b[{k}]" + (", drawn" if layer.drawn_bias else "")
    return _numbers(label, layer.bias, None if layer.drawn_bias else raw.get("bias"))


def _draws(p: Problem) -> list[Entry]:
    """How the drawn values were drawn (the values themselves are above), in words that never say `random`."""
    init = p.fields.init or L.DEFAULT_INIT
    raw = p.raw.get("init") if isinstance(p.raw.get("init"), dict) else {}

    def w(name: str) -> str:
        """An init number as written."""
        return written(init[name], raw.get(name))
    how = (f"uniform on [{w('low')}, {w('high')}]" if init["distribution"] == "uniform"
           else f"normal, mean {w('mean')}, standard deviation {w('std')}")
    places = f"{init['decimals']} decimal{'s' if init['decimals'] != 1 else ''}"
    return [("drawn values", Latex(rf"\text{{{how}, rounded to {places}, seed {p.seed}}}"))]


def given_layers(p: Problem, layers: list[L.Layer]) -> list[Entry]:
    """Each layer: its units and activation, its weights (layout said) and bias as values; then how draws were made."""
    out: list[Entry] = []
    for layer in layers:
        raw = _raw_layer(p, layer.index)
        out += [_layer(layer, raw)] + _weights(layer, raw) + _bias(layer, raw)
    if any(layer.drawn_weights or layer.drawn_bias for layer in layers):
        out += _draws(p)
    return out


def given_numbers(p: Problem, label: str, name: str) -> list[Entry]:
    """A numeric field as written (never elided)."""
    return _numbers(label, getattr(p.fields, name), p.raw.get(name))
