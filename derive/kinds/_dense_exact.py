"""Exact arithmetic of the dense kinds (`forward`, `backprop`): Fractions while rational (fast), SymPy while the
expression stays small enough to read, and past SIZE_LIMIT nodes a carried decimal (`_dense_num.Carried`, worked
at two precisions and checked). An operation whose operands are already too big for an exact result to be read
is carried without building the SymPy expression at all (building and evaluating it was the slow part).
"""
from __future__ import annotations

from fractions import Fraction
from math import gcd
from functools import lru_cache
from typing import Any, Callable

import sympy

from . import _dense_num as N
from . import _layers as L
from ._dense_num import Carried

SIZE_LIMIT = L.SIZE_LIMIT  # nodes of one expression past which it is carried as a 50-digit decimal
BIG = 10 ** 9            # the size of a carried value: anything it touches is carried
ZERO, ONE, MINUS = Fraction(0), Fraction(1), Fraction(-1)


def num(x: Any) -> Any:
    """A given number as the pipeline's value: a Fraction when rational, else the exact SymPy expression."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, sympy.Rational):
        return Fraction(int(x.p), int(x.q))
    return x


def sym(x: Any) -> Any:
    """A value as SymPy (a carried value as its checked 50-digit Float)."""
    return x.shown() if isinstance(x, Carried) else L.sym(x)


def to_sympy(x: Any) -> Any:
    """Nested lists of values as SymPy (None kept)."""
    return L.to_sympy(x, sym)


def is_approx(x: Any) -> bool:
    """True when a nested value holds a carried decimal."""
    if isinstance(x, list):
        return any(is_approx(v) for v in x)
    return isinstance(x, (Carried, sympy.Float))


def settle(x: Any) -> tuple[Any, bool]:
    """An answer as SymPy, made consistent: once any entry is carried, every irrational entry is; (value, approx)."""
    if not is_approx(x):
        return to_sympy(x), False

    def conv(v: Any) -> Any:
        """One entry (or list) as SymPy, an irrational one as its checked decimal."""
        if isinstance(v, list):
            return [conv(e) for e in v]
        if v is None or isinstance(v, (Fraction, int, sympy.Rational, sympy.Float)):
            return sym(v)
        return N.carried(v).shown()
    return conv(x), True


@lru_cache(maxsize=100_000)
def _nodes(x: sympy.Basic) -> int:
    """Nodes of an expression, counted up to just past SIZE_LIMIT (BIG once it holds a Float)."""
    n, stack = 0, [x]
    while stack and n <= SIZE_LIMIT:
        e = stack.pop()
        if isinstance(e, sympy.Float):
            return BIG
        n += 1
        stack.extend(e.args)
    return n


def size(x: Any) -> int:
    """How big a value's exact form is: 1 for a rational, BIG for a carried value."""
    kind = type(x)
    if kind is Fraction or kind is int or isinstance(x, sympy.Rational):
        return 1
    if kind is Carried:
        return BIG
    return _nodes(x)


def exact(expr: sympy.Expr) -> Any:
    """A freshly built SymPy value: a Fraction when rational, kept exact while small, else carried."""
    if isinstance(expr, sympy.Rational):
        return num(expr)
    return N.carried(expr) if size(expr) > SIZE_LIMIT else expr


def _either(estimate: int, carried: Callable[[], Carried], symbolic: Callable[[], sympy.Expr]) -> Any:
    """The carried result when the exact one would be past the limit (as estimated), else the exact one."""
    return carried() if estimate > SIZE_LIMIT else exact(symbolic())


def is_zero(x: Any) -> bool:
    """True for an exact 0."""
    kind = type(x)
    if kind is Fraction:
        return x.numerator == 0
    return kind is not Carried and x == 0


def dot(ws: list, xs: list, pairs_of: Callable[[Any], tuple] = N.pair) -> Any:
    """Σ w·x (`pairs_of` gives a value at the two working precisions, where it is carried)."""
    pairs = [(w, x) for w, x in zip(ws, xs) if not is_zero(w) and not is_zero(x)]
    if all(type(w) is Fraction and type(x) is Fraction for w, x in pairs):
        return _fraction_dot(pairs)
    estimate = 1
    for w, x in pairs:
        estimate += size(w) + size(x) + 1
        if estimate > SIZE_LIMIT:
            break
    if estimate > SIZE_LIMIT:
        return N.dot_pairs([(pairs_of(w), pairs_of(x)) for w, x in pairs])
    return exact(sympy.Add(*[sym(w) * sym(x) for w, x in pairs]))


def _fraction_dot(pairs: list[tuple[Fraction, Fraction]]) -> Fraction:
    """Σ w·x over one common denominator (decimals share theirs: one normalization at the end)."""
    num, den = 0, 1
    for w, x in pairs:
        n, d = w.numerator * x.numerator, w.denominator * x.denominator
        if d == den:
            num += n
        else:
            g = gcd(den, d)
            num, den = num * (d // g) + n * (den // g), den // g * d
    return Fraction(num, den)


def matmul(left: list[list], right: list[list]) -> list[list]:
    """[[dot(l, r) for r in right] for l in left]: rows by rows, each carried operand converted once."""
    memo: dict[int, tuple] = {}

    def pairs_of(v: Any) -> tuple:
        """N.pair, once per operand."""
        key = id(v)
        if key not in memo:
            memo[key] = N.pair(v)
        return memo[key]
    return [[dot(l, r, pairs_of) for r in right] for l in left]


def total(values: list) -> Any:
    """Σ values."""
    return dot([ONE] * len(values), values)


def add(a: Any, b: Any) -> Any:
    """a + b."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a + b
    return _either(size(a) + size(b) + 1, lambda: N.add(a, b), lambda: sym(a) + sym(b))


def sub(a: Any, b: Any) -> Any:
    """a − b."""
    return add(a, mul(MINUS, b))


def mul(a: Any, b: Any) -> Any:
    """a · b."""
    if is_zero(a) or is_zero(b):
        return ZERO
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a * b
    return _either(size(a) + size(b) + 1, lambda: N.mul(a, b), lambda: sym(a) * sym(b))


def div(a: Any, b: Any) -> Any:
    """a / b."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a / b
    return _either(size(a) + size(b) + 3, lambda: N.div(a, b), lambda: sym(a) / sym(b))


def _exp(v: sympy.Expr) -> sympy.Expr:
    """e^v; of a rational other than 0 and 1 built without SymPy's evaluation (which would leave it as it is)."""
    if isinstance(v, sympy.Rational) and v != 0 and v != 1:
        return sympy.exp(v, evaluate=False)
    return sympy.exp(v)


def _tanh(v: sympy.Expr) -> sympy.Expr:
    """tanh v; of a nonzero rational as SymPy evaluates it (−tanh(−v) for v < 0), built directly."""
    if isinstance(v, sympy.Rational) and v != 0:
        return sympy.tanh(v, evaluate=False) if v > 0 else -sympy.tanh(-v, evaluate=False)
    return sympy.tanh(v)


SYMBOLIC: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "exp": _exp, "log": sympy.log, "tanh": _tanh,
    "sigmoid": lambda v: 1 / (1 + _exp(-v)), "softplus": lambda v: sympy.log(1 + _exp(v))}


def unary(name: str, v: Any) -> Any:
    """exp, log, tanh, sigmoid or softplus (log(1 + e^v)) of a value."""
    return _either(size(v) + 6, lambda: N.apply(name, v), lambda: SYMBOLIC[name](sym(v)))


def sign(x: Any) -> int:
    """-1, 0 or 1, exactly (an irrational value is decided numerically at two precisions, then by `equals`)."""
    if isinstance(x, Fraction):
        return (x > 0) - (x < 0)
    if isinstance(x, Carried):
        return N.sign(x)
    try:
        return N.sign(N.carried(x))
    except N.Imprecise:
        if sym(x).equals(0):
            return 0
        return 1 if sympy.N(x, 200) > 0 else -1


def activate(name: str, z: list, slope: Any = None) -> list:
    """f(z) for one sample's pre-activations."""
    if name == "linear":
        return list(z)
    if name == "relu":
        return [v if sign(v) > 0 else ZERO for v in z]
    if name == "leaky_relu":
        s = num(slope)
        return [v if sign(v) > 0 else mul(s, v) for v in z]
    if name in ("sigmoid", "tanh"):
        return [unary(name, v) for v in z]
    if name == "softmax":
        return softmax(z)
    raise ValueError(name)


def softmax(z: list) -> list:
    """e^{z_j} / Σ_k e^{z_k}, written exactly as 1 / Σ_k e^{z_k − z_j} (the same number, short to print)."""
    sizes = [size(v) for v in z]
    if 2 + sum(sizes) + len(z) * (3 + max(sizes)) > SIZE_LIMIT:
        return N.softmax(z)
    zs = [sym(v) for v in z]
    return [exact(1 / sympy.Add(*[_exp(zk - zj) for zk in zs])) for zj in zs]


def logsumexp(z: list) -> Any:
    """log Σ_k e^{z_k} (a sum of two or more exponentials is not one SymPy's log can simplify: not asked to)."""
    if len(z) == 1:
        return z[0]
    return _either(3 + sum(size(v) + 2 for v in z), lambda: N.logsumexp(z),
                   lambda: sympy.log(sympy.Add(*[_exp(sym(v)) for v in z]), evaluate=False))


def derivative(name: str, z: list, a: list, slope: Any = None) -> list:
    """f′(z) elementwise (not for softmax): relu′(0) = 0, leaky_relu′(0) = slope, as PyTorch."""
    if name == "linear":
        return [ONE] * len(z)
    if name == "relu":
        return [ONE if sign(v) > 0 else ZERO for v in z]
    if name == "leaky_relu":
        return [ONE if sign(v) > 0 else num(slope) for v in z]
    if name == "sigmoid":
        return [_either(2 * size(v) + 4, lambda v=v: N.mul(v, N.add(ONE, N.mul(MINUS, v))),
                        lambda v=v: sym(v) * (1 - sym(v))) for v in a]
    if name == "tanh":
        return [_either(size(v) + 5, lambda v=v: N.add(ONE, N.mul(MINUS, N.mul(v, v))),
                        lambda v=v: 1 - sym(v) ** 2) for v in a]
    raise ValueError(name)


def forward_pass(layers: list, x: list[list]) -> tuple[list, list]:
    """Z and A of every layer (each N × units); x is N × inputs (values from `num`)."""
    zs, acts, a = [], [], x
    for layer in layers:
        w = [[num(v) for v in row] for row in layer.weights]
        b = [num(v) for v in layer.bias] if layer.bias is not None else None
        z = matmul(a, w)
        if b is not None:
            z = [[add(v, bj) for v, bj in zip(row, b)] for row in z]
        a = [activate(layer.activation, row, layer.slope) for row in z]
        zs.append(z)
        acts.append(a)
    return zs, acts


def rows(m: list[list]) -> list[list]:
    """A given matrix (exact SymPy numbers) as pipeline values."""
    return [[num(v) for v in row] for row in m]
