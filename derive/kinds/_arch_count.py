"""Kind `network`: exact counting. Every layer's output shape, parameters and multiplications (SPEC §3, §14)."""
from __future__ import annotations

from typing import Callable

from ._arch_types import Layer, Row, Shape, shape_text
from ._geometry import out_size, same_padding

SHAPE_WORDS = {3: "[height, width, channels]", 2: "[tokens, features]"}


def pads(layer: Layer) -> tuple[int, int]:
    """Total padding on height and width (`same` with stride 1 adds d·(k − 1), as PyTorch)."""
    if layer.padding == "same":
        return (sum(same_padding(layer.kernel[0], layer.dilation[0])),
                sum(same_padding(layer.kernel[1], layer.dilation[1])))
    return 2 * layer.padding[0], 2 * layer.padding[1]


def span(layer: Layer) -> tuple[int, int]:
    """The window's reach on each axis: the dilated kernel d·(k − 1) + 1."""
    return tuple(d * (k - 1) + 1 for k, d in zip(layer.kernel, layer.dilation))


def trace(shape: Shape, layers: list[Layer], first: bool = True) -> list[Row]:
    """Every layer's output shape and counts, in order; a shape that does not fit is a located SpecError."""
    rows = []
    for i, layer in enumerate(layers):
        row = trace_one(shape, layer, first and i == 0)
        rows.append(row)
        shape = row.shape_out
    return rows


def trace_one(shape: Shape, layer: Layer, first: bool = False) -> Row:
    """One layer on an input of `shape` (`first`: the network's first layer, where an embedding may stand)."""
    if layer.type == "embedding":
        return _embedding(shape, layer, first)
    return COUNTERS[layer.type](shape, layer)


def _needs(shape: Shape, layer: Layer, dims: int, key: str | None = None) -> None:
    """A layer that works on one kind of shape only: an error naming what it gets."""
    if len(shape) == dims:
        return
    what = "an" if layer.type[0] in "aeiou" else "a"
    raise layer.ctx.child(key or layer.type).error(
        f"{what} {layer.type} layer needs a {SHAPE_WORDS[dims]} input, but it gets {shape_text(shape)}")


def _dense(shape: Shape, layer: Layer) -> Row:
    """Dense on a flat vector, or on each token of a sequence."""
    if len(shape) == 3:
        raise layer.ctx.child("dense").error(
            f"a dense layer needs a flat input, but it gets {shape_text(shape)}: add {{flatten: true}} before it")
    n_in, n_out = shape[-1], layer.size
    tokens = shape[0] if len(shape) == 2 else 1
    return Row(layer, shape, shape[:-1] + (n_out,), n_in * n_out + (n_out if layer.bias else 0),
               tokens * n_in * n_out)


def _too_large(layer: Layer, shape: Shape, reach: tuple[int, int], total: tuple[int, int]) -> None:
    """A window that fits nowhere on its (padded) input (in ceil mode, one that does not even start on it)."""
    h, w, _c = shape
    ph, pw = total
    if h + ph >= reach[0] and w + pw >= reach[1]:
        return
    if layer.ceil_mode and min(out_size(n, k, s, p, 1, True) for n, k, s, p in
                               zip((h, w), layer.kernel, layer.stride, total)) >= 1:
        return
    conv = layer.type == "conv"
    (kh, kw) = layer.kernel
    dilated = f" (dilated to {reach[0]}×{reach[1]})" if tuple(reach) != (kh, kw) else ""
    padded = f" (padded to {h + ph}×{w + pw})" if ph or pw else ""
    raise layer.ctx.child("kernel" if conv else layer.type).error(
        f"the {kh}×{kw} {'kernel' if conv else 'window'}{dilated} is larger than its {h}×{w} input{padded}: "
        "there is no position to put it")


def _windowed(shape: Shape, layer: Layer) -> Row:
    """Conv or pool: the output-size formula on height and width."""
    _needs(shape, layer, 3)
    h, w, c = shape
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    ph, pw = pads(layer)
    reach = span(layer)
    _too_large(layer, shape, reach, (ph, pw))
    ho = out_size(h, kh, sh, ph, layer.dilation[0], layer.ceil_mode)
    wo = out_size(w, kw, sw, pw, layer.dilation[1], layer.ceil_mode)
    if layer.type != "conv":
        return Row(layer, shape, (ho, wo, c), 0, 0, (ph, pw))
    g, f = layer.groups, layer.size
    if c % g:
        raise layer.ctx.child("groups").error(
            f"the input's {c} channels cannot be split into {g} groups (the groups must divide the channels, "
            "as PyTorch)")
    weights = kh * kw * (c // g) * f
    return Row(layer, shape, (ho, wo, f), weights + (f if layer.bias else 0), ho * wo * weights, (ph, pw))


def _transposed(shape: Shape, layer: Layer) -> Row:
    """Transposed conv: H_out = (H − 1)·s − 2p + k + output_padding; one multiplication per input tap."""
    _needs(shape, layer, 3)
    h, w, c = shape
    sizes = [(n - 1) * s - 2 * p + k + op for n, s, p, k, op in
             zip((h, w), layer.stride, layer.padding, layer.kernel, layer.output_padding)]
    if min(sizes) < 1:
        raise layer.ctx.child("padding").error(
            f"the padding leaves no output: (H − 1)·s − 2p + k + output padding gives {sizes[0]}×{sizes[1]}")
    (kh, kw), f = layer.kernel, layer.size
    weights = kh * kw * c * f
    return Row(layer, shape, (sizes[0], sizes[1], f), weights + (f if layer.bias else 0), h * w * weights)


def _global(shape: Shape, layer: Layer) -> Row:
    """Global pooling: one value per channel."""
    _needs(shape, layer, 3)
    return Row(layer, shape, (1, 1, shape[2]), 0, 0)


def _upsample(shape: Shape, layer: Layer) -> Row:
    """Nearest-neighbour upsampling by whole factors."""
    _needs(shape, layer, 3)
    h, w, c = shape
    return Row(layer, shape, (h * layer.factor[0], w * layer.factor[1], c), 0, 0)


def _norm(shape: Shape, layer: Layer) -> Row:
    """Batch or layer norm: a scale and a shift per channel (or feature)."""
    return Row(layer, shape, shape, 2 * shape[-1], 0)


def _flatten(shape: Shape, layer: Layer) -> Row:
    """Everything in one vector."""
    total = 1
    for n in shape:
        total *= n
    return Row(layer, shape, (total,), 0, 0)


def _nothing(shape: Shape, layer: Layer) -> Row:
    """Dropout or an activation: the shape stays, nothing is learned or multiplied by a weight."""
    return Row(layer, shape, shape, 0, 0)


def _attention(shape: Shape, layer: Layer) -> Row:
    """nn.MultiheadAttention(d, heads) on the sequence itself: 4d² + 4d params, 4·T·d² + 2·T²·d multiplications."""
    _needs(shape, layer, 2)
    t, d = shape
    if d % layer.heads:
        raise layer.ctx.child("attention").error(
            f"the {d} features cannot be split among {layer.heads} heads (the heads must divide the features, "
            "as nn.MultiheadAttention)")
    return Row(layer, shape, shape, 4 * d * d + 4 * d, 4 * t * d * d + 2 * t * t * d)


def _embedding(shape: Shape, layer: Layer, first: bool) -> Row:
    """A lookup table read by token ids: input [tokens] → [tokens, dim]."""
    if not first:
        raise layer.ctx.child("embedding").error(
            "an embedding layer reads token ids: it must be the network's first layer, on input: [tokens]")
    if len(shape) != 1:
        raise layer.ctx.child("embedding").error(
            f"an embedding layer reads input: [tokens] (a number of token ids), but the input is {shape_text(shape)}")
    return Row(layer, shape, (shape[0], layer.dim), layer.vocab * layer.dim, 0)


def _position(shape: Shape, layer: Layer) -> Row:
    """A learned vector per position, added to each token: max_tokens·D params; the shape stays."""
    _needs(shape, layer, 2, "position_embedding")
    t, d = shape
    if t > layer.max_tokens:
        raise layer.ctx.child("position_embedding").error(
            f"{t} tokens are more than the {layer.max_tokens} positions it has (max_tokens)")
    return Row(layer, shape, shape, layer.max_tokens * d, 0)


def _branch_block(shape: Shape, layer: Layer) -> Row:
    """Branches side by side on the same input, outputs concatenated along channels (or features)."""
    children = [trace(shape, branch, False) for branch in layer.branches]
    outs = [rows[-1].shape_out for rows in children]
    first = outs[0]
    for i, out in enumerate(outs[1:], 1):
        if len(out) != len(first) or out[:-1] != first[:-1]:
            raise layer.ctx.child("branches").error(
                f"the branches cannot be concatenated: branch 0 gives {shape_text(first)}, branch {i} gives "
                f"{shape_text(out)}" + (" (heights and widths must agree)" if len(out) == len(first) == 3 else
                                        " (all must be flat, or all [height, width, channels])"))
    concat = first[:-1] + (sum(out[-1] for out in outs),)
    return _summed(layer, shape, concat, children)


def _residual(shape: Shape, layer: Layer) -> Row:
    """main(x) + shortcut(x): the shapes must agree; the addition multiplies nothing."""
    main = trace(shape, layer.main, False)
    short = trace(shape, layer.shortcut, False) if layer.shortcut else []
    got, other = main[-1].shape_out, (short[-1].shape_out if short else shape)
    if got != other:
        which = "the shortcut gives" if short else "the shortcut (the identity) keeps the input's"
        hint = "" if short else ": give a shortcut that matches, e.g. a 1×1 conv with the main path's stride"
        raise layer.ctx.child("residual").error(
            f"the main path and the shortcut cannot be added: the main path gives {shape_text(got)}, {which} "
            f"{shape_text(other)}{hint}")
    return _summed(layer, shape, got, [main, short])


def _summed(layer: Layer, shape: Shape, out: Shape, children: list[list[Row]]) -> Row:
    """A block's row: its counts are the sums of the rows inside."""
    params = sum(r.params for rows in children for r in rows)
    mults = sum(r.mults for rows in children for r in rows)
    return Row(layer, shape, out, params, mults, children=children)


COUNTERS: dict[str, Callable[[Shape, Layer], Row]] = {
    "dense": _dense, "conv": _windowed, "maxpool": _windowed, "avgpool": _windowed, "convtranspose": _transposed,
    "globalavgpool": _global, "globalmaxpool": _global, "upsample": _upsample, "batchnorm": _norm,
    "layernorm": _norm, "flatten": _flatten, "dropout": _nothing, "activation": _nothing,
    "attention": _attention, "position_embedding": _position, "branches": _branch_block, "residual": _residual,
}
