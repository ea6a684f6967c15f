"""Kind `sigmoid_neuron`: z = w·x + b, a = σ(z); with a target y, L = ½(a − y)² and its gradients.

A complete derive plugin in one module: fields, checks, the exact solution with its steps, the float64
recomputation, and one slip of its own.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from derive import fields as F
from derive.kind import AnswerSpec, Kind, Slip, Variant
from derive.latex import Latex, chain, tex
from derive.problem import Problem
from derive.solution import Solution


def sigmoid(z: sympy.Expr) -> sympy.Expr:
    """σ(z) = 1/(1 + e^(−z)), exact."""
    return 1 / (1 + sympy.exp(-z))


class SigmoidNeuron(Kind):
    """One neuron with a sigmoid: its output, and with a target its loss and gradients."""

    name = "sigmoid_neuron"
    summary = "a sigmoid neuron σ(w·x + b); with a target, ½(a − y)² and its gradients"
    fields = F.table(
        x=F.Field(F.vector, required=True),
        w=F.Field(F.vector, required=True),
        b=F.Field(F.number, sympy.Integer(0)),
        target=F.Field(F.number),
    )
    answers = {"z": AnswerSpec(), "a": AnswerSpec(depends=("z",)), "loss": AnswerSpec(depends=("a",)),
               "grad_z": AnswerSpec(depends=("a",)), "grad_w": AnswerSpec(depends=("grad_z",)),
               "grad_b": AnswerSpec(depends=("grad_z",)), "grad_x": AnswerSpec(depends=("grad_z",))}
    examples = ({"x": [1, 2], "w": [0.5, -0.25], "b": 0.1, "target": 1},
                {"x": [0.5, -1, 2], "w": [1, 0, 0.5]})
    positional = ("x", "w")

    def validate(self, p: Problem) -> None:
        if len(p.fields.w) != len(p.fields.x):
            raise p.error("w", f"expected {len(p.fields.x)} weights (one per input), got {len(p.fields.w)}")

    def answer_names(self, p: Problem) -> list[str]:
        return list(self.answers) if p.fields.target is not None else ["z", "a"]

    def solve(self, p: Problem) -> Solution:
        f, s, d = p.fields, Solution(p), p.digits
        z = sympy.Add(*[wi * xi for wi, xi in zip(f.w, f.x)]) + f.b
        a = sigmoid(z)
        s.step("Pre-activation", chain(Latex(r"z = \mathbf{w}\cdot\mathbf{x} + b"), z, approx_digits=d))
        s.step("Sigmoid", chain(Latex(r"a = \sigma(z) = \frac{1}{1 + e^{-z}}"), a, approx_digits=d))
        s.answer("z", z, symbol="z")
        s.answer("a", a, symbol="a")
        if f.target is not None:
            self._backward(s, p, a)
        return s

    def _backward(self, s: Solution, p: Problem, a: sympy.Expr) -> None:
        """½(a − y)², then the chain rule through σ′(z) = a(1 − a)."""
        f, d = p.fields, p.digits
        loss = (a - f.target) ** 2 / 2
        grad_z = (a - f.target) * a * (1 - a)
        s.step("Loss", chain(Latex(r"L = \tfrac{1}{2}(a - y)^2"), loss, approx_digits=d))
        s.step("Back through the sigmoid", chain(Latex(r"\frac{\partial L}{\partial z} = (a - y)\,a(1 - a)"),
                                                 grad_z, approx_digits=d),
               text="The sigmoid's derivative is $\\sigma'(z) = a(1 - a)$.")
        grad_w = [grad_z * xi for xi in f.x]
        grad_x = [grad_z * wi for wi in f.w]
        s.step("Weights, bias and inputs", chain(Latex(r"\frac{\partial L}{\partial \mathbf{w}}"), grad_w,
                                                 approx_digits=d))
        for name, value, symbol in (("loss", loss, "L"), ("grad_z", grad_z, r"\partial L/\partial z"),
                                    ("grad_w", grad_w, r"\partial L/\partial \mathbf{w}"),
                                    ("grad_b", grad_z, r"\partial L/\partial b"),
                                    ("grad_x", grad_x, r"\partial L/\partial \mathbf{x}")):
            s.answer(name, value, symbol=symbol)

    def recompute(self, p: Problem) -> dict[str, Any]:
        f = p.fields
        x, w = np.array(f.x, dtype=float), np.array(f.w, dtype=float)
        z = float(w @ x + float(f.b))
        a = 1 / (1 + np.exp(-z))
        out: dict[str, Any] = {"z": z, "a": a}
        if f.target is not None:
            g = (a - float(f.target)) * a * (1 - a)
            out.update(loss=0.5 * (a - float(f.target)) ** 2, grad_z=g, grad_w=g * x, grad_b=g, grad_x=g * w)
        return out


def derivative_forgotten(p: Problem, answers: dict) -> list[Variant]:
    """∂L/∂z taken as a − y: the sigmoid's derivative a(1 − a) left out of the chain rule."""
    if "grad_z" not in answers:
        return []

    def transform(p: Problem, a: dict) -> dict:
        g = a["a"] - p.fields.target
        return {"grad_z": g, "grad_w": [g * xi for xi in p.fields.x], "grad_b": g,
                "grad_x": [g * wi for wi in p.fields.w]}
    return [Variant("the sigmoid's derivative a(1 − a) left out of the chain rule", transform=transform)]


SigmoidNeuron.slips = (Slip("sigmoid_derivative_forgotten", "σ′(z) = a(1 − a) left out of the chain rule",
                            derivative_forgotten),)
KIND = SigmoidNeuron()
