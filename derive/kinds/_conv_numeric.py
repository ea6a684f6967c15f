"""conv2d again, independently, in float64 NumPy: the forward pass as explicit loops over windows and taps, and
the backward pass by scattering each δ back to every weight and input entry it touched (no full convolution)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..problem import Problem
from . import _conv_core as C
from . import _images as I


def _act(z: np.ndarray, p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(f(z), f′(z)) elementwise: relu′(0) = 0, leaky_relu′(0) = slope."""
    slope = float(C.slope(p))
    name = p.fields.activation
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z), np.where(z > 0, 1.0, slope)
    if name == "sigmoid":
        y = 1.0 / (1.0 + np.exp(-z))
        return y, y * (1.0 - y)
    if name == "tanh":
        y = np.tanh(z)
        return y, 1.0 - y * y
    return z, np.ones_like(z)


def recompute(p: Problem) -> dict[str, Any]:
    """Every answer in float64: loops over filters, positions and taps."""
    x = np.array(I.channels(p.fields.image), dtype=float)
    pt, pb, pl, pr = C.pads(p)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr)))
    w = np.array(C.filter_list(p), dtype=float)
    if p.fields.flip:
        w = w[:, :, ::-1, ::-1]
    (oh, ow), (sr, sc), (dr, dc) = C.output_size(p), C.strides(p), C.dilations(p)
    n_filters, per_group, kh, kw = w.shape
    per_filter_group = n_filters // p.fields.groups
    z = np.zeros((n_filters, oh, ow))
    for f in range(n_filters):
        c0 = (f // per_filter_group) * per_group
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * sr, i * sr + dr * (kh - 1) + 1, dr)
                cols = slice(j * sc, j * sc + dc * (kw - 1) + 1, dc)
                patch = xp[c0:c0 + per_group, rows, cols]
                z[f, i, j] = float(np.sum(patch * w[f]))
    z += np.array([float(b) for b in C.biases(p)])[:, None, None]
    y, dy = _act(z, p)
    out = {"output": y[0] if p.fields.kernels is None else y, "output_shape": list(y.shape)}
    if p.fields.upstream is not None:
        out.update(_backward(p, xp, w, dy, (pt, pb, pl, pr), per_filter_group))
    return out


def _backward(p: Problem, xp: np.ndarray, w: np.ndarray, dy: np.ndarray, pads: tuple, per_filter_group: int) -> dict:
    """Scatter δ = G·f′(Z) to every weight and input entry of each window."""
    g = np.array(p.fields.upstream, dtype=float).reshape(dy.shape)
    delta = g * dy
    (sr, sc), (dr, dc) = C.strides(p), C.dilations(p)
    n_filters, per_group, kh, kw = w.shape
    gw, gx = np.zeros_like(w), np.zeros_like(xp)
    for f in range(n_filters):
        c0 = (f // per_filter_group) * per_group
        for i in range(delta.shape[1]):
            for j in range(delta.shape[2]):
                rows = slice(i * sr, i * sr + dr * (kh - 1) + 1, dr)
                cols = slice(j * sc, j * sc + dc * (kw - 1) + 1, dc)
                gw[f] += delta[f, i, j] * xp[c0:c0 + per_group, rows, cols]
                gx[c0:c0 + per_group, rows, cols] += delta[f, i, j] * w[f]
    if p.fields.flip:
        gw = gw[:, :, ::-1, ::-1]
    pt, pb, pl, pr = pads
    gx = gx[:, pt:gx.shape[1] - pb, pl:gx.shape[2] - pr]
    gb = delta.sum(axis=(1, 2))
    image = gx[0] if I.is_bare(p.fields.image) else gx
    if p.fields.kernels is None:
        kernel = gw[0, 0] if I.is_bare(p.fields.kernel) else gw[0]
        return {"grad_image": image, "grad_kernel": kernel, "grad_bias": float(gb[0])}
    kernels = [gw[n, 0] if I.is_bare(given) else gw[n] for n, given in enumerate(p.fields.kernels)]
    return {"grad_image": image, "grad_kernels": kernels, "grad_bias": gb}
