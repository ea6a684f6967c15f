"""Kind `network`, one layer's worked lines: its output size, shape, parameters and multiplications, substituted."""
from __future__ import annotations

from typing import Callable

from ..latex import Latex, chain, group_int
from . import _arch as A
from ._arch import Row
from ._network_tex import IN, OUT, dims, product, with_words

Lines = tuple[list[Latex], str]


def shape_line(row: Row) -> Latex:
    """shape: 28 × 28 × 192 → 28 × 28 × 32."""
    return Latex(r"\text{shape: } %s \;\to\; %s" % (dims(row.shape_in), dims(row.shape_out)))


def _sides(row: Row, values: Callable[[int], tuple]) -> list[tuple[str, tuple]]:
    """(lhs, values) for height and width, once (`H_out = W_out`) when both read the same."""
    h, w = values(0), values(1)
    if h == w:
        return [(r"H%s = W%s" % (OUT, OUT), h)]
    return [(f"H{OUT}", h), (f"W{OUT}", w)]


def span_lines(row: Row) -> list[Latex]:
    """k' = d(k − 1) + 1 for a dilated kernel (once when both axes read the same)."""
    layer = row.layer
    if layer.dilation == (1, 1):
        return []
    pick = lambda i: (layer.kernel[i], layer.dilation[i])  # noqa: E731
    out = []
    for lhs, (k, d) in _sides(row, pick):
        name = "k'" if "=" in lhs else f"k'_{lhs[0].lower()}"
        out.append(chain(Latex(name), Latex(rf"{d} \cdot ({k} - 1) + 1"), d * (k - 1) + 1))
    return out


def size_lines(row: Row) -> list[Latex]:
    """⌊(n + 2p − k)/s⌋ + 1 substituted for height and width (⌈…⌉ in ceil mode; k the dilated span)."""
    layer = row.layer
    reach = A.span(layer)
    pick = lambda i: (row.shape_in[i], reach[i], layer.stride[i], row.pads[i], row.shape_out[i])  # noqa: E731
    lines = span_lines(row)
    for lhs, (n, k, s, pad, out) in _sides(row, pick):
        if pad == 0:
            top = f"{group_int(n)} - {k}"
        elif pad % 2 == 0:
            top = rf"{group_int(n)} + 2 \cdot {pad // 2} - {k}"
        else:
            top = f"{group_int(n)} + {pad} - {k}"
        if layer.ceil_mode:
            dropped = -(-(n + pad - k) // s) + 1 != out
            formula = Latex(r"\lceil (%s)/%d \rceil + 1%s" % (top, s, " - 1" if dropped else ""))
        else:
            formula = Latex(r"\lfloor (%s)/%d \rfloor + 1" % (top, s))
        lines.append(chain(Latex(lhs), formula, out))
    return lines


def _conv(row: Row) -> Lines:
    """A conv: size, shape, parameters (per group), multiplications."""
    layer = row.layer
    (kh, kw), c, f, g = layer.kernel, row.shape_in[2], layer.size, layer.groups
    ho, wo = row.shape_out[:2]
    cin = f"C{IN}" if g == 1 else f"(C{IN}/g)"
    per = Latex(product(kh, kw, c) if g == 1 else rf"{product(kh, kw)} \cdot ({group_int(c)}/{g})")
    if layer.bias:
        params = chain(Latex(r"\text{params} = (k_h k_w %s + 1)\, C%s" % (cin, OUT)),
                       Latex(rf"({per} + 1) \cdot {group_int(f)}"), row.params)
    else:
        params = chain(Latex(r"\text{params} = k_h k_w %s C%s" % (cin, OUT)),
                       Latex(rf"{per} \cdot {group_int(f)}"), row.params)
    mults = chain(Latex(r"\text{mult} = H%s W%s C%s \cdot k_h k_w %s" % (OUT, OUT, OUT, cin)),
                  Latex(rf"{product(ho, wo, f)} \cdot {per}"), with_words(row.mults))
    text = ""
    if g > 1 and g == c:
        text = (f"Depthwise: the {c} groups are the {c} input channels, so each filter sees one channel "
                "($C_{\\text{in}}/g = 1$).")
    elif g > 1:
        text = f"The {c} input channels are split into {g} groups: each filter sees {c // g} of them."
    return size_lines(row) + [shape_line(row), params, mults], text


def _transposed(row: Row) -> Lines:
    """A transposed conv: (H − 1)·s − 2p + k + output padding; every input value times every tap."""
    layer = row.layer
    pick = lambda i: (row.shape_in[i], layer.stride[i], layer.padding[i], layer.kernel[i],  # noqa: E731
                      layer.output_padding[i], row.shape_out[i])
    lines = []
    for lhs, (n, s, p, k, op, out) in _sides(row, pick):
        terms = rf"({group_int(n)} - 1) \cdot {s}" + (rf" - 2 \cdot {p}" if p else "") + f" + {k}"
        lines.append(chain(Latex(lhs), Latex(terms + (f" + {op}" if op else "")), out))
    (kh, kw), c, f = layer.kernel, row.shape_in[2], layer.size
    h, w = row.shape_in[:2]
    if layer.bias:
        params = chain(Latex(r"\text{params} = (k_h k_w C%s + 1)\, C%s" % (IN, OUT)),
                       Latex(rf"({product(kh, kw, c)} + 1) \cdot {group_int(f)}"), row.params)
    else:
        params = chain(Latex(r"\text{params} = k_h k_w C%s C%s" % (IN, OUT)), product(kh, kw, c, f), row.params)
    mults = chain(Latex(r"\text{mult} = H%s W%s C%s \cdot k_h k_w C%s" % (IN, IN, IN, OUT)),
                  product(h, w, c, kh, kw, f), with_words(row.mults))
    return lines + [shape_line(row), params, mults], ""


def _dense(row: Row) -> Lines:
    """A dense layer on a vector, or on each of T tokens."""
    n, u = row.shape_in[-1], row.layer.size
    if row.layer.bias:
        params = chain(Latex(r"\text{params} = (n%s + 1)\, n%s" % (IN, OUT)),
                       Latex(rf"({group_int(n)} + 1) \cdot {group_int(u)}"), row.params)
    else:
        params = chain(Latex(r"\text{params} = n%s n%s" % (IN, OUT)), product(n, u), row.params)
    if len(row.shape_in) == 2:
        mults = chain(Latex(r"\text{mult} = T\, n%s n%s" % (IN, OUT)), product(row.shape_in[0], n, u),
                      with_words(row.mults))
        return [shape_line(row), params, mults], f"The same dense layer acts on each of the {row.shape_in[0]} tokens."
    mults = chain(Latex(r"\text{mult} = n%s n%s" % (IN, OUT)), product(n, u), with_words(row.mults))
    return [shape_line(row), params, mults], ""


def _pool(row: Row) -> Lines:
    """A max or average pool: size, shape; nothing learned."""
    how = "takes the largest value" if row.layer.type == "maxpool" else "averages"
    return size_lines(row) + [shape_line(row)], (f"Pooling {how} in each window of each channel: no parameters, "
                                                 "no multiplications by weights, and the channels stay.")


def _global(row: Row) -> Lines:
    """A global pool: one value per channel."""
    how = "the largest value" if row.layer.type == "globalmaxpool" else "the average"
    h, w, c = row.shape_in
    return [shape_line(row)], (f"Global pooling takes {how} of each channel over its whole {h}×{w} map: one value "
                               f"per channel ({c:,}), no parameters, no multiplications.")


def _upsample(row: Row) -> Lines:
    """Nearest-neighbour upsampling: H·f and W·f."""
    fh, fw = row.layer.factor
    pick = lambda i: (row.shape_in[i], row.layer.factor[i], row.shape_out[i])  # noqa: E731
    lines = [chain(Latex(lhs), product(n, f), out) for lhs, (n, f, out) in _sides(row, pick)]
    return lines + [shape_line(row)], (f"Nearest-neighbour upsampling repeats each value in a {fh}×{fw} block: no "
                                       "parameters, no multiplications.")


def _norm(row: Row) -> Lines:
    """Batch or layer norm: 2 parameters per channel (or feature)."""
    c = row.shape_in[-1]
    if row.layer.type == "layernorm":
        where = "channel" if len(row.shape_in) == 3 else "feature"
        return [shape_line(row), chain(Latex(r"\text{params} = 2d"), product(2, c), row.params)], (
            f"Layer norm normalizes the last axis and learns a scale and a shift per {where}; no multiplications "
            "are counted.")
    return [shape_line(row), chain(Latex(r"\text{params} = 2C"), product(2, c), row.params)], (
        "A scale and a shift per " + ("channel" if len(row.shape_in) == 3 else "feature")
        + "; no multiplications are counted.")


def _flatten(row: Row) -> Lines:
    """Flattening: the product of the sizes."""
    if len(row.shape_in) == 1:
        return [shape_line(row)], "The input is already flat: nothing changes."
    return [Latex(r"\text{shape: } %s \;\to\; %s = %s" % (dims(row.shape_in), product(*row.shape_in),
                                                        group_int(row.shape_out[0])))], (
        "Flattening only reorders the numbers into one vector: no parameters, no multiplications.")


def _dropout(row: Row) -> Lines:
    """Dropout: the shape stays."""
    return [shape_line(row)], (f"Dropout (drop probability {A.number_text(row.layer.rate)}) has nothing to learn and "
                                "multiplies by no weights; the shape stays.")


def _activation(row: Row) -> Lines:
    """An activation layer: one sentence, no lines."""
    return [], (f"The activation {row.layer.activation} acts on each number alone: no parameters, no "
                f"multiplications by weights; the shape stays {A.shape_text(row.shape_out)}.")


def _attention(row: Row) -> Lines:
    """Self-attention: 4d² + 4d parameters, 4Td² + 2T²d multiplications (split)."""
    t, d = row.shape_in
    params = chain(Latex(r"\text{params} = 4d^2 + 4d"), Latex(rf"4 \cdot {d}^2 + 4 \cdot {d}"), row.params)
    mults = chain(Latex(r"\text{mult} = 4Td^2 + 2T^2 d"), Latex(rf"4 \cdot {t} \cdot {d}^2 + 2 \cdot {t}^2 \cdot {d}"),
                  Latex(rf"{group_int(4 * t * d * d)} + {group_int(2 * t * t * d)}"), with_words(row.mults))
    return [shape_line(row), params, mults], (
        f"Self-attention as nn.MultiheadAttention({d}, {row.layer.heads}): four $d \\times d$ projections "
        "(queries, keys, values, output), each with $d$ biases, cost $4Td^2$ multiplications; the scores "
        "$QK^T$ and the weighted sum of the values cost $T^2 d$ each (the heads share the $d$ features); the "
        "scaling and the softmax count none.")


def _embedding(row: Row) -> Lines:
    """A token embedding: V·D parameters."""
    v, d = row.layer.vocab, row.layer.dim
    return [shape_line(row), chain(Latex(r"\text{params} = V D"), product(v, d), row.params)], (
        f"A table of one {d}-vector per token id ({v:,} ids), read once per token: nothing is multiplied.")


def _position(row: Row) -> Lines:
    """A position embedding: T_max·D parameters."""
    t, d = row.shape_in
    m = row.layer.max_tokens
    return [shape_line(row), chain(Latex(r"\text{params} = T_{\max} D"), product(m, d), row.params)], (
        f"One learned vector per position ({m:,} positions, {t} used here), added to each token: no "
        "multiplications.")


LINES: dict[str, Callable[[Row], Lines]] = {
    "conv": _conv, "convtranspose": _transposed, "dense": _dense, "maxpool": _pool, "avgpool": _pool,
    "globalavgpool": _global, "globalmaxpool": _global, "upsample": _upsample, "batchnorm": _norm,
    "layernorm": _norm, "flatten": _flatten, "dropout": _dropout, "activation": _activation,
    "attention": _attention, "embedding": _embedding, "position_embedding": _position,
}


def layer_lines(row: Row) -> Lines:
    """The math lines and the text of one layer's step."""
    return LINES[row.layer.type](row)
