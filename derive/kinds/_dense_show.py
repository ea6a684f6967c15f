"""How the key shows dense layers, shared by `forward` and `backprop`: values exact then ≈ decimals, the
network and its draws, one layer's z = W·a + b and a = f(z), the answers box, and the question sheet's layers."""
from __future__ import annotations

from typing import Any

import sympy

from ..latex import Latex, decimals, is_plain, matrix, tex
from ..problem import Problem
from ..solution import Solution
from . import _dense_exact as E
from . import _layers as L
from ._activations import RULES, SYMBOLS

LONG_EXACT = 360      # characters of LaTeX past which a matrix of exact values is shown by its decimals only
LONG_CELL = 70        # characters of LaTeX of one entry past which likewise

def shaped(rows: list[list], vector: bool) -> list:
    """N × units rows as shown: a column for one sample given as a vector, else the rows."""
    return [[v] for v in rows[0]] if vector else rows


def shown(x: Any, d: int) -> tuple[Latex, bool]:
    """A value as the key writes it inside a chain: (LaTeX, True when only its decimals are shown)."""
    x = E.to_sympy(x)
    flat = [v for v in _flat(x) if v is not None]
    if all(is_plain(v) for v in flat):
        return tex(x), False
    if any(isinstance(v, sympy.Float) for v in flat):
        return decimals(x, d), True
    exact = _short_exact(x)
    return (decimals(x, d), True) if exact is None else (exact, False)


def _short_exact(x: Any) -> Latex | None:
    """The exact LaTeX of a value, or None once it is too long to read (printing stops there: a long matrix of
    exact expressions is not printed whole just to be measured)."""
    state = {"total": 0, "long": False}

    def cell(v: Any) -> Latex:
        """One entry's LaTeX, measured; nothing once the whole is too long."""
        if state["long"]:
            return Latex("")
        text = tex(v)
        state["total"] += len(text)
        state["long"] = len(text) > LONG_CELL or state["total"] > LONG_EXACT
        return text
    text = matrix(x, cell) if isinstance(x, list) else cell(x)
    return None if state["long"] or len(text) > LONG_EXACT else text


def value(x: Any, d: int) -> Latex:
    """An exact result shown house style: exact, then ≈ decimals (only ≈ decimals for long or carried values)."""
    text, approximate = shown(x, d)
    if approximate:
        return Latex(r"\approx " + text)
    if all(is_plain(v) for v in _flat(E.to_sympy(x)) if v is not None):
        return text
    return Latex(text + r" \approx " + decimals(E.to_sympy(x), d))


def eq(*parts: Any, d: int) -> Latex:
    """`formula = substitution = … = result`: parts after the first may be exact values (lists, numbers);
    a part shown only by its decimals is joined with ≈; the last is the result (exact ≈ decimals)."""
    out = str(parts[0])
    for i, part in enumerate(parts[1:], 1):
        if i == len(parts) - 1 and not isinstance(part, str):
            shown_last = value(part, d)
            out += (" " if shown_last.startswith(r"\approx") else " = ") + shown_last
        elif isinstance(part, str):
            out += (r" \approx " if isinstance(part, Approx) else " = ") + part
        else:
            text, approximate = shown(part, d)
            out += (r" \approx " if approximate else " = ") + text
    return Latex(out)


class Approx(Latex):
    """LaTeX of a substitution that shows some value by its decimals only (joined with ≈, not =)."""

    __slots__ = ()


def sub(x: Any, d: int) -> Latex:
    """A value inside a product or sum of a substitution (its decimals when the exact form is long)."""
    text, approximate = shown(x, d)
    return Approx(text) if approximate else Latex(text)


def cat(*pieces: str) -> Latex:
    """Concatenate LaTeX pieces, keeping the mark of a piece shown by its decimals."""
    text = "".join(pieces)
    return Approx(text) if any(isinstance(p, Approx) for p in pieces) else Latex(text)


def _flat(x: Any) -> list:
    """The entries of nested lists."""
    if isinstance(x, list):
        return [v for item in x for v in _flat(item)]
    return [x]


def sup(name: str, layer: int) -> str:
    """`W^{[2]}`."""
    return f"{name}^{{[{layer}]}}"


def transpose(m: list[list]) -> list[list]:
    """Columns as rows."""
    return [list(col) for col in zip(*m)]


def show_network(s: Solution, p: Problem, layers: list[L.Layer], vector: bool, n: int) -> None:
    """The architecture, the given values and the random draws."""
    widths = [layers[0].inputs] + [layer.units for layer in layers]
    text = (f"{'One sample' if vector else f'A batch of N = {n} samples'} with {widths[0]} features goes "
            f"through {len(layers)} dense layer{'s' if len(layers) > 1 else ''} "
            f"({' → '.join(str(w) for w in widths)} units). Layers are numbered from 1; "
            + ("$\\mathbf{a}^{[0]} = \\mathbf{x}$ is the input. " if vector else
               "$A^{[0]} = X$ is the input, one row per sample. ")
            + "Each weight matrix has one row per unit (units × inputs, as PyTorch's nn.Linear.weight). ")
    lines = []
    for layer in layers:
        k = layer.index + 1
        rule = RULES[layer.activation].format(slope=tex(layer.slope) if layer.slope is not None else "")
        plural = "s" if layer.units > 1 else ""
        text += f"Layer {k}: {layer.units} unit{plural}, {rule}" + (", no bias" if layer.bias is None else "") + ". "
        if not layer.drawn_weights:
            given = sup("W", k) + " = " + matrix(layer.weights)
            if layer.layout == "in_out":
                given = (sup("W", k) + " = " + f"\\left({matrix(transpose(layer.weights))}\\right)^{{\\top}} = "
                         + matrix(layer.weights))
            lines.append(Latex(given + (r",\quad " + sup(r"\mathbf{b}", k) + " = " + matrix(layer.bias)
                                        if layer.bias is not None and not layer.drawn_bias else "")))
    if any(layer.layout == "in_out" and not layer.drawn_weights for layer in layers):
        text += "Weights given with layout: in_out (inputs × units) are transposed to units × inputs. "
    s.step("The network", *lines, text=text.strip())
    drawn = [layer for layer in layers if layer.drawn_weights or layer.drawn_bias]
    if drawn:
        _show_draws(s, p, drawn)


def _show_draws(s: Solution, p: Problem, drawn: list[L.Layer]) -> None:
    """The step that states how the random values were drawn, and what they are."""
    init = p.fields.init or L.DEFAULT_INIT
    how = (f"uniform on $[{tex(init['low'])}, {tex(init['high'])}]$" if init["distribution"] == "uniform"
           else f"normal with mean ${tex(init['mean'])}$ and standard deviation ${tex(init['std'])}$")
    text = (f"Random values are drawn {how} and rounded to {init['decimals']} decimal"
            f"{'s' if init['decimals'] != 1 else ''}, from NumPy's generator "
            f"default_rng([{p.seed}, crc32(\"{p.id}\")]) (seed {p.seed}): layer by layer, each weight matrix row by "
            "row (units × inputs), then that layer's bias. The drawn values are exact from here on.")
    lines = []
    for layer in drawn:
        k = layer.index + 1
        parts = []
        if layer.drawn_weights:
            parts.append(sup("W", k) + " = " + matrix(layer.weights))
        if layer.drawn_bias:
            parts.append(sup(r"\mathbf{b}", k) + " = " + matrix(layer.bias))
        lines.append(Latex(r",\quad ".join(parts)))
    s.step("Draw the random weights", *lines, text=text)


def show_layer(s: Solution, layer: L.Layer, a_prev: list, z: list, a: list, vector: bool, d: int) -> None:
    """z = W·a + b and a = f(z) for one layer: shapes, numbers, exact result."""
    k, n = layer.index + 1, len(z)
    w, b = layer.weights, layer.bias
    act = SYMBOLS[layer.activation]
    if vector:
        zs, ap, ws = sup(r"\mathbf{z}", k), (r"\mathbf{x}" if k == 1 else sup(r"\mathbf{a}", k - 1)), sup("W", k)
        bs = sup(r"\mathbf{b}", k)
        shape = (rf"\underbrace{{{zs}}}_{{{layer.units}\times 1}} = \underbrace{{{ws}}}_{{{layer.units}\times "
                 rf"{layer.inputs}}}\,\underbrace{{{ap}}}_{{{layer.inputs}\times 1}}"
                 + (rf" + \underbrace{{{bs}}}_{{{layer.units}\times 1}}" if b is not None else ""))
        numbers = cat(matrix(w), r"\,", sub(shaped(a_prev, True), d),
                      " + " + matrix([[v] for v in b]) if b is not None else "")
        a_name = sup(r"\mathbf{a}", k)
    else:
        zs, ap, ws = sup("Z", k), ("X" if k == 1 else sup("A", k - 1)), sup("W", k) + r"{}^{\top}"
        bs = sup(r"\mathbf{b}", k) + r"{}^{\top}"
        shape = (rf"\underbrace{{{zs}}}_{{{n}\times {layer.units}}} = \underbrace{{{ap}}}_{{{n}\times "
                 rf"{layer.inputs}}}\,\underbrace{{{ws}}}_{{{layer.inputs}\times {layer.units}}}"
                 + (rf" + \underbrace{{{bs}}}_{{1\times {layer.units}}}" if b is not None else ""))
        numbers = cat(sub(a_prev, d), r"\,", matrix(transpose(w)), " + " + matrix([b]) if b is not None else "")
        a_name = sup("A", k)
    text = (f"Layer {k}: multiply by the weights" + (", add the bias" if b is not None else "")
            + ", then apply the activation" + ("" if layer.activation != "linear" else " (linear: nothing to do)")
            + ("." if vector else f"; row $n$ of $Z^{{[{k}]}}$ is sample $n$, and the bias row is added to every "
                                  "row (as nn.Linear computes $XW^\\top + b$)."))
    lines = [Latex(shape), eq(zs, numbers, shaped(z, vector), d=d)]
    if layer.activation == "softmax" and not E.is_approx(z):
        lines.extend(softmax_lines(zs, a_name, z, a, vector, d))
    elif layer.activation != "linear":
        lines.append(eq(a_name, f"{act}({zs})", shaped(a, vector), d=d))
    s.step(f"Layer {k}: {layer.inputs} → {layer.units}", *lines, text=text)


def softmax_lines(zs: str, a_name: str, z: list, a: list, vector: bool, d: int) -> list[Latex]:
    """S = Σ e^z (per sample), then a = e^z / S, written with S so the exact values stay readable."""
    exps = [[sympy.exp(E.sym(v)) for v in row] for row in z]
    sums = [sympy.Add(*row) for row in exps]
    if vector:
        total = Latex(" + ".join(tex(e) for e in exps[0]))
        lines = [Latex(rf"S = \sum_j e^{{z_j}} = {total} \approx {decimals(sums[0], d)}")]
        cells = [[Latex(rf"\frac{{{tex(e)}}}{{S}}")] for e in exps[0]]
        shown = rf"\frac{{e^{{{zs}}}}}{{S}}"
    else:
        lines = [eq(r"\mathbf{s} = \Bigl(\sum_j e^{z_{nj}}\Bigr)_n", [[v] for v in sums], d=d)]
        cells = [[Latex(rf"\frac{{{tex(e)}}}{{s_{{{n}}}}}") for e in row] for n, row in enumerate(exps)]
        shown = rf"\Bigl(\frac{{e^{{z_{{nj}}}}}}{{s_n}}\Bigr)"
    lines.append(Latex(rf"{a_name} = \operatorname{{softmax}}({zs}) = {shown} = {matrix(cells)} \approx "
                       + decimals(E.to_sympy(shaped(a, vector)), d)))
    return lines


def per_layer(values: list[list[list]], vector: bool) -> list:
    """Per-layer N × units values as answers: a vector per layer for one sample given as a vector."""
    return [E.to_sympy(v[0] if vector else v) for v in values]


def answer(s: Solution, name: str, value: Any, symbol: str, per_layer: bool = False) -> None:
    """Record an answer; once any entry is carried as a decimal the answer is marked approximate (≈).
    The answers box shows a long or carried value by its decimals (its exact form is in the JSON)."""
    value, approximate = E.settle(value)
    parts = value if per_layer else [value]
    shown_parts = [shown(v, s.problem.digits) if v is not None else (tex(None), False) for v in parts]
    display = None
    if any(short for _, short in shown_parts):
        display = Latex(r",\ ".join(
            (r"\ldots \approx " + text) if short else str(box(v, s.problem.digits))
            for (text, short), v in zip(shown_parts, parts)))
    s.answer(name, value, approximate=approximate, symbol=symbol, display=display)


def box(x: Any, d: int) -> Latex:
    """One value for the answers box: exact, then ≈ decimals where it is not a plain number."""
    if x is None:
        return tex(None)
    return value(x, d)


def answer_network(s: Solution, layers: list[L.Layer]) -> None:
    """The weights and biases as used (units × inputs; None for no bias)."""
    s.answer("weights", [layer.weights for layer in layers], symbol=r"W^{[1]}, W^{[2]}, \dots")
    biases = [layer.bias for layer in layers]
    display = None
    if any(b is None for b in biases):
        display = Latex(r",\ ".join(tex(None) if b is None else matrix(b) for b in biases))
    s.answer("biases", biases, symbol=r"\mathbf{b}^{[1]}, \mathbf{b}^{[2]}, \dots", display=display)


def given_layers(p: Problem, layers: list[L.Layer]) -> list[tuple[str, Latex]]:
    """The layers as the question sheet states them (drawn values as the rule that draws them)."""
    out = []
    for layer in layers:
        k = layer.index + 1
        slope = str(tex(layer.slope)) if layer.slope is not None and is_plain(layer.slope) else str(layer.slope)
        act = layer.activation.replace("_", " ") + (f", slope {slope}" if layer.activation == "leaky_relu" else "")
        units = f"{layer.units} unit{'s' if layer.units > 1 else ''}"
        w = Latex(r"\text{random}") if layer.drawn_weights else matrix(layer.weights)
        b = (Latex(r"\text{random}") if layer.drawn_bias else
             Latex(r"\text{none}") if layer.bias is None else matrix(layer.bias))
        out.append((f"layer {k} ({units}, {act}): W", w))
        out.append((f"layer {k}: b", b))
    if any(layer.drawn_weights or layer.drawn_bias for layer in layers):
        init = p.fields.init or L.DEFAULT_INIT
        how = (f"uniform on [{init['low']}, {init['high']}]" if init["distribution"] == "uniform"
               else f"normal, mean {init['mean']}, std {init['std']}")
        places = f"{init['decimals']} decimal{'s' if init['decimals'] != 1 else ''}"
        out.append(("random values", Latex(rf"\text{{{how}, {places}, seed {p.seed}}}")))
    return out
