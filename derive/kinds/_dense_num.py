"""Carried decimals of the dense kinds (SPEC §2): a value past the size limit is carried as two mpmath numbers,
worked at two precisions, and shown only once they agree to DIGITS + 5 digits; otherwise the whole derivation
is worked again at the next rung of precisions (`escalating`).

The exact values of small expressions never pass through here: `_dense_exact` keeps them exact and calls
`carried` only for what it would otherwise have to evaluate.
"""
from __future__ import annotations

import contextvars
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, TypeVar

import sympy
from mpmath import libmp as M

from .. import fasteval

DIGITS = 50                                    # significant digits of a carried decimal as shown (SPEC §2)
CHECK = DIGITS + 5                             # digits the two precisions must share
RUNGS = ((70, 90), (140, 180), (300, 380))     # working digits (low, high), one rung after the other
TINY = 200                                     # at the last rung, a value below 10^-TINY at both precisions is 0
RND = M.round_nearest
PRECS = tuple((M.dps_to_prec(lo), M.dps_to_prec(hi)) for lo, hi in RUNGS)
SHOWN_PREC = M.dps_to_prec(DIGITS)
_TOL = M.from_str(f"1e-{CHECK}", 64, RND)
_TINY = M.from_str(f"1e-{TINY}", 64, RND)
_rung = contextvars.ContextVar("dense_rung", default=0)
T = TypeVar("T")


class Imprecise(ArithmeticError):
    """The two working precisions of a carried value disagree: the derivation needs the next rung."""


class Carried:
    """A real number carried as a decimal: its value at the low and at the high working precision (mpf tuples)."""

    __slots__ = ("lo", "hi", "_shown")

    def __init__(self, lo: tuple, hi: tuple) -> None:
        """The value at the low and at the high working precision."""
        self.lo, self.hi, self._shown = lo, hi, None

    def __float__(self) -> float:
        """The nearest float64 (of the high-precision value)."""
        return M.to_float(self.hi)

    def __repr__(self) -> str:
        """Carried(20 digits)."""
        return f"Carried({M.to_str(self.hi, 20)})"

    def shown(self) -> sympy.Float:
        """The verified DIGITS-digit decimal (SymPy Float); Imprecise when the precisions disagree."""
        if self._shown is None:
            self._shown = sympy.Float._new(verified(self), SHOWN_PREC)
        return self._shown


def escalating(work: Callable[[], T]) -> T:
    """Run `work` at the first rung of precisions, again at the next whenever a carried value is Imprecise."""
    for rung in range(len(RUNGS)):
        token = _rung.set(rung)
        try:
            return work()
        except Imprecise:
            if rung == len(RUNGS) - 1:
                raise
        finally:
            _rung.reset(token)
    raise AssertionError("unreachable")


def _last_rung() -> bool:
    """True at the highest precisions."""
    return _rung.get() == len(RUNGS) - 1


def verified(c: Carried) -> tuple:
    """The high-precision value once the low one agrees with it to CHECK digits (0 for noise at the last rung)."""
    lo, hi = c.lo, c.hi
    if lo == hi:
        return hi
    diff = M.mpf_abs(M.mpf_sub(lo, hi, 64, RND))
    if M.mpf_cmp(diff, M.mpf_mul(M.mpf_abs(hi), _TOL, 64, RND)) <= 0:
        return hi
    if _last_rung() and _tiny(lo) and _tiny(hi):
        return M.fzero
    raise Imprecise(f"{M.to_str(lo, 20)} and {M.to_str(hi, 20)} disagree")


def _tiny(x: tuple) -> bool:
    """|x| below 10^-TINY."""
    return M.mpf_cmp(M.mpf_abs(x), _TINY) < 0


def sign(c: Carried) -> int:
    """-1, 0 or 1 of a carried value, once both precisions agree on it."""
    value = verified(c)
    return M.mpf_sign(value)


# ---- values to pairs -------------------------------------------------------------------------------------

def pair(v: Any) -> tuple[tuple, tuple]:
    """Any value (Fraction, int, SymPy number or expression, Carried) at the two working precisions."""
    if isinstance(v, Carried):
        return v.lo, v.hi
    rung = _rung.get()
    if isinstance(v, Fraction):
        return _rational(v.numerator, v.denominator, rung)
    if isinstance(v, int):
        return _rational(v, 1, rung)
    if isinstance(v, sympy.Rational):
        return _rational(int(v.p), int(v.q), rung)
    if isinstance(v, sympy.Float):
        return v._mpf_, v._mpf_
    lo, hi = RUNGS[rung]
    return _expression(v, lo), _expression(v, hi)


@lru_cache(maxsize=100_000)
def _rational(p: int, q: int, rung: int) -> tuple[tuple, tuple]:
    """p/q at the rung's two precisions (remembered)."""
    plo, phi = PRECS[rung]
    return M.from_rational(p, q, plo, RND), M.from_rational(p, q, phi, RND)


def _expression(expr: sympy.Expr, dps: int) -> tuple:
    """An exact SymPy expression at `dps` working digits (the memoized walker; SymPy's evalf for the rest)."""
    try:
        return fasteval.value(expr, dps)._mpf_
    except (fasteval.Unsupported, ZeroDivisionError, ValueError, OverflowError):
        return sympy.N(expr, dps)._mpf_


def carried(v: Any) -> Carried:
    """Any value as a Carried."""
    return v if isinstance(v, Carried) else Carried(*pair(v))


# ---- arithmetic at both precisions --------------------------------------------------------------------------

def _both(op: Callable[..., tuple], *args: Any) -> Carried:
    """op(*values, prec, RND) at the low and at the high precision."""
    pairs = [pair(a) for a in args]
    plo, phi = PRECS[_rung.get()]
    return Carried(op(*[p[0] for p in pairs], plo, RND), op(*[p[1] for p in pairs], phi, RND))


def add(a: Any, b: Any) -> Carried:
    """a + b."""
    return _both(M.mpf_add, a, b)


def mul(a: Any, b: Any) -> Carried:
    """a · b."""
    return _both(M.mpf_mul, a, b)


def div(a: Any, b: Any) -> Carried:
    """a / b."""
    return _both(M.mpf_div, a, b)


def dot(ws: list, xs: list) -> Carried:
    """Σ w·x, each product exact and the sum rounded once, at both precisions."""
    return dot_pairs([(pair(w), pair(x)) for w, x in zip(ws, xs)])


def dot_pairs(pairs: list[tuple[tuple, tuple]]) -> Carried:
    """`dot` of operands already at the two precisions: [((w_lo, w_hi), (x_lo, x_hi)), …]."""
    plo, phi = PRECS[_rung.get()]
    return Carried(M.mpf_sum([M.mpf_mul(w[0], x[0]) for w, x in pairs], plo, RND),
                   M.mpf_sum([M.mpf_mul(w[1], x[1]) for w, x in pairs], phi, RND))


def step(before: Any, g: Any, eta: Any, lam: Any) -> Carried:
    """before − η·(g + λ·before) at both precisions."""
    (bl, bh), (gl, gh), (el, eh), (ll, lh) = pair(before), pair(g), pair(eta), pair(lam)
    plo, phi = PRECS[_rung.get()]
    return Carried(M.mpf_sub(bl, M.mpf_mul(el, M.mpf_add(gl, M.mpf_mul(ll, bl)), plo), plo, RND),
                   M.mpf_sub(bh, M.mpf_mul(eh, M.mpf_add(gh, M.mpf_mul(lh, bh)), phi), phi, RND))


def _sigmoid(x: tuple, prec: int, rnd: str) -> tuple:
    """1/(1 + e^{-x})."""
    return M.mpf_div(M.fone, M.mpf_add(M.fone, M.mpf_exp(M.mpf_neg(x), prec + 10), prec + 10), prec, rnd)


def _softplus(x: tuple, prec: int, rnd: str) -> tuple:
    """log(1 + e^x)."""
    return M.mpf_log(M.mpf_add(M.fone, M.mpf_exp(x, prec + 10), prec + 10), prec, rnd)


FUNCTIONS: dict[str, Callable[[tuple, int, str], tuple]] = {
    "exp": M.mpf_exp, "log": M.mpf_log, "tanh": M.mpf_tanh, "sigmoid": _sigmoid, "softplus": _softplus}


def apply(name: str, v: Any) -> Carried:
    """One of FUNCTIONS of a value, at both precisions."""
    return _both(FUNCTIONS[name], v)


def softmax(z: list) -> list[Carried]:
    """e^{z_j} / Σ_k e^{z_k} at both precisions (mpmath's exponent range needs no shift)."""
    exps = [apply("exp", v) for v in z]
    total = dot([1] * len(exps), exps)
    return [div(e, total) for e in exps]


def logsumexp(z: list) -> Carried:
    """log Σ_k e^{z_k}."""
    exps = [apply("exp", v) for v in z]
    return apply("log", dot([1] * len(exps), exps))
