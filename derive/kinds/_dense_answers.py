"""The answers box of the dense kinds (`forward`, `backprop`): each answer named for the layers it has (W^{[1]} for
one layer, never `W^{[1]}, W^{[2]}, …`), one value per layer (biases per layer, never one matrix across layers),
values packed into rows that fit the line, and a value shown by its decimals written `≈ value`, never `= … ≈`."""
from __future__ import annotations

from typing import Any

from ..latex import Approx as Rounded
from ..latex import Latex, tex
from ..solution import Solution
from . import _dense_exact as E
from . import _dense_fit as F
from . import _layers as L
from ._dense_show import _irrational, rounded, shown


def names(symbol: str, count: int) -> str:
    """`W^{[1]}`, `W^{[1]}, W^{[2]}` or `W^{[1]}, \\dots, W^{[L]}` for `count` layers (`#` in `symbol`: the layer)."""
    if count <= 3:
        return ", ".join(symbol.replace("#", str(k)) for k in range(1, count + 1))
    return symbol.replace("#", "1") + r", \dots, " + symbol.replace("#", str(count))


def _parts(parts: list, d: int) -> tuple[list[str], list[str] | None, bool]:
    """(how each part is shown, its decimals when some part is irrational and shown exactly, any shown ≈)."""
    shown_parts = [shown(v, d) if v is not None else (tex(None), False) for v in parts]
    texts = [text for text, _ in shown_parts]
    if any(approximate for _, approximate in shown_parts):
        return texts, None, True
    if any(v is not None and _irrational(v) for v in parts):
        return texts, [rounded(v, d) if v is not None else tex(None) for v in parts], False
    return texts, None, False


def display(parts: list, d: int) -> Latex:
    """The value of an answer as the box writes it after `symbol =` (or `symbol ≈` when it starts with ≈)."""
    texts, decimals_, approximate = _parts(parts, d)
    text = F.packed(texts)
    if approximate:
        return Latex(r"\approx " + text)
    return Latex(text if decimals_ is None else text + r" \approx " + F.packed(decimals_))


def answer(s: Solution, name: str, value: Any, symbol: str, layers: int | None = None) -> None:
    """Record an answer: one value, or (with `layers`) one per layer, `symbol` holding `#` for the layer."""
    # a single value whose exact form fits the line is left to the answers box's own `symbol = exact ≈ decimals`
    value, approximate = E.settle(value)
    d = s.problem.digits
    if layers is None:
        text, rounded_ = shown(value, d)
        own = None if not rounded_ or isinstance(text, Rounded) else display([value], d)
        s.answer(name, value, approximate=approximate, symbol=symbol, display=own)
        return
    s.answer(name, value, approximate=approximate, symbol=names(symbol, layers), display=display(value, d))


def answer_network(s: Solution, layers: list[L.Layer]) -> None:
    """The weights and biases as used (units × inputs; None for no bias), one per layer."""
    answer(s, "weights", [layer.weights for layer in layers], "W^{[#]}", len(layers))
    answer(s, "biases", [layer.bias for layer in layers], r"\mathbf{b}^{[#]}", len(layers))
