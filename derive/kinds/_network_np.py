"""Kind `network`, the independent recomputation: every layer's shape and counts again, in float64 NumPy.

It shares nothing with the exact counting (`_arch_count`) but the parsed layers: sizes come from np.floor and
np.ceil of the output-size formulas, counts from np.prod of the weight shapes.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._arch_types import Layer, networks

Counts = tuple[np.ndarray, float, float]   # output shape, parameters, multiplications


def recompute(p: Any) -> dict[str, Any]:
    """Each network's `layers`, `output_shape`, `params` and `multiplications` in float64."""
    out = {}
    for design, layers in networks(p).items():
        prefix = f"{design}." if design else ""
        shape = np.array(p.fields.input, dtype=float)
        entries = []
        for layer in layers:
            shape, params, mults = np_layer(shape, layer)
            entries.append({"output_shape": shape.tolist(), "params": params, "multiplications": mults})
        out[prefix + "layers"] = entries
        out[prefix + "output_shape"] = shape.tolist()
        out[prefix + "params"] = float(np.sum([e["params"] for e in entries]))
        out[prefix + "multiplications"] = float(np.sum([e["multiplications"] for e in entries]))
    return out


def np_layer(shape: np.ndarray, layer: Layer) -> Counts:
    """One layer in float64: (output shape, parameters, multiplications)."""
    return _NP[layer.type](shape, layer)


def _bias(layer: Layer, units: float) -> float:
    """The bias count of a weighted layer."""
    return units if layer.bias else 0.0


def _dense(shape: np.ndarray, layer: Layer) -> Counts:
    """Dense on a vector or on each token."""
    w = np.prod([shape[-1], layer.size])
    rows = shape[0] if shape.size == 2 else 1.0
    return np.append(shape[:-1], float(layer.size)), w + _bias(layer, layer.size), rows * w


def _sizes(shape: np.ndarray, layer: Layer) -> np.ndarray:
    """Height and width out of a conv or pool window (dilated span, padding, stride, ceil mode)."""
    k, st, d = (np.array(v, float) for v in (layer.kernel, layer.stride, layer.dilation))
    reach = d * (k - 1) + 1
    pad = d * (k - 1) if layer.padding == "same" else 2 * np.array(layer.padding, float)
    room = (shape[:2] + pad - reach) / st
    if not layer.ceil_mode:
        return np.floor(room) + 1
    hw = np.ceil(room) + 1
    return hw - ((hw - 1) * st >= shape[:2] + np.floor(pad / 2))


def _windowed(shape: np.ndarray, layer: Layer) -> Counts:
    """Conv or pool."""
    hw = _sizes(shape, layer)
    if layer.type != "conv":
        return np.append(hw, shape[2]), 0.0, 0.0
    w = np.prod(layer.kernel) * (shape[2] / layer.groups) * layer.size
    return np.append(hw, float(layer.size)), w + _bias(layer, layer.size), np.prod(hw) * w


def _transposed(shape: np.ndarray, layer: Layer) -> Counts:
    """Transposed conv: (H − 1)·s − 2p + k + output padding."""
    k, st = np.array(layer.kernel, float), np.array(layer.stride, float)
    hw = (shape[:2] - 1) * st - 2 * np.array(layer.padding, float) + k + np.array(layer.output_padding, float)
    w = np.prod(k) * shape[2] * layer.size
    return np.append(hw, float(layer.size)), w + _bias(layer, layer.size), np.prod(shape) * np.prod(k) * layer.size


def _attention(shape: np.ndarray, layer: Layer) -> Counts:
    """Self-attention: the four projections and the T²·d terms."""
    t, d = shape
    projections = 4 * (d * d + d)          # q, k, v and output: d×d weights and d biases each
    return shape, projections, 4 * t * d ** 2 + 2 * t ** 2 * d


def _block(shape: np.ndarray, layer: Layer) -> Counts:
    """Branches (concatenated on the last axis) or a residual (main + shortcut, the same shape)."""
    params = mults = 0.0
    outs = []
    for inner in layer.blocks():
        s = shape
        for one in inner:
            s, a, m = np_layer(s, one)
            params, mults = params + a, mults + m
        outs.append(s)
    if layer.type == "residual":
        return outs[0], params, mults
    return np.append(outs[0][:-1], np.sum([o[-1] for o in outs])), params, mults


_NP: dict[str, Callable[[np.ndarray, Layer], Counts]] = {
    "dense": _dense, "conv": _windowed, "maxpool": _windowed, "avgpool": _windowed, "convtranspose": _transposed,
    "globalavgpool": lambda s, _l: (np.array([1.0, 1.0, s[2]]), 0.0, 0.0),
    "globalmaxpool": lambda s, _l: (np.array([1.0, 1.0, s[2]]), 0.0, 0.0),
    "upsample": lambda s, l: (np.append(s[:2] * np.array(l.factor, float), s[2]), 0.0, 0.0),
    "batchnorm": lambda s, _l: (s, 2.0 * s[-1], 0.0),
    "layernorm": lambda s, _l: (s, 2.0 * s[-1], 0.0),
    "flatten": lambda s, _l: (np.array([np.prod(s)]), 0.0, 0.0),
    "dropout": lambda s, _l: (s, 0.0, 0.0),
    "activation": lambda s, _l: (s, 0.0, 0.0),
    "attention": _attention,
    "embedding": lambda s, l: (np.array([s[0], float(l.dim)]), float(l.vocab) * l.dim, 0.0),
    "position_embedding": lambda s, l: (s, float(l.max_tokens) * s[1], 0.0),
    "branches": _block, "residual": _block,
}
