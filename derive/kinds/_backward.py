"""The exact backward pass of a dense network: the loss, ∂L/∂Z layer by layer by the chain rule, ∂L/∂W and
∂L/∂b, and one gradient-descent step (values Fractions while rational, SymPy once transcendental)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from . import _layers as L


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
