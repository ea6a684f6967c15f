"""Kind `network`: output shapes, parameters and multiplications of whole architectures; designs compared."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..latex import Latex, chain, decimal, decimal_text, group_int
from ..problem import Problem
from ..prose import escape
from ..solution import Solution
from . import _arch as A
from ._arch import Layer, Row

FIELDS = F.table(
    input=F.Field(A.parse_input, required=True),
    layers=F.Field(A.parse_layers),
    designs=F.Field(A.parse_designs),
)
SUM_SHOWN = 8          # terms of a total written out; past it the middle ones are elided
OUT, IN = r"_{\text{out}}", r"_{\text{in}}"


def networks(p: Problem) -> dict[str | None, list[Layer]]:
    """Design name → layers; one unnamed network when the spec gives `layers`."""
    return dict(p.designs) if p.designs is not None else {None: p.layers}


def validate(p: Problem) -> None:
    """Exactly one of layers and designs; every layer fits the shape it receives."""
    if p.layers is not None and p.designs is not None:
        raise p.error("designs", "give either layers (one network) or designs (several to compare), not both")
    if p.layers is None and p.designs is None:
        raise p.error("layers", "required (or designs, to compare several networks)")
    for layers in networks(p).values():
        A.trace(p.input, layers)


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


def all_layers(layers: list[Layer]) -> list[Layer]:
    """Every layer, those inside branches included."""
    out = []
    for layer in layers:
        out.append(layer)
        for branch in layer.branches:
            out.extend(all_layers(branch))
    return out


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


def totals(s: Solution, rows: list[Row], design: str | None) -> None:
    """The network's totals and its summary table."""
    params, mults = sum(r.params for r in rows), sum(r.mults for r in rows)
    s.step(f"Totals for {design}" if design else "Totals",
           total_line(r"\text{params}", [r.params for r in rows], params),
           total_line(r"\text{mult}", [r.mults for r in rows], mults),
           text=f"The output is {A.shape_text(rows[-1].shape_out)}.", figure=summary_table(rows))


# ---- tables ------------------------------------------------------------------------------------------

def _cell(n: int) -> str:
    """A count in a table cell."""
    return f"${group_int(n)}$"


TABLE_ROWS = 30        # rows of one tabular; a longer summary continues in another (a tabular cannot break)
DESIGN_COLUMNS = 4     # designs side by side in one comparison table
LONG_NAME = 40         # past this many characters, layer names wrap in a fixed-width column


def summary_table(rows: list[Row]) -> Latex:
    """A torchinfo-like summary: layer, output shape, parameters, multiplications (split past TABLE_ROWS)."""
    body = [rf"input & ${dims(rows[0].shape_in)}$ & & \\"] + _table_rows(rows, 0)
    total = rf"total & ${dims(rows[-1].shape_out)}$ & {_cell(_params(rows))} & {_cell(_mults(rows))} \\"
    long = any(len(A.describe(r.layer)) > LONG_NAME for r in A.leaves(rows))
    first = r">{\raggedright\arraybackslash}p{0.38\linewidth}" if long else "l"
    chunks = [body[i:i + TABLE_ROWS] for i in range(0, len(body), TABLE_ROWS)]
    tables = []
    for n, chunk in enumerate(chunks):
        lines = [r"\begin{tabular}{@{}%srrr@{}}" % first, r"\toprule",
                 r"Layer%s & Output shape & Parameters & Multiplications \\" % (" (continued)" if n else ""),
                 r"\midrule", *chunk]
        if n == len(chunks) - 1:
            lines += [r"\midrule", total]
        tables.append("\n".join(lines + [r"\bottomrule", r"\end{tabular}"]))
    return Latex("\n\\par\\medskip\n".join(tables))


def _table_rows(rows: list[Row], depth: int) -> list[str]:
    """One table row per layer; a branches block's layers follow it, indented per branch."""
    out = []
    for row in rows:
        indent = rf"\hspace*{{{depth}em}}" if depth else ""
        out.append(rf"{indent}{escape(A.describe(row.layer))} & ${dims(row.shape_out)}$ & {_cell(row.params)} & "
                   rf"{_cell(row.mults)} \\")
        for b, branch in enumerate(row.children, 1):
            out.append(rf"\hspace*{{{depth + 1}em}}\textit{{branch {b}}} & & & \\")
            out += _table_rows(branch, depth + 2)
    return out


def compare_table(results: dict[str, list[Row]]) -> Latex:
    """One column per design (DESIGN_COLUMNS to a table): layers, shape, parameters, multiplications, ratio."""
    names = list(results)
    base = _mults(results[names[0]])
    groups = [names[i:i + DESIGN_COLUMNS] for i in range(0, len(names), DESIGN_COLUMNS)]
    return Latex("\n\\par\\medskip\n".join(_compare_part(results, group, names[0], base) for group in groups))


def _compare_part(results: dict[str, list[Row]], group: list[str], first: str, base: int) -> str:
    """The comparison table for some of the designs."""
    nets = [results[n] for n in group]
    body = [("Layers", [str(sum(r.layer.type != "branches" for r in A.leaves(rows))) for rows in nets]),
            ("Output shape", [f"${dims(rows[-1].shape_out)}$" for rows in nets]),
            ("Parameters", [_cell(_params(rows)) for rows in nets]),
            ("Multiplications", [_cell(_mults(rows)) for rows in nets]),
            ("", [f"${words(_mults(rows))}$" if words(_mults(rows)) else "" for rows in nets])]
    if not any(body[-1][1]):
        body.pop()
    if len(results) > 1:
        body.append((f"Multiplications vs.\\ {escape(first)}",
                     ["---" if n == first else _versus(base, _mults(results[n])) for n in group]))
    head = " & ".join(escape(n) for n in group)
    lines = [r"\begin{tabular}{@{}l" + "r" * len(group) + "@{}}", r"\toprule", rf" & {head} \\", r"\midrule"]
    lines += [rf"{name} & {' & '.join(cells)} \\" for name, cells in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


def _versus(base: int, this: int) -> str:
    """`$7.20\\times$ fewer` for a table cell."""
    text = relation(base, this)
    return escape(text).replace(r"\ensuremath{\times}", r"$\times$")


def _params(rows: list[Row]) -> int:
    """A network's parameters."""
    return sum(r.params for r in rows)


def _mults(rows: list[Row]) -> int:
    """A network's multiplications."""
    return sum(r.mults for r in rows)


# ---- designs compared --------------------------------------------------------------------------------

def relation(base: int, this: int) -> str:
    """`7.20× fewer`, `2.50× more`, or `the same number of`."""
    if base == this:
        return "the same"
    if this == 0 or base == 0:
        return "fewer" if this < base else "more"
    ratio = sympy.Rational(base, this) if this < base else sympy.Rational(this, base)
    return f"{decimal_text(ratio, 3)}× " + ("fewer" if this < base else "more")


def compare(s: Solution, p: Problem, results: dict[str, list[Row]]) -> None:
    """The side-by-side table, and each design's savings against the first as an exact ratio and a percentage."""
    names = list(results)
    first = names[0]
    b_mult, b_par = _mults(results[first]), _params(results[first])
    lines, sentences = [], []
    for name in names[1:]:
        mult, par = _mults(results[name]), _params(results[name])
        sentences.append(f"The {plain(name)} design needs {mult:,} multiplications, {relation(b_mult, mult)} than "
                         f"the {plain(first)} design ({b_mult:,}), and has {par:,} parameters, "
                         f"{relation(b_par, par)} than it ({b_par:,}).".replace("the same than", "the same as"))
        if mult and b_mult and mult != b_mult:
            lines += ratio_lines(first, name, b_mult, mult, p.digits)
    s.step("The designs side by side", *lines, text=" ".join(sentences), figure=compare_table(results))
    shapes = {tuple(rows[-1].shape_out) for rows in results.values()}
    if len(shapes) == 1:
        s.check(f"{'Both' if len(names) == 2 else f'All {len(names)}'} designs give the same output shape, "
                f"{A.shape_text(shapes.pop())}.")


def ratio_lines(first: str, name: str, b_mult: int, mult: int, digits: int) -> list[Latex]:
    """The larger count over the smaller as an exact ratio, and the share saved (or added) as a percentage."""
    a, b = rf"\text{{mult}}_{{\text{{{escape(first)}}}}}", rf"\text{{mult}}_{{\text{{{escape(name)}}}}}"
    (top, bottom), (n, d) = ((a, b), (b_mult, mult)) if mult < b_mult else ((b, a), (mult, b_mult))
    frac = Latex(r"\frac{%s}{%s}" % (group_int(n), group_int(d)))
    out = [chain(Latex(r"\frac{%s}{%s}" % (top, bottom)), frac, sympy.Rational(n, d), approx_digits=digits)]
    change = 1 - sympy.Rational(mult, b_mult)
    word = r"\text{saved}" if change > 0 else r"\text{added}"
    line = chain(Latex(word), Latex(r"%s\frac{%s}{%s}" % ("1 - " if change > 0 else "", group_int(mult),
                                                          group_int(b_mult)) + ("" if change > 0 else " - 1")),
                 abs(change))
    out.append(Latex(line + r" %s %s\,\%%" % ("=" if (abs(change) * 100).is_integer else r"\approx",
                                             decimal(abs(change) * 100, digits))))
    return out


def full_conv(row: Row) -> bool:
    """A conv whose filter covers its whole unpadded input: one position, a dense layer in disguise."""
    layer = row.layer
    return layer.type == "conv" and row.pads == (0, 0) and tuple(layer.kernel) == tuple(row.shape_in[:2])


def signature(rows: list[Row]) -> tuple:
    """What a network computes, up to the order of its weights: flatten dropped, a full-input conv as dense."""
    out = []
    for row in rows:
        layer = row.layer
        act = layer.activation or "linear"
        if layer.type == "flatten":
            continue
        if layer.type == "dense" or full_conv(row):
            out.append(("dense", layer.size, layer.bias, act))
        elif layer.type == "branches":
            out.append(("branches", tuple(signature(branch) for branch in row.children)))
        else:
            out.append((layer.type, layer.size, layer.kernel, layer.stride, layer.padding, layer.rate, act))
    return tuple(out)


def notes(s: Solution, results: dict[str | None, list[Row]]) -> None:
    """Interpretations: a filter as large as its input is a dense layer; designs with identical counts."""
    for design, rows in results.items():
        for row in filter(full_conv, A.leaves(rows)):
            h, w, c = row.shape_in
            where = f"In the {plain(design)} design, the" if design else "The"
            s.note(f"{where} layer “{plain(A.describe(row.layer))}” applies {h}×{w} filters to a {h}×{w}×{c} "
                   "input without padding: each filter fits in exactly one position and sees the whole input at "
                   "once, so it computes the same weighted sums as a fully connected layer of "
                   f"{row.layer.size} units on the {h * w * c:,} flattened inputs. It is that dense layer: the "
                   f"same {row.params:,} parameters and the same {row.mults:,} multiplications. A convolution "
                   "saves parameters only when its filters are smaller than the input and share their weights "
                   "across positions; a filter as large as the input shares nothing.")
    names = [n for n in results if n is not None]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ra, rb = results[a], results[b]
            if (_params(ra), _mults(ra)) != (_params(rb), _mults(rb)):
                continue
            text = (f"The {plain(a)} and {plain(b)} designs have exactly the same counts ({_params(ra):,} "
                    f"parameters, {_mults(ra):,} multiplications): neither is cheaper in memory or in computation.")
            if signature(ra) == signature(rb):
                text += (" They are the same model written two ways: they compute the same functions (up to the "
                         "order of the weights), so neither can learn anything the other cannot.")
                if any(full_conv(r) for r in A.leaves(ra) + A.leaves(rb)):
                    text += (" The folklore that the convolutional design is cheaper does not apply here; a real "
                             "CNN for images would use small filters and pooling, and then it would be much "
                             "cheaper than a dense layer.")
            s.note(text)


# ---- solve and recompute ----------------------------------------------------------------------------

def answers(s: Solution, rows: list[Row], design: str | None) -> None:
    """`layers`, `output_shape`, `params`, `multiplications` (prefixed `<design>.` in a comparison)."""
    prefix = f"{design}." if design else ""
    sub = rf"_{{\text{{{escape(design)}}}}}" if design else ""
    entries = [{"name": A.describe(r.layer), "output_shape": list(r.shape_out), "params": r.params,
                "multiplications": r.mults} for r in rows]
    s.answer(prefix + "layers", entries)
    s.answer(prefix + "output_shape", list(rows[-1].shape_out), symbol=r"\text{output shape}" + sub)
    s.answer(prefix + "params", _params(rows), symbol=r"\text{params}" + sub)
    s.answer(prefix + "multiplications", _mults(rows), symbol=r"\text{multiplications}" + sub)


def solve(p: Problem) -> Solution:
    """Per layer: output size, parameters and multiplications; totals; with designs, the comparison."""
    s = Solution(p)
    nets = networks(p)
    every = [layer for layers in nets.values() for layer in all_layers(layers)]
    s.step("What is counted", *rules(every), text=rules_text(every))
    results = {}
    for design, layers in nets.items():
        rows = A.trace(p.input, layers)
        explain(s, rows, design)
        totals(s, rows, design)
        results[design] = rows
    for design, rows in results.items():
        answers(s, rows, design)
    if p.designs is not None and len(results) > 1:
        compare(s, p, results)
    notes(s, results)
    return s


def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 count: NumPy arrays of sizes, the output-size formula with np.floor."""
    out = {}
    for design, layers in networks(p).items():
        prefix = f"{design}." if design else ""
        shape = np.array(p.input, dtype=float)
        entries = []
        for layer in layers:
            shape, params, mults = _np_layer(shape, layer)
            entries.append({"output_shape": shape.tolist(), "params": params, "multiplications": mults})
        out[prefix + "layers"] = entries
        out[prefix + "output_shape"] = shape.tolist()
        out[prefix + "params"] = float(np.sum([e["params"] for e in entries]))
        out[prefix + "multiplications"] = float(np.sum([e["multiplications"] for e in entries]))
    return out


def _np_layer(shape: np.ndarray, layer: Layer) -> tuple[np.ndarray, float, float]:
    """One layer in float64: (output shape, parameters, multiplications)."""
    t = layer.type
    if t == "dense":
        weights = shape[0] * layer.size
        return np.array([float(layer.size)]), weights + layer.size * float(layer.bias), weights
    if t in ("conv", "maxpool", "avgpool"):
        k, st = np.array(layer.kernel, float), np.array(layer.stride, float)
        pad = k - 1 if layer.padding == "same" else 2 * np.array(layer.padding, float)
        hw = np.floor((shape[:2] + pad - k) / st) + 1
        if t != "conv":
            return np.append(hw, shape[2]), 0.0, 0.0
        weights = np.prod(k) * shape[2] * layer.size
        return np.append(hw, layer.size), weights + layer.size * float(layer.bias), np.prod(hw) * weights
    if t == "batchnorm":
        return shape, 2.0 * shape[-1], 0.0
    if t == "flatten":
        return np.array([np.prod(shape)]), 0.0, 0.0
    if t == "dropout":
        return shape, 0.0, 0.0
    params = mults = 0.0
    outs = []
    for branch in layer.branches:
        s = shape
        for inner in branch:
            s, a, m = _np_layer(s, inner)
            params, mults = params + a, mults + m
        outs.append(s)
    return np.append(outs[0][:-1], np.sum([o[-1] for o in outs])), params, mults
