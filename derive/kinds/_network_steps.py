"""Kind `network`, the worked steps: LaTeX pieces, the formulas used, one step per layer, sums of counts."""
from __future__ import annotations

import sympy

from ..latex import Latex, chain, decimal_text, group_int
from ..solution import Solution
from . import _arch as A
from ._arch import Layer, Row

SUM_SHOWN = 8          # terms of a total written out; past it the middle ones are elided
OUT, IN = r"_{\text{out}}", r"_{\text{in}}"


# ---- LaTeX pieces ----------------------------------------------------------------------------------

def dims(shape: tuple) -> Latex:
    """28 × 28 × 192, or 64 for a flat vector."""
    return Latex(r" \times ".join(str(group_int(n)) for n in shape))


def product(*factors: int) -> Latex:
    """3 · 3 · 192 (thousands separators kept)."""
    return Latex(r" \cdot ".join(str(group_int(n)) for n in factors))


def words(n: int) -> Latex | None:
    """≈ 43.4 million: a large count rounded to 3 significant digits in words, or None below a million."""
    if n < 10 ** 6:
        return None
    digits = len(str(n))
    scale = 10 ** max(digits - 3, 0)
    rounded = (n + scale // 2) // scale * scale
    for power, word in ((12, "trillion"), (9, "billion"), (6, "million")):
        if rounded >= 10 ** power:
            value = sympy.Rational(rounded, 10 ** power)
            if value >= 1000:
                power = len(str(rounded)) - 1
                return Latex(r"%s %s \times 10^{%d}" % ("=" if rounded == n else r"\approx",
                                                        _short(sympy.Rational(rounded, 10 ** power)), power))
            return Latex(r"%s %s\text{ %s}" % ("=" if rounded == n else r"\approx", _short(value), word))
    return None  # pragma: no cover


def _short(value: sympy.Rational) -> str:
    """43.4, 120, 1.5: at most 3 significant digits, no trailing zeros."""
    return str(value) if value.is_integer else decimal_text(value, 3).rstrip("0").rstrip(".")


def with_words(n: int) -> Latex:
    """56{,}000{,}000 ≈ 56 million."""
    w = words(n)
    return Latex(group_int(n) + (" " + w if w else ""))


def plain(text: str) -> str:
    """A name from the spec placed inside prose: a `$` stays a dollar sign."""
    return text.replace("$", r"\$")


def label(design: str | None, path: str) -> str:
    """`bottleneck, layer 2` or `Layer 2`."""
    return f"{design}, {path.lower()}" if design else path


# ---- the worked steps ----------------------------------------------------------------------------

def rules(all_layers: list[Layer]) -> list[Latex]:
    """The formulas used, for the layer types present."""
    types = {layer.type for layer in all_layers}
    lines = []
    if types & {"conv", "maxpool", "avgpool"}:
        lines.append(Latex(r"H%s = \lfloor (H%s + 2p - k_h)/s \rfloor + 1, \quad "
                           r"W%s = \lfloor (W%s + 2p - k_w)/s \rfloor + 1" % (OUT, IN, OUT, IN)))
    if "conv" in types:
        lines.append(Latex(r"\text{conv: params} = (k_h k_w C%s + 1)\, C%s, \quad "
                           r"\text{mult} = H%s W%s C%s \cdot k_h k_w C%s" % (IN, OUT, OUT, OUT, OUT, IN)))
    if "dense" in types:
        lines.append(Latex(r"\text{dense: params} = (n%s + 1)\, n%s, \quad \text{mult} = n%s n%s"
                           % (IN, OUT, IN, OUT)))
    if "batchnorm" in types:
        lines.append(Latex(r"\text{batch norm: params} = 2C"))
    return lines


def rules_text(all_layers: list[Layer]) -> str:
    """What is counted, and why."""
    types = {layer.type for layer in all_layers}
    text = ("Parameters count every trainable number; multiplications count one per weight tap for one sample "
            "(a multiply-accumulate, as fvcore counts them), so biases, pooling, batch norm and activations "
            "add none.")
    if any(not layer.bias for layer in all_layers if layer.type in ("conv", "dense")):
        text += " A layer with bias: false drops the +1."
    if types & {"conv", "maxpool", "avgpool"}:
        text += (" In the output-size formula $k$ is the kernel (or window), $s$ the stride and $p$ the padding "
                 "on each side; same padding with stride 1 pads $k - 1$ in all, so height and width stay "
                 "(an even kernel puts the extra row and column at the bottom and right, as PyTorch).")
    if "batchnorm" in types:
        text += (" Batch norm learns a scale and a shift per channel; its running mean and variance are "
                 "not trained and are not counted.")
    return text


def size_lines(row: Row) -> list[Latex]:
    """⌊(n + 2p − k)/s⌋ + 1 substituted for height and width (once when both read the same)."""
    layer = row.layer
    (h, w, _c), (ho, wo, _) = row.shape_in, row.shape_out
    sides = [("H", h, layer.kernel[0], layer.stride[0], row.pads[0], ho),
             ("W", w, layer.kernel[1], layer.stride[1], row.pads[1], wo)]
    if sides[0][1:] == sides[1][1:]:
        sides = [("H", *sides[0][1:])]
        lhs = r"H%s = W%s" % (OUT, OUT)
    else:
        lhs = None
    lines = []
    for name, n, k, s, pad, out in sides:
        if pad == 0:
            top = f"{group_int(n)} - {k}"
        elif pad % 2 == 0:
            top = rf"{group_int(n)} + 2 \cdot {pad // 2} - {k}"
        else:
            top = f"{group_int(n)} + {pad} - {k}"
        formula = Latex(r"\lfloor (%s)/%d \rfloor + 1" % (top, s))
        lines.append(chain(Latex(lhs or f"{name}{OUT}"), formula, out))
    return lines


def layer_lines(row: Row) -> tuple[list[Latex], str]:
    """The math lines and the text of one layer's step."""
    layer, t = row.layer, row.layer.type
    shape = Latex(r"\text{shape: } %s \;\to\; %s" % (dims(row.shape_in), dims(row.shape_out)))
    if t == "conv":
        (kh, kw), c, f = layer.kernel, row.shape_in[2], layer.size
        ho, wo = row.shape_out[:2]
        if layer.bias:
            params = chain(Latex(r"\text{params} = (k_h k_w C%s + 1)\, C%s" % (IN, OUT)),
                           Latex(rf"({product(kh, kw, c)} + 1) \cdot {group_int(f)}"), row.params)
        else:
            params = chain(Latex(r"\text{params} = k_h k_w C%s C%s" % (IN, OUT)), product(kh, kw, c, f), row.params)
        mults = chain(Latex(r"\text{mult} = H%s W%s C%s \cdot k_h k_w C%s" % (OUT, OUT, OUT, IN)),
                      product(ho, wo, f, kh, kw, c), with_words(row.mults))
        return size_lines(row) + [shape, params, mults], ""
    if t == "dense":
        n, u = row.shape_in[0], layer.size
        if layer.bias:
            params = chain(Latex(r"\text{params} = (n%s + 1)\, n%s" % (IN, OUT)),
                           Latex(rf"({group_int(n)} + 1) \cdot {group_int(u)}"), row.params)
        else:
            params = chain(Latex(r"\text{params} = n%s n%s" % (IN, OUT)), product(n, u), row.params)
        mults = chain(Latex(r"\text{mult} = n%s n%s" % (IN, OUT)), product(n, u), with_words(row.mults))
        return [shape, params, mults], ""
    if t in ("maxpool", "avgpool"):
        how = "takes the largest value" if t == "maxpool" else "averages"
        return size_lines(row) + [shape], (f"Pooling {how} in each window of each channel: no parameters, no "
                                           "multiplications by weights, and the channels stay.")
    if t == "batchnorm":
        c = row.shape_in[-1]
        return [shape, chain(Latex(r"\text{params} = 2C"), product(2, c), row.params)], (
            "A scale and a shift per " + ("channel" if len(row.shape_in) == 3 else "feature")
            + "; no multiplications are counted.")
    if t == "flatten":
        if len(row.shape_in) == 1:
            return [shape], "The input is already flat: nothing changes."
        return [Latex(r"\text{shape: } %s \;\to\; %s = %s" % (dims(row.shape_in), product(*row.shape_in),
                                                            group_int(row.shape_out[0])))], (
            "Flattening only reorders the numbers into one vector: no parameters, no multiplications.")
    return [shape], (f"Dropout (drop probability {A._number_text(layer.rate)}) has nothing to learn and "
                     "multiplies by no weights; the shape stays.")


def _same(a: Row, b: Row) -> bool:
    """Two rows worked the same way: same layer settings (as named), shapes and counts; no branches."""
    return (a.layer.type != "branches" and A.describe(a.layer) == A.describe(b.layer)
            and (a.shape_in, a.shape_out, a.params, a.mults) == (b.shape_in, b.shape_out, b.params, b.mults))


def explain(s: Solution, rows: list[Row], design: str | None, path: str = "Layer") -> None:
    """One step per layer (a branches block: its branches' layers, then the concatenation); repeats grouped."""
    i = 0
    while i < len(rows):
        row = rows[i]
        where = label(design, f"{path} {i + 1}")
        name = A.describe(row.layer)
        if row.layer.type == "branches":
            _explain_block(s, row, design, where, f"{path} {i + 1}")
            i += 1
            continue
        lines, text = layer_lines(row)
        s.step(f"{where}: {name}", *lines, text=text)
        j = i + 1
        while j < len(rows) and _same(rows[j], row):
            j += 1
        if j > i + 1:
            span = f"{path}s {i + 2} to {j}" if j > i + 2 else f"{path} {i + 2}"
            s.step(f"{label(design, span)}: {name}",
                   text=f"The same as {path.lower()} {i + 1}: {A.shape_text(row.shape_out)} out, "
                        f"{row.params:,} parameters and {row.mults:,} multiplications"
                        + (" each." if j > i + 2 else "."))
        i = j


def _explain_block(s: Solution, row: Row, design: str | None, where: str, path: str) -> None:
    """A branches block: what it does, each branch's layers, then the concatenation."""
    n = len(row.children)
    s.step(f"{where}: {A.describe(row.layer)}",
           text=f"{n} branches each take the same {A.shape_text(row.shape_in)} input; their outputs are stacked "
                "along the " + ("channels, so their heights and widths must agree." if len(row.shape_in) == 3
                                else "features."))
    for b, branch in enumerate(row.children, 1):
        explain(s, branch, design, f"{path}, branch {b}, layer")
    s.step(f"{where}: the concatenation", *concat_lines(row))


def concat_lines(row: Row) -> list[Latex]:
    """Shape as the sum of channels; counts as sums over the branches."""
    outs = [rows[-1].shape_out for rows in row.children]
    last = Latex("(" + " + ".join(str(group_int(o[-1])) for o in outs) + ")")
    head = dims(row.shape_out[:-1]) + (r" \times " if len(row.shape_out) == 3 else "")
    shape = Latex(r"\text{shape} = %s%s = %s" % (head, last, dims(row.shape_out)))
    inner = [r for rows in row.children for r in rows]
    return [shape, total_line(r"\text{params}", [r.params for r in inner], row.params),
            total_line(r"\text{mult}", [r.mults for r in inner], row.mults)]


def total_line(lhs: str, terms: list[int], total: int) -> Latex:
    """`params = a + b + … = total` (zero terms left out, a long sum elided)."""
    shown = [t for t in terms if t]
    if len(shown) > SUM_SHOWN:
        shown = shown[:3] + [None] + shown[-2:]
    parts = [r"\cdots" if t is None else str(group_int(t)) for t in shown]
    middle = [Latex(" + ".join(parts))] if len(parts) > 1 else []
    return chain(Latex(lhs), *middle, with_words(total))
