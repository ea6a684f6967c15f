"""Dense layers shared by `forward` and `backprop`: shape checks and random draws (SPEC §8); and the exact helpers
other kinds use (values Fraction or SymPy, a big expression carried as a SymPy Float; the dense kinds themselves
work through `_dense_exact`, which also carries values without building them)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import sympy

from .. import fields as F
from ..numbers import to_number
from ..problem import Problem
from ._dense_parse import (DEFAULT_INIT, DEFAULT_SLOPE, INIT, LAYER, LAYOUTS, MAX_DECIMALS, RANDOM,  # noqa: F401
                           parse_init, parse_layers)


@dataclass
class Layer:
    """One dense layer, resolved: weights units × inputs (exact), bias or None, where each came from."""

    index: int
    units: int
    inputs: int
    activation: str
    slope: sympy.Expr | None
    weights: list[list[sympy.Expr]]
    bias: list[sympy.Expr] | None
    drawn_weights: bool = False
    drawn_bias: bool = False
    layout: str = "out_in"

    @property
    def params(self) -> int:
        """Weights and biases of the layer."""
        return self.units * self.inputs + (self.units if self.bias is not None else 0)


def _misfit(got: tuple[int, int], inputs: int, units: int | None, layout: str) -> str | None:
    """Why a weights matrix does not fit (None when it does), naming the layout that would fit."""
    def fits(shape: tuple[int, int], rows_are_units: bool) -> bool:
        """Does a shape fit, read one way or the other?"""
        unit_dim, input_dim = shape if rows_are_units else shape[::-1]
        return input_dim == inputs and (units is None or unit_dim == units)

    def want(rows_are_units: bool) -> str:
        """The shape wanted, as the message writes it."""
        u = str(units) if units else "units"
        pair = (u, str(inputs)) if rows_are_units else (str(inputs), u)
        return "×".join(pair) if units else " × ".join(pair)

    default = layout == "out_in"
    if fits(got, default):
        return None
    shown = F.shape_text(got)
    if default:
        head = f"expected {want(True)} (units × inputs), got {shown}"
        if fits(got, False):
            return f"{head}; this fits layout: in_out (inputs × units): add `layout: in_out` to the layer"
        return f"{head}; it fits neither layout (layout: in_out would need {want(False)})"
    head = f"expected {want(False)} (inputs × units, layout: in_out), got {shown}"
    if fits(got, True):
        return f"{head}; this fits the default layout (units × inputs): remove `layout: in_out`"
    return f"{head}; it fits neither layout (the default units × inputs would need {want(True)})"


def exact_draw(value: float) -> sympy.Rational:
    """A drawn float read as the shortest decimal that prints it (-0.0 is 0)."""
    return to_number(float(value)) + 0


def _draw(rng: np.random.Generator, init: dict, shape: tuple[int, ...]) -> np.ndarray:
    """Values drawn by `init` and rounded to its decimals (SPEC §8)."""
    if init["distribution"] == "uniform":
        values = rng.uniform(float(init["low"]), float(init["high"]), size=shape)
    else:
        values = rng.normal(float(init["mean"]), float(init["std"]), size=shape)
    return np.round(values, init["decimals"])


def resolve(p: Problem, inputs: int) -> list[Layer]:
    """Check every layer's shapes against its inputs and draw the random values (cached on the problem)."""
    cached = p.__dict__.get("_layers")
    if cached is not None:
        return cached
    init = p.fields.init or DEFAULT_INIT
    rng = p.rng()
    layers, total = [], 0
    for i, raw in enumerate(p.fields.layers):
        layer = _resolve_one(p, i, raw, inputs, init, rng)
        total += layer.params
        if total > p.ctx.limits.numbers:
            raise p.error("layers", f"the network has more than {p.ctx.limits.numbers:,} weights and biases "
                                    "(limit 'numbers')")
        layers.append(layer)
        inputs = layer.units
    p.__dict__["_layers"] = layers
    return layers


def _resolve_one(p: Problem, i: int, raw: dict, inputs: int, init: dict, rng: np.random.Generator) -> Layer:
    """One layer's weights (drawn or checked against its layout), bias and slope."""
    units = raw["units"]
    if raw["weights"] == RANDOM:
        if units is None:
            raise p.error(("layers", i, "units"), "required with weights: random (the number of rows to draw)")
        weights = [[exact_draw(v) for v in row] for row in _draw(rng, init, (units, inputs))]
        drawn = True
    else:
        given = raw["weights"]
        problem = _misfit(F.shape(given), inputs, units, raw["layout"])
        if problem:
            raise p.error(("layers", i, "weights"), problem)
        weights = given if raw["layout"] == "out_in" else [list(col) for col in zip(*given)]
        units, drawn = len(weights), False
    bias, drawn_bias = raw["bias"], False
    if bias == RANDOM:
        bias, drawn_bias = [exact_draw(v) for v in _draw(rng, init, (units,))], True
    elif bias is not None and len(bias) != units:
        raise p.error(("layers", i, "bias"), f"expected {units} numbers (one per unit), got {len(bias)}")
    slope = raw["slope"] if raw["slope"] is not None else (DEFAULT_SLOPE if raw["activation"] == "leaky_relu"
                                                            else None)
    return Layer(i, units, inputs, raw["activation"], slope, weights, bias, drawn, drawn_bias, raw["layout"])


# ---- exact arithmetic: Fractions while rational (fast), SymPy once transcendental -----------------

SIZE_LIMIT = 100         # nodes of one expression past which it is carried as a 50-digit decimal
PRECISION = 50


def frac(x: sympy.Rational) -> Fraction:
    """A SymPy rational as a Fraction."""
    return Fraction(int(x.p), int(x.q))


def sym(x: Any) -> sympy.Expr:
    """A value (Fraction or SymPy) as SymPy."""
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    if isinstance(x, int):
        return sympy.Integer(x)
    return x


def to_sympy(x: Any, one: Callable[[Any], Any] | None = None) -> Any:
    """Nested lists of values as SymPy (None kept), each through `one` (default: sym)."""
    if x is None:
        return None
    if isinstance(x, list):
        return [to_sympy(v, one) for v in x]
    return (one or sym)(x)


def _size(x: sympy.Basic, limit: int) -> tuple[int, bool]:
    """Nodes of an expression (stopping past `limit`) and whether it holds a Float."""
    n, has_float, stack = 0, False, [x]
    while stack and n <= limit:
        e = stack.pop()
        n += 1
        if isinstance(e, sympy.Float):
            has_float = True
        stack.extend(e.args)
    return n, has_float


def tame(x: Any) -> Any:
    """Keep a value exact while small; carry it as a 50-digit decimal past SIZE_LIMIT or once it meets one."""
    if isinstance(x, (Fraction, int)) or isinstance(x, (sympy.Rational, sympy.Float)):
        return x
    n, has_float = _size(x, SIZE_LIMIT)
    if n > SIZE_LIMIT or has_float:
        return sympy.Float(x.evalf(PRECISION), PRECISION)
    return x


def is_approx(x: Any) -> bool:
    """True when a nested value holds a carried decimal."""
    if isinstance(x, list):
        return any(is_approx(v) for v in x)
    return isinstance(x, sympy.Float)


def settle(x: Any) -> tuple[Any, bool]:
    """An answer made consistent: once any entry is carried as a decimal, every irrational entry is; (value, approx)."""
    if not is_approx(x):
        return x, False

    def conv(v: Any) -> Any:
        """One entry (or list) with an irrational value as its 50-digit decimal."""
        if isinstance(v, list):
            return [conv(e) for e in v]
        if v is None or isinstance(v, (sympy.Rational, sympy.Float)):
            return v
        return sympy.Float(v.evalf(PRECISION), PRECISION)
    return conv(x), True


def dot(ws: list, xs: list) -> Any:
    """Σ w·x, in Fractions when all are rational."""
    if all(isinstance(v, Fraction) for v in xs) and all(isinstance(w, Fraction) for w in ws):
        total = Fraction(0)
        for w, x in zip(ws, xs):
            if w and x:
                total += w * x
        return total
    return tame(sympy.Add(*[sym(w) * sym(x) for w, x in zip(ws, xs) if w != 0 and x != 0]))


def add(a: Any, b: Any) -> Any:
    """a + b."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a + b
    return tame(sym(a) + sym(b))


def mul(a: Any, b: Any) -> Any:
    """a · b."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a * b
    if a == 0 or b == 0:
        return Fraction(0)
    return tame(sym(a) * sym(b))


def sign(x: Any) -> int:
    """-1, 0 or 1, exactly (a symbolic value is decided numerically, then by `equals`)."""
    if isinstance(x, Fraction):
        return (x > 0) - (x < 0)
    value = sympy.N(x, 30)
    if abs(value) > sympy.Float("1e-25"):
        return 1 if value > 0 else -1
    if isinstance(x, sympy.Float) or x.equals(0):
        return 0
    value = sympy.N(x, 200)
    return 1 if value > 0 else -1


def normalize(x: Any) -> Any:
    """A SymPy rational back to a Fraction (the fast road)."""
    if isinstance(x, sympy.Rational):
        return frac(x)
    return x


def activate(name: str, z: list, slope: Any = None) -> list:
    """f(z) for one sample's pre-activations."""
    if name == "linear":
        return list(z)
    if name == "relu":
        return [v if sign(v) > 0 else Fraction(0) for v in z]
    if name == "leaky_relu":
        s = frac(slope)
        return [v if sign(v) > 0 else mul(s, v) for v in z]
    if name == "sigmoid":
        return [normalize(tame(1 / (1 + sympy.exp(-sym(v))))) for v in z]
    if name == "tanh":
        return [normalize(tame(sympy.tanh(sym(v)))) for v in z]
    if name == "softmax":   # e^{z_j} / Σ_k e^{z_k} written as 1 / Σ_k e^{z_k − z_j}: the same number, short to print
        zs = [sym(v) for v in z]
        return [normalize(tame(1 / sympy.Add(*[sympy.exp(zk - zj) for zk in zs]))) for zj in zs]
    raise ValueError(name)


def derivative(name: str, z: list, a: list, slope: Any = None) -> list:
    """f′(z) elementwise (not for softmax): relu′(0) = 0, leaky_relu′(0) = slope, as PyTorch."""
    if name == "linear":
        return [Fraction(1)] * len(z)
    if name == "relu":
        return [Fraction(1) if sign(v) > 0 else Fraction(0) for v in z]
    if name == "leaky_relu":
        return [Fraction(1) if sign(v) > 0 else frac(slope) for v in z]
    if name == "sigmoid":
        return [normalize(tame(sym(v) * (1 - sym(v)))) for v in a]
    if name == "tanh":
        return [normalize(tame(1 - sym(v) ** 2)) for v in a]
    raise ValueError(name)
