"""The worked solution of `backprop` after the forward pass: the loss, the backward pass layer by layer, the update,
the computational graph, the answers and the notes."""
from __future__ import annotations

from typing import Any

from ..latex import Latex, tex
from ..problem import Problem
from ..solution import Solution
from . import _dense_answers as A
from . import _dense_show as D
from . import _dense_exact as E
from . import _graph as G
from . import _layers as L
from ._backward import Backward, differences

FORMULAS = {
    "mse": r"\mathcal{L} = \frac{1}{NK}\sum_{n,k}(\hat{y}_{nk} - y_{nk})^2",
    "half_mse": r"\mathcal{L} = \frac{1}{2NK}\sum_{n,k}(\hat{y}_{nk} - y_{nk})^2",
    "l1": r"\mathcal{L} = \frac{1}{NK}\sum_{n,k}\lvert\hat{y}_{nk} - y_{nk}\rvert",
    "sse": r"\mathcal{L} = \sum_{n,k}(\hat{y}_{nk} - y_{nk})^2",
    "half_sse": r"\mathcal{L} = \frac{1}{2}\sum_{n,k}(\hat{y}_{nk} - y_{nk})^2",
    "cross_entropy": r"\mathcal{L} = \frac{1}{N}\sum_n \Bigl(\log\sum_k e^{z_{nk}} - z_{n,y_n}\Bigr)",
    "bce": r"\mathcal{L} = \frac{1}{NK}\sum_{n,k} \Bigl(y_{nk}\log\bigl(1 + e^{-z_{nk}}\bigr) "
           r"+ (1 - y_{nk})\log\bigl(1 + e^{z_{nk}}\bigr)\Bigr)",
}
OUTPUT_GRADS = {
    "mse": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = \frac{2}{NK}(\hat{Y} - Y)",
    "half_mse": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = \frac{1}{NK}(\hat{Y} - Y)",
    "l1": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = \frac{1}{NK}\operatorname{sign}(\hat{Y} - Y)",
    "sse": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = 2(\hat{Y} - Y)",
    "half_sse": r"\frac{\partial\mathcal{L}}{\partial\hat{Y}} = \hat{Y} - Y",
}
DERIVATIVES = {"linear": "1", "relu": r"1 \text{ if } z > 0 \text{ else } 0",
               "leaky_relu": r"1 \text{ if } z > 0 \text{ else } s",
               "sigmoid": r"\sigma(z)\bigl(1 - \sigma(z)\bigr)", "tanh": r"1 - \tanh^2(z)"}


LOSS_WORDS = {
    "mse": "The mean squared error averages over all N·K entries (PyTorch's MSELoss).",
    "half_mse": "Half the mean squared error, ½·MSELoss, averaged over all N·K entries (the ½ cancels the 2 of "
                "the derivative).",
    "sse": "The sum of squared errors adds every entry.",
    "half_sse": "Half the sum of squared errors (the ½ cancels the 2 of the derivative).",
    "l1": "The mean absolute error averages $|\\hat{y} - y|$ over all N·K entries (PyTorch's L1Loss); "
          "its derivative is $\\operatorname{sign}(\\hat{y} - y)/(NK)$, taken as 0 where $\\hat{y} = y$ exactly, "
          "as PyTorch does ($\\operatorname{sign}(0) = 0$).",
}


def _ties(diff: list) -> str:
    """Where ŷ = y exactly (l1's kink), said in words."""
    ties = [(n, k) for n, row in enumerate(diff) for k, v in enumerate(row) if E.sign(v) == 0]
    if not ties:
        return ""
    where = ", ".join(f"({n}, {k})" for n, k in ties[:8]) + (" …" if len(ties) > 8 else "")
    return (f" Here $\\hat{{y}} = y$ exactly at (sample, output) {where}: the gradient there is 0.")


def _m(x: Any, d: int) -> Latex:
    """A value inside a substitution."""
    return D.sub(x, d)


def show_loss(s: Solution, p: Problem, out: list, z: list, y: list | None, classes: list[int] | None,
              back: Backward) -> None:
    """The step that computes the loss (Ŷ − Y first for the elementwise losses)."""
    d, n, k = p.digits, len(out), len(out[0])
    lines = [D.eq(FORMULAS[p.fields.loss], back.loss, d=d)]
    text = f"N = {n} sample{'s' if n > 1 else ''}, K = {k} output{'s' if k > 1 else ''}. "
    if p.fields.loss in LOSS_WORDS:
        diff = differences(out, y)
        lines.insert(0, D.eq(r"\hat{Y} - Y", D.joined(_m(out, d), ("-", _m(y, d))), diff, d=d))
        text += LOSS_WORDS[p.fields.loss] + (_ties(diff) if p.fields.loss == "l1" else "")
    elif p.fields.loss == "cross_entropy":
        text += ("Cross-entropy of the logits $z$ (the last layer is linear), mean over the samples, as "
                 "PyTorch's CrossEntropyLoss; targets are class indices from 0: "
                 + ", ".join(str(c) for c in classes) + ".")
    else:
        text += ("Binary cross-entropy of the sigmoid output $\\hat{y} = \\sigma(z)$, mean over the N·K entries; "
                 "it is written with $z$ because $-\\log\\sigma(z) = \\log(1 + e^{-z})$ and "
                 "$-\\log(1 - \\sigma(z)) = \\log(1 + e^{z})$.")
    s.step("The loss", *lines, text=text)


def show_backward(s: Solution, p: Problem, layers: list[L.Layer], x: list, zs: list, acts: list,
                  back: Backward) -> None:
    """The gradient at the output, then each layer's gradients from the last to the first."""
    d, nl = p.digits, len(layers)
    last = layers[-1]
    top = D.sup("Z", nl)
    if p.fields.loss == "cross_entropy":
        lines = [D.eq(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {top}}} = "
                      r"\frac{1}{N}\bigl(\operatorname{softmax}(Z) - \operatorname{onehot}(y)\bigr)",
                      back.deltas[-1], d=d)]
        text = ("Softmax and cross-entropy together: the gradient of the logits is the probabilities minus the "
                "one-hot target, over N.")
    elif p.fields.loss == "bce":
        lines = [D.eq(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {top}}} = "
                      r"\frac{1}{NK}(\hat{Y} - Y)", back.deltas[-1], d=d)]
        text = ("Sigmoid and binary cross-entropy together: $\\sigma'(z) = \\hat{y}(1 - \\hat{y})$ cancels, "
                "leaving $(\\hat{y} - y)/(NK)$.")
    else:
        lines = [D.eq(OUTPUT_GRADS[p.fields.loss], back.out_grad, d=d)]
        if last.activation == "softmax":
            lines.append(D.eq(rf"\Delta^{{[{nl}]}}_{{n}} = \mathbf{{a}}_n \odot \bigl(\mathbf{{g}}_n - "
                              r"\mathbf{g}_n\cdot\mathbf{a}_n\bigr)", back.deltas[-1], d=d))
            text = ("Through the softmax (its Jacobian), sample by sample, with $\\mathbf{g}_n$ the row of "
                    "$\\partial\\mathcal{L}/\\partial\\hat{Y}$.")
        elif last.activation == "linear":
            lines.append(Latex(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {top}}} = "
                               r"\frac{\partial\mathcal{L}}{\partial\hat{Y}}"))
            text = "The last layer is linear, so $\\hat{Y} = Z$ and the two gradients are equal."
        else:
            lines.append(D.eq(rf"\Delta^{{[{nl}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial\hat{{Y}}}} \odot "
                              rf"f'({top})", D.joined(_m(back.out_grad, d), (r"\odot", _m(back.derivs[-1], d))),
                              back.deltas[-1], d=d))
            text = f"Through the activation, elementwise: $f'(z) = {DERIVATIVES[last.activation]}$."
    s.step("Backward: the gradient at the output", *lines, text=text)
    for i in range(nl - 1, -1, -1):
        _show_backward_layer(s, p, layers, i, x if i == 0 else acts[i - 1], zs, back)


def _show_backward_layer(s: Solution, p: Problem, layers: list[L.Layer], i: int, a_prev: list, zs: list,
                         back: Backward) -> None:
    """Layer i's ∂L/∂W and ∂L/∂b, and the gradient carried down to the layer below."""
    d, k, layer = p.digits, i + 1, layers[i]
    delta = back.deltas[i]
    aname = "X" if k == 1 else D.sup("A", k - 1)
    dname = rf"\Delta^{{[{k}]}}"
    lines = [D.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial {D.sup('W', k)}}} = {dname}{{}}^\top {aname}",
                  D.joined(D.transposed(delta, d), ("", _m(a_prev, d))), back.grad_w[i], d=d)]
    if layer.bias is not None:
        bname = D.sup(r"\mathbf{b}", k)
        lines.append(D.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial {bname}}} = "
                          rf"\sum_n {dname}_{{n,:}}", [back.grad_b[i]], d=d))
    text = (f"Layer {k}: the weight gradient sums, over the samples, the outer product of each sample's "
            f"$\\delta$ (a row of $\\Delta^{{[{k}]}}$) and the layer's input; it is units × inputs, like "
            f"$W^{{[{k}]}}$." + (" The bias gradient sums $\\delta$ over the samples." if layer.bias is not None
                                 else " This layer has no bias."))
    if i > 0:
        below = layers[i - 1]
        g = back.upstream[i - 1]
        up = D.sup("A", k - 1)
        lines.append(D.eq(rf"\frac{{\partial\mathcal{{L}}}}{{\partial {up}}} = {dname} {D.sup('W', k)}",
                          D.joined(_m(delta, d), ("", _m(layer.weights, d))), g, d=d))
        if below.activation == "linear":
            lines.append(Latex(rf"\Delta^{{[{k - 1}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {up}}}"))
        else:
            lines.append(D.eq(rf"\Delta^{{[{k - 1}]}} = \frac{{\partial\mathcal{{L}}}}{{\partial {up}}} \odot "
                              rf"f'({D.sup('Z', k - 1)})", D.joined(_m(g, d), (r"\odot", _m(back.derivs[i - 1], d))),
                              back.deltas[i - 1], d=d))
        text += (f" The chain rule carries the gradient down through $W^{{[{k}]}}$ and then through layer "
                 f"{k - 1}'s activation ($f'(z) = {DERIVATIVES[below.activation]}$).")
        zeros = G.zero_positions(zs[i - 1]) if below.activation in ("relu", "leaky_relu") else []
        if zeros:
            where = ", ".join(f"$z_{{{n},{j}}}$" for n, j in zeros[:8]) + (" …" if len(zeros) > 8 else "")
            slope = "0" if below.activation == "relu" else f"the slope {tex(below.slope)}"
            text += (f" At {where} of $Z^{{[{k - 1}]}}$ the pre-activation is exactly 0, where the "
                     f"{'ReLU' if below.activation == 'relu' else 'leaky ReLU'} has a kink: the derivative "
                     f"there is taken as {slope}, as PyTorch does.")
    s.step(f"Backward: layer {k}", *lines, text=text)


def show_update(s: Solution, p: Problem, layers: list[L.Layer], back: Backward, new_w: list, new_b: list) -> None:
    """The gradient-descent step of every weight and bias (with weight decay when the problem has it)."""
    d, lr, eta = p.digits, p.fields.learning_rate, tex(p.fields.learning_rate)
    lam = p.fields.weight_decay if p.fields.weight_decay else None
    lines = []
    for i, layer in enumerate(layers):
        k = i + 1
        lines.append(_update_line(D.sup("W", k), _m(layer.weights, d), back.grad_w[i], new_w[i], lr, lam, d))
        if layer.bias is not None:
            lines.append(_update_line(D.sup(r"\mathbf{b}", k), _m([layer.bias], d), [back.grad_b[i]], [new_b[i]],
                                      lr, lam, d))
    text = (f"One plain gradient-descent step with learning rate $\\eta = {eta}$" if lam is None else
            f"One gradient-descent step with learning rate $\\eta = {eta}$ and weight decay $\\lambda = {tex(lam)}$: "
            "$\\lambda$ times each parameter is added to its gradient before the step, biases included, as "
            "torch.optim.SGD's weight_decay (the gradients above stay the loss's own), so the step takes "
            "$\\eta\\lambda$ times the parameter off as well")
    s.step("Gradient-descent update", *lines,
           text=text + ("; layers without a bias have nothing to update there." if any(l.bias is None for l in layers)
                        else "."))


def _update_line(name: str, before: Latex, grad: list, after: list, lr: Any, lam: Any, d: int) -> Latex:
    """`W ← W − η ∂L/∂W = … = new`; with weight decay `W ← W − η (∂L/∂W + λW) = W − η ∂L/∂W − ηλ W = … = new`."""
    partial = rf"\frac{{\partial\mathcal{{L}}}}{{\partial {name}}}"
    step = D.cat(tex(lr), _m(grad, d))
    if lam is None:
        return D.eq(rf"{name} \leftarrow {name} - \eta\,{partial}", D.joined(before, ("-", step)), after, d=d)
    return D.eq(rf"{name} \leftarrow {name} - \eta\left({partial} + \lambda {name}\right)",
                D.joined(before, ("-", step), ("-", D.cat(tex(lr * lam), before))), after, d=d)


def show_inputs(s: Solution, p: Problem, layers: list[L.Layer], back: Backward) -> None:
    """∂L/∂X = Δ^{[1]} W^{[1]}: the gradient carried one step further, to the inputs."""
    d = p.digits
    line = D.eq(r"\frac{\partial\mathcal{L}}{\partial X} = \Delta^{[1]} W^{[1]}",
                D.joined(_m(back.deltas[0], d), ("", _m(layers[0].weights, d))), back.grad_x, d=d)
    s.step("Backward: the inputs", line,
           text="The chain rule one step further: the gradient of the loss with respect to the inputs is layer 1's "
                "$\\Delta$ times its weights, one row per sample, like $X$ (as autograd gives for X with "
                "requires_grad).")


def answers(s: Solution, layers: list[L.Layer], acts: list, back: Backward, new_w: list, new_b: list) -> None:
    """Every answer of the problem, in the kind's order."""
    n = len(layers)
    A.answer_network(s, layers)
    A.answer(s, "output", acts[-1], r"\hat{Y}")
    A.answer(s, "loss", back.loss, r"\mathcal{L}")
    A.answer(s, "grad_weights", back.grad_w, r"\partial\mathcal{L}/\partial W^{[#]}", n)
    A.answer(s, "grad_biases", back.grad_b, r"\partial\mathcal{L}/\partial\mathbf{b}^{[#]}", n)
    A.answer(s, "updated_weights", new_w, r"W^{[#]}_{\text{new}}", n)
    A.answer(s, "updated_biases", new_b, r"\mathbf{b}^{[#]}_{\text{new}}", n)
    if s.problem.fields.grad_inputs:
        A.answer(s, "grad_inputs", back.grad_x, r"\partial\mathcal{L}/\partial X")


def notes(s: Solution, layers: list[L.Layer], zs: list, back: Backward) -> None:
    """Why the gradients vanish (when they do), and where a ReLU sat exactly at its kink."""
    all_zero = all(E.sign(v) == 0 for v in G.flat(back.deltas[-1]))
    if all_zero:
        why = ("every output already equals its target, so the output gradient is 0 for every sample"
               if all(E.sign(v) == 0 for v in G.flat(back.out_grad)) else
               "the gradient at the output is 0 for every sample")
        s.note(f"All gradients are 0: {why}. Every gradient further back is a product with it (the chain rule), "
               "so every upstream gradient vanishes, and the update leaves every weight and bias unchanged. "
               + (f"The loss is {'0' if E.sign(back.loss) == 0 else 'at a stationary point'}."))
    for layer, z in zip(layers, zs):
        if layer.activation in ("relu", "leaky_relu"):
            zeros = G.zero_positions(z)
            if zeros:
                s.note(f"In layer {layer.index + 1}, {len(zeros)} pre-activation"
                       f"{'s are' if len(zeros) > 1 else ' is'} exactly 0 (sample, unit: "
                       + ", ".join(f"({n}, {j})" for n, j in zeros[:8]) + (" …" if len(zeros) > 8 else "")
                       + "); there the derivative of the "
                       + ("ReLU is 0" if layer.activation == "relu" else "leaky ReLU is its slope")
                       + ", following PyTorch's convention at the kink.")
