"""Kind `network`: reading the layer language (SPEC §3, §14) into `Layer` records, with located errors."""
from __future__ import annotations

import re
from typing import Any, Callable

import sympy

from .. import fields as F
from ._activations import NETWORK
from ._arch_types import TYPES, Layer, Shape

NET_ACTIVATIONS = NETWORK


class Counter:
    """Counts the layers of one network (blocks and the layers inside them) against the limit."""

    def __init__(self, ctx: F.Ctx) -> None:
        self.n = 0
        self.ctx = ctx
        self.tables = _tables(self)

    def bump(self) -> None:
        """One more layer; past the limit, an error at the network's field."""
        self.n += 1
        limit = self.ctx.limits.layers
        if self.n > limit:
            raise self.ctx.error(f"more than {limit} layers in one network (layers inside branches and residual "
                                 "blocks count too; limit 'layers')")


def pair(value: Any, ctx: F.Ctx, item: Callable = F.positive_int) -> tuple[int, int]:
    """One whole number for both sides, or [height, width]."""
    if isinstance(value, list):
        if len(value) != 2:
            raise ctx.error(f"expected one number or [height, width], got {len(value)} number"
                            + ("" if len(value) == 1 else "s"))
        return item(value[0], ctx.child(0)), item(value[1], ctx.child(1))
    n = item(value, ctx)
    return n, n


def nonnegative_pair(value: Any, ctx: F.Ctx) -> tuple[int, int]:
    """A padding of whole numbers ≥ 0: one for both sides, or [rows, columns]."""
    return pair(value, ctx, F.nonnegative_int)


def padding(value: Any, ctx: F.Ctx) -> Any:
    """`valid` (0), `same`, a number of rows and columns added on each side, or [rows, columns]."""
    if isinstance(value, str) and not re.match(r"[-+.0-9]", value):
        word = str(value)
        if word == "valid":
            return (0, 0)
        if word == "same":
            return "same"
        raise ctx.error(f"expected valid, same or a whole number, got {word!r}{F.suggest(word, ('valid', 'same'))}")
    return nonnegative_pair(value, ctx)


def _true(what: str) -> Callable[[Any, F.Ctx], bool]:
    """A flag that must be `true` (a layer of this type is either listed or left out)."""
    def parse(value: Any, ctx: F.Ctx) -> bool:
        if not F.boolean(value, ctx):
            raise ctx.error(f"expected true (leave the layer out to have no {what})")
        return True
    return parse


def _rate(value: Any, ctx: F.Ctx) -> sympy.Rational:
    """The drop probability p, 0 ≤ p ≤ 1 (as nn.Dropout)."""
    p = F.number(value, ctx)
    if not 0 <= p <= 1:
        raise ctx.error(f"the drop probability must be between 0 and 1, got {p}")
    return p


NAME = F.Field(F.words)
BIAS = F.Field(F.boolean, True)
ACTIVATION = F.Field(F.choice(*NET_ACTIVATIONS))


def _tables(counter: Counter) -> dict[str, dict[str, F.Field]]:
    """Each layer type's fields (the type's own key holds its main value)."""
    layers = F.Field(lambda v, c: parse_layers(v, c, counter), required=True)
    pool = dict(stride=F.Field(pair), padding=F.Field(padding, (0, 0)), ceil_mode=F.Field(F.boolean, False),
                name=NAME)
    flag = {t: F.table(**{t: F.Field(_true(what), required=True)}, name=NAME) for t, what in (
        ("globalavgpool", "global average pooling"), ("globalmaxpool", "global max pooling"),
        ("batchnorm", "batch norm"), ("layernorm", "layer norm"), ("flatten", "flattening"))}
    return {
        "dense": F.table(dense=F.Field(F.positive_int, required=True), bias=BIAS, activation=ACTIVATION, name=NAME),
        "conv": F.table(conv=F.Field(F.positive_int, required=True), kernel=F.Field(pair, required=True),
                        stride=F.Field(pair, (1, 1)), padding=F.Field(padding, (0, 0)),
                        dilation=F.Field(pair, (1, 1)), groups=F.Field(F.positive_int, 1), bias=BIAS,
                        activation=ACTIVATION, name=NAME),
        "convtranspose": F.table(convtranspose=F.Field(F.positive_int, required=True),
                                 kernel=F.Field(pair, required=True), stride=F.Field(pair, (1, 1)),
                                 padding=F.Field(nonnegative_pair, (0, 0)),
                                 output_padding=F.Field(nonnegative_pair, (0, 0)), bias=BIAS,
                                 activation=ACTIVATION, name=NAME),
        "maxpool": F.table(maxpool=F.Field(pair, required=True), **pool),
        "avgpool": F.table(avgpool=F.Field(pair, required=True), **pool),
        "upsample": F.table(upsample=F.Field(pair, required=True), name=NAME),
        "dropout": F.table(dropout=F.Field(_rate, required=True), name=NAME),
        "activation": F.table(activation=F.Field(F.choice(*NET_ACTIVATIONS), required=True), name=NAME),
        "attention": F.table(attention=F.Field(F.positive_int, required=True), name=NAME),
        "embedding": F.table(embedding=F.Field(F.positive_int, required=True),
                             dim=F.Field(F.positive_int, required=True), name=NAME),
        "position_embedding": F.table(position_embedding=F.Field(F.positive_int, required=True), name=NAME),
        "branches": F.table(branches=F.Field(lambda v, c: _branches(v, c, counter), required=True), name=NAME),
        "residual": F.table(residual=layers, shortcut=F.Field(layers.parse), activation=ACTIVATION, name=NAME),
        **flag,
    }


def parse_layers(value: Any, ctx: F.Ctx, counter: Counter | None = None) -> list[Layer]:
    """A non-empty list of layers (one network, one branch, a residual's path)."""
    counter = counter or Counter(ctx)
    if not isinstance(value, list) or not value:
        raise ctx.error(f"expected a non-empty list of layers, got {F.describe(value) if value != [] else '[]'}")
    return [parse_layer(raw, ctx.child(i), counter) for i, raw in enumerate(value)]


def _type_of(raw: dict, ctx: F.Ctx, tables: dict[str, dict]) -> str:
    """The layer's one type key (`activation` is the type only of a layer with no other)."""
    types = [str(k) for k in raw if k in TYPES and k != "activation"]
    if not types and "activation" in raw:
        types = ["activation"]
    if len(types) > 1:
        raise ctx.error(f"a layer has one type, got {len(types)}: {', '.join(types)}; "
                        "write each as a layer of its own")
    if not types:
        known = {name for table in tables.values() for name in table}
        unknown = [str(k) for k in raw if k not in known]
        if unknown:
            raise ctx.child(unknown[0]).error(f"unknown layer type {unknown[0]!r}{F.suggest(unknown[0], TYPES)}; "
                                              f"layer types: {', '.join(TYPES)}")
        raise ctx.error(f"a layer needs a type: one of {', '.join(TYPES)}")
    return types[0]


def article(word: str) -> str:
    """`an avgpool`, `a conv`: the article a layer type takes."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _and(items: list[str]) -> str:
    """`conv`, `conv and convtranspose`, `a, b and c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _check_fields(raw: dict, ctx: F.Ctx, kind: str, tables: dict[str, dict]) -> None:
    """Unknown fields: a field of other layer types says whose it is; a typo gets a suggestion."""
    table = tables[kind]
    for key in raw:
        if key in table:
            continue
        allowed = sorted(table)
        owners = [t for t, other in tables.items() if key in other and key != t]
        hint = (f" ({key} is a field of {_and(owners)} layers)" if owners and isinstance(key, str)
                else F.suggest(key, allowed))
        raise ctx.child(key).error(f"unknown field of {article(kind)} layer{hint}; allowed: {', '.join(allowed)}")


def parse_layer(raw: Any, ctx: F.Ctx, counter: Counter) -> Layer:
    """One layer mapping: exactly one type key, then that type's fields."""
    if not isinstance(raw, dict):
        raise ctx.error(f"expected a layer such as {{dense: 4}} or {{conv: 32, kernel: 3}}, got {F.describe(raw)}")
    counter.bump()
    kind = _type_of(raw, ctx, counter.tables)
    _check_fields(raw, ctx, kind, counter.tables)
    v = F.read_mapping(raw, ctx, counter.tables[kind], what=f"field of {article(kind)} layer")
    layer = Layer(kind, ctx, label=v["name"])
    SETTERS.get(kind, lambda _l, _v: None)(layer, v)
    if layer.padding == "same" and layer.stride != (1, 1):
        raise ctx.child("padding").error("same padding needs stride 1 (as PyTorch); give the padding as a number")
    return layer


def _weighted(layer: Layer, v: dict) -> None:
    """Dense, conv and transposed conv: size, bias, activation; the windowed ones their geometry."""
    layer.size, layer.bias, layer.activation = v[layer.type], v["bias"], v["activation"]
    if layer.type == "dense":
        return
    layer.kernel, layer.stride, layer.padding = v["kernel"], v["stride"], v["padding"]
    if layer.type == "conv":
        layer.dilation, layer.groups = v["dilation"], v["groups"]
        if layer.size % layer.groups:
            raise layer.ctx.child("groups").error(
                f"the {layer.size} filters cannot be split into {layer.groups} groups (the groups must divide the "
                "filters, as PyTorch)")
        return
    layer.output_padding = v["output_padding"]
    for op, s in zip(layer.output_padding, layer.stride):
        if op >= s:
            raise layer.ctx.child("output_padding").error(
                f"the output padding must be smaller than the stride (as PyTorch): output padding {op} with "
                f"stride {s}")


def _pool(layer: Layer, v: dict) -> None:
    """Max or average pooling: window, stride (= window), padding (at most half the window), ceil mode."""
    layer.kernel = v[layer.type]
    layer.stride = v["stride"] or v[layer.type]
    layer.padding, layer.ceil_mode = v["padding"], v["ceil_mode"]
    if layer.padding == "same":
        return
    for pad, k in zip(layer.padding, layer.kernel):
        if 2 * pad > k:
            raise layer.ctx.child("padding").error(
                f"a pool pads at most half its window (as PyTorch): padding {pad} is too much for a window of {k}")


def _set(attribute: str, key: str | None = None) -> Callable[[Layer, dict], None]:
    """A setter copying one field's value (the type's own key by default) onto the layer."""
    def setter(layer: Layer, v: dict) -> None:
        setattr(layer, attribute, v[key or layer.type])
    return setter


def _embedding(layer: Layer, v: dict) -> None:
    """Vocabulary size and width."""
    layer.vocab, layer.dim = v["embedding"], v["dim"]


def _residual(layer: Layer, v: dict) -> None:
    """Main path, shortcut (None: the identity), activation after the addition."""
    layer.main, layer.shortcut, layer.activation = v["residual"], v["shortcut"], v["activation"]


SETTERS: dict[str, Callable[[Layer, dict], None]] = {
    "dense": _weighted, "conv": _weighted, "convtranspose": _weighted, "maxpool": _pool, "avgpool": _pool,
    "upsample": _set("factor"), "dropout": _set("rate"), "activation": _set("activation"),
    "attention": _set("heads"), "embedding": _embedding, "position_embedding": _set("max_tokens"),
    "branches": _set("branches"), "residual": _residual,
}


def _branches(value: Any, ctx: F.Ctx, counter: Counter) -> list[list[Layer]]:
    """A non-empty list of branches, each a non-empty list of layers."""
    if not isinstance(value, list) or not value:
        raise ctx.error("expected a list of branches, each a list of layers: [[…], […]]")
    out = []
    for i, branch in enumerate(value):
        if isinstance(branch, dict):
            raise ctx.child(i).error("expected a branch (a list of layers), got one layer; write it as [{…}]")
        out.append(parse_layers(branch, ctx.child(i), counter))
    return out


def parse_input(value: Any, ctx: F.Ctx) -> Shape:
    """`[features]` (or `[tokens]` before an embedding), `[tokens, features]` or `[height, width, channels]`."""
    if not isinstance(value, list) or len(value) not in (1, 2, 3):
        got = f"{len(value)} numbers" if isinstance(value, list) else F.describe(value)
        raise ctx.error(f"expected [features], [tokens, features] or [height, width, channels], got {got}")
    return tuple(F.positive_int(v, ctx.child(i)) for i, v in enumerate(value))


DESIGN_NAME = re.compile(r"[A-Za-z0-9_-]+")


def parse_designs(value: Any, ctx: F.Ctx) -> dict[str, list[Layer]]:
    """Design name → its layers (names become answer prefixes: letters, digits, '_' and '-')."""
    if not isinstance(value, dict) or not value:
        raise ctx.error("expected a mapping of design names to lists of layers, "
                        "e.g. {direct: […], bottleneck: […]}")
    out = {}
    for name, layers in value.items():
        if not isinstance(name, str) or not DESIGN_NAME.fullmatch(name):
            raise ctx.child(str(name)).error(f"design name {str(name)!r} must use only letters, digits, '_' and '-'")
        out[str(name)] = parse_layers(layers, ctx.child(str(name)))
    return out
