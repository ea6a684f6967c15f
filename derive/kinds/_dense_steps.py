"""The forward steps of the dense kinds (`forward`, `backprop`): the network and its draws, then one layer's
z = W·a + b and a = f(z), each written so that it fits the line (SPEC §15)."""
from __future__ import annotations

import sympy

from ..latex import Latex, decimals, matrix, tex
from ..problem import Problem
from ..solution import Solution
from . import _dense_exact as E
from . import _dense_fit as F
from . import _layers as L
from ._activations import RULES, SYMBOLS
from ._dense_show import eq, joined, rounded, shaped, sub, sup, transpose


def _pair(*parts: str) -> list[Latex]:
    """Displays side by side (`W = …, b = …`) when they fit one line, else one per line."""
    line = r",\quad ".join(parts)
    return [Latex(line)] if F.fits(line) else [Latex(p) for p in parts]


def _given_weights(layer: L.Layer, k: int) -> str:
    """`W = [..]`, or for layout: in_out `W = ([as given])ᵀ = [..]`."""
    if layer.layout == "in_out":
        return sup("W", k) + rf" = \left({matrix(transpose(layer.weights))}\right)^{{\top}} = " + matrix(layer.weights)
    return sup("W", k) + " = " + matrix(layer.weights)


def show_network(s: Solution, p: Problem, layers: list[L.Layer], vector: bool, n: int) -> None:
    """The architecture, the given values and the random draws."""
    widths = [layers[0].inputs] + [layer.units for layer in layers]
    text = (f"{'One sample' if vector else f'A batch of N = {n} samples'} with {widths[0]} features goes "
            f"through {len(layers)} dense layer{'s' if len(layers) > 1 else ''} "
            f"({' → '.join(str(w) for w in widths)} units). Layers are numbered from 1; "
            + ("$\\mathbf{a}^{[0]} = \\mathbf{x}$ is the input. " if vector else
               "$A^{[0]} = X$ is the input, one row per sample. ")
            + "Each weight matrix has one row per unit (units × inputs, as PyTorch's nn.Linear.weight). ")
    lines: list[Latex] = []
    for layer in layers:
        k = layer.index + 1
        rule = RULES[layer.activation].format(slope=tex(layer.slope) if layer.slope is not None else "")
        plural = "s" if layer.units > 1 else ""
        text += f"Layer {k}: {layer.units} unit{plural}, {rule}" + (", no bias" if layer.bias is None else "") + ". "
        parts = [] if layer.drawn_weights else [_given_weights(layer, k)]
        if layer.bias is not None and not layer.drawn_bias:
            parts.append(sup(r"\mathbf{b}", k) + " = " + matrix(layer.bias))
        lines += _pair(*parts) if parts else []
    if any(layer.layout == "in_out" and not layer.drawn_weights for layer in layers):
        text += "Weights given with layout: in_out (inputs × units) are transposed to units × inputs. "
    s.step("The network", *lines, text=text.strip())
    drawn = [layer for layer in layers if layer.drawn_weights or layer.drawn_bias]
    if drawn:
        _show_draws(s, p, drawn)


def draw_rule(p: Problem) -> str:
    """How the random values are drawn, in words (`uniform on [-1, 1]`)."""
    init = p.fields.init or L.DEFAULT_INIT
    return (f"uniform on $[{tex(init['low'])}, {tex(init['high'])}]$" if init["distribution"] == "uniform"
            else f"normal with mean ${tex(init['mean'])}$ and standard deviation ${tex(init['std'])}$")


def _show_draws(s: Solution, p: Problem, drawn: list[L.Layer]) -> None:
    """The step that states how the random values were drawn, and what they are."""
    places = (p.fields.init or L.DEFAULT_INIT)["decimals"]
    text = (f"Random values are drawn {draw_rule(p)} and rounded to {places} decimal"
            f"{'s' if places != 1 else ''}, from NumPy's generator "
            f"default_rng([{p.seed}, crc32(\"{p.id}\")]) (seed {p.seed}): layer by layer, each weight matrix row by "
            "row (units × inputs), then that layer's bias. The drawn values are exact from here on.")
    lines: list[Latex] = []
    for layer in drawn:
        k = layer.index + 1
        parts = [sup("W", k) + " = " + matrix(layer.weights)] if layer.drawn_weights else []
        if layer.drawn_bias:
            parts.append(sup(r"\mathbf{b}", k) + " = " + matrix(layer.bias))
        lines += _pair(*parts)
    s.step("Draw the random weights", *lines, text=text)


def _brace(name: str, rows: object, cols: object) -> str:
    """`name` with its shape written under it."""
    return rf"\underbrace{{{name}}}_{{{rows}\times {cols}}}"


def _shapes(layer: L.Layer, k: int, n: int, vector: bool) -> Latex:
    """`z (units×1) = W (units×inputs) x (inputs×1) + b`, or the batch form Z = A Wᵀ + bᵀ, with the shapes."""
    u, i, b = layer.units, layer.inputs, sup(r"\mathbf{b}", k)
    if vector:
        ap = r"\mathbf{x}" if k == 1 else sup(r"\mathbf{a}", k - 1)
        text = (_brace(sup(r"\mathbf{z}", k), u, 1) + " = " + _brace(sup("W", k), u, i) + r"\," + _brace(ap, i, 1)
                + (" + " + _brace(b, u, 1) if layer.bias is not None else ""))
        return Latex(text)
    ap = "X" if k == 1 else sup("A", k - 1)
    text = (_brace(sup("Z", k), n, u) + " = " + _brace(ap, n, i) + r"\," + _brace(sup("W", k) + r"{}^{\top}", i, u)
            + (" + " + _brace(b + r"{}^{\top}", 1, u) if layer.bias is not None else ""))
    return Latex(text)


def show_layer(s: Solution, layer: L.Layer, a_prev: list, z: list, a: list, vector: bool, d: int) -> None:
    """z = W·a + b and a = f(z) for one layer: shapes, numbers, exact result."""
    k, b = layer.index + 1, layer.bias
    if vector:
        zs, a_name = sup(r"\mathbf{z}", k), sup(r"\mathbf{a}", k)
        bias = [("+", sub([[v] for v in b], d))] if b is not None else []
        numbers = joined(sub(layer.weights, d), ("", sub(shaped(a_prev, True), d)), *bias)
    else:
        zs, a_name = sup("Z", k), sup("A", k)
        bias = [("+", sub([b], d))] if b is not None else []
        numbers = joined(sub(a_prev, d), ("", sub(transpose(layer.weights), d)), *bias)
    text = (f"Layer {k}: multiply by the weights" + (", add the bias" if b is not None else "")
            + ", then apply the activation" + ("" if layer.activation != "linear" else " (linear: nothing to do)")
            + ("." if vector else f"; row $n$ of $Z^{{[{k}]}}$ is sample $n$, and the bias row is added to every "
                                  "row (as nn.Linear computes $XW^\\top + b$)."))
    lines = [_shapes(layer, k, len(z), vector), eq(zs, numbers, shaped(z, vector), d=d)]
    if layer.activation == "softmax" and not E.is_approx(z):
        lines.extend(softmax_lines(zs, a_name, z, a, vector, d))
    elif layer.activation != "linear":
        lines.append(eq(a_name, f"{SYMBOLS[layer.activation]}({zs})", shaped(a, vector), d=d))
    s.step(f"Layer {k}: {layer.inputs} → {layer.units}", *lines, text=text)


def softmax_lines(zs: str, a_name: str, z: list, a: list, vector: bool, d: int) -> list[Latex]:
    """S = Σ e^z (per sample), then a = e^z / S, written with S so the exact values stay readable."""
    exps = [[sympy.exp(E.sym(v)) for v in row] for row in z]
    sums = [sympy.Add(*row) for row in exps]
    if vector:
        total = " + ".join(tex(e) for e in exps[0]) if sum(E.size(v) for v in z[0]) < 3 * len(z[0]) else ""
        total = f" = {total}" if total and F.fits(total) else ""
        lines = [Latex(rf"S = \sum_j e^{{z_j}}{total} \approx {decimals(sums[0], d)}")]
        cells = [[Latex(rf"\frac{{{tex(e)}}}{{S}}")] for e in exps[0]]
        shown = rf"\frac{{e^{{{zs}}}}}{{S}}"
    else:
        lines = [eq(r"\mathbf{s} = \Bigl(\sum_j e^{z_{nj}}\Bigr)_n", [[v] for v in sums], d=d)]
        cells = [[Latex(rf"\frac{{{tex(e)}}}{{s_{{{n}}}}}") for e in row] for n, row in enumerate(exps)]
        shown = r"\Bigl(\frac{e^{z_{nj}}}{s_n}\Bigr)"
    exact = matrix(cells)
    written = rf"{a_name} = \operatorname{{softmax}}({zs}) = {shown}" + (f" = {exact}" if F.fits(exact) else "")
    lines.append(Latex(written + r" \approx " + rounded(E.to_sympy(shaped(a, vector)), d)))
    return lines
