"""The layer language of kind `network` (SPEC §3) and exact counting: shapes, parameters, multiplications."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sympy

from .. import fields as F
from ._activations import ACTIVATIONS
from ._geometry import out_size, same_padding

TYPES = ("dense", "conv", "maxpool", "avgpool", "batchnorm", "dropout", "flatten", "branches")
Shape = tuple  # (features,) or (height, width, channels)


@dataclass
class Layer:
    """One parsed layer (its type, its settings) and where it stands in the spec."""

    type: str
    ctx: F.Ctx
    size: int | None = None                       # dense units or conv filters
    kernel: tuple[int, int] | None = None         # conv kernel or pool window (height, width)
    stride: tuple[int, int] = (1, 1)
    padding: Any = (0, 0)                         # (rows, columns) on each side, or "same"
    bias: bool = True
    activation: str | None = None
    rate: sympy.Rational | None = None            # dropout probability
    branches: list[list["Layer"]] = field(default_factory=list)
    label: str | None = None                      # the spec's `name`, if given


@dataclass
class Row:
    """One layer traced through the network: shapes in and out, its counts, and its branches' rows."""

    layer: Layer
    shape_in: Shape
    shape_out: Shape
    params: int
    mults: int
    pads: tuple[int, int] = (0, 0)                # total padding added to height and width
    children: list[list["Row"]] = field(default_factory=list)


# ---- parsing ------------------------------------------------------------------------------------

class Counter:
    """Counts the layers of one network (branch blocks and the layers inside them) against the limit."""

    def __init__(self, ctx: F.Ctx) -> None:
        self.n = 0
        self.ctx = ctx

    def bump(self) -> None:
        """One more layer; past the limit, an error at the network's field."""
        self.n += 1
        limit = self.ctx.limits.layers
        if self.n > limit:
            raise self.ctx.error(f"more than {limit} layers in one network (layers inside branches count too; "
                                 "limit 'layers')")


def pair(value: Any, ctx: F.Ctx, item=F.positive_int) -> tuple[int, int]:
    """One whole number for both sides, or [height, width]."""
    if isinstance(value, list):
        if len(value) != 2:
            raise ctx.error(f"expected one number or [height, width], got {len(value)} number"
                            + ("" if len(value) == 1 else "s"))
        return item(value[0], ctx.child(0)), item(value[1], ctx.child(1))
    n = item(value, ctx)
    return n, n


def padding(value: Any, ctx: F.Ctx) -> Any:
    """`valid` (0), `same`, a number of rows and columns added on each side, or [rows, columns]."""
    if isinstance(value, str) and not re.match(r"[-+.0-9]", value):
        word = str(value)
        if word == "valid":
            return (0, 0)
        if word == "same":
            return "same"
        raise ctx.error(f"expected valid, same or a whole number, got {word!r}{F.suggest(word, ('valid', 'same'))}")
    return pair(value, ctx, F.nonnegative_int)


def _true(what: str):
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
ACTIVATION = F.Field(F.choice(*ACTIVATIONS))


def _tables(counter: Counter) -> dict[str, dict[str, F.Field]]:
    """Each layer type's fields (the type's own key holds its main value)."""
    pool = dict(stride=F.Field(pair), padding=F.Field(padding, (0, 0)), name=NAME)
    return {
        "dense": F.table(dense=F.Field(F.positive_int, required=True), bias=BIAS, activation=ACTIVATION, name=NAME),
        "conv": F.table(conv=F.Field(F.positive_int, required=True), kernel=F.Field(pair, required=True),
                        stride=F.Field(pair, (1, 1)), padding=F.Field(padding, (0, 0)), bias=BIAS,
                        activation=ACTIVATION, name=NAME),
        "maxpool": F.table(maxpool=F.Field(pair, required=True), **pool),
        "avgpool": F.table(avgpool=F.Field(pair, required=True), **pool),
        "batchnorm": F.table(batchnorm=F.Field(_true("batch norm"), required=True), name=NAME),
        "dropout": F.table(dropout=F.Field(_rate, required=True), name=NAME),
        "flatten": F.table(flatten=F.Field(_true("flattening"), required=True), name=NAME),
        "branches": F.table(branches=F.Field(lambda v, c: _branches(v, c, counter), required=True), name=NAME),
    }


def parse_layers(value: Any, ctx: F.Ctx, counter: Counter | None = None) -> list[Layer]:
    """A non-empty list of layers (one network, or one branch)."""
    counter = counter or Counter(ctx)
    if not isinstance(value, list) or not value:
        raise ctx.error(f"expected a non-empty list of layers, got {F.describe(value) if value != [] else '[]'}")
    return [parse_layer(raw, ctx.child(i), counter) for i, raw in enumerate(value)]


def parse_layer(raw: Any, ctx: F.Ctx, counter: Counter) -> Layer:
    """One layer mapping: exactly one type key, then that type's fields."""
    if not isinstance(raw, dict):
        raise ctx.error(f"expected a layer such as {{dense: 4}} or {{conv: 32, kernel: 3}}, got {F.describe(raw)}")
    counter.bump()
    types = [str(k) for k in raw if k in TYPES]
    if len(types) > 1:
        raise ctx.error(f"a layer has one type, got {len(types)}: {', '.join(types)}; "
                        "write each as a layer of its own")
    tables = _tables(counter)
    if not types:
        known = {name for table in tables.values() for name in table}
        unknown = [str(k) for k in raw if k not in known]
        if unknown:
            raise ctx.child(unknown[0]).error(f"unknown layer type {unknown[0]!r}{F.suggest(unknown[0], TYPES)}; "
                                              f"layer types: {', '.join(TYPES)}")
        raise ctx.error(f"a layer needs a type: one of {', '.join(TYPES)}")
    kind = types[0]
    v = F.read_mapping(raw, ctx, tables[kind], what=f"field of a {kind} layer")
    layer = Layer(kind, ctx, label=v["name"])
    if kind in ("dense", "conv"):
        layer.size, layer.bias, layer.activation = v[kind], v["bias"], v["activation"]
    if kind == "conv":
        layer.kernel, layer.stride, layer.padding = v["kernel"], v["stride"], v["padding"]
    elif kind in ("maxpool", "avgpool"):
        layer.kernel = v[kind]
        layer.stride = v["stride"] or v[kind]
        layer.padding = v["padding"]
        _check_pool_padding(layer)
    elif kind == "dropout":
        layer.rate = v["dropout"]
    elif kind == "branches":
        layer.branches = v["branches"]
    if layer.padding == "same" and layer.stride != (1, 1):
        raise ctx.child("padding").error("same padding needs stride 1 (as PyTorch); give the padding as a number")
    return layer


def _check_pool_padding(layer: Layer) -> None:
    """PyTorch pads a pool by at most half its window."""
    if layer.padding == "same":
        return
    for pad, k in zip(layer.padding, layer.kernel):
        if 2 * pad > k:
            raise layer.ctx.child("padding").error(
                f"a pool pads at most half its window (as PyTorch): padding {pad} is too much for a window of {k}")


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
    """`[features]` or `[height, width, channels]`."""
    if not isinstance(value, list) or len(value) not in (1, 3):
        got = f"{len(value)} numbers" if isinstance(value, list) else F.describe(value)
        raise ctx.error(f"expected [features] or [height, width, channels], got {got}")
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


# ---- counting -------------------------------------------------------------------------------------

def shape_text(shape: Shape) -> str:
    """`28×28×192`, or `a flat vector of 64`."""
    return "×".join(str(n) for n in shape) if len(shape) == 3 else f"a flat vector of {shape[0]}"


def pads(layer: Layer) -> tuple[int, int]:
    """Total padding on height and width (`same` with stride 1 adds k − 1, as PyTorch)."""
    if layer.padding == "same":
        return sum(same_padding(layer.kernel[0])), sum(same_padding(layer.kernel[1]))
    return 2 * layer.padding[0], 2 * layer.padding[1]


def trace(shape: Shape, layers: list[Layer]) -> list[Row]:
    """Every layer's output shape and counts, in order; a shape that does not fit is a located SpecError."""
    rows = []
    for layer in layers:
        row = trace_one(shape, layer)
        rows.append(row)
        shape = row.shape_out
    return rows


def trace_one(shape: Shape, layer: Layer) -> Row:
    """One layer on an input of `shape`."""
    t = layer.type
    if t == "dense":
        if len(shape) != 1:
            raise layer.ctx.child("dense").error(
                f"a dense layer needs a flat input, but it gets {shape_text(shape)}: add {{flatten: true}} before it")
        n_in, n_out = shape[0], layer.size
        return Row(layer, shape, (n_out,), n_in * n_out + (n_out if layer.bias else 0), n_in * n_out)
    if t in ("conv", "maxpool", "avgpool"):
        return _windowed(shape, layer)
    if t == "batchnorm":
        return Row(layer, shape, shape, 2 * shape[-1], 0)
    if t == "flatten":
        total = 1
        for n in shape:
            total *= n
        return Row(layer, shape, (total,), 0, 0)
    if t == "dropout":
        return Row(layer, shape, shape, 0, 0)
    return _branch_block(shape, layer)


def _windowed(shape: Shape, layer: Layer) -> Row:
    """Conv or pool: the output-size formula on height and width."""
    key = "conv" if layer.type == "conv" else layer.type
    if len(shape) != 3:
        raise layer.ctx.child(key).error(f"a {layer.type} layer needs a [height, width, channels] input, "
                                         f"but it gets {shape_text(shape)}")
    h, w, c = shape
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    ph, pw = pads(layer)
    if h + ph < kh or w + pw < kw:
        where = "kernel" if layer.type == "conv" else key
        padded = f" (padded to {h + ph}×{w + pw})" if ph or pw else ""
        what = "kernel" if layer.type == "conv" else "window"
        raise layer.ctx.child(where).error(f"the {kh}×{kw} {what} is larger than its {h}×{w} input{padded}: "
                                           "there is no position to put it")
    ho, wo = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
    if layer.type != "conv":
        return Row(layer, shape, (ho, wo, c), 0, 0, (ph, pw))
    f = layer.size
    weights = kh * kw * c * f
    return Row(layer, shape, (ho, wo, f), weights + (f if layer.bias else 0), ho * wo * weights, (ph, pw))


def _branch_block(shape: Shape, layer: Layer) -> Row:
    """Branches side by side on the same input, outputs concatenated along channels (or features)."""
    children = [trace(shape, branch) for branch in layer.branches]
    outs = [rows[-1].shape_out for rows in children]
    first = outs[0]
    for i, out in enumerate(outs[1:], 1):
        if len(out) != len(first) or out[:-1] != first[:-1]:
            raise layer.ctx.child("branches").error(
                f"the branches cannot be concatenated: branch 0 gives {shape_text(first)}, branch {i} gives "
                f"{shape_text(out)}" + (" (heights and widths must agree)" if len(out) == len(first) == 3 else
                                        " (all must be flat, or all [height, width, channels])"))
    concat = first[:-1] + (sum(out[-1] for out in outs),)
    params = sum(r.params for rows in children for r in rows)
    mults = sum(r.mults for rows in children for r in rows)
    return Row(layer, shape, concat, params, mults, children=children)


def networks(p: Any) -> dict[str | None, list[Layer]]:
    """A network problem's design name → layers; one unnamed network when it gives `layers`."""
    return dict(p.fields.designs) if p.fields.designs is not None else {None: p.fields.layers}


def all_layers(layers: list[Layer]) -> list[Layer]:
    """Every layer, those inside branches included."""
    out = []
    for layer in layers:
        out.append(layer)
        for branch in layer.branches:
            out.extend(all_layers(branch))
    return out


def leaves(rows: list[Row]) -> list[Row]:
    """Every row, branches' inner rows included (depth-first)."""
    out = []
    for r in rows:
        out.append(r)
        for branch in r.children:
            out.extend(leaves(branch))
    return out


def describe(layer: Layer) -> str:
    """The layer's name: the spec's `name`, else a short description (`conv 3×3, 32 filters, same`)."""
    if layer.label:
        return layer.label
    t = layer.type
    extra = []
    if layer.kernel and layer.stride != (1, 1) and (t == "conv" or layer.stride != layer.kernel):
        extra.append("stride " + _pair_text(layer.stride))
    if layer.padding == "same":
        extra.append("same")
    elif layer.padding != (0, 0):
        extra.append("padding " + _pair_text(layer.padding))
    if t in ("dense", "conv") and not layer.bias:
        extra.append("no bias")
    if layer.activation and layer.activation != "linear":
        extra.append(layer.activation)
    if t == "dense":
        head = f"dense {layer.size}"
    elif t == "conv":
        head = f"conv {layer.kernel[0]}×{layer.kernel[1]}, {layer.size} filter{'s' if layer.size > 1 else ''}"
    elif t in ("maxpool", "avgpool"):
        head = f"{t} {layer.kernel[0]}×{layer.kernel[1]}"
        if layer.stride == (1, 1) and layer.kernel != (1, 1):
            extra.insert(0, "stride 1")
    elif t == "dropout":
        head = f"dropout {_number_text(layer.rate)}"
    elif t == "batchnorm":
        head = "batch norm"
    elif t == "flatten":
        head = "flatten"
    else:
        head = f"{len(layer.branches)} branches, concatenated"
    return ", ".join([head] + extra)


def _pair_text(p: tuple[int, int]) -> str:
    """`2`, or `2×1` when the sides differ."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def _number_text(x: sympy.Rational) -> str:
    """0.5 for 1/2; 1/3 stays a fraction."""
    from ..latex import is_plain, terminating
    return terminating(x) if is_plain(x) else str(x)
