"""The layer language of kind `network` (SPEC §3, §14) and exact counting: shapes, parameters, multiplications.

One place to import from: the records live in `_arch_types`, reading the spec in `_arch_parse`, counting in
`_arch_count`, names and repeats in `_arch_names`.
"""
from __future__ import annotations

from ._arch_count import pads, span, trace, trace_one
from ._arch_names import (describe, fingerprint, names, number_text, pair_text, plain_description, settings,
                          stages)
from ._arch_parse import (NET_ACTIVATIONS, Counter, article, pair, padding, parse_designs, parse_input,
                          parse_layer, parse_layers)
from ._arch_types import (BLOCKS, TYPES, WEIGHTED, Layer, Row, Shape, all_layers, is_block, leaves, map_layers,
                          networks, shape_text)

__all__ = ["BLOCKS", "TYPES", "WEIGHTED", "NET_ACTIVATIONS", "Layer", "Row", "Shape", "Counter", "pair",
           "padding", "parse_layers", "parse_layer", "parse_input", "parse_designs", "article", "pads", "span",
           "trace", "trace_one", "describe", "plain_description", "names", "stages", "settings", "fingerprint",
           "number_text", "pair_text", "all_layers", "is_block", "leaves", "map_layers", "networks", "shape_text"]
