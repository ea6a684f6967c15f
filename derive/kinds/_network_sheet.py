"""Kind `network` on the question sheet (SPEC §15): the input shape and every network's layers as tables, never as
spec text. One row per layer (type, units or filters, kernel, stride, padding, activation, the rest), a block's
layers indented under it; a run of identical layers, or a block repeating an earlier one, is one row."""
from __future__ import annotations

from typing import Any

from ..latex import Latex, group_int
from ..prose import escape
from . import _arch as A
from ._arch import Layer

SHEET_ROWS = 20   # rows of one table at most; a longer network continues in others (a display cannot break)
COLUMNS = (("number", r"\#"), ("type", "layer"), ("size", "units / filters"), ("kernel", "kernel"),
           ("stride", "stride"), ("padding", "padding"), ("activation", "activation"), ("other", "other"))
TYPE_WORDS = {"conv": "conv", "convtranspose": "transposed conv", "globalavgpool": "global avgpool",
              "globalmaxpool": "global maxpool", "batchnorm": "batch norm", "layernorm": "layer norm",
              "position_embedding": "position embedding", "branches": "branches, concatenated",
              "residual": "residual block"}
NAME_WIDTH = 32   # characters of a layer's type and name on one line; a longer name continues on the next rows
Row = dict[str, Any]   # column key → LaTeX of the cell (math mode); "more": a long name's next lines


def input_entry(shape: tuple, layers: list[Layer]) -> Latex:
    """`224 × 224 × 3 (height × width × channels)`, `16 × 64 (tokens × features)`, `6 tokens`, `3 features`."""
    dims = r" \times ".join(str(group_int(n)) for n in shape)
    if len(shape) == 3:
        return Latex(dims + r" \quad (\text{height} \times \text{width} \times \text{channels})")
    if len(shape) == 2:
        return Latex(dims + r" \quad (\text{tokens} \times \text{features})")
    word = "tokens" if layers and layers[0].type == "embedding" else "features"
    return Latex(dims + r"\ \text{%s}" % word)


def sheet_entries(label: str, layers: list[Layer]) -> list[tuple[str, Latex]]:
    """(label, table) pairs for one network: `layers`, or `layers 1 to 12`, `layers 13 to 20`, … past SHEET_ROWS."""
    rows = _rows(layers, 0)
    keys = [key for key, _ in COLUMNS if any(row.get(key) for row in rows)]
    chunks = _chunks(rows)
    if len(chunks) == 1:
        return [(label, _table(keys, rows))]
    return [(f"{label} {_span(chunk)}", _table(keys, chunk)) for chunk in chunks]


def _chunks(rows: list[Row]) -> list[list[Row]]:
    """Rows in tables of about equal length (at most SHEET_ROWS unless one block is longer), split between
    top-level layers only: a block's rows stay with it."""
    target = -(-len(rows) // -(-len(rows) // SHEET_ROWS))     # 24 rows: two tables of 12
    groups: list[list[Row]] = []
    for row in rows:
        if "plain" in row or not groups:
            groups.append([])
        groups[-1].append(row)
    chunks: list[list[Row]] = [[]]
    for group in groups:
        if chunks[-1] and (len(chunks[-1]) >= target or len(chunks[-1]) + len(group) > SHEET_ROWS):
            chunks.append([])
        chunks[-1].extend(group)
    return chunks


def _span(chunk: list[Row]) -> str:
    """`1 to 12`: the top-level layer numbers a chunk of rows covers."""
    numbers = [n for row in chunk for n in row.get("plain", "").split("-") if n]
    if not numbers:
        return "(continued)"
    return f"{numbers[0]} to {numbers[-1]}" if numbers[0] != numbers[-1] else numbers[0]


def _table(keys: list[str], rows: list[Row]) -> Latex:
    """A math array: a header row, a rule, one row per layer."""
    heads = dict(COLUMNS)
    align = "".join("r" if key == "number" else "l" for key in keys)
    head = " & ".join(heads[k] if k == "number" else r"\text{%s}" % heads[k] for k in keys)
    body = [" & ".join(row.get(k, "") for k in keys) for row in rows]
    return Latex(r"\begin{array}[t]{%s}%s \\ \hline %s\end{array}" % (align, head, r" \\ ".join(body)))


def _rows(layers: list[Layer], depth: int) -> list[Row]:
    """One row per layer (a block: its row, then its layers indented); identical neighbours in one row."""
    out: list[Row] = []
    seen: dict[tuple, int] = {}
    i = 0
    while i < len(layers):
        j = i + 1
        while j < len(layers) and _same(layers[j], layers[i]):
            j += 1
        number = str(i + 1) if j == i + 1 else f"{i + 1}-{j}"
        row = _row(layers[i], depth, j - i)
        if depth == 0:
            row["number"] = number.replace("-", r"\text{--}")
            row["plain"] = number
        twin = seen.setdefault(_settings(layers[i]), i) if A.is_block(layers[i]) else i
        if twin != i:
            row["other"] = r"\text{the same block as %s}" % (f"layer {twin + 1}" if depth == 0 else "above")
        out += [row] + [{"type": line} for line in row.pop("more")]
        if twin == i:
            out += _inside(layers[i], depth)
        i = j
    return out


def _same(a: Layer, b: Layer) -> bool:
    """Two plain layers with the same settings and name (a block is never merged with its neighbour)."""
    return not A.is_block(a) and _settings(a) == _settings(b)


def _settings(layer: Layer) -> tuple:
    """A layer's settings, a block's inner layers included."""
    return (A.settings(layer), tuple(tuple(_settings(inner) for inner in block) for block in layer.blocks()),
            layer.shortcut is None)


def _inside(layer: Layer, depth: int) -> list[Row]:
    """A block's layers under it: each branch, or the main path and the shortcut, labelled and indented."""
    if layer.type == "branches":
        out = []
        for b, branch in enumerate(layer.branches, 1):
            out.append({"type": _indent(depth + 1, r"\textit{branch %d}" % b)})
            out += _rows(branch, depth + 2)
        return out
    if layer.type == "residual":
        out = [{"type": _indent(depth + 1, r"\textit{main path}")}] + _rows(layer.main, depth + 2)
        if layer.shortcut:
            return out + [{"type": _indent(depth + 1, r"\textit{shortcut}")}] + _rows(layer.shortcut, depth + 2)
        return out + [{"type": _indent(depth + 1, r"\textit{shortcut: identity}")}]
    return []


def _indent(depth: int, text: str) -> str:
    """A cell's text, indented by its depth in blocks (1em a level)."""
    return (r"\hspace{%dem}" % depth if depth else "") + r"\text{%s}" % text


def _row(layer: Layer, depth: int, times: int = 1) -> Row:
    """The cells of one layer (inside a block, `times` identical layers in a row say so)."""
    words = TYPE_WORDS.get(layer.type, layer.type) + (f" ({layer.label})" if layer.label else "")
    words += f", {times} times" if depth and times > 1 else ""
    lines = _wrap(words)
    row = {"type": _indent(depth, escape(lines[0])), "more": [_indent(depth + 1, escape(x)) for x in lines[1:]]}
    if layer.size is not None:
        row["size"] = str(group_int(layer.size))
    if layer.kernel is not None:
        row["kernel"] = r"%d \times %d" % layer.kernel
        row["stride"] = _pair(layer.stride)
        row["padding"] = r"\text{same}" if layer.padding == "same" else _pair(layer.padding)
    if layer.activation and layer.activation != "linear":
        row["activation"] = r"\text{%s}" % escape(layer.activation)
    other = _other(layer)
    if other:
        row["other"] = r"\text{%s}" % escape(", ".join(other))
    return row


def _wrap(text: str) -> list[str]:
    """A long name as lines of at most NAME_WIDTH characters (a table cell cannot wrap)."""
    lines = [""]
    for word in text.split():
        if lines[-1] and len(lines[-1]) + 1 + len(word) > NAME_WIDTH:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def _pair(p: tuple[int, int]) -> str:
    """`2`, or `2 × 1` when the sides differ."""
    return str(p[0]) if p[0] == p[1] else r"%d \times %d" % p


def _other(layer: Layer) -> list[str]:
    """The settings no column holds: groups, dilation, bias, drop probability, heads, vocabulary, …"""
    out = []
    if layer.groups != 1:
        out.append(f"groups {layer.groups:,}")
    if layer.dilation != (1, 1):
        out.append("dilation " + A.pair_text(layer.dilation))
    if layer.output_padding != (0, 0):
        out.append("output padding " + A.pair_text(layer.output_padding))
    if layer.ceil_mode:
        out.append("ceil mode")
    if layer.type in A.WEIGHTED and not layer.bias:
        out.append("no bias")
    extra: dict[str, Any] = {
        "dropout": lambda: f"drop probability {A.number_text(layer.rate)}",
        "attention": lambda: f"{layer.heads} head{'s' if layer.heads > 1 else ''}",
        "embedding": lambda: f"vocabulary {layer.vocab:,}, width {layer.dim:,}",
        "position_embedding": lambda: f"{layer.max_tokens:,} positions",
        "upsample": lambda: "factor " + A.pair_text(layer.factor),
    }
    if layer.type in extra:
        out.append(extra[layer.type]())
    return out
