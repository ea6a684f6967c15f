"""conv2d's geometry and exact arithmetic: filters, padding, strides, sizes, the padded image, the exact
cross-correlation and the activation (shared by the kind and its worked steps)."""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from ..problem import Problem
from . import _images as I
from ._geometry import out_size, same_padding
from ._layers import tame


# ---- shapes ------------------------------------------------------------------------------------

def filter_list(p: Problem) -> list[list]:
    """Each filter as a list of channel matrices (each has channels/groups of them)."""
    if p.fields.kernels is None:
        return [I.channels(p.fields.kernel)]
    return [I.channels(f) for f in p.fields.kernels]


def kernel_path(p: Problem, i: int) -> tuple:
    """Where filter i was given: `kernel`, or `kernels[i]`."""
    return ("kernel",) if p.fields.kernels is None else ("kernels", i)


def pads(p: Problem) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zeros added; `same` splits k − 1 with the extra at the bottom/right."""
    if p.fields.padding == "valid":
        return 0, 0, 0, 0
    if p.fields.padding == "same":
        (kh, kw), (dr, dc) = ksize(p), dilations(p)
        return (*same_padding(kh, dr), *same_padding(kw, dc))
    ph, pw = I.as_pair(p.fields.padding)
    return ph, ph, pw, pw


def strides(p: Problem) -> tuple[int, int]:
    """(row stride, column stride)."""
    return I.as_pair(p.fields.stride)


def dilations(p: Problem) -> tuple[int, int]:
    """(row dilation, column dilation): the step between a kernel's taps."""
    return I.as_pair(p.fields.dilation)


def groups(p: Problem) -> int:
    """The number of groups (1: every filter sees every channel)."""
    return p.fields.groups


def group_channels(p: Problem, n: int) -> range:
    """The image channels filter n sees: those of its group."""
    per_group = len(I.channels(p.fields.image)) // groups(p)
    group = n // (len(filter_list(p)) // groups(p))
    return range(group * per_group, (group + 1) * per_group)


def span(p: Problem) -> tuple[int, int]:
    """The rows and columns a kernel covers: d·(k − 1) + 1 along each axis."""
    (kh, kw), (dr, dc) = ksize(p), dilations(p)
    return dr * (kh - 1) + 1, dc * (kw - 1) + 1


def ksize(p: Problem) -> tuple[int, int]:
    """(kernel rows, kernel columns)."""
    first = filter_list(p)[0][0]
    return len(first), len(first[0])


def isize(p: Problem) -> tuple[int, int]:
    """(image rows, image columns)."""
    first = I.channels(p.fields.image)[0]
    return len(first), len(first[0])


def output_size(p: Problem) -> tuple[int, int]:
    """(output rows, output columns)."""
    (h, w), (kh, kw), (sr, sc), (dr, dc) = isize(p), ksize(p), strides(p), dilations(p)
    pt, pb, pl, pr = pads(p)
    return out_size(h, kh, sr, pt + pb, dr), out_size(w, kw, sc, pl + pr, dc)


def pad_text(p: Problem) -> str:
    """The padding as the spec says it: `same`, `1`, `[1, 0]`."""
    if isinstance(p.fields.padding, str):
        return p.fields.padding
    return I.pair_text(p.fields.padding)


def count(n: int, what: str) -> str:
    """`1 filter`, `2 filters`."""
    return f"{n} {what}{'s' if n != 1 else ''}"


# ---- exact arithmetic ----------------------------------------------------------------------------

def padded(p: Problem) -> list[list[list]]:
    """The image channels with zeros added around them."""
    pt, pb, pl, pr = pads(p)
    out = []
    for ch in I.channels(p.fields.image):
        w = len(ch[0]) + pl + pr
        zero = sympy.Integer(0)
        rows = [[zero] * w for _ in range(pt)]
        rows += [[zero] * pl + list(r) + [zero] * pr for r in ch]
        rows += [[zero] * w for _ in range(pb)]
        out.append(rows)
    return out


def rot180(m: list[list]) -> list[list]:
    """A matrix rotated by 180° (rows and columns reversed)."""
    return [list(reversed(r)) for r in reversed(m)]


def _to_int_array(stack: list, d: int) -> np.ndarray:
    """Exact rationals times their common denominator d, as a Python-int object array."""
    return np.array([[[int(v * d) for v in row] for row in ch] for ch in stack], dtype=object)


def _rational(stack: list) -> bool:
    """True when every number of a stack is rational (the fast road of integer arithmetic)."""
    return all(isinstance(v, (int, sympy.Rational)) for v in I.flat(stack))


def correlate(x: list, f: list, stride: tuple[int, int], out: tuple[int, int],
              dilation: tuple[int, int] = (1, 1)) -> list[list]:
    """Exact Σ_c Σ_u,v x[c, s·i + d·u, s·j + d·v]·f[c, u, v] (integers over one denominator while rational)."""
    if not (_rational(x) and _rational(f)):
        return _correlate_symbolic(x, f, stride, out, dilation)
    dx, df = I.common_denominator(I.flat(x)), I.common_denominator(I.flat(f))
    xi, fi = _to_int_array(x, dx), _to_int_array(f, df)
    big = max(abs(int(v)) for v in xi.flat) * max(abs(int(v)) for v in fi.flat) * fi.size
    if big < 2**62:
        xi, fi = xi.astype(np.int64), fi.astype(np.int64)
    acc = _slide(xi, fi, stride, out, dilation)
    d = dx * df
    return [[sympy.Rational(int(a), d) for a in row] for row in acc]


def _slide(xi: np.ndarray, fi: np.ndarray, stride: tuple[int, int], out: tuple[int, int],
           dilation: tuple[int, int]) -> np.ndarray:
    """Σ over channels and taps of tap·(the strided slice under it): the sliding sum, slice by slice."""
    (oh, ow), (sr, sc), (dr, dc) = out, stride, dilation
    acc = np.zeros((oh, ow), dtype=xi.dtype)
    if acc.dtype == object:
        acc[:] = 0
    for c in range(fi.shape[0]):
        for u in range(fi.shape[1]):
            for v in range(fi.shape[2]):
                k = fi[c, u, v]
                if k:
                    acc = acc + k * xi[c, dr * u:dr * u + sr * (oh - 1) + 1:sr, dc * v:dc * v + sc * (ow - 1) + 1:sc]
    return acc


def _correlate_symbolic(x: list, f: list, stride: tuple[int, int], out: tuple[int, int],
                        dilation: tuple[int, int]) -> list[list]:
    """The sliding sum of SymPy values (exp, tanh), each entry kept exact while small (see `_layers.tame`)."""
    xa = np.array(x, dtype=object)
    fa = np.array(f, dtype=object)
    acc = _slide(xa, fa, stride, out, dilation)
    return [[tame(sympy.sympify(a)) for a in row] for row in acc]


def forward(p: Problem) -> tuple[list, list, list, list, list]:
    """(padded image, kernels used, responses, pre-activations Z, outputs), exactly."""
    used = [[rot180(ch) for ch in f] if p.fields.flip else f for f in filter_list(p)]
    x = padded(p)
    out = output_size(p)
    responses = [correlate([x[c] for c in group_channels(p, n)], f, strides(p), out, dilations(p))
                 for n, f in enumerate(used)]
    pre = [[[z + b for z in row] for row in r] for r, b in zip(responses, biases(p))]
    outputs = [[[activate(z, p) for z in row] for row in zf] for zf in pre]
    return x, used, responses, pre, outputs


def activate(z: Any, p: Problem) -> Any:
    """The activation of one exact value."""
    activation = p.fields.activation
    if activation == "relu":
        return z if z > 0 else sympy.Integer(0)
    if activation == "leaky_relu":
        return z if z > 0 else slope(p) * z
    if activation == "sigmoid":
        return 1 / (1 + sympy.exp(-z))
    if activation == "tanh":
        return sympy.tanh(z)
    return z


def slope(p: Problem) -> sympy.Rational:
    """The leaky ReLU's slope (0.01 unless given)."""
    return p.fields.slope if p.fields.slope is not None else sympy.Rational(1, 100)


def has_bias_or_act(p: Problem) -> bool:
    """True when the output differs from the sum of products (a bias or a nonlinear activation)."""
    return any(b != 0 for b in biases(p)) or p.fields.activation != "linear"


def biases(p: Problem) -> list:
    """One bias per filter."""
    n = len(filter_list(p))
    return list(p.fields.bias) if isinstance(p.fields.bias, list) else [p.fields.bias] * n
