"""Kind `network`, the first step of the key: the formulas used and what is counted, for the layers present."""
from __future__ import annotations

from ..latex import Latex
from ._arch import Layer
from ._network_tex import IN, OUT


def rules(all_layers: list[Layer], sequences: bool = False) -> list[Latex]:
    """The formulas used, for the layer types (and settings) present (`sequences`: some input is [T, d])."""
    types = {layer.type for layer in all_layers}
    lines = []
    if types & {"conv", "maxpool", "avgpool"}:
        lines.append(Latex(r"H%s = \lfloor (H%s + 2p - k_h)/s \rfloor + 1, \quad "
                           r"W%s = \lfloor (W%s + 2p - k_w)/s \rfloor + 1" % (OUT, IN, OUT, IN)))
    if any(layer.dilation != (1, 1) for layer in all_layers):
        lines.append(Latex(r"\text{dilation } d\text{: } k \to d\,(k - 1) + 1 \text{ in the size}"))
    if any(layer.ceil_mode for layer in all_layers):
        lines.append(Latex(r"\text{ceil mode: } H%s = \lceil (H%s + 2p - k_h)/s \rceil + 1" % (OUT, IN)))
    if "conv" in types:
        lines.append(Latex(r"\text{conv: params} = (k_h k_w C%s + 1)\, C%s, \quad "
                           r"\text{mult} = H%s W%s C%s \cdot k_h k_w C%s" % (IN, OUT, OUT, OUT, OUT, IN)))
    if any(layer.groups != 1 for layer in all_layers):
        lines.append(Latex(r"\text{$g$ groups: } C%s \to C%s/g \text{ in both}" % (IN, IN)))
    if "convtranspose" in types:
        lines += [Latex(r"\text{transposed: } H%s = (H%s - 1)\,s - 2p + k_h + p%s" % (OUT, IN, OUT)),
                  Latex(r"\text{params} = (k_h k_w C%s + 1)\, C%s, \quad \text{mult} = H%s W%s C%s \cdot k_h k_w C%s"
                        % (IN, OUT, IN, IN, IN, OUT))]
    if "dense" in types:
        lines.append(Latex(r"\text{dense: params} = (n%s + 1)\, n%s, \quad \text{mult} = n%s n%s"
                           % (IN, OUT, IN, OUT)))
    if "dense" in types and sequences:
        lines.append(Latex(r"\text{dense on $T$ tokens: mult} = T\, n%s n%s" % (IN, OUT)))
    if "batchnorm" in types:
        lines.append(Latex(r"\text{batch norm: params} = 2C"))
    return lines + _sequence_rules(types)


def _sequence_rules(types: set[str]) -> list[Latex]:
    """Layer norm, attention and embeddings (T tokens of d features)."""
    lines = []
    if "layernorm" in types:
        lines.append(Latex(r"\text{layer norm: params} = 2d"))
    if "attention" in types:
        lines.append(Latex(r"\text{attention: params} = 4d^2 + 4d, \quad \text{mult} = 4Td^2 + 2T^2 d"))
    if "embedding" in types:
        lines.append(Latex(r"\text{embedding: params} = V D"))
    if "position_embedding" in types:
        lines.append(Latex(r"\text{position embedding: params} = T_{\max} D"))
    return lines


def rules_text(all_layers: list[Layer], sequences: bool = False) -> str:
    """What is counted, and why."""
    types = {layer.type for layer in all_layers}
    text = ("Parameters count every trainable number; multiplications count one per weight tap for one sample "
            "(a multiply-accumulate, as fvcore counts them), so biases, pooling, batch norm and activations "
            "add none.")
    if any(not layer.bias for layer in all_layers if layer.type in ("conv", "dense", "convtranspose")):
        text += " A layer with bias: false drops the +1."
    if types & {"conv", "maxpool", "avgpool"}:
        text += (" In the output-size formula $k$ is the kernel (or window), $s$ the stride and $p$ the padding "
                 "on each side; same padding with stride 1 pads $k - 1$ in all, so height and width stay "
                 "(an even kernel puts the extra row and column at the bottom and right, as PyTorch).")
    if "batchnorm" in types:
        text += (" Batch norm learns a scale and a shift per channel; its running mean and variance are "
                 "not trained and are not counted.")
    return text + _more_text(all_layers, types, sequences)


def _more_text(all_layers: list[Layer], types: set[str], sequences: bool) -> str:
    """The sentences for the layers of real architectures (SPEC §14), for those present."""
    text = ""
    if any(layer.dilation != (1, 1) for layer in all_layers):
        text += (" A dilated kernel spreads its $k$ taps $d$ apart: it reaches $d(k - 1) + 1$ positions, which the "
                 "size formula uses (same padding pads $d(k - 1)$ in all), while the counts use the $k$ real taps.")
    if any(layer.ceil_mode for layer in all_layers):
        text += (" In ceil mode a partial window at the end counts too, unless it would start in the padding "
                 "(as PyTorch).")
    if any(layer.groups != 1 for layer in all_layers):
        text += (" A conv with $g$ groups splits the channels into $g$ groups, each filter seeing $C_{\\text{in}}/g$ "
                 "of them; depthwise is $g = C_{\\text{in}}$.")
    if "convtranspose" in types:
        text += (" A transposed conv multiplies every input value by every tap of every filter and scatters the "
                 "products into the output; $p_{\\text{out}}$ is the output padding.")
    free = [words for key, words in (("activation", "activation layers"), ("upsample", "upsampling"),
                                     ("globalavgpool", "global pooling"), ("globalmaxpool", "global pooling"),
                                     ("residual", "the additions of residual blocks")) if key in types]
    if free:
        free = list(dict.fromkeys(free))
        listed = free[0] if len(free) == 1 else ", ".join(free[:-1]) + " and " + free[-1]
        text += f" {listed[0].upper()}{listed[1:]} add none either."
    if sequences:
        text += (" On a sequence of $T$ tokens of $d$ features a dense layer acts on each token ($T$ times the "
                 "multiplications, the same parameters); layer norm learns a scale and a shift per feature.")
    return text
