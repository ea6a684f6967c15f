"""The computational graph of `backprop`: the chain of value and operation nodes of a dense network, drawn by
`_graph`, with the step that says what its table holds."""
from __future__ import annotations

import sympy

from ..problem import Problem
from ..solution import Solution
from . import _dense_exact as E
from . import _graph as G
from . import _layers as L
from ._activations import SYMBOLS
from ._backward import Backward
from ._dense_show import sup


def show_graph(s: Solution, p: Problem, layers: list[L.Layer], x: list, zs: list, acts: list, y: list | None,
               classes: list[int] | None, back: Backward) -> None:
    """The computational graph, and the table of the values and gradients small enough to list."""
    chain, side = graph(layers, x, zs, acts, y, classes, back, p)
    big = G.untabulated(chain, side)
    text = ("Each box is a value, each circle an operation; parameters and targets enter from above. Data flows left "
            "to right; gradients flow right to left, and each node's gradient is "
            "$\\partial\\mathcal{L}/\\partial(\\text{node})$")
    if big:
        names = ", ".join(f"${n.name.split(' = ')[0]}$" for n in big)
        text += (f". The table lists the values and gradients of the smaller nodes; those of {names} (larger "
                 "matrices) are in the steps above.")
    else:
        text += " (the table lists the values and the gradients)."
    s.step("The computational graph", text=text, figure=G.figure(chain, side, p.digits))


def graph(layers: list[L.Layer], x: list, zs: list, acts: list, y: list | None, classes: list[int] | None,
          back: Backward, p: Problem) -> tuple[list, dict[str, G.Val]]:
    """The chain of nodes and the side nodes (parameters, targets) for _graph.figure."""
    chain: list = [G.Val("x", "X", G.as_sym(x), G.as_sym(back.grad_x) if p.fields.grad_inputs else None, "data")]
    side: dict[str, G.Val] = {}
    nl = len(layers)
    for i, layer in enumerate(layers):
        k = i + 1
        delta = back.deltas[i]
        wxt = zs[i] if layer.bias is None else [[E.sub(v, bj) for v, bj in zip(row, E.rows([layer.bias])[0])]
                                                 for row in zs[i]]   # X·Wᵀ = Z − b
        chain.append(G.Op(f"mm{k}", r"$\times$"))
        side[f"mm{k}"] = G.Val(f"w{k}", sup("W", k), G.as_sym(layer.weights), G.as_sym(back.grad_w[i]), "param")
        last = i == nl - 1
        is_out = last and layer.activation == "linear"
        zname = sup("Z", k) + (r" = \hat{Y}" if is_out else "")
        if layer.bias is not None:
            chain.append(G.Val(f"p{k}", sup("P", k), G.as_sym(wxt), G.as_sym(delta)))
            chain.append(G.Op(f"add{k}", "$+$"))
            side[f"add{k}"] = G.Val(f"b{k}", sup(r"\mathbf{b}", k), G.as_sym(layer.bias),
                                    G.as_sym(back.grad_b[i]), "param")
        chain.append(G.Val(f"z{k}", zname, G.as_sym(zs[i]), G.as_sym(delta)))
        if layer.activation != "linear":
            chain.append(G.Op(f"f{k}", "$" + SYMBOLS[layer.activation].replace(r"\operatorname", r"\mathrm") + "$"))
            chain.append(G.Val(f"a{k}", sup("A", k) + (r" = \hat{Y}" if last else ""), G.as_sym(acts[i]),
                               G.as_sym(back.upstream[i])))
    chain.append(G.Op("loss", {"mse": "MSE", "half_mse": r"$\frac{1}{2}$MSE", "sse": "SSE",
                               "half_sse": r"$\frac{1}{2}$SSE", "l1": "L1", "cross_entropy": "CE",
                               "bce": "BCE"}[p.fields.loss]))
    targets = [[c] for c in classes] if classes is not None else y
    side["loss"] = G.Val("y", "Y" if classes is None else r"\mathbf{y}", G.as_sym(targets), None, "data")
    chain.append(G.Val("loss_value", r"\mathcal{L}", G.as_sym(back.loss), sympy.Integer(1), "loss"))
    return chain, side
