"""Fields of dense layers shared by `forward` and `backprop`: a layer's fields, `init`, and their checks (SPEC §8)."""
from __future__ import annotations

from typing import Any, Callable

import sympy

from .. import fields as F
from ..numbers import describe
from ._activations import ACTIVATIONS

LAYOUTS = ("out_in", "in_out")
RANDOM = "random"
DEFAULT_SLOPE = sympy.Rational(1, 100)
MAX_DECIMALS = 15


def _random_or(parser: Callable[[Any, F.Ctx], Any]) -> Callable[[Any, F.Ctx], Any]:
    """A parser that also accepts the word `random`."""
    def parse(value: Any, ctx: F.Ctx) -> Any:
        """`random`, or what `parser` reads."""
        if isinstance(value, str):
            if str(value) == RANDOM:
                return RANDOM
            raise ctx.error(f"expected {parser.__doc__} or random, got {describe(value)}"
                            f"{F.suggest(str(value), [RANDOM])}")
        return parser(value, ctx)
    return parse


def _matrix(value: Any, ctx: F.Ctx) -> list:
    """a matrix"""
    return F.matrix(value, ctx)


def _vector(value: Any, ctx: F.Ctx) -> list:
    """a vector"""
    return F.vector(value, ctx)


def _units(value: Any, ctx: F.Ctx) -> int:
    """A positive number of units, within the matrix-side limit."""
    n = F.positive_int(value, ctx)
    if n > ctx.limits.matrix_side:
        raise ctx.error(f"{n} units is more than the limit of {ctx.limits.matrix_side} (limit 'matrix_side')")
    return n


LAYER = F.table(
    units=F.Field(_units),
    activation=F.Field(F.choice(*ACTIVATIONS), "linear"),
    slope=F.Field(F.number),
    weights=F.Field(_random_or(_matrix), required=True),
    bias=F.Field(_random_or(_vector)),
    layout=F.Field(F.choice(*LAYOUTS), "out_in"),
)

INIT = F.table(
    distribution=F.Field(F.choice("uniform", "normal"), "uniform"),
    low=F.Field(F.number), high=F.Field(F.number),
    mean=F.Field(F.number), std=F.Field(F.nonnegative),
    decimals=F.Field(F.nonnegative_int, 1),
)


def parse_layers(value: Any, ctx: F.Ctx) -> list[dict]:
    """A non-empty list of layer mappings, at most `layers` of them."""
    if not isinstance(value, list) or not value:
        raise ctx.error(f"expected a non-empty list of layers, got {describe(value) if value != [] else '[]'}")
    if len(value) > ctx.limits.layers:
        raise ctx.error(f"{len(value)} layers is more than the limit of {ctx.limits.layers} (limit 'layers')")
    layers = [F.read_mapping(raw, ctx.child(i), LAYER, what="layer field") for i, raw in enumerate(value)]
    for i, layer in enumerate(layers):
        if layer["slope"] is not None and layer["activation"] != "leaky_relu":
            raise ctx.child(i).child("slope").error(
                f"slope is only for leaky_relu (this layer's activation is {layer['activation']})")
        if layer["activation"] == "softmax" and i != len(layers) - 1:
            raise ctx.child(i).child("activation").error(
                f"softmax is only for the last layer (layer {i} of {len(layers)} is hidden)")
    return layers


def parse_init(value: Any, ctx: F.Ctx) -> dict:
    """`init: {distribution, low, high, mean, std, decimals}` with SPEC defaults."""
    init = F.read_mapping(value, ctx, INIT, what="init field")
    uniform = init["distribution"] == "uniform"
    for name in ("mean", "std") if uniform else ("low", "high"):
        if init[name] is not None:
            raise ctx.child(name).error(f"{name} is for distribution: {'normal' if uniform else 'uniform'} "
                                        f"(this init is {init['distribution']})")
    defaults = {"low": -1, "high": 1} if uniform else {"mean": 0, "std": 1}
    for name, default in defaults.items():
        if init[name] is None:
            init[name] = sympy.Integer(default)
    if uniform and init["low"] >= init["high"]:
        raise ctx.child("high").error(f"high must be above low ({init['low']}), got {init['high']}")
    if init["decimals"] > MAX_DECIMALS:
        raise ctx.child("decimals").error(f"at most {MAX_DECIMALS} decimals, got {init['decimals']}")
    return init


DEFAULT_INIT = {"distribution": "uniform", "low": sympy.Integer(-1), "high": sympy.Integer(1),
                "mean": None, "std": None, "decimals": 1}
