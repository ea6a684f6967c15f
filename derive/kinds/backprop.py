"""Kind `backprop`: forward pass on a batch, the loss, the backward pass by the chain rule, one SGD step."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from .. import fields as F
from ..latex import Latex, matrix, tex
from ..problem import Problem
from ..solution import Solution
from . import _graph as G
from . import _layers as L
from . import forward as FW

LOSSES = ("mse", "sse", "half_sse", "cross_entropy", "bce")

FIELDS = F.table(
    inputs=F.Field(F.matrix, required=True),
    targets=F.Field(F.vector_or_matrix, required=True),
    layers=F.Field(L.parse_layers, required=True),
    loss=F.Field(F.choice(*LOSSES), required=True),
    learning_rate=F.Field(F.positive, required=True),
    init=F.Field(L.parse_init),
)

FORMULAS = {
    "mse": r"\mathcal{L} = \frac{1}{NK}\sum_{n,k}(\hat{y}_{nk} - y_{nk})^2",
    "sse": r"\mathcal{L} = \sum_{n,k}(\hat{y}_{nk} - y_{nk})^2",
    "half_sse": r"\mathcal{L} = \frac{1}{2}\sum_{n,k}(\hat{y}_{nk} - y_{nk})^2",
    "cross_entropy": r"\mathcal{L} = \frac{1}{N}\sum_n \Bigl(\log\sum_k e^{z_{nk}} - z_{n,y_n}\Bigr)",
    "bce": r"\mathcal{L} = \frac{1}{NK}\sum_{n,k} \Bigl(y_{nk}\log\bigl(1 + e^{-z_{nk}}\bigr) "
           r"+ (1 - y_{nk})\log\bigl(1 + e^{z_{nk}}\bigr)\Bigr)",
}
OUTPUT_GRADS = {
    "mse": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = \frac{2}{NK}(\hat{Y} - Y)",
    "sse": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = 2(\hat{Y} - Y)",
    "half_sse": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = \hat{Y} - Y",
}
DERIVATIVES = {"linear": "1", "relu": r"1 \text{ if } z > 0 \text{ else } 0",
               "leaky_relu": r"1 \text{ if } z > 0 \text{ else } s",
               "sigmoid": r"\sigma(z)\bigl(1 - \sigma(z)\bigr)", "tanh": r"1 - \tanh^2(z)"}


def validate(p: Problem) -> None:
    """Layer shapes; the loss against the last activation; targets against the batch and the outputs."""
    n = len(p.inputs)
    layers = L.resolve(p, len(p.inputs[0]))
    last, k = layers[-1], layers[-1].units
    if p.loss == "cross_entropy" and last.activation != "linear":
        extra = (" (it applies the softmax itself: a softmax layer would apply it twice)"
                 if last.activation == "softmax" else " (it applies the softmax to the logits itself)")
        raise p.error("loss", f"cross_entropy needs a linear last layer{extra}; the last layer has "
                              f"activation: {last.activation}")
    if p.loss == "bce" and last.activation != "sigmoid":
        raise p.error("loss", f"bce needs a sigmoid last layer (its output is a probability); the last layer has "
                              f"activation: {last.activation}")
    _check_targets(p, n, k)


def _check_targets(p: Problem, n: int, k: int) -> None:
    t = p.targets
    is_matrix = isinstance(t[0], list)
    if p.loss == "cross_entropy":
        if is_matrix:
            raise p.error("targets", f"cross_entropy takes one class index per sample (a list of {n} whole "
                                     "numbers), got a matrix")
        if len(t) != n:
            raise p.error("targets", f"expected {n} targets (one per row of inputs), got {len(t)}")
        for i, y in enumerate(t):
            if not y.is_integer or y < 0:
                raise p.error(("targets", i), f"expected a class index (a whole number from 0 to {k - 1}), got {y}")
            if y >= k:
                raise p.error(("targets", i), f"class index {y} is out of range: there are {k} classes, 0 to {k - 1}")
        return
    if not is_matrix:
        if k != 1:
            raise p.error("targets", f"the last layer has {k} units: give targets as a {n}×{k} matrix "
                                     "(one row per sample)")
        if len(t) != n:
            raise p.error("targets", f"expected {n} targets (one per row of inputs), got {len(t)}")
    else:
        if len(t) != n:
            raise p.error("targets", f"expected {n} rows of targets (one per row of inputs), got {len(t)}")
        if len(t[0]) != k:
            raise p.error("targets", f"expected {n}×{k} targets (samples × outputs), got {F.shape_text(F.shape(t))}")
    if p.loss == "bce":
        for i, y in enumerate(t):
            for j, v in enumerate(y if is_matrix else [y]):
                if not 0 <= v <= 1:
                    raise p.error(("targets", i, j) if is_matrix else ("targets", i),
                                  f"bce targets must lie between 0 and 1, got {v}")


def target_rows(p: Problem) -> list[list[Fraction]]:
    """Targets as N × K Fractions (class indices for cross_entropy stay a list of ints)."""
    t = p.targets
    rows = t if isinstance(t[0], list) else [[v] for v in t]
    return [[L.frac(v) for v in row] for row in rows]


# ---- the exact backward pass ----------------------------------------------------------------------

@dataclass
class Backward:
    """Everything the backward pass computes (values Fraction or SymPy, N × units per layer)."""

    loss: Any
    out_grad: list            # ∂L/∂Ŷ (N × K)
    deltas: list              # ∂L/∂Z per layer
    upstream: list            # ∂L/∂A per layer (the last is out_grad)
    derivs: list              # f′(Z) per layer (None for softmax)
    grad_w: list
    grad_b: list


def _col(m: list[list], j: int) -> list:
    return [row[j] for row in m]


def loss_value(loss: str, out: list, z: list, y: list, classes: list[int] | None) -> Any:
    """The loss, exactly."""
    n, k = len(out), len(out[0])
    if loss in ("mse", "sse", "half_sse"):
        sq = [L.mul(L.add(a, -b), L.add(a, -b)) for ra, rb in zip(out, y) for a, b in zip(ra, rb)]
        total = sq[0]
        for v in sq[1:]:
            total = L.add(total, v)
        scale = {"mse": Fraction(1, n * k), "sse": Fraction(1), "half_sse": Fraction(1, 2)}[loss]
        return L.mul(scale, total) if total != 0 else Fraction(0)
    if loss == "cross_entropy":
        terms = [sympy.log(sympy.Add(*[sympy.exp(L.sym(v)) for v in row])) - L.sym(row[c])
                 for row, c in zip(z, classes)]
        return L.normalize(L.tame(sympy.Add(*terms) / n))
    terms = []
    for rz, ry in zip(z, y):
        for v, t in zip(rz, ry):
            v = L.sym(v)
            if t != 0:
                terms.append(L.sym(t) * sympy.log(1 + sympy.exp(-v)))
            if t != 1:
                terms.append(L.sym(1 - t) * sympy.log(1 + sympy.exp(v)))
    return L.normalize(L.tame(sympy.Add(*terms) / (n * k)))


def _output_delta(loss: str, layer: L.Layer, out: list, z: list, y: list, classes) -> tuple[list, list]:
    """(∂L/∂Ŷ, ∂L/∂Z of the last layer)."""
    n, k = len(out), len(out[0])
    if loss == "cross_entropy":
        probs = [L.activate("softmax", row) for row in z]
        delta = [[L.mul(Fraction(1, n), L.add(pj, -Fraction(int(j == c)))) for j, pj in enumerate(row)]
                 for row, c in zip(probs, classes)]
        return delta, delta
    if loss == "bce":
        delta = [[L.mul(Fraction(1, n * k), L.add(a, -t)) for a, t in zip(ra, ry)] for ra, ry in zip(out, y)]
        grad = [[L.normalize(L.tame(L.sym(dv) / (L.sym(a) * (1 - L.sym(a))))) for dv, a in zip(rd, ra)]
                for rd, ra in zip(delta, out)]
        return grad, delta
    scale = {"mse": Fraction(2, n * k), "sse": Fraction(2), "half_sse": Fraction(1)}[loss]
    grad = [[L.mul(scale, L.add(a, -t)) for a, t in zip(ra, ry)] for ra, ry in zip(out, y)]
    return grad, _through(layer, grad, z, out)


def _through(layer: L.Layer, g: list, z: list, a: list) -> list:
    """∂L/∂Z from ∂L/∂A: elementwise f′, or the softmax Jacobian s ⊙ (g − g·s)."""
    if layer.activation == "softmax":
        out = []
        for gr, sr in zip(g, a):
            inner = L.dot(gr, sr)
            out.append([L.mul(s_, L.add(gv, L.mul(Fraction(-1), inner))) for gv, s_ in zip(gr, sr)])
        return out
    return [[L.mul(gv, dv) for gv, dv in zip(gr, dr)]
            for gr, dr in zip(g, derivs_of(layer, z, a))]


def derivs_of(layer: L.Layer, z: list, a: list) -> list:
    """f′(Z) (N × units)."""
    return [L.derivative(layer.activation, zr, ar, layer.slope) for zr, ar in zip(z, a)]


def backward(layers: list[L.Layer], x: list, zs: list, acts: list, y: list, loss: str,
             classes: list[int] | None) -> Backward:
    """The chain rule, layer by layer, from the loss back to the first weights."""
    out = acts[-1]
    value = loss_value(loss, out, zs[-1], y, classes)
    out_grad, delta = _output_delta(loss, layers[-1], out, zs[-1], y, classes)
    nl = len(layers)
    deltas, upstream, derivs = [None] * nl, [None] * nl, [None] * nl
    grad_w, grad_b = [None] * nl, [None] * nl
    upstream[-1] = out_grad
    if layers[-1].activation != "softmax" and loss not in ("cross_entropy", "bce"):
        derivs[-1] = derivs_of(layers[-1], zs[-1], out)
    for i in range(nl - 1, -1, -1):
        layer = layers[i]
        deltas[i] = delta
        a_prev = x if i == 0 else acts[i - 1]
        grad_w[i] = [[L.dot(_col(delta, j), _col(a_prev, c)) for c in range(layer.inputs)]
                     for j in range(layer.units)]
        if layer.bias is not None:
            grad_b[i] = [L.dot([Fraction(1)] * len(delta), _col(delta, j)) for j in range(layer.units)]
        if i > 0:
            w = [[L.frac(v) for v in row] for row in layer.weights]
            g = [[L.dot(drow, _col(w, c)) for c in range(layer.inputs)] for drow in delta]
            upstream[i - 1] = g
            below = layers[i - 1]
            derivs[i - 1] = derivs_of(below, zs[i - 1], acts[i - 1])
            delta = [[L.mul(gv, dv) for gv, dv in zip(gr, dr)] for gr, dr in zip(g, derivs[i - 1])]
    return Backward(value, out_grad, deltas, upstream, derivs, grad_w, grad_b)


def update(layers: list[L.Layer], back: Backward, lr: sympy.Rational) -> tuple[list, list]:
    """W ← W − η ∂L/∂W and b ← b − η ∂L/∂b (no bias stays None)."""
    eta = L.frac(lr)
    new_w = [[[L.add(L.frac(w), L.mul(-eta, g)) for w, g in zip(wr, gr)] for wr, gr in zip(layer.weights, gw)]
             for layer, gw in zip(layers, back.grad_w)]
    new_b = [None if layer.bias is None else [L.add(L.frac(b), L.mul(-eta, g)) for b, g in zip(layer.bias, gb)]
             for layer, gb in zip(layers, back.grad_b)]
    return new_w, new_b


# ---- the worked solution ----------------------------------------------------------------------------

def solve(p: Problem) -> Solution:
    """Forward, loss, backward (δ, ∂L/∂W = δᵀa, ∂L/∂b), the graph, the update."""
    s = Solution(p)
    d = p.digits
    x = L.inputs_as_fractions(p.inputs)
    layers = L.resolve(p, len(x[0]))
    FW.show_network(s, p, layers, False, len(x))
    zs, acts = L.forward_pass(layers, x)
    prev = x
    for layer, z, a in zip(layers, zs, acts):
        FW.show_layer(s, layer, prev, z, a, False, d)
        prev = a
    classes = [int(v) for v in p.targets] if p.loss == "cross_entropy" else None
    y = None if classes is not None else target_rows(p)
    back = backward(layers, x, zs, acts, y, p.loss, classes)
    _show_loss(s, p, acts[-1], zs[-1], y, classes, back)
    _show_backward(s, p, layers, x, zs, acts, back)
    new_w, new_b = update(layers, back, p.learning_rate)
    _show_update(s, p, layers, back, new_w, new_b)
    s.step("The computational graph",
           text="Each box is a value, each circle an operation; parameters and targets enter from above. Data "
                "flows left to right; gradients flow right to left, and each node's gradient is "
                "$\\partial\\mathcal{L}/\\partial(\\text{node})$ (the table lists the values and the gradients).",
           figure=graph(layers, x, zs, acts, y, classes, back, p))
    _answers(s, layers, acts, back, new_w, new_b)
    _notes(s, layers, zs, back)
    return s


def _m(x: Any, d: int) -> Latex:
    return FW.sub(x, d)


def _show_loss(s: Solution, p: Problem, out: list, z: list, y: list | None, classes, back: Backward) -> None:
    d, n, k = p.digits, len(out), len(out[0])
    lines = [FW.eq(FORMULAS[p.loss], back.loss, d=d)]
    text = f"N = {n} sample{'s' if n > 1 else ''}, K = {k} output{'s' if k > 1 else ''}. "
    if p.loss in ("mse", "sse", "half_sse"):
        lines.insert(0, FW.eq(r"\hat{Y} - Y", FW.cat(_m(out, d), " - ", _m(y, d)),
                              [[L.add(a, -t) for a, t in zip(ra, ry)] for ra, ry in zip(out, y)], d=d))
        text += {"mse": "The mean squared error averages over all N·K entries (PyTorch's MSELoss).",
                 "sse": "The sum of squared errors adds every entry.",
                 "half_sse": "Half the sum of squared errors (the ½ cancels the 2 of the derivative)."}[p.loss]
    elif p.loss == "cross_entropy":
        text += ("Cross-entropy of the logits $z$ (the last layer is linear), mean over the samples, as "
                 "PyTorch's CrossEntropyLoss; targets are class indices from 0: "
                 + ", ".join(str(c) for c in classes) + ".")
    else:
        text += ("Binary cross-entropy of the sigmoid output $\\hat{y} = \\sigma(z)$, mean over the N·K entries; "
                 "it is written with $z$ because $-\\log\\sigma(z) = \\log(1 + e^{-z})$ and "
                 "$-\\log(1 - \\sigma(z)) = \\log(1 + e^{z})$.")
    s.step("The loss", *lines, text=text)


def _show_backward(s: Solution, p: Problem, layers: list[L.Layer], x: list, zs: list, acts: list,
                   back: Backward) -> None:
    d, nl = p.digits, len(layers)
    last = layers[-1]
    top = FW.sup("Z", nl)
    if p.loss == "cross_entropy":
        lines = [FW.eq(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {top}}} = "
                       r"\frac{1}{N}\bigl(\operatorname{softmax}(Z) - \operatorname{onehot}(y)\bigr)",
                       back.deltas[-1], d=d)]
        text = ("Softmax and cross-entropy together: the gradient of the logits is the probabilities minus the "
                "one-hot target, over N.")
    elif p.loss == "bce":
        lines = [FW.eq(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {top}}} = "
                       r"\frac{1}{NK}(\hat{Y} - Y)", back.deltas[-1], d=d)]
        text = ("Sigmoid and binary cross-entropy together: $\\sigma'(z) = \\hat{y}(1 - \\hat{y})$ cancels, "
                "leaving $(\\hat{y} - y)/(NK)$.")
    else:
        lines = [FW.eq(OUTPUT_GRADS[p.loss], back.out_grad, d=d)]
        if last.activation == "softmax":
            lines.append(FW.eq(rf"\Delta^{{[{nl}]}}_{{n}} = \mathbf{{a}}_n \odot \bigl(\mathbf{{g}}_n - "
                               r"\mathbf{g}_n\cdot\mathbf{a}_n\bigr)", back.deltas[-1], d=d))
            text = ("Through the softmax (its Jacobian), sample by sample, with $\\mathbf{g}_n$ the row of "
                    "$\\partial\\mathcal{L}/\\partial\\hat{Y}$.")
        elif last.activation == "linear":
            lines.append(Latex(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {top}}} = "
                               r"\frac{\partial\mathcal{L}}{\partial\hat{Y}}"))
            text = "The last layer is linear, so $\\hat{Y} = Z$ and the two gradients are equal."
        else:
            lines.append(FW.eq(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial\hat{{Y}}}} \odot "
                               rf"f'({top})", FW.cat(_m(back.out_grad, d), r" \odot ", _m(back.derivs[-1], d)),
                               back.deltas[-1], d=d))
            text = f"Through the activation, elementwise: $f'(z) = {DERIVATIVES[last.activation]}$."
    s.step("Backward: the gradient at the output", *lines, text=text)
    for i in range(nl - 1, -1, -1):
        _show_backward_layer(s, p, layers, i, x if i == 0 else acts[i - 1], zs, back)


def _show_backward_layer(s: Solution, p: Problem, layers: list[L.Layer], i: int, a_prev: list, zs: list,
                         back: Backward) -> None:
    d, k, layer = p.digits, i + 1, layers[i]
    delta = back.deltas[i]
    aname = "X" if k == 1 else FW.sup("A", k - 1)
    dname = rf"\Delta^{{[{k}]}}"
    lines = [FW.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial {FW.sup('W', k)}}} = {dname}{{}}^\top {aname}",
                   FW.cat(_m(FW.transpose(delta), d), r"\,", _m(a_prev, d)), back.grad_w[i], d=d)]
    if layer.bias is not None:
        bname = FW.sup(r"\mathbf{b}", k)
        lines.append(FW.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial {bname}}} = "
                           rf"\sum_n {dname}_{{n,:}}", [back.grad_b[i]], d=d))
    text = (f"Layer {k}: the weight gradient sums, over the samples, the outer product of each sample's "
            f"$\\delta$ (a row of $\\Delta^{{[{k}]}}$) and the layer's input; it is units × inputs, like "
            f"$W^{{[{k}]}}$." + (" The bias gradient sums $\\delta$ over the samples." if layer.bias is not None
                                 else " This layer has no bias."))
    if i > 0:
        below = layers[i - 1]
        g = back.upstream[i - 1]
        up = FW.sup("A", k - 1)
        lines.append(FW.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial {up}}} = {dname} {FW.sup('W', k)}",
                           FW.cat(_m(delta, d), r"\,", matrix(layer.weights)), g, d=d))
        if below.activation == "linear":
            lines.append(Latex(rf"\Delta^{{[{k - 1}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {up}}}"))
        else:
            lines.append(FW.eq(rf"\Delta^{{[{k - 1}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {up}}} \odot "
                               rf"f'({FW.sup('Z', k - 1)})", FW.cat(_m(g, d), r" \odot ", _m(back.derivs[i - 1], d)),
                               back.deltas[i - 1], d=d))
        text += (f" The chain rule carries the gradient down through $W^{{[{k}]}}$ and then through layer "
                 f"{k - 1}'s activation ($f'(z) = {DERIVATIVES[below.activation]}$).")
        zeros = G.zero_positions(zs[i - 1]) if below.activation in ("relu", "leaky_relu") else []
        if zeros:
            where = ", ".join(f"$z_{{{n},{j}}}$" for n, j in zeros[:8]) + (" …" if len(zeros) > 8 else "")
            slope = "0" if below.activation == "relu" else f"the slope {tex(below.slope)}"
            text += (f" At {where} of $Z^{{[{k - 1}]}}$ the pre-activation is exactly 0, where the "
                     f"{'ReLU' if below.activation == 'relu' else 'leaky ReLU'} has a kink: the derivative "
                     f"there is taken as {slope}, as PyTorch does.")
    s.step(f"Backward: layer {k}", *lines, text=text)


def _show_update(s: Solution, p: Problem, layers: list[L.Layer], back: Backward, new_w: list, new_b: list) -> None:
    d, eta = p.digits, tex(p.learning_rate)
    lines = []
    for i, layer in enumerate(layers):
        k = i + 1
        lines.append(FW.eq(rf"{FW.sup('W', k)} \leftarrow {FW.sup('W', k)} - \eta\,\frac{{\partial\mathcal{{L}}}}"
                           rf"{{\partial {FW.sup('W', k)}}}",
                           FW.cat(matrix(layer.weights), f" - {eta}", _m(back.grad_w[i], d)), new_w[i], d=d))
        if layer.bias is not None:
            bname = FW.sup(r"\mathbf{b}", k)
            lines.append(FW.eq(rf"{bname} \leftarrow {bname} - \eta\,"
                               rf"\frac{{\partial\mathcal{{L}}}}{{\partial {bname}}}",
                               FW.cat(matrix([layer.bias]), f" - {eta}", _m([back.grad_b[i]], d)), [new_b[i]], d=d))
    s.step("Gradient-descent update", *lines,
           text=f"One plain gradient-descent step with learning rate $\\eta = {eta}$"
                + ("; layers without a bias have nothing to update there." if any(l.bias is None for l in layers)
                   else "."))


def graph(layers: list[L.Layer], x: list, zs: list, acts: list, y: list | None, classes, back: Backward,
          p: Problem) -> Latex:
    """The chain of nodes for _graph.figure."""
    chain: list = [G.Val("x", "X", G.as_sym(x), None, "data")]
    side: dict[str, G.Val] = {}
    nl = len(layers)
    for i, layer in enumerate(layers):
        k = i + 1
        delta = back.deltas[i]
        wxt = [[L.dot([L.frac(w) for w in wr], sample) for wr in layer.weights] for sample in
               (x if i == 0 else acts[i - 1])]
        chain.append(G.Op(f"mm{k}", r"$\times$"))
        side[f"mm{k}"] = G.Val(f"w{k}", FW.sup("W", k), G.as_sym(layer.weights), G.as_sym(back.grad_w[i]), "param")
        last = i == nl - 1
        is_out = last and layer.activation == "linear"
        zname = FW.sup("Z", k) + (r" = \hat{Y}" if is_out else "")
        if layer.bias is not None:
            chain.append(G.Val(f"p{k}", FW.sup("P", k), G.as_sym(wxt), G.as_sym(delta)))
            chain.append(G.Op(f"add{k}", "$+$"))
            side[f"add{k}"] = G.Val(f"b{k}", FW.sup(r"\mathbf{b}", k), G.as_sym(layer.bias),
                                    G.as_sym(back.grad_b[i]), "param")
        chain.append(G.Val(f"z{k}", zname, G.as_sym(zs[i]), G.as_sym(delta)))
        if layer.activation != "linear":
            chain.append(G.Op(f"f{k}", "$" + FW.NAMES[layer.activation].replace(r"\operatorname", r"\mathrm") + "$"))
            chain.append(G.Val(f"a{k}", FW.sup("A", k) + (r" = \hat{Y}" if last else ""), G.as_sym(acts[i]),
                               G.as_sym(back.upstream[i])))
    chain.append(G.Op("loss", {"mse": "MSE", "sse": "SSE", "half_sse": r"$\frac{1}{2}$SSE", "cross_entropy": "CE",
                               "bce": "BCE"}[p.loss]))
    targets = [[c] for c in classes] if classes is not None else y
    side["loss"] = G.Val("y", "Y" if classes is None else r"\mathbf{y}", G.as_sym(targets), None, "data")
    chain.append(G.Val("loss_value", r"\mathcal{L}", G.as_sym(back.loss), sympy.Integer(1), "loss"))
    return G.figure(chain, side, p.digits)


def _answers(s: Solution, layers: list[L.Layer], acts: list, back: Backward, new_w: list, new_b: list) -> None:
    FW.answer_network(s, layers)
    FW.answer(s, "output", acts[-1], r"\hat{Y}")
    FW.answer(s, "loss", back.loss, r"\mathcal{L}")
    FW.answer(s, "grad_weights", back.grad_w, r"\partial\mathcal{L}/\partial W^{[1]}, \dots", per_layer=True)
    FW.answer(s, "grad_biases", back.grad_b, r"\partial\mathcal{L}/\partial\mathbf{b}^{[1]}, \dots", per_layer=True)
    FW.answer(s, "updated_weights", new_w, r"W^{[1]}_{\text{new}}, \dots", per_layer=True)
    FW.answer(s, "updated_biases", new_b, r"\mathbf{b}^{[1]}_{\text{new}}, \dots", per_layer=True)


def _notes(s: Solution, layers: list[L.Layer], zs: list, back: Backward) -> None:
    """Why the gradients vanish (when they do), and where a ReLU sat exactly at its kink."""
    all_zero = all(L.sign(v) == 0 for v in G.flat(back.deltas[-1]))
    if all_zero:
        why = ("every output already equals its target, so the output gradient is 0 for every sample"
               if all(L.sign(v) == 0 for v in G.flat(back.out_grad)) else
               "the gradient at the output is 0 for every sample")
        s.note(f"All gradients are 0: {why}. Every gradient further back is a product with it (the chain rule), "
               "so every upstream gradient vanishes, and the update leaves every weight and bias unchanged. "
               + (f"The loss is {'0' if L.sign(back.loss) == 0 else 'at a stationary point'}."))
    for layer, z in zip(layers, zs):
        if layer.activation in ("relu", "leaky_relu"):
            zeros = G.zero_positions(z)
            if zeros:
                s.note(f"In layer {layer.index + 1}, {len(zeros)} pre-activation"
                       f"{'s are' if len(zeros) > 1 else ' is'} exactly 0 (sample, unit: "
                       + ", ".join(f"({n}, {j})" for n, j in zeros[:8]) + (" …" if len(zeros) > 8 else "")
                       + "); there the derivative of the "
                       + ("ReLU is 0" if layer.activation == "relu" else "leaky ReLU is its slope")
                       + ", following PyTorch's convention at the kink.")


def given(p: Problem) -> list[tuple[str, Latex]]:
    """The data of the problem for the question sheet."""
    layers = L.resolve(p, len(p.inputs[0]))
    return ([("inputs", tex(p.inputs)), ("targets", tex(p.targets))] + FW.given_layers(p, layers)
            + [("loss", Latex(r"\text{%s}" % p.loss.replace("_", r"\_"))), ("learning rate", tex(p.learning_rate))])


# ---- independent float64 recomputation ---------------------------------------------------------------

def recompute(p: Problem) -> dict[str, Any]:
    """Independent float64 forward, loss, backward and update (NumPy, textbook matrix formulas)."""
    x = np.array(p.inputs, dtype=float)
    layers = L.resolve(p, x.shape[1])
    params = FW.np_layers(layers)
    zs, acts = FW.np_forward(params, x)
    out, z = acts[-1], zs[-1]
    n, k = out.shape
    if p.loss == "cross_entropy":
        c = np.array([int(v) for v in p.targets])
        m = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
        loss = float(np.mean(lse - z[np.arange(n), c]))
        prob = np.exp(z - lse[:, None])
        onehot = np.eye(k)[c]
        delta = (prob - onehot) / n
    else:
        y = np.array(p.targets, dtype=float).reshape(n, k)
        if p.loss == "bce":
            # from the logits z, as -[y log σ(z) + (1-y) log(1-σ(z))] = max(z,0) - y z + log(1 + e^{-|z|}):
            # log(1 - σ(z)) in float64 loses every digit once σ(z) rounds to 1
            loss = float(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))))
            delta = (out - y) / (n * k)
        else:
            diff = out - y
            squares = np.sum(diff ** 2)
            loss = float({"mse": squares / (n * k), "sse": squares, "half_sse": 0.5 * squares}[p.loss])
            g = {"mse": 2 * diff / (n * k), "sse": 2 * diff, "half_sse": diff}[p.loss]
            delta = _np_through(params[-1], g, z, out)
    grads_w, grads_b = [None] * len(params), [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        w, b, act, slope = params[i]
        a_prev = x if i == 0 else acts[i - 1]
        grads_w[i] = delta.T @ a_prev
        grads_b[i] = delta.sum(axis=0) if b is not None else None
        if i > 0:
            _, _, act_below, slope_below = params[i - 1]
            delta = _np_through((None, None, act_below, slope_below), delta @ w, zs[i - 1], acts[i - 1])
    lr = float(p.learning_rate)
    return {"weights": [w for w, *_ in params], "biases": [b for _, b, *_ in params], "output": out, "loss": loss,
            "grad_weights": grads_w, "grad_biases": grads_b,
            "updated_weights": [w - lr * g for (w, *_), g in zip(params, grads_w)],
            "updated_biases": [None if b is None else b - lr * g for (_, b, *_), g in zip(params, grads_b)]}


def _np_through(param: tuple, g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """∂L/∂Z from ∂L/∂A in float64."""
    act, slope = param[2], param[3]
    if act == "linear":
        return g
    if act == "relu":
        return g * (z > 0)
    if act == "leaky_relu":
        return g * np.where(z > 0, 1.0, slope)
    if act == "sigmoid":
        return g * a * (1 - a)
    if act == "tanh":
        return g * (1 - a ** 2)
    return a * (g - (g * a).sum(axis=1, keepdims=True))
