"""What every kind's slips are made of: Variant and Slip, small helpers on exact values, and the slips of
every kind (a decimal point off). A kind's own slips live in its kind."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import sympy

from .kind import Answers, Slip, Variant
from .problem import Problem

__all__ = ["Slip", "Variant", "Answers", "mapped", "transposed", "negated", "nonzero", "setting", "SHARED"]


def mapped(value: Any, f: Callable[[Any], Any], skip: Iterable[str] = ("output_shape",)) -> Any:
    """Apply `f` to every number of an answer (None, names and shapes untouched)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [mapped(v, f, skip) for v in value]
    if isinstance(value, dict):
        return {k: v if k in skip or isinstance(v, str) else mapped(v, f, skip) for k, v in value.items()}
    return f(value)


def transposed(m: list) -> list:
    """The transpose of a matrix (list of rows)."""
    return [list(r) for r in zip(*m)]


def negated(value: Any) -> Any:
    """Every number of a value with its sign flipped."""
    return mapped(value, lambda v: -v, skip=())


def nonzero(value: Any) -> bool:
    """True when some number in `value` is not zero."""
    if isinstance(value, (list, tuple)):
        return any(nonzero(v) for v in value)
    return value is not None and value != 0


def setting(**changes: Any) -> Callable[[Problem], Problem]:
    """A `modify` that replaces some fields of the problem with typed values."""
    return lambda p: p.with_fields(**changes)


def power_of_ten(p: Problem, answers: Answers) -> list[Variant]:
    """The decimal point one, two or three places off."""
    out = []
    for k in (1, -1, 2, -2, 3, -3):
        factor = sympy.Integer(10) ** k
        places = {1: "one place", 2: "two places", 3: "three places"}[abs(k)]
        words = (f"the decimal point {places} to the {'right' if k > 0 else 'left'}: a factor of "
                 f"{10 ** abs(k):,} too {'large' if k > 0 else 'small'}")
        shapes = {n for n in answers if p.definition.spec_of(n).shape}
        out.append(Variant(words, transform=lambda _p, a, f=factor, skip=shapes: {
            n: mapped(v, lambda x: x * f) for n, v in a.items() if n not in skip}))
    return out


SHARED: tuple[Slip, ...] = (Slip("power_of_ten", "a power-of-ten (decimal-point) slip", power_of_ten),)
