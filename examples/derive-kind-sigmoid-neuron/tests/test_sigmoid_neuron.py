"""The example plugin against PyTorch, and its slip named by `derive check`."""
from __future__ import annotations

from pathlib import Path

import torch

import derive

HERE = Path(__file__).resolve().parent.parent


def test_every_number_equals_autograd():
    s = derive.sigmoid_neuron([1, 2], [0.5, -0.25], b=0.1, target=1)
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([0.5, -0.25], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    a = torch.sigmoid(w @ x + b)
    loss = 0.5 * (a - 1) ** 2
    loss.backward()
    numbers = {name: [float(v) for v in value] if isinstance(value, list) else float(value)
               for name, value in s.answers.items()}
    assert abs(numbers["a"] - a.item()) < 1e-12 and abs(numbers["loss"] - loss.item()) < 1e-12
    assert all(abs(g - t) < 1e-12 for g, t in zip(numbers["grad_w"], w.grad.tolist()))
    assert all(abs(g - t) < 1e-12 for g, t in zip(numbers["grad_x"], x.grad.tolist()))
    assert abs(numbers["grad_b"] - b.grad.item()) < 1e-12


def test_the_slip_is_named():
    report = derive.check(HERE / "example.yaml", HERE / "slipped.yaml")
    slips = {m.slip_names for m in report.problems[0].marks}
    assert slips == {("sigmoid_derivative_forgotten",)}
