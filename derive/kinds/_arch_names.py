"""Kind `network`: how layers are named (`conv 3×3, 32 filters, same`), numbered in stages, and told apart."""
from __future__ import annotations

import sympy

from ._arch_types import Layer, Row

SHORT = {"batchnorm": "batch norm", "layernorm": "layer norm", "flatten": "flatten",
         "globalavgpool": "global avgpool", "globalmaxpool": "global maxpool"}


def describe(layer: Layer) -> str:
    """The layer's name: the spec's `name`, else a short description (`conv 3×3, 32 filters, same`)."""
    return layer.label or plain_description(layer)


def plain_description(layer: Layer) -> str:
    """A short description of the layer's settings, whatever its `name`."""
    t = layer.type
    extra = _geometry_words(layer)
    if t in ("dense", "conv", "convtranspose") and not layer.bias:
        extra.append("no bias")
    if layer.activation and layer.activation != "linear" and t != "activation":
        extra.append(layer.activation)
    return ", ".join([_head(layer)] + extra)


def _geometry_words(layer: Layer) -> list[str]:
    """Stride, padding, dilation, groups, output padding and ceil mode, where they differ from the defaults."""
    t, extra = layer.type, []
    if layer.kernel and layer.stride != (1, 1) and (t != "maxpool" and t != "avgpool" or layer.stride != layer.kernel):
        extra.append("stride " + pair_text(layer.stride))
    if t in ("maxpool", "avgpool") and layer.stride == (1, 1) and layer.kernel != (1, 1):
        extra.append("stride 1")
    if layer.padding == "same":
        extra.append("same")
    elif layer.padding != (0, 0):
        extra.append("padding " + pair_text(layer.padding))
    if layer.output_padding != (0, 0):
        extra.append("output padding " + pair_text(layer.output_padding))
    if layer.dilation != (1, 1):
        extra.append("dilation " + pair_text(layer.dilation))
    if layer.groups != 1:
        extra.append(f"{layer.groups} groups")
    if layer.ceil_mode:
        extra.append("ceil mode")
    return extra


def _head(layer: Layer) -> str:
    """The first words of a description: the type and its main value."""
    t = layer.type
    if t == "dense":
        return f"dense {layer.size}"
    if t in ("conv", "convtranspose"):
        k = f"{layer.kernel[0]}×{layer.kernel[1]}"
        return f"{'conv' if t == 'conv' else 'transposed conv'} {k}, {layer.size} filter{'s' if layer.size > 1 else ''}"
    if t in ("maxpool", "avgpool"):
        return f"{t} {layer.kernel[0]}×{layer.kernel[1]}"
    if t == "dropout":
        return f"dropout {number_text(layer.rate)}"
    if t == "upsample":
        return f"upsample ×{pair_text(layer.factor)}"
    if t == "activation":
        return layer.activation
    if t == "attention":
        return f"attention, {layer.heads} head{'s' if layer.heads > 1 else ''}"
    if t == "embedding":
        return f"embedding, vocabulary {layer.vocab:,}, width {layer.dim}"
    if t == "position_embedding":
        return f"position embedding, {layer.max_tokens:,} positions"
    if t == "branches":
        return f"{len(layer.branches)} branches, concatenated"
    if t == "residual":
        n = len(layer.main)
        short = f"a {len(layer.shortcut)}-layer shortcut" if layer.shortcut else "identity shortcut"
        return f"residual block ({n} layer{'s' if n > 1 else ''}, {short})"
    return SHORT[t]


def pair_text(p: tuple[int, int]) -> str:
    """`2`, or `2×1` when the sides differ."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def number_text(x: sympy.Rational) -> str:
    """0.5 for 1/2; 1/3 stays a fraction."""
    from ..latex import is_plain, terminating
    return terminating(x) if is_plain(x) else str(x)


# ---- stages and repeats ---------------------------------------------------------------------------

def names(rows: list[Row]) -> list[str]:
    """Each row's display name: a run of blocks sharing one `name` is a stage, its rows `layer3, block 2`."""
    out = [describe(r.layer) for r in rows]
    for start, end in stages(rows):
        for i in range(start, end):
            out[i] = f"{rows[i].layer.label}, block {i - start + 1}"
    return out


def stages(rows: list[Row]) -> list[tuple[int, int]]:
    """(start, end) of every run of two or more consecutive rows sharing one spec `name`."""
    out, i = [], 0
    while i < len(rows):
        j = i + 1
        label = rows[i].layer.label
        while label and j < len(rows) and rows[j].layer.label == label:
            j += 1
        if j - i > 1:
            out.append((i, j))
        i = j
    return out


def settings(layer: Layer, named: bool = True) -> tuple:
    """A layer's type, name (unless not `named`) and settings, without where it stands (a block's inner layers are
    in its rows); no activation reads as linear."""
    return (layer.type, layer.label if named else None, layer.size, layer.kernel, layer.stride, layer.padding,
            layer.bias, layer.activation or "linear",
            layer.rate, layer.groups, layer.dilation, layer.ceil_mode, layer.output_padding, layer.factor,
            layer.heads, layer.vocab, layer.dim, layer.max_tokens)


def fingerprint(row: Row) -> tuple:
    """Two rows with equal fingerprints are worked the same way: settings, shapes, counts, inner rows."""
    return (settings(row.layer), row.shape_in, row.shape_out, row.params, row.mults,
            tuple(tuple(fingerprint(r) for r in rows) for rows in row.children))
