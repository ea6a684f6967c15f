"""The independent float64 recomputation of the dense kinds (NumPy, textbook matrix formulas, nothing shared with
the exact derivation but the resolved layers)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..problem import Problem
from . import _layers as L

KINK_NOISE = 1e-12   # relative size of float64 rounding noise around an exact 0


def np_activate(name: str, z: np.ndarray, slope: float) -> np.ndarray:
    """f(z) in float64."""
    if name == "linear":
        return z
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_layers(layers: list[L.Layer]) -> list[tuple]:
    """(W, b or None, activation, slope) in float64."""
    return [(np.array(layer.weights, dtype=float), None if layer.bias is None else np.array(layer.bias, dtype=float),
             layer.activation, float(layer.slope or 0)) for layer in layers]


def np_forward(params: list[tuple], x: np.ndarray) -> tuple[list, list]:
    """Z and A of every layer in float64 (x is N × inputs)."""
    zs, acts, a = [], [], x
    for w, b, act, slope in params:
        z = a @ w.T + (b if b is not None else 0.0)
        # a sum that is exactly 0 comes out of float64 as ±1e-16 or so: read it as 0, so that the check
        # takes the same side of a ReLU kink as the exact value (PyTorch's float64 may not; see the README)
        noise = KINK_NOISE * (np.abs(a) @ np.abs(w).T + (np.abs(b) if b is not None else 0.0))
        z = np.where(np.abs(z) <= noise, 0.0, z)
        a = np_activate(act, z, slope)
        zs.append(z)
        acts.append(a)
    return zs, acts


def _through(param: tuple, g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
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


def _loss_and_delta(p: Problem, params: list[tuple], zs: list, acts: list) -> tuple[float, np.ndarray]:
    """The loss and ∂L/∂Z of the last layer."""
    out, z = acts[-1], zs[-1]
    n, k = out.shape
    loss_name = p.fields.loss
    if loss_name == "cross_entropy":
        c = np.array([int(v) for v in p.fields.targets])
        m = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
        prob = np.exp(z - lse[:, None])
        return float(np.mean(lse - z[np.arange(n), c])), (prob - np.eye(k)[c]) / n
    y = np.array(p.fields.targets, dtype=float).reshape(n, k)
    if loss_name == "bce":
        # from the logits z, as -[y log σ(z) + (1-y) log(1-σ(z))] = max(z,0) - y z + log(1 + e^{-|z|}):
        # log(1 - σ(z)) in float64 loses every digit once σ(z) rounds to 1
        return float(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z))))), (out - y) / (n * k)
    diff = out - y
    if loss_name == "l1":
        # an exact tie ŷ = y comes out of float64 as ±1e-16: read it as 0, as the exact sign′(0) = 0
        diff = np.where(np.abs(diff) <= KINK_NOISE * (np.abs(out) + np.abs(y)), 0.0, diff)
        return float(np.mean(np.abs(diff))), _through(params[-1], np.sign(diff) / (n * k), z, out)
    squares = np.sum(diff ** 2)
    loss = {"mse": squares / (n * k), "half_mse": squares / (2 * n * k), "sse": squares,
            "half_sse": 0.5 * squares}[loss_name]
    g = {"mse": 2 * diff / (n * k), "half_mse": diff / (n * k), "sse": 2 * diff, "half_sse": diff}[loss_name]
    return float(loss), _through(params[-1], g, z, out)


def recompute(p: Problem) -> dict[str, Any]:
    """`backprop` again in float64: forward, loss, backward, ∂L/∂X, and the SGD step with weight decay."""
    x = np.array(p.fields.inputs, dtype=float)
    layers = L.resolve(p, x.shape[1])
    params = np_layers(layers)
    zs, acts = np_forward(params, x)
    loss, delta = _loss_and_delta(p, params, zs, acts)
    grads_w, grads_b = [None] * len(params), [None] * len(params)
    grad_x = None
    for i in range(len(params) - 1, -1, -1):
        w, b, _, _ = params[i]
        grads_w[i] = delta.T @ (x if i == 0 else acts[i - 1])
        grads_b[i] = delta.sum(axis=0) if b is not None else None
        if i == 0:
            grad_x = delta @ w
        else:
            delta = _through(params[i - 1], delta @ w, zs[i - 1], acts[i - 1])
    lr = float(p.fields.learning_rate)
    lam = float(p.fields.weight_decay or 0)
    out = {"weights": [w for w, *_ in params], "biases": [b for _, b, *_ in params], "output": acts[-1],
           "loss": loss, "grad_weights": grads_w, "grad_biases": grads_b,
           "updated_weights": [w - lr * (g + lam * w) for (w, *_), g in zip(params, grads_w)],
           "updated_biases": [None if b is None else b - lr * (g + lam * b) for (_, b, *_), g in zip(params, grads_b)]}
    if p.fields.grad_inputs:
        out["grad_inputs"] = grad_x
    return out
