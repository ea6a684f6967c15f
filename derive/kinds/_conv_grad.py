"""conv2d's exact backward pass: δ = G ⊙ f′(Z), ∂L/∂b as the sum of δ, ∂L/∂K as the cross-correlation of the
padded input with δ, ∂L/∂X as the full convolution of δ with the flipped kernel (dilate δ by the stride, pad, slide
the rotated kernel, crop the padding)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..problem import Problem
from . import _conv_core as C
from . import _images as I
from ._layers import settle, tame

ZERO = sympy.Integer(0)


@dataclass
class Backward:
    """Everything the backward pass computes, filter by filter and channel by channel."""

    upstream: list        # G = ∂L/∂Y per filter (oh × ow)
    derivs: list | None   # f′(Z) per filter (None for a linear activation)
    deltas: list          # δ = ∂L/∂Z per filter
    grad_bias: list       # one per filter
    grad_used: list       # ∂L/∂(the kernel used in the forward pass) per filter: [channel][u][v]
    grad_kernels: list    # ∂L/∂(the kernel as given): grad_used rotated back when flip is true
    full: list            # per image channel: the full convolution (s(o − 1) + span rows and columns)
    grad_padded: list     # per image channel: ∂L/∂X^pad (rows and columns no window reached are 0)
    grad_image: list      # per image channel: ∂L/∂X (H × W)


# ---- matrices ----------------------------------------------------------------------------------------

def dilate(m: list[list], step: tuple[int, int]) -> list[list]:
    """Insert step − 1 zeros between neighbouring entries (rows and columns)."""
    sr, sc = step
    rows, cols = sr * (len(m) - 1) + 1, sc * (len(m[0]) - 1) + 1
    out = [[ZERO] * cols for _ in range(rows)]
    for i, row in enumerate(m):
        for j, v in enumerate(row):
            out[sr * i][sc * j] = v
    return out


def pad(m: list[list], top: int, bottom: int, left: int, right: int) -> list[list]:
    """Zeros added around a matrix."""
    width = len(m[0]) + left + right
    return ([[ZERO] * width for _ in range(top)] + [[ZERO] * left + list(r) + [ZERO] * right for r in m]
            + [[ZERO] * width for _ in range(bottom)])


def hadamard(a: list[list], b: list[list]) -> list[list]:
    """The entry-by-entry product."""
    return [[tame(x * y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def upstream_list(p: Problem) -> list:
    """G, one matrix per filter."""
    return [p.fields.upstream] if p.fields.kernels is None else list(p.fields.upstream)


# ---- the activation's derivative -------------------------------------------------------------------

def derivative(z: Any, p: Problem) -> Any:
    """f′(z) exactly: relu′(0) = 0 and leaky_relu′(0) = slope (as PyTorch)."""
    name = p.fields.activation
    if name == "relu":
        return sympy.Integer(1) if z > 0 else ZERO
    if name == "leaky_relu":
        return sympy.Integer(1) if z > 0 else C.slope(p)
    if name == "sigmoid":
        return tame(sympy.exp(-z) / (1 + sympy.exp(-z)) ** 2)
    if name == "tanh":
        return tame(1 - sympy.tanh(z) ** 2)
    return sympy.Integer(1)


def derivative_from_output(y: Any, p: Problem) -> Any:
    """f′ written through the output y = f(z) (a student's own output, for follow-through); None if it cannot be."""
    name = p.fields.activation
    if name == "relu":
        return sympy.Integer(1) if y > 0 else ZERO
    if name == "leaky_relu":
        return (sympy.Integer(1) if y > 0 else C.slope(p)) if C.slope(p) > 0 else None
    if name == "sigmoid":
        return tame(y * (1 - y))
    if name == "tanh":
        return tame(1 - y ** 2)
    return sympy.Integer(1)


# ---- the pass ----------------------------------------------------------------------------------------

def backward(p: Problem, x: list, used: list, pre: list, upstream: list | None = None,
             derivs: list | None = None, flipped: bool = True) -> Backward:
    """The backward pass from the padded image x, the kernels used, the pre-activations Z and G.

    `derivs` replaces f′(Z) (a student's own output, or all ones for a slip); `flipped=False` slides the kernel
    unrotated in ∂L/∂X (a slip).
    """
    g = upstream if upstream is not None else upstream_list(p)
    linear = p.fields.activation == "linear"
    if derivs is None and not linear:
        derivs = [[[derivative(v, p) for v in row] for row in zf] for zf in pre]
    deltas = g if derivs is None else [hadamard(gf, df) for gf, df in zip(g, derivs)]
    grad_bias = [tame(sympy.Add(*I.flat(d))) for d in deltas]
    grad_used = [_kernel_grad(p, x, n, d) for n, d in enumerate(deltas)]
    grad_kernels = [[C.rot180(ch) for ch in f] for f in grad_used] if p.fields.flip else grad_used
    full = [_full(p, used, deltas, c, flipped) for c in range(len(x))]
    grad_padded = [_placed(ch, len(x[0]), len(x[0][0])) for ch in full]
    pt, pb, pl, pr = C.pads(p)
    grad_image = [[row[pl:len(row) - pr] for row in ch[pt:len(ch) - pb]] for ch in grad_padded]
    return Backward(g, None if linear and derivs is None else derivs, deltas, grad_bias, grad_used, grad_kernels,
                    full, grad_padded, grad_image)


def _kernel_grad(p: Problem, x: list, n: int, delta: list) -> list:
    """∂L/∂K[c, u, v] = Σ_ij δ[i, j]·X^pad[c, s·i + d·u, s·j + d·v], channel by channel."""
    return [C.correlate([x[c]], [delta], C.dilations(p), C.ksize(p), C.strides(p)) for c in C.group_channels(p, n)]


def readers(p: Problem, c: int) -> list[tuple[int, int]]:
    """(filter, its channel) of every filter that reads image channel c."""
    return [(n, list(C.group_channels(p, n)).index(c)) for n in range(len(C.filter_list(p)))
            if c in C.group_channels(p, n)]


def flipped_kernel(p: Problem, k: list[list], flipped: bool = True) -> list[list]:
    """The kernel dilated (d − 1 zeros between taps), then rotated by 180°."""
    wide = dilate(k, C.dilations(p))
    return C.rot180(wide) if flipped else wide


def spread(p: Problem, delta: list[list]) -> list[list]:
    """δ dilated by the stride, then padded with span − 1 zeros on every side."""
    eh, ew = C.span(p)
    return pad(dilate(delta, C.strides(p)), eh - 1, eh - 1, ew - 1, ew - 1)


def _full(p: Problem, used: list, deltas: list, c: int, flipped: bool) -> list[list]:
    """Σ over the filters reading channel c of (δ spread) ⋆ (their kernel flipped): the full convolution."""
    pairs = readers(p, c)
    stack = [spread(p, deltas[n]) for n, _ in pairs]
    kernels = [flipped_kernel(p, used[n][k], flipped) for n, k in pairs]
    eh, ew = C.span(p)
    (oh, ow), (sr, sc) = C.output_size(p), C.strides(p)
    return C.correlate(stack, kernels, (1, 1), (sr * (oh - 1) + eh, sc * (ow - 1) + ew))


def _placed(m: list[list], rows: int, cols: int) -> list[list]:
    """The full convolution in the padded image's frame: rows and columns no window reached are 0."""
    return pad(m, 0, rows - len(m), 0, cols - len(m[0]))


# ---- answers -----------------------------------------------------------------------------------------

def answers(p: Problem, b: Backward) -> dict[str, tuple[Any, bool]]:
    """grad_image, grad_kernel (or grad_kernels) and grad_bias shaped as the spec gave image, kernel(s) and bias,
    each with whether it is carried as a decimal."""
    image = b.grad_image[0] if I.is_bare(p.fields.image) else b.grad_image
    if p.fields.kernels is None:
        kernel = b.grad_kernels[0][0] if I.is_bare(p.fields.kernel) else b.grad_kernels[0]
        out = {"grad_image": image, "grad_kernel": kernel, "grad_bias": b.grad_bias[0]}
    else:
        kernels = [f[0] if I.is_bare(given) else f for f, given in zip(b.grad_kernels, p.fields.kernels)]
        out = {"grad_image": image, "grad_kernels": kernels, "grad_bias": b.grad_bias}
    return {name: settle(value) for name, value in out.items()}


def grad_names(p: Problem) -> list[str]:
    """The gradient answers of a problem with upstream."""
    return ["grad_image", "grad_kernel" if p.fields.kernels is None else "grad_kernels", "grad_bias"]
