"""The exact backward pass of a dense network: the loss, ∂L/∂Z layer by layer by the chain rule, ∂L/∂W, ∂L/∂b and
∂L/∂X, and one gradient-descent step with optional weight decay (values as in `_dense_exact`)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

from . import _dense_exact as E
from . import _dense_num as N
from . import _layers as L

SQUARED = {"mse", "half_mse", "sse", "half_sse"}
ONE_HOT = {"cross_entropy"}


@dataclass
class Backward:
    """Everything the backward pass computes (N × units per layer)."""

    loss: Any
    out_grad: list            # ∂L/∂Ŷ (N × K)
    deltas: list              # ∂L/∂Z per layer
    upstream: list            # ∂L/∂A per layer (the last is out_grad)
    derivs: list              # f′(Z) per layer (None for softmax)
    grad_w: list
    grad_b: list
    grad_x: list              # ∂L/∂X (N × inputs)


def _transpose(m: list[list]) -> list[list]:
    """Columns as rows."""
    return [list(col) for col in zip(*m)]


def loss_scale(loss: str, n: int, k: int) -> Fraction:
    """The factor in front of Σ(ŷ − y)² (or Σ|ŷ − y|) of each elementwise loss."""
    return {"mse": Fraction(1, n * k), "half_mse": Fraction(1, 2 * n * k), "sse": Fraction(1),
            "half_sse": Fraction(1, 2), "l1": Fraction(1, n * k)}[loss]


def grad_scale(loss: str, n: int, k: int) -> Fraction:
    """∂L/∂Ŷ = grad_scale · (Ŷ − Y) for the squared losses (· sign(Ŷ − Y) for l1)."""
    return {"mse": Fraction(2, n * k), "half_mse": Fraction(1, n * k), "sse": Fraction(2), "half_sse": Fraction(1),
            "l1": Fraction(1, n * k)}[loss]


def differences(out: list, y: list) -> list:
    """Ŷ − Y."""
    return [[E.sub(a, t) for a, t in zip(ra, ry)] for ra, ry in zip(out, y)]


def loss_value(loss: str, out: list, z: list, y: list, classes: list[int] | None) -> Any:
    """The loss, exactly."""
    n, k = len(out), len(out[0])
    if loss in SQUARED or loss == "l1":
        diff = [v for row in differences(out, y) for v in row]
        parts = [E.mul(v, v) if loss in SQUARED else E.mul(Fraction(E.sign(v)), v) for v in diff]
        return E.mul(loss_scale(loss, n, k), E.total(parts))
    if loss in ONE_HOT:
        terms = [E.sub(E.logsumexp(row), row[c]) for row, c in zip(z, classes)]
        return E.mul(Fraction(1, n), E.total(terms))
    terms = []
    for rz, ry in zip(z, y):
        for v, t in zip(rz, ry):   # −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z)
            if t != 0:
                terms.append(E.mul(t, E.unary("softplus", E.mul(E.MINUS, v))))
            if t != 1:
                terms.append(E.mul(E.sub(E.ONE, t), E.unary("softplus", v)))
    return E.mul(Fraction(1, n * k), E.total(terms))


def _output_delta(loss: str, layer: L.Layer, out: list, z: list, y: list | None,
                  classes: list[int] | None) -> tuple[list, list]:
    """(∂L/∂Ŷ, ∂L/∂Z of the last layer)."""
    n, k = len(out), len(out[0])
    if loss in ONE_HOT:
        probs = [E.softmax(row) for row in z]
        delta = [[E.mul(Fraction(1, n), E.sub(pj, Fraction(int(j == c)))) for j, pj in enumerate(row)]
                 for row, c in zip(probs, classes)]
        return delta, delta
    if loss == "bce":
        delta = [[E.mul(Fraction(1, n * k), E.sub(a, t)) for a, t in zip(ra, ry)] for ra, ry in zip(out, y)]
        grad = [[E.div(dv, E.mul(a, E.sub(E.ONE, a))) for dv, a in zip(rd, ra)] for rd, ra in zip(delta, out)]
        return grad, delta
    scale = grad_scale(loss, n, k)
    diff = differences(out, y)
    if loss == "l1":   # sign′: the derivative of |d| is sign(d), and 0 at d = 0 (torch.sign(0) = 0)
        grad = [[Fraction(E.sign(d)) * scale for d in row] for row in diff]
    else:
        grad = [[E.mul(scale, d) for d in row] for row in diff]
    return grad, _through(layer, grad, z, out)


def _through(layer: L.Layer, g: list, z: list, a: list) -> list:
    """∂L/∂Z from ∂L/∂A: elementwise f′, or the softmax Jacobian s ⊙ (g − g·s)."""
    if layer.activation == "softmax":
        out = []
        for gr, sr in zip(g, a):
            inner = E.dot(gr, sr)
            out.append([E.mul(s_, E.sub(gv, inner)) for gv, s_ in zip(gr, sr)])
        return out
    return [[E.mul(gv, dv) for gv, dv in zip(gr, dr)] for gr, dr in zip(g, derivs_of(layer, z, a))]


def derivs_of(layer: L.Layer, z: list, a: list) -> list:
    """f′(Z) (N × units)."""
    return [E.derivative(layer.activation, zr, ar, layer.slope) for zr, ar in zip(z, a)]


def backward(layers: list[L.Layer], x: list, zs: list, acts: list, y: list, loss: str,
             classes: list[int] | None) -> Backward:
    """The chain rule, layer by layer, from the loss back to the first weights and the inputs."""
    out = acts[-1]
    value = loss_value(loss, out, zs[-1], y, classes)
    out_grad, delta = _output_delta(loss, layers[-1], out, zs[-1], y, classes)
    nl = len(layers)
    deltas, upstream, derivs = [None] * nl, [None] * nl, [None] * nl
    grad_w, grad_b = [None] * nl, [None] * nl
    upstream[-1] = out_grad
    if layers[-1].activation != "softmax" and loss not in ONE_HOT | {"bce"}:
        derivs[-1] = derivs_of(layers[-1], zs[-1], out)
    grad_x: list = []
    for i in range(nl - 1, -1, -1):
        layer = layers[i]
        deltas[i] = delta
        a_prev = x if i == 0 else acts[i - 1]
        columns = _transpose(delta)
        grad_w[i] = E.matmul(columns, _transpose(a_prev))
        if layer.bias is not None:
            grad_b[i] = [E.total(col) for col in columns]
        g = E.matmul(delta, _transpose(E.rows(layer.weights)))
        if i == 0:
            grad_x = g
            break
        upstream[i - 1] = g
        derivs[i - 1] = derivs_of(layers[i - 1], zs[i - 1], acts[i - 1])
        delta = [[E.mul(gv, dv) for gv, dv in zip(gr, dr)] for gr, dr in zip(g, derivs[i - 1])]
    return Backward(value, out_grad, deltas, upstream, derivs, grad_w, grad_b, grad_x)


def step(p_: Any, g: Any, eta: Any, decay: Any) -> Any:
    """p − η·(g + λ·p): one SGD step with weight decay λ (torch.optim.SGD's weight_decay)."""
    if isinstance(g, N.Carried):
        return N.step(p_, g, eta, decay)
    return E.sub(p_, E.mul(eta, E.add(g, E.mul(decay, p_)) if not E.is_zero(decay) else g))


def stepped(before: Any, g: Any, eta: Any, decay: Any, rule: Callable[[Any, Any, Any, Any], Any] = step) -> Any:
    """`rule(p, g, η, λ)` entry by entry over nested values, given numbers made exact (None, no bias, kept)."""
    if before is None or g is None:
        return None
    if isinstance(before, list):
        return [stepped(b, gv, eta, decay, rule) for b, gv in zip(before, g)]
    return rule(E.num(before), E.num(g), eta, decay)


def update(layers: list[L.Layer], back: Backward, lr: Any, decay: Any = 0) -> tuple[list, list]:
    """W ← W − η (∂L/∂W + λW) and b ← b − η (∂L/∂b + λb) (no bias stays None)."""
    eta, lam = E.num(lr), E.num(decay)
    new_w = [[[step(w, g, eta, lam) for w, g in zip(wr, gr)] for wr, gr in zip(E.rows(layer.weights), gw)]
             for layer, gw in zip(layers, back.grad_w)]
    new_b = [None if layer.bias is None else [step(b, g, eta, lam) for b, g in zip(E.rows([layer.bias])[0], gb)]
             for layer, gb in zip(layers, back.grad_b)]
    return new_w, new_b
