"""The one table of activations: each name, how the key writes it, and how its rule is said."""
from __future__ import annotations

ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax")
ELEMENTWISE = tuple(a for a in ACTIVATIONS if a != "softmax")   # what a single conv output may use
NETWORK = ACTIVATIONS + ("relu6", "gelu")   # `network` only counts layers, so it also names these (SPEC §14)
SYMBOLS = {"linear": r"\operatorname{id}", "relu": r"\operatorname{relu}", "leaky_relu": r"\operatorname{lrelu}",
           "sigmoid": r"\sigma", "tanh": r"\tanh", "softmax": r"\operatorname{softmax}"}
RULES = {
    "linear": "linear: the output is the pre-activation itself",
    "relu": "ReLU: $\\max(0, z)$ elementwise",
    "leaky_relu": "leaky ReLU: $z$ where $z > 0$, else $s z$ with slope $s = {slope}$",
    "sigmoid": "sigmoid: $\\sigma(z) = 1/(1 + e^{{-z}})$ elementwise",
    "tanh": "tanh, elementwise",
    "softmax": "softmax: $e^{{z_j}} / \\sum_k e^{{z_k}}$ over each sample's units",
}
