"""backprop against PyTorch autograd (float64), the XOR network, the key's explanations, bad inputs."""
import math
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import derive
from derive.verify import to_float

tenths = st.integers(-20, 20).map(lambda n: n / 10)
HIDDEN = ["linear", "relu", "leaky_relu", "sigmoid", "tanh"]
XOR = [[0, 0], [0, 1], [1, 0], [1, 1]]


@st.composite
def networks(draw):
    """A random small network, batch and loss, consistent with the SPEC's rules."""
    loss = draw(st.sampled_from(["mse", "sse", "half_sse", "cross_entropy", "bce"]))
    depth = draw(st.integers(1, 4))
    widths = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    if loss == "cross_entropy":
        widths[-1] = draw(st.integers(2, 4))
    n = draw(st.integers(1, 4))
    layers, torch_layers = [], []
    for i in range(depth):
        last = i == depth - 1
        if last:
            act = {"cross_entropy": "linear", "bce": "sigmoid"}.get(loss) or draw(st.sampled_from(HIDDEN + ["softmax"]))
        else:
            act = draw(st.sampled_from(HIDDEN))
        w = [[draw(tenths) for _ in range(widths[i])] for _ in range(widths[i + 1])]
        layer = {"activation": act}
        if draw(st.booleans()):
            layer.update(weights=[list(c) for c in zip(*w)], layout="in_out")
        else:
            layer["weights"] = w
        b = [draw(tenths) for _ in range(widths[i + 1])] if draw(st.booleans()) else None
        if b is not None:
            layer["bias"] = b
        slope = None
        if act == "leaky_relu":
            slope = draw(st.sampled_from([None, 0.2, 0.5]))
            if slope is not None:
                layer["slope"] = slope
        layers.append(layer)
        torch_layers.append((w, b, act, 0.01 if slope is None else slope))
    x = [[draw(tenths) for _ in range(widths[0])] for _ in range(n)]
    k = widths[-1]
    if loss == "cross_entropy":
        targets = [draw(st.integers(0, k - 1)) for _ in range(n)]
    elif loss == "bce":
        targets = [[draw(st.sampled_from([0, 0.3, 1])) for _ in range(k)] for _ in range(n)]
    else:
        targets = [[draw(tenths) for _ in range(k)] for _ in range(n)]
    if loss != "cross_entropy" and k == 1 and draw(st.booleans()):
        targets = [row[0] for row in targets]
    lr = draw(st.sampled_from([0.1, 0.5, 1]))
    return x, targets, layers, loss, lr, torch_layers


def at_kinks(z, a, w, b):
    """z with float64 rounding noise around an exact 0 removed (value only; the gradient flows as before),
    so that PyTorch takes the same side of a ReLU kink as exact arithmetic (relu′(0) = 0)."""
    noise = 1e-12 * (a.detach().abs() @ w.detach().abs().T + (0 if b is None else b.detach().abs()))
    return z - torch.where(z.detach().abs() <= noise, z.detach(), torch.zeros_like(z))


def torch_act(name, z, slope):
    return {"linear": lambda: z, "relu": lambda: torch.relu(z), "leaky_relu": lambda: TF.leaky_relu(z, slope),
            "sigmoid": lambda: torch.sigmoid(z), "tanh": lambda: torch.tanh(z),
            "softmax": lambda: torch.softmax(z, dim=1)}[name]()


def torch_backprop(x, targets, torch_layers, loss, lr):
    """PyTorch's answer: output, loss, gradients, updated parameters."""
    params = []
    a = torch.tensor(x, dtype=torch.float64)
    for w, b, act, slope in torch_layers:
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        bt = None if b is None else torch.tensor(b, dtype=torch.float64, requires_grad=True)
        z = at_kinks(TF.linear(a, wt, bt), a, wt, bt)
        a = torch_act(act, z, slope)
        params.append((wt, bt))
    if loss == "cross_entropy":
        value = TF.cross_entropy(a, torch.tensor(targets))
    else:
        y = torch.tensor(targets, dtype=torch.float64).reshape(a.shape)
        value = {"mse": lambda: TF.mse_loss(a, y), "sse": lambda: ((a - y) ** 2).sum(),
                 "half_sse": lambda: 0.5 * ((a - y) ** 2).sum(), "bce": lambda: TF.binary_cross_entropy_with_logits(z, y)}[loss]()
        # bce of the sigmoid output, through PyTorch's stable logits form (BCELoss on probabilities loses
        # every digit of log(1 - p) once p rounds to 1)
    value.backward()
    return {"output": a.detach(), "loss": value.item(),
            "grad_weights": [w.grad for w, _ in params],
            "grad_biases": [None if b is None else b.grad for _, b in params],
            "updated_weights": [w.detach() - lr * w.grad for w, _ in params],
            "updated_biases": [None if b is None else b.detach() - lr * b.grad for _, b in params]}


def close(exact, expected):
    got = torch.tensor(to_float(exact), dtype=torch.float64)
    return torch.allclose(got, expected.reshape(got.shape), rtol=1e-9, atol=1e-12)


@settings(max_examples=45, deadline=None)
@given(networks())
def test_backprop_matches_torch_autograd(case):
    x, targets, layers, loss, lr, torch_layers = case
    s = derive.backprop(x, targets, layers, loss=loss, learning_rate=lr)
    want = torch_backprop(x, targets, torch_layers, loss, lr)
    a = s.answers
    assert close(a["output"], want["output"])
    assert math.isclose(to_float(a["loss"]), want["loss"], rel_tol=1e-9, abs_tol=1e-12)
    for name in ("grad_weights", "updated_weights"):
        for got, expected in zip(a[name], want[name]):
            assert close(got, expected), name
    for name in ("grad_biases", "updated_biases"):
        for got, expected in zip(a[name], want[name]):
            assert (got is None) == (expected is None)
            if got is not None:
                assert close(got, expected), name
    for got, (w, *_) in zip(a["weights"], torch_layers):
        assert got == [[sympy.Rational(str(v)) for v in row] for row in w]   # units × inputs, whatever the layout


def xor(layers, loss="half_sse"):
    return derive.backprop(XOR, [0, 1, 1, 0], layers, loss=loss, learning_rate=0.1, id="q3")


GOODFELLOW = [{"weights": [[1, 1], [1, 1]], "bias": [0, -1], "activation": "relu"},
              {"weights": [[1, -2]], "bias": [0], "activation": "linear"}]


def test_goodfellow_xor_is_solved_exactly():
    s = xor(GOODFELLOW)
    a = s.answers
    assert a["output"] == [[0], [1], [1], [0]]
    assert a["loss"] == 0
    assert a["grad_weights"] == [[[0, 0], [0, 0]], [[0, 0]]]
    assert a["grad_biases"] == [[0, 0], [0]]
    assert a["updated_weights"] == a["weights"] == [[[1, 1], [1, 1]], [[1, -2]]]
    assert a["updated_biases"] == a["biases"] == [[0, -1], [0]]
    notes = " ".join(s.notes)
    assert "every output already equals its target" in notes
    assert "every upstream gradient vanishes" in notes and "unchanged" in notes
    assert "(0, 0), (1, 1), (2, 1)" in notes and "ReLU is 0" in notes
    texts = " ".join(step.text for step in s.steps)
    assert "exactly 0" in texts and "as PyTorch does" in texts


def test_xor_without_hidden_bias_matches_torch():
    layers = [{"weights": [[1, 1], [1, -1]], "activation": "relu"},
              {"weights": [[1, -2]], "bias": [0], "activation": "linear"}]
    s = xor(layers)
    want = torch_backprop(XOR, [0, 1, 1, 0], [([[1, 1], [1, -1]], None, "relu", 0),
                                              ([[1, -2]], [0], "linear", 0)], "half_sse", 0.1)
    a = s.answers
    assert a["biases"][0] is None and a["grad_biases"][0] is None and a["updated_biases"][0] is None
    assert any(v != 0 for row in a["grad_weights"][0] for v in row)
    for got, expected in zip(a["grad_weights"], want["grad_weights"]):
        assert close(got, expected)
    assert close(a["grad_biases"][1], want["grad_biases"][1])
    assert not any("All gradients are 0" in n for n in s.notes)


def test_exact_values_and_approximate_marks():
    s = derive.backprop([[0.5, -1]], [[1]], [{"weights": [[1, 2]], "activation": "sigmoid"}], loss="bce",
                        learning_rate=0.1)
    assert s.answers["output"][0][0] == 1 / (1 + sympy.exp(sympy.Rational(3, 2)))
    assert not s.approximate
    deep = derive.backprop([[0.5, -1], [1, 2]], [[1], [0]],
                           [{"weights": [[1, 2], [0.5, -1]], "activation": "tanh"},
                            {"weights": [[1, 2], [0.3, -1]], "activation": "tanh"},
                            {"weights": [[1, -1]], "activation": "sigmoid"}], loss="bce", learning_rate=0.1)
    assert "grad_weights" in deep.approximate
    value = deep.answers["grad_weights"][0][0][0]
    assert isinstance(value, sympy.Float) and value._prec > 150   # a 50-digit decimal


def test_key_shows_chain_rule_and_graph():
    s = xor(GOODFELLOW)
    titles = [step.title for step in s.steps]
    assert titles[-1] == "The computational graph" and "Backward: layer 1" in titles
    figure = s.steps[-1].figure
    assert r"\begin{tikzpicture}" in figure and r"\begin{tabular}" in figure
    for node in ("W^{[1]}", r"\mathbf{b}^{[2]}", r"\mathrm{relu}", r"\frac{1}{2}$SSE", r"\mathcal{L}"):
        assert node in figure
    math = " ".join(m for step in s.steps for m in step.math)
    assert r"\Delta^{[2]}{}^\top A^{[1]}" in math and r"\leftarrow" in math


def test_mse_cross_entropy_values():
    s = derive.backprop([[1, 2]], [1], [{"weights": [[1, 0], [0, 1]], "bias": [0, 0]}], loss="cross_entropy",
                        learning_rate=1)
    expected = sympy.log(sympy.exp(1) + sympy.exp(2)) - 2
    assert sympy.simplify(s.answers["loss"] - expected) == 0
    m = derive.backprop([[1], [2]], [1, 1], [{"weights": [[0.5]]}], loss="mse", learning_rate=1)
    assert m.answers["loss"] == sympy.Rational(1, 8)   # ((0.5-1)^2 + 0)/2
    assert m.answers["grad_weights"] == [[[sympy.Rational(-1, 2)]]]   # 2/N Σ (ŷ−y)·x = (−0.5)·1


def test_leaky_relu_at_zero_takes_the_slope():
    s = derive.backprop([[1, -1]], [[1]], [{"weights": [[1, 1]], "activation": "leaky_relu", "slope": 0.2}],
                        loss="half_sse", learning_rate=1)
    assert s.answers["grad_weights"] == [[[sympy.Rational(-1, 5), sympy.Rational(1, 5)]]]
    assert any("leaky ReLU is its slope" in n for n in s.notes)


# ---- bad inputs: exact messages, exit status 2 ---------------------------------------------------------

HEAD = "title: T\nproblems:\n  - id: q3\n    kind: backprop\n"
GOOD = ("    inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\n    targets: [0, 1, 1, 0]\n    loss: half_sse\n"
        "    learning_rate: 0.1\n")
TWO = ("    layers:\n      - {weights: [[1, 1], [1, 1]], bias: [0, -1], activation: relu}\n"
       "      - {weights: [[1, -2]], bias: [0]}\n")

BAD = [
    ("weights fit neither layout",
     HEAD + GOOD + "    layers:\n      - {units: 3, weights: [[1, 1], [1, 1]], activation: relu}\n      - {weights: [[1, -2, 1]]}\n",
     "spec.yaml:10: q3.layers[0].weights: expected 3×2 (units × inputs), got 2×2; it fits neither layout "
     "(layout: in_out would need 2×3)"),
    ("weights fit the other layout",
     HEAD + GOOD + "    layers:\n      - {weights: [[1, 1, 1], [1, 1, 1]], units: 3}\n      - {weights: [[1, -2, 1]]}\n",
     "spec.yaml:10: q3.layers[0].weights: expected 3×2 (units × inputs), got 2×3; this fits layout: in_out "
     "(inputs × units): add `layout: in_out` to the layer"),
    ("in_out misfit",
     HEAD + GOOD + "    layers:\n      - {weights: [[1, 1], [1, 1], [1, 1]], layout: in_out}\n      - {weights: [[1, -2, 1]]}\n",
     "spec.yaml:10: q3.layers[0].weights: expected 2 × units (inputs × units, layout: in_out), got 3×2; this fits "
     "the default layout (units × inputs): remove `layout: in_out`"),
    ("flat weights",
     HEAD + GOOD + "    layers:\n      - {weights: [1, 1]}\n",
     "spec.yaml:10: q3.layers[0].weights: expected a matrix (a list of rows), got a flat list; write one row as [[…]]"),
    ("targets count",
     HEAD + "    inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\n    targets: [0, 1, 1]\n    loss: half_sse\n"
     "    learning_rate: 0.1\n" + TWO,
     "spec.yaml:6: q3.targets: expected 4 targets (one per row of inputs), got 3"),
    ("class index out of range",
     HEAD + "    inputs: [[0, 0], [0, 1]]\n    targets: [0, 2]\n    loss: cross_entropy\n    learning_rate: 0.1\n"
     "    layers:\n      - {weights: [[1, 1], [1, -1]]}\n",
     "spec.yaml:6: q3.targets[1]: class index 2 is out of range: there are 2 classes, 0 to 1"),
    ("softmax on a hidden layer",
     HEAD + GOOD + "    layers:\n      - {weights: [[1, 1], [1, 1]], activation: softmax}\n      - {weights: [[1, -2]]}\n",
     "spec.yaml:10: q3.layers[0].activation: softmax is only for the last layer (layer 0 of 2 is hidden)"),
    ("cross_entropy after softmax",
     HEAD + "    inputs: [[0, 0], [0, 1]]\n    targets: [0, 1]\n    loss: cross_entropy\n    learning_rate: 0.1\n"
     "    layers:\n      - {weights: [[1, 1], [1, -1]], activation: softmax}\n",
     "spec.yaml:7: q3.loss: cross_entropy needs a linear last layer (it applies the softmax itself: a softmax "
     "layer would apply it twice); the last layer has activation: softmax"),
    ("bce without sigmoid",
     HEAD + GOOD.replace("half_sse", "bce") + TWO,
     "spec.yaml:7: q3.loss: bce needs a sigmoid last layer (its output is a probability); the last layer has "
     "activation: linear"),
    ("learning rate 0", HEAD + GOOD.replace("0.1", "0") + TWO,
     "spec.yaml:8: q3.learning_rate: must be positive, got 0"),
    ("learning rate negative", HEAD + GOOD.replace("0.1", "-0.5") + TWO,
     "spec.yaml:8: q3.learning_rate: must be positive, got -1/2"),
    ("unknown activation",
     HEAD + GOOD + "    layers:\n      - {weights: [[1, 1], [1, 1]], activation: rleu}\n      - {weights: [[1, -2]]}\n",
     "spec.yaml:10: q3.layers[0].activation: expected one of linear, relu, leaky_relu, sigmoid, tanh, softmax, "
     "got 'rleu' (did you mean 'relu'?)"),
    ("too many layers",
     HEAD + GOOD + "    layers:\n" + "      - {weights: [[1, 1], [1, 1]]}\n" * 1025,
     "spec.yaml:9: q3.layers: 1025 layers is more than the limit of 1024 (limit 'layers')"),
    ("too many units",
     HEAD + GOOD + "    layers:\n      - {units: 600, weights: random}\n      - {units: 1, weights: random}\n",
     "spec.yaml:10: q3.layers[0].units: 600 units is more than the limit of 512 (limit 'matrix_side')"),
    ("too many weights",
     HEAD + GOOD + "    layers:\n" + "      - {units: 500, weights: random}\n" * 2 + "      - {units: 1, weights: random}\n",
     "spec.yaml:9: q3.layers: the network has more than 100,000 weights and biases (limit 'numbers')"),
    ("targets shape",
     HEAD + "    inputs: [[0, 0], [0, 1]]\n    targets: [0, 1]\n    loss: mse\n    learning_rate: 0.1\n"
     "    layers:\n      - {weights: [[1, 1], [1, -1]]}\n",
     "spec.yaml:6: q3.targets: the last layer has 2 units: give targets as a 2×2 matrix (one row per sample)"),
    ("slope without leaky_relu",
     HEAD + GOOD + "    layers:\n      - {weights: [[1, 1], [1, 1]], activation: relu, slope: 0.1}\n      - {weights: [[1, -2]]}\n",
     "spec.yaml:10: q3.layers[0].slope: slope is only for leaky_relu (this layer's activation is relu)"),
    ("random without units",
     HEAD + GOOD + "    layers:\n      - {weights: random}\n",
     "spec.yaml:10: q3.layers[0].units: required with weights: random (the number of rows to draw)"),
    ("bias length",
     HEAD + GOOD + "    layers:\n      - {weights: [[1, 1], [1, 1]], bias: [1, 2, 3]}\n      - {weights: [[1, -2]]}\n",
     "spec.yaml:10: q3.layers[0].bias: expected 2 numbers (one per unit), got 3"),
]


@pytest.mark.parametrize("name, text, message", BAD, ids=[c[0] for c in BAD])
def test_bad_backprop_spec(name, text, message, bad_spec):
    assert bad_spec(text) == message


def test_worksheet_q3_builds():
    sheet = derive.load(Path(__file__).parents[2] / "problems" / "worksheet.yaml")
    q3 = next(p for p in sheet.problems if p.id == "q3")
    s = derive.solve(q3)
    assert s.answers["loss"] == 0 and s.answers["output"] == [[0], [1], [1], [0]]


def test_exact_kink_that_float64_misses():
    # 0.1 + 0.2 − 0.3 is exactly 0, but 5.6e-17 in float64: the exact ReLU′ is 0, and the float check agrees
    s = derive.backprop([[0.1, 0.2, -0.3]], [[1]], [{"weights": [[1, 1, 1]], "activation": "relu"}],
                        loss="half_sse", learning_rate=1)
    assert s.answers["grad_weights"] == [[[0, 0, 0]]]
    assert any("(0, 0)" in n and "ReLU is 0" in n for n in s.notes)


def test_question_sheet_data_states_the_network():
    from derive.kinds import backprop
    sheet = derive.load(Path(__file__).parents[2] / "problems" / "worksheet.yaml")
    q3 = next(p for p in sheet.problems if p.id == "q3")
    names = [name for name, _ in backprop.given(q3)]
    assert names == ["inputs", "targets", "layer 1", "W[1] (units × inputs)", "b[1]", "layer 2",
                     "W[2] (units × inputs)", "b[2]", "loss", "learning rate"]


def test_bce_with_a_saturated_sigmoid_is_checked_accurately():
    """σ(28.3) rounds to 1 in float64: the loss must still agree (the float check works from the logits)."""
    s = derive.backprop([[1.0]], [0], [{"weights": [[28.3]], "activation": "sigmoid"}], loss="bce",
                        learning_rate=0.1)
    z = torch.tensor([[28.3]], dtype=torch.float64)
    want = TF.binary_cross_entropy_with_logits(z, torch.zeros_like(z)).item()
    assert math.isclose(to_float(s.answers["loss"]), want, rel_tol=1e-12)


# ---- SPEC §13: half_mse, l1, weight_decay, grad_inputs (PyTorch autograd and torch.optim.SGD the oracle) -------

NEW_LOSSES = ["half_mse", "l1", "mse", "half_sse"]


@st.composite
def decayed_networks(draw):
    """A random small network with one of the elementwise losses, a weight decay and ∂L/∂X asked for."""
    loss = draw(st.sampled_from(NEW_LOSSES))
    depth = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    layers, torch_layers = [], []
    for i in range(depth):
        act = draw(st.sampled_from(HIDDEN + (["softmax"] if i == depth - 1 else [])))
        w = [[draw(tenths) for _ in range(widths[i])] for _ in range(widths[i + 1])]
        b = [draw(tenths) for _ in range(widths[i + 1])] if draw(st.booleans()) else None
        layer = {"weights": w, "activation": act}
        if b is not None:
            layer["bias"] = b
        layers.append(layer)
        torch_layers.append((w, b, act, 0.01))
    n = draw(st.integers(1, 3))
    x = [[draw(tenths) for _ in range(widths[0])] for _ in range(n)]
    targets = [[draw(tenths) for _ in range(widths[-1])] for _ in range(n)]
    lr = draw(st.sampled_from([0.1, 0.5]))
    decay = draw(st.sampled_from([0, 0.01, 0.5]))
    return x, targets, layers, loss, lr, decay, torch_layers


def at_ties(d):
    """ŷ − y with float64 noise around an exact tie removed (value only), so that |·|′ is torch.sign(0) = 0 there."""
    return d - torch.where(d.detach().abs() <= 1e-12, d.detach(), torch.zeros_like(d))


def torch_sgd_step(x, targets, torch_layers, loss, lr, decay):
    """PyTorch's answers: autograd's gradients (of the weights, biases and inputs) and torch.optim.SGD's step."""
    params, flat = [], []
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    a = xt
    for w, b, act, slope in torch_layers:
        wt = torch.nn.Parameter(torch.tensor(w, dtype=torch.float64))
        bt = None if b is None else torch.nn.Parameter(torch.tensor(b, dtype=torch.float64))
        z = at_kinks(TF.linear(a, wt, bt), a, wt, bt)
        a = torch_act(act, z, slope)
        params.append((wt, bt))
        flat += [wt] + ([bt] if bt is not None else [])
    y = torch.tensor(targets, dtype=torch.float64).reshape(a.shape)
    d = at_ties(a - y)
    value = {"half_mse": lambda: 0.5 * (d ** 2).mean(), "mse": lambda: (d ** 2).mean(),
             "half_sse": lambda: 0.5 * (d ** 2).sum(), "sse": lambda: (d ** 2).sum(),
             "l1": lambda: d.abs().mean()}[loss]()
    value.backward()
    grads = {"grad_weights": [w.grad.clone() for w, _ in params],
             "grad_biases": [None if b is None else b.grad.clone() for _, b in params], "grad_inputs": xt.grad}
    torch.optim.SGD(flat, lr=lr, weight_decay=decay).step()
    return {"loss": value.item(), **grads, "updated_weights": [w.detach() for w, _ in params],
            "updated_biases": [None if b is None else b.detach() for _, b in params]}


def same_layers(got, want):
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert close(g, w)


@settings(max_examples=40, deadline=None)
@given(decayed_networks())
def test_losses_weight_decay_and_grad_inputs_match_torch(case):
    x, targets, layers, loss, lr, decay, torch_layers = case
    s = derive.backprop(x, targets, layers, loss=loss, learning_rate=lr, weight_decay=decay, grad_inputs=True)
    want = torch_sgd_step(x, targets, torch_layers, loss, lr, decay)
    a = s.answers
    assert math.isclose(to_float(a["loss"]), want["loss"], rel_tol=1e-9, abs_tol=1e-12)
    assert close(a["grad_inputs"], want["grad_inputs"])
    for name in ("grad_weights", "grad_biases", "updated_weights", "updated_biases"):
        same_layers(a[name], want[name])


def test_half_mse_is_half_of_mse():
    layers = [{"weights": [[0.5, -1]], "bias": [0.2]}]
    half = derive.backprop([[1, 2], [0, 1]], [1, -1], layers, loss="half_mse", learning_rate=1).answers
    full = derive.backprop([[1, 2], [0, 1]], [1, -1], layers, loss="mse", learning_rate=1).answers
    assert half["loss"] * 2 == full["loss"]
    assert [[2 * v for v in row] for row in half["grad_weights"][0]] == full["grad_weights"][0]


def test_l1_at_an_exact_tie_has_zero_gradient():
    """tanh(0.1) − tanh(0.1) + 0.2 is exactly the target 0.2: |ŷ − y|′ there is sign(0) = 0, as torch.sign."""
    layers = [{"weights": [[0.5, -1], [1, 0.5]], "bias": [0.1, 0.1], "activation": "tanh"},
              {"weights": [[1, -1]], "bias": [0.2]}]
    s = derive.backprop([[1, -0.5], [0, 0]], [0.5, 0.2], layers, loss="l1", learning_rate=0.1, weight_decay=0.01,
                        grad_inputs=True)
    a = s.answers
    assert a["output"][1] == [sympy.Rational(1, 5)]          # exactly the target
    assert a["grad_inputs"][1] == [0, 0]                      # no gradient flows from the tie
    texts = " ".join(step.text for step in s.steps)
    assert "exactly at (sample, output) (1, 0)" in texts and "sign}(0) = 0" in texts
    want = torch_sgd_step([[1, -0.5], [0, 0]], [[0.5], [0.2]],
                          [([[0.5, -1], [1, 0.5]], [0.1, 0.1], "tanh", 0), ([[1, -1]], [0.2], "linear", 0)],
                          "l1", 0.1, 0.01)
    assert close(a["grad_inputs"], want["grad_inputs"])
    same_layers(a["updated_weights"], want["updated_weights"])
    same_layers(a["updated_biases"], want["updated_biases"])


def test_weight_decay_is_torch_sgd_after_one_step():
    layers = [{"weights": [[0.5, -0.5], [1, 1]], "bias": [0, 1], "activation": "relu"},
              {"weights": [[1, -0.5]], "bias": [0.5]}]
    s = derive.backprop([[1, 2], [-1, 0.5], [0.5, -1]], [1, 0, -0.5], layers, loss="half_mse", learning_rate=0.5,
                        weight_decay=0.1, grad_inputs=True)
    want = torch_sgd_step([[1, 2], [-1, 0.5], [0.5, -1]], [[1], [0], [-0.5]],
                          [([[0.5, -0.5], [1, 1]], [0, 1], "relu", 0), ([[1, -0.5]], [0.5], "linear", 0)],
                          "half_mse", 0.5, 0.1)
    a = s.answers
    same_layers(a["updated_weights"], want["updated_weights"])
    same_layers(a["updated_biases"], want["updated_biases"])
    # the gradients stay the loss's own; the update is p − η·(g + λ·p), biases included
    assert a["updated_biases"][1] == [a["biases"][1][0] - sympy.Rational(1, 2) * (
        a["grad_biases"][1][0] + sympy.Rational(1, 10) * a["biases"][1][0])]
    assert close(a["grad_inputs"], want["grad_inputs"])
    update = next(step for step in s.steps if step.title == "Gradient-descent update")
    assert r"\lambda" in " ".join(update.math) and "torch.optim.SGD's weight_decay" in update.text
    assert any(step.title == "Backward: the inputs" for step in s.steps)


def test_grad_inputs_unless_declined():
    # SPEC §13: backprop gains the answer grad_inputs; `grad_inputs: false` leaves it out
    assert xor(GOODFELLOW).answers["grad_inputs"] == [[0, 0]] * 4
    declined = derive.backprop(XOR, [0, 1, 1, 0], GOODFELLOW, loss="half_sse", learning_rate=0.1, grad_inputs=False)
    assert "grad_inputs" not in declined.answers


def test_hagan_target_as_a_closed_form():
    """Hagan et al., Neural Network Design, ch. 11: target 1 + sin(π/4) = 1 + √2/2, written as that closed form."""
    layers = [{"weights": [[-0.27], [-0.41]], "bias": [-0.48, -0.13], "activation": "sigmoid"},
              {"weights": [[0.09, -0.17]], "bias": [0.48]}]
    s = derive.backprop([[1]], ["1 + sqrt(2)/2"], layers, loss="sse", learning_rate=0.1)
    a = s.answers
    assert not s.approximate and a["loss"].has(sympy.sqrt(2))     # exact, √2 and all
    book = {"updated_weights": [[[-0.265], [-0.420]], [[0.171, -0.0772]]],
            "updated_biases": [[-0.475, -0.140], [0.732]]}
    for name, layers_ in book.items():
        for got, want in zip(a[name], layers_):
            assert np.allclose(to_float(got), want, atol=6e-4)
    want = torch_sgd_step([[1]], [[1 + math.sqrt(2) / 2]],
                          [([[-0.27], [-0.41]], [-0.48, -0.13], "sigmoid", 0), ([[0.09, -0.17]], [0.48], "linear", 0)],
                          "sse", 0.1, 0)
    same_layers(a["updated_weights"], want["updated_weights"])
    same_layers(a["updated_biases"], want["updated_biases"])


NEW_BAD = [
    ("negative weight decay", HEAD + GOOD + "    weight_decay: -0.1\n" + TWO,
     "spec.yaml:9: q3.weight_decay: must be zero or positive, got -1/10"),
    ("weight decay as code", HEAD + GOOD + "    weight_decay: \"__import__('os')\"\n" + TWO,
     "spec.yaml:9: q3.weight_decay: expected a number, got the string \"__import__('os')\" (a quoted string is a "
     "number only as a fraction \"p/q\" or a closed form such as \"1 + sqrt(2)/2\": '__import__' is not allowed: a "
     "closed form is parsed, never run as code)"),
    ("grad_inputs not a boolean", HEAD + GOOD + "    grad_inputs: yes\n" + TWO,
     "spec.yaml:9: q3.grad_inputs: expected true or false, got 'yes'"),
    ("half_mse typo", HEAD + GOOD.replace("half_sse", "half_mes") + TWO,
     "spec.yaml:7: q3.loss: expected one of mse, half_mse, sse, half_sse, l1, cross_entropy, bce, got 'half_mes' "
     "(did you mean 'half_mse'?)"),
    ("half_sse typo still half_sse", HEAD + GOOD.replace("half_sse", "half_ssee") + TWO,
     "spec.yaml:7: q3.loss: expected one of mse, half_mse, sse, half_sse, l1, cross_entropy, bce, got 'half_ssee' "
     "(did you mean 'half_sse'?)"),
    ("mae is l1", HEAD + GOOD.replace("half_sse", "mae") + TWO,
     "spec.yaml:7: q3.loss: expected one of mse, half_mse, sse, half_sse, l1, cross_entropy, bce, got 'mae' "
     "(did you mean 'l1'?)"),
    ("L1 in capitals", HEAD + GOOD.replace("half_sse", "L1") + TWO,
     "spec.yaml:7: q3.loss: expected one of mse, half_mse, sse, half_sse, l1, cross_entropy, bce, got 'L1' "
     "(did you mean 'l1'?)"),
    ("l1 targets shape", HEAD + GOOD.replace("half_sse", "l1").replace("[0, 1, 1, 0]", "[[0, 1], [1, 0]]") + TWO,
     "spec.yaml:6: q3.targets: expected 4 rows of targets (one per row of inputs), got 2"),
    ("closed-form class index", HEAD + GOOD.replace("half_sse", "cross_entropy")
     .replace("[0, 1, 1, 0]", "[0, 1, \"sqrt(2)\", 0]") + "    layers:\n      - {weights: [[1, 1], [1, -1]]}\n",
     "spec.yaml:6: q3.targets[2]: expected a class index (a whole number from 0 to 1), got sqrt(2)"),
]


@pytest.mark.parametrize("name, text, message", NEW_BAD, ids=[c[0] for c in NEW_BAD])
def test_bad_backprop_spec_new_fields(name, text, message, bad_spec):
    assert bad_spec(text) == message


def test_l1_with_any_last_layer_is_allowed():
    """l1 is PyTorch's L1Loss of whatever the last layer gives: a sigmoid output is no error (unlike bce's rule)."""
    s = derive.backprop([[1, 2]], [0.5], [{"weights": [[0.5, -0.25]], "activation": "sigmoid"}], loss="l1",
                        learning_rate=1)
    assert s.answers["output"] == [[sympy.Rational(1, 2)]] and s.answers["grad_weights"] == [[[0, 0]]]


# ---- SPEC §12: an update follows from the student's own gradient ----------------------------------------------

DECAY_SPEC = ("title: T\nproblems:\n  - id: d\n    kind: backprop\n    inputs: [[1, 2], [-1, 0.5], [0.5, -1]]\n"
              "    targets: [1, 0, -0.5]\n    layers:\n"
              "      - {weights: [[0.5, -0.5], [1, 1]], bias: [0, 1], activation: relu}\n"
              "      - {weights: [[1, -0.5]], bias: [0.5]}\n"
              "    loss: half_mse\n    learning_rate: 0.5\n    weight_decay: 0.1\n")


def test_update_follows_from_the_students_own_gradient(cli, spec_file, tmp_path):
    spec = spec_file(DECAY_SPEC)
    # the exact second-layer gradient is [3/8, −73/24]; the student doubled its first entry and stepped from it:
    # 1 − 0.5·(0.75 + 0.1·1) = 0.575 instead of 0.7625
    answers = tmp_path / "answers.yaml"
    answers.write_text("d:\n  grad_weights: [[[0.25, -0.5], [0.3333, 1.0625]], [[0.75, -3.0417]]]\n"
                       "  updated_weights: [[[0.35, -0.225], [0.7833, 0.41875]], [[0.575, 1.0458]]]\n"
                       "  updated_biases: [[-0.25, 0.8875], [0.6]]\n", encoding="utf-8")
    result = cli("check", spec, answers)
    assert result.code == 1
    line = next(l for l in result.out.splitlines() if "updated_weights[1][0][0]" in l)
    assert "WRONG, follows from your grad_weights" in line
    assert "1 carried" in result.out
    report = cli("check", spec, answers, "--json")
    marks = [m for p in __import__("json").loads(report.out)["problems"] for m in p["answers"]]
    carried = [m for m in marks if m.get("carried")]
    assert [(m["name"], m["index"]) for m in carried] == [("updated_weights", [1, 0, 0])]


def test_follow_redoes_the_step_with_weight_decay():
    from derive.engine import as_problem
    from derive.kinds.backprop import KIND
    p = as_problem({"id": "d", "kind": "backprop", "inputs": [[1, 2]], "targets": [1],
                    "layers": [{"weights": [[0.5, -0.5]], "bias": [1]}], "loss": "mse", "learning_rate": 0.5,
                    "weight_decay": 0.1})
    half, tenth = sympy.Rational(1, 2), sympy.Rational(1, 10)
    got = KIND.follow(p, "updated_weights", {"grad_weights": [[[1, 2]]]})
    assert got == [[[half - half * (1 + tenth * half), -half - half * (2 - tenth * half)]]]
    assert KIND.follow(p, "updated_biases", {"grad_biases": [[3]]}) == [[1 - half * (3 + tenth)]]
    assert KIND.follow(p, "loss", {"output": [[0]]}) is None


def mlp(activation: str, loss: str = "cross_entropy", seed: int = 0):
    """bench/bench_mlp.py's 64→32→10 network on a batch of 8 (1-decimal values), its targets for `loss`."""
    rng = np.random.default_rng(seed)
    one = lambda shape: np.round(rng.uniform(-1, 1, size=shape), 1).tolist()  # noqa: E731
    x, t = one((8, 64)), one((8, 10))
    layers = [{"weights": one((32, 64)), "bias": one(32), "activation": activation},
              {"weights": one((10, 32)), "bias": one(10)}]
    return x, ([int(np.argmax(row)) for row in t] if loss == "cross_entropy" else t), layers


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_with_carried_decimals_matches_torch(activation):
    """The benchmark network: every carried 50-digit value agrees with autograd to 1e-9 (ReLU masks exact)."""
    x, classes, layers = mlp(activation)
    s = derive.backprop(x, classes, layers, loss="cross_entropy", learning_rate=0.1, weight_decay=0.01,
                        grad_inputs=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    params = [torch.nn.Parameter(torch.tensor(layer[k], dtype=torch.float64))
              for layer in layers for k in ("weights", "bias")]
    z = at_kinks(TF.linear(xt, params[0], params[1]), xt, params[0], params[1])
    value = TF.cross_entropy(TF.linear(torch_act(activation, z, 0), params[2], params[3]), torch.tensor(classes))
    value.backward()
    a = s.answers
    assert math.isclose(to_float(a["loss"]), value.item(), rel_tol=1e-9)
    assert close(a["grad_inputs"], xt.grad)
    assert close(a["grad_weights"][0], params[0].grad) and close(a["grad_biases"][1], params[3].grad)
    assert "grad_weights" in s.approximate and isinstance(a["grad_weights"][1][0][0], sympy.Float)
    if activation == "relu":
        assert any("exactly 0" in n for n in s.notes)      # a hidden pre-activation sits exactly at the kink


# ---- the new slips, named by derive check (as tests/test_slips.py does for the catalogue) ---------------------

SLIP_NET = ("kind: backprop\ninputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\ntargets: [0, 1, 1, 0]\nlayers:\n"
            "  - {weights: [[1, 2], [1, 1]], bias: [0, -1], activation: relu}\n"
            "  - {weights: [[1, -2]], bias: [0.3]}\nlearning_rate: 0.1\nweight_decay: 0.1\n")
SLIP_CASES = [("weight_decay", "half_sse", "updated_weights", 0), ("weight_decay", "half_sse", "updated_biases", 0),
              ("weight_decay", "half_sse", "updated_weights", 1), ("weight_decay", "half_sse", "updated_weights", 2),
              ("l1_sign", "l1", "grad_weights", 0), ("l1_sign", "l1", "updated_weights", 0),
              ("loss_mean_sum", "half_mse", "loss", 0)]


def written(x):
    """A number as a person writes it: exact when short, else 6 significant digits."""
    from derive.latex import decimal_text, is_plain, terminating
    from derive.yamlsafe import Plain
    if isinstance(x, list):
        return [written(v) for v in x]
    if x is None:
        return Plain("null")
    return Plain(terminating(x) if isinstance(x, sympy.Rational) and is_plain(x) else decimal_text(x, 6))


@pytest.mark.parametrize("slip, loss, answer, variant", SLIP_CASES)
def test_new_slips_are_named(slip, loss, answer, variant):
    import textwrap
    from derive.engine import solve
    from derive.grading.diagnose import Trials
    from derive.grading.run import check
    from derive.spec import parse
    sheet = parse("title: t\nproblems:\n  - id: p\n" + textwrap.indent(SLIP_NET + f"loss: {loss}", "    "),
                  "spec.yaml")
    p = sheet.problems[0]
    trials = Trials(p, solve(p))
    chosen = [v for name, v in trials.variants if name == slip][variant]
    wrong = trials.outcome((chosen,))[answer]
    marks = check(sheet, {"p": {answer: written(wrong)}}).problems[0].marks
    bad = [m for m in marks if not m.ok]
    assert bad and all(slip in m.slip_names and m.slip.startswith(chosen.words) for m in bad)
    right = check(sheet, {"p": {answer: written(trials.solution.answers[answer])}}).problems[0].marks
    assert all(m.ok and m.slip is None for m in right)


# ---- a readable key (SPEC §15) -------------------------------------------------------------------------------------

def deep_spec():
    """tests/layout_specs/backprop_deep.yaml: 4 layers, a batch of 8, drawn weights."""
    return derive.load(Path(__file__).parents[1] / "layout_specs" / "backprop_deep.yaml").problems[0]


def test_a_single_layer_names_its_gradients_and_updates_w1():
    s = derive.backprop([[1, 2], [3, 4]], [1, 2], [{"weights": [[0.5, -0.25]], "bias": [0.1]}], loss="mse",
                        learning_rate=0.1)
    names = {a.name: a.symbol for a in s.answer_list}
    assert names["weights"] == "W^{[1]}" and names["grad_weights"] == r"\partial\mathcal{L}/\partial W^{[1]}"
    assert names["updated_biases"] == r"\mathbf{b}^{[1]}_{\text{new}}"
    assert not any(r"\dots" in symbol for symbol in names.values())


def test_the_weight_gradient_writes_delta_transposed_as_a_tall_matrix():
    """Δᵀ of a batch of 8 is written as the 8-row Δ with ⊤, not as an 8-column matrix as wide as the page."""
    from derive.engine import solve
    s = solve(deep_spec())
    line = next(m for step in s.steps if step.title == "Backward: layer 4" for m in step.math
                if m.startswith(r"\frac{\partial\mathcal{L}}{\partial W^{[4]}}"))
    delta_t = line.split(r"\end{bmatrix}^{\top}")[0].rsplit(r"\begin{bmatrix}", 1)[1]
    assert delta_t.count(r"\\") == 7 and delta_t.split(r"\\")[0].count("&") == 1      # 8 rows, 2 columns


def test_the_graph_lists_only_values_small_enough_to_read():
    from derive.engine import solve
    s = solve(deep_spec())
    graph = next(step for step in s.steps if step.title == "The computational graph")
    assert "in the steps" not in graph.figure
    tables = graph.figure.split(r"\begin{tabular}")[1:]
    assert tables and all(t.count(r"\\[7pt]") <= 7 for t in tables)
    assert "$X$" in graph.text and "steps above" in graph.text


def test_an_exact_rational_result_is_written_once():
    """A result with long rationals is `≈ decimals` once, not `= decimals ≈ the same decimals again`."""
    from derive.kinds import _dense_show as D
    third = sympy.Rational(10000, 30001)            # a denominator of 5 digits: a decimal with ≈ (SPEC §15)
    line = D.eq("W", [[third, sympy.Rational(1, 2)]], d=4)
    assert line == r"W \approx \begin{bmatrix}0.3333 & 0.5\end{bmatrix}"


def test_weight_decay_takes_eta_lambda_times_the_weights_off():
    s = derive.backprop([[1, 2]], [1], [{"weights": [[0.5, -0.5]], "bias": [1]}], loss="mse", learning_rate=0.5,
                        weight_decay=0.1)
    update = next(step for step in s.steps if step.title == "Gradient-descent update")
    assert r"- 0.5\begin{bmatrix}" in update.math[0] and r"- 0.05\begin{bmatrix}0.5 & -0.5\end{bmatrix}" in update.math[0]


def test_the_deep_question_sheet_gives_every_drawn_number():
    p = deep_spec()
    given = dict(p.definition.given(p))
    from derive.kinds import _layers as L
    for layer in L.resolve(p, 3):
        k = layer.index + 1
        rows = [" & ".join(repr(float(v)).removesuffix(".0") for v in row) for row in layer.weights]
        assert given[f"W[{k}], drawn (units × inputs)"] == r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
        assert given[f"b[{k}], drawn"] == r"\begin{bmatrix}" + " & ".join(
            repr(float(v)).removesuffix(".0") for v in layer.bias) + r"\end{bmatrix}"
    assert given["inputs"].startswith(r"\begin{bmatrix}0.59 & 0.05 & -1.1 \\ -1.13")
    assert not any("random" in f"{k} {v}" for k, v in given.items())
