"""The records of kind `network`'s layer language: a parsed layer, a traced row, shapes and how to walk them."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from .. import fields as F

# layer types, in the order error messages list them (`activation` is a type only when no other type key is given)
TYPES = ("dense", "conv", "convtranspose", "maxpool", "avgpool", "globalavgpool", "globalmaxpool", "upsample",
         "batchnorm", "layernorm", "dropout", "flatten", "activation", "attention", "embedding",
         "position_embedding", "branches", "residual")
BLOCKS = ("branches", "residual")
WINDOWED = ("conv", "maxpool", "avgpool")
WEIGHTED = ("dense", "conv", "convtranspose")
Shape = tuple  # (features,), (tokens, features) or (height, width, channels)


@dataclass
class Layer:
    """One parsed layer (its type, its settings) and where it stands in the spec."""

    type: str
    ctx: F.Ctx
    size: int | None = None                       # dense units, conv or transposed-conv filters
    kernel: tuple[int, int] | None = None         # conv kernel or pool window (height, width)
    stride: tuple[int, int] = (1, 1)
    padding: Any = (0, 0)                         # (rows, columns) on each side, or "same"
    bias: bool = True
    activation: str | None = None                 # after the layer (or, for `{activation: …}`, the layer itself)
    rate: sympy.Rational | None = None            # dropout probability
    branches: list[list["Layer"]] = field(default_factory=list)
    label: str | None = None                      # the spec's `name`, if given
    groups: int = 1                               # conv groups (depthwise: groups = input channels)
    dilation: tuple[int, int] = (1, 1)            # conv dilation
    ceil_mode: bool = False                       # pools: PyTorch's ceil_mode
    output_padding: tuple[int, int] = (0, 0)      # transposed conv
    factor: tuple[int, int] = (1, 1)              # upsample
    heads: int | None = None                      # attention heads
    vocab: int | None = None                      # embedding rows
    dim: int | None = None                        # embedding width
    max_tokens: int | None = None                 # position embedding rows
    main: list["Layer"] = field(default_factory=list)          # residual: the main path
    shortcut: list["Layer"] | None = None                     # residual: the shortcut (None: the identity)

    def blocks(self) -> list[list["Layer"]]:
        """The layer lists inside: the branches, or a residual's main path and its shortcut (if any)."""
        if self.type == "residual":
            return [self.main] + ([self.shortcut] if self.shortcut else [])
        return self.branches


@dataclass
class Row:
    """One layer traced through the network: shapes in and out, its counts, and its blocks' rows.

    A branches row's `children` are its branches' rows; a residual row's are [main path rows, shortcut rows]
    (the shortcut's list empty for the identity).
    """

    layer: Layer
    shape_in: Shape
    shape_out: Shape
    params: int
    mults: int
    pads: tuple[int, int] = (0, 0)                # total padding added to height and width
    children: list[list["Row"]] = field(default_factory=list)


def is_block(layer: Layer) -> bool:
    """A branches or residual block (its counts are the sums of the layers inside)."""
    return layer.type in BLOCKS


def shape_text(shape: Shape) -> str:
    """`28×28×192`, `16 tokens of 64 features`, or `a flat vector of 64`."""
    if len(shape) == 3:
        return "×".join(str(n) for n in shape)
    if len(shape) == 2:
        return f"{shape[0]} tokens of {shape[1]} features"
    return f"a flat vector of {shape[0]:,}"


def all_layers(layers: list[Layer]) -> list[Layer]:
    """Every layer, those inside branches and residual blocks included."""
    out = []
    for layer in layers:
        out.append(layer)
        for inner in layer.blocks():
            out.extend(all_layers(inner))
    return out


def leaves(rows: list[Row]) -> list[Row]:
    """Every row, blocks' inner rows included (depth-first)."""
    out = []
    for r in rows:
        out.append(r)
        for branch in r.children:
            out.extend(leaves(branch))
    return out


def map_layers(layers: list[Layer], change: Callable[[Layer], Layer]) -> list[Layer]:
    """Copies of the layers with `change(layer) -> layer` applied to each, inside blocks too (innermost first)."""
    out = []
    for layer in layers:
        inner = {"branches": [map_layers(b, change) for b in layer.branches], "main": map_layers(layer.main, change),
                 "shortcut": map_layers(layer.shortcut, change) if layer.shortcut else layer.shortcut}
        out.append(change(dataclasses.replace(layer, **inner)))
    return out


def networks(p: Any) -> dict[str | None, list[Layer]]:
    """A network problem's design name → layers; one unnamed network when it gives `layers`."""
    return dict(p.fields.designs) if p.fields.designs is not None else {None: p.fields.layers}
