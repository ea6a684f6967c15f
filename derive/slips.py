"""The slip catalogue: the mistakes people really make, as data; each gives the value(s) the slip would produce.

A slip offers one or more `Variant`s for a problem. A variant either edits a copy of the problem's fields
(`modify`, then the problem is solved again) or recomputes some answers by a small formula on the exact
answers (`transform`), or both. `diagnose` names, for each wrong number, the variant — or the pair of
variants from two different slips — whose value reproduces the given number under the same judging rule.
"""
from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import sympy

from .errors import CheckFailed, SpecError
from .limits import DEFAULT, Limits

Raw = dict
Answers = dict
MAX_POWER = 3          # decimal point up to three places off
MAX_SOLVES = 48        # re-solved variants per problem (singles and pairs together)
MAX_SECONDS = 20       # time spent re-solving variants of one problem


@dataclass(frozen=True)
class Variant:
    """One way a slip happens in one problem: the slip's text, and how to compute what it gives."""

    text: str
    modify: Callable[[Raw], Raw | None] | None = None                  # a copy of the problem's fields, edited
    transform: Callable[[Any, Answers], Answers] | None = None          # (problem, answers) → answers changed


@dataclass(frozen=True)
class Slip:
    """A catalogue entry: a name, the kinds it applies to (None: all), and its variants for a problem."""

    name: str
    about: str
    kinds: tuple[str, ...] | None
    variants: Callable[[Any, Answers], list[Variant]]


@dataclass(frozen=True)
class Query:
    """A wrong number: which answer, its row-major position, and how well a value reproduces it.

    `matches(value)` is STRONG when the value reproduces the number by equality or by rounding at the decimals
    it was written with, WEAK when only by the relative tolerance, NONE otherwise.
    """

    name: str
    position: int
    matches: Callable[[Any], int]
    differs: Callable[[Any], bool] = lambda value: True   # does a value differ from the exact one here?


NONE, WEAK, STRONG = 0, 1, 2


@dataclass(frozen=True)
class Found:
    """The slip behind a wrong number, and the value it gives there."""

    text: str
    value: Any
    slips: tuple[str, ...]


# ---- helpers on exact values -------------------------------------------------------------------------

def mapped(value: Any, f: Callable[[Any], Any], skip: Iterable[str] = ("output_shape",)) -> Any:
    """Apply `f` to every number of an answer (None, names and shapes untouched)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [mapped(v, f, skip) for v in value]
    if isinstance(value, dict):
        return {k: v if k in skip or k == "name" else mapped(v, f, skip) for k, v in value.items()}
    return f(value)


def transposed(m: list) -> list:
    """The transpose of a matrix (list of rows)."""
    return [list(r) for r in zip(*m)]


def negated(value: Any) -> Any:
    """Every number of a value with its sign flipped."""
    return mapped(value, lambda v: -v, skip=())


def nonzero(value: Any) -> bool:
    """True when some number in `value` is not zero."""
    if isinstance(value, list):
        return any(nonzero(v) for v in value)
    return value is not None and value != 0


def edit(change: Callable[[Raw], Any]) -> Callable[[Raw], Raw | None]:
    """A `modify` from an in-place edit of the raw fields (the edit may return False: not applicable)."""
    def modify(raw: Raw) -> Raw | None:
        raw = copy.deepcopy(raw)
        return None if change(raw) is False else raw
    return modify


def setting(**values: Any) -> Callable[[Raw], Raw | None]:
    """A `modify` that sets fields of the problem."""
    return edit(lambda raw: raw.update(values))


# ---- every kind ----------------------------------------------------------------------------------------

def power_of_ten(p: Any, answers: Answers) -> list[Variant]:
    """The decimal point one, two or three places off."""
    out = []
    for k in (1, -1, 2, -2, 3, -3):
        factor = sympy.Integer(10) ** k
        places = {1: "one place", 2: "two places", 3: "three places"}[abs(k)]
        text = (f"the decimal point {places} to the {'right' if k > 0 else 'left'}: a factor of "
                f"{10 ** abs(k):,} too {'large' if k > 0 else 'small'}")
        out.append(Variant(text, transform=lambda _p, a, f=factor: {
            n: mapped(v, lambda x: x * f) for n, v in a.items() if n.rpartition(".")[2] != "output_shape"}))
    return out


# ---- batch norm ----------------------------------------------------------------------------------------

def _bn_columns(p: Any) -> list[list]:
    return [list(c) for c in zip(*p.x)] if isinstance(p.x[0], list) else [list(p.x)]


def _per_feature(value: Any, n: int) -> list:
    return value if isinstance(value, list) else [value] * n


def _bn_shaped(p: Any, cols: list[list]) -> Any:
    """Per-feature columns back in x's shape."""
    return transposed(cols) if isinstance(p.x[0], list) else cols[0]


def _divided_by_variance(p: Any, a: Answers) -> Answers:
    """x̂ = (x − μ)/(σ² + ε) and y = γx̂ + β: the variance where the standard deviation belongs."""
    cols = _bn_columns(p)
    means = _per_feature(a["mean"], len(cols))
    variances = _per_feature(a["variance"], len(cols))
    gammas, betas = _per_feature(p.gamma, len(cols)), _per_feature(p.beta, len(cols))
    xhat, y = [], []
    for j, col in enumerate(cols):
        denominator = variances[j] + p.eps
        if denominator == 0:
            raise ZeroDivisionError
        xhat.append([(v - means[j]) / denominator for v in col])
        y.append([sympy.expand(gammas[j] * v + betas[j]) for v in xhat[-1]])
    return {"normalized": _bn_shaped(p, xhat), "output": _bn_shaped(p, y)}


def variance_for_std(p: Any, answers: Answers) -> list[Variant]:
    """Dividing by σ² (+ ε) instead of √(σ² + ε)."""
    return [Variant("the variance σ² used where the standard deviation σ = √(σ² + ε) belongs: "
                    "normalized as (x − μ)/σ²", transform=_divided_by_variance)]


def std_for_variance(p: Any, answers: Answers) -> list[Variant]:
    """The standard deviation reported as the variance."""
    return [Variant("the standard deviation σ given where the variance σ² belongs",
                    transform=lambda _p, a: {"variance": mapped(a["variance"], sympy.sqrt)})]


def beta_sign(p: Any, answers: Answers) -> list[Variant]:
    """y = γx̂ − β."""
    if not nonzero(p.beta):
        return []
    return [Variant("the sign of β flipped: y = γ·(normalized x) − β", modify=setting(beta=negated(p.beta)))]


def population_sample(p: Any, answers: Answers) -> list[Variant]:
    """Dividing by N − 1 instead of N, or the reverse."""
    if p.variance == "biased":
        text = "the sample variance (divided by N − 1) used instead of the population variance (divided by N)"
        return [Variant(text, modify=setting(variance="unbiased"))] if len(_bn_columns(p)[0]) >= 2 else []
    return [Variant("the population variance (divided by N) used instead of the sample variance "
                    "(divided by N − 1)", modify=setting(variance="biased"))]


def eps_forgotten(p: Any, answers: Answers) -> list[Variant]:
    """√σ² instead of √(σ² + ε)."""
    if p.eps == 0:
        return []
    return [Variant(f"ε = {p.eps} left out of √(σ² + ε)", modify=setting(eps=0))]


def bn_mean_for_sum(p: Any, answers: Answers) -> list[Variant]:
    """∂L/∂γ and ∂L/∂β averaged over the batch instead of summed."""
    if "grad_beta" not in answers:
        return []
    n = len(_bn_columns(p)[0])
    return [Variant("the mean over the batch taken where the gradient is the sum over it",
                    transform=lambda _p, a: {k: mapped(a[k], lambda v: v / n) for k in ("grad_gamma", "grad_beta")})]


# ---- softmax ----------------------------------------------------------------------------------------

def _softmax_rows(p: Any) -> list[list]:
    rows = p.logits if isinstance(p.logits[0], list) else [p.logits]
    return [[z / p.temperature for z in row] for row in rows]


def _softmax_shaped(p: Any, rows: list[list]) -> Any:
    return rows if isinstance(p.logits[0], list) else rows[0]


def no_exponential(p: Any, answers: Answers) -> list[Variant]:
    """p_i = z_i / Σ z_j: plain normalization without the exponential."""
    def transform(p: Any, a: Answers) -> Answers:
        out = []
        for row in _softmax_rows(p):
            total = sympy.Add(*row)
            if total == 0:
                raise ZeroDivisionError
            out.append([z / total for z in row])
        return {"probabilities": _softmax_shaped(p, out)}
    return [Variant("the scores normalized without the exponential: z_i / Σ z_j instead of e^(z_i) / Σ e^(z_j)",
                    transform=transform)]


def missing_exp_term(p: Any, answers: Answers) -> list[Variant]:
    """One term e^(z_j) left out of the denominator."""
    classes = len(_softmax_rows(p)[0])
    if classes < 2:
        return []

    def without(j: int) -> Callable[[Any, Answers], Answers]:
        def transform(p: Any, a: Answers) -> Answers:
            out = []
            for row in _softmax_rows(p):
                exps = [sympy.exp(z) for z in row]
                rest = sympy.Add(*[e for k, e in enumerate(exps) if k != j])
                out.append([e / rest for e in exps])
            return {"probabilities": _softmax_shaped(p, out)}
        return transform
    return [Variant(f"a missing term in a sum: e^(z_{j}) left out of the denominator Σ e^(z_j)",
                    transform=without(j)) for j in range(classes)]


def softmax_sum_for_mean(p: Any, answers: Answers) -> list[Variant]:
    """The loss (and its gradient) summed over the rows instead of averaged."""
    n = len(_softmax_rows(p))
    if "loss" not in answers or n < 2:
        return []
    return [Variant(f"the sum over the {n} rows taken instead of the mean",
                    transform=lambda _p, a: {"loss": a["loss"] * n, "grad_logits": mapped(a["grad_logits"],
                                                                                         lambda v: v * n)})]


def log_base(p: Any, answers: Answers) -> list[Variant]:
    """log₂ or log₁₀ where the natural logarithm belongs."""
    if "loss" not in answers:
        return []
    return [Variant(f"log base {b} used instead of the natural logarithm",
                    transform=lambda _p, a, b=b: {"loss": a["loss"] / sympy.log(b)}) for b in (2, 10)]


# ---- dense layers (forward, backprop) ----------------------------------------------------------------

def frozen(raw: Raw, answers: Answers) -> Raw:
    """A copy of the fields with every drawn weight and bias written out (units × inputs, no layout).

    Idempotent: layers already written out (by an earlier edit of a pair) are left as they are.
    """
    raw = copy.deepcopy(raw)
    for i, layer in enumerate(raw["layers"]):
        if str(layer.get("weights")) == "random" or "layout" in layer:
            layer["weights"] = answers["weights"][i]
            layer.pop("layout", None)
        if str(layer.get("bias")) == "random":
            if answers["biases"][i] is None:
                layer.pop("bias")
            else:
                layer["bias"] = answers["biases"][i]
    return raw


def _layer_edit(answers: Answers, i: int, change: Callable[[dict], Any]) -> Callable[[Raw], Raw | None]:
    """A `modify` that edits layer i of the problem with its drawn values written out."""
    def modify(raw: Raw) -> Raw | None:
        raw = frozen(raw, answers)
        return None if change(raw["layers"][i]) is False else raw
    return modify


def relu_skipped(p: Any, answers: Answers) -> list[Variant]:
    """A ReLU (or leaky ReLU) left out: the layer's pre-activation passed on."""
    out = []
    for i, layer in enumerate(p.raw.get("layers") or []):
        if isinstance(layer, dict) and str(layer.get("activation")) in ("relu", "leaky_relu"):
            def change(l: dict) -> None:
                l["activation"] = "linear"
                l.pop("slope", None)
            out.append(Variant(f"the {layer['activation']} of layers[{i}] skipped (its pre-activation passed on)",
                               modify=_layer_edit(answers, i, change)))
    return out


def bias_sign(p: Any, answers: Answers) -> list[Variant]:
    """The sign of a layer's bias flipped."""
    out = []
    for i, bias in enumerate(answers.get("biases") or []):
        if nonzero(bias):
            out.append(Variant(f"the sign of the bias of layers[{i}] flipped",
                               modify=_layer_edit(answers, i, lambda l, b=bias: l.update(bias=negated(b)))))
    return out


def weight_transpose(p: Any, answers: Answers) -> list[Variant]:
    """Weight answers written inputs × units, or Wᵀ used for W in the forward pass (a square layer)."""
    out = []
    names = [n for n in ("weights", "grad_weights", "updated_weights") if n in answers]
    if names and any(transposed(w) != w for w in answers["weights"]):
        out.append(Variant("the weights written inputs × units (the transpose); weight answers are "
                           "units × inputs, as nn.Linear.weight",
                           transform=lambda _p, a: {n: [transposed(w) for w in a[n]] for n in names}))
    for i, w in enumerate(answers.get("weights") or []):
        if len(w) == len(w[0]) and transposed(w) != w:
            out.append(Variant(f"the transpose of the weight matrix of layers[{i}] used (Wᵀ·a instead of W·a)",
                               modify=_layer_edit(answers, i, lambda l, t=transposed(w): l.update(weights=t))))
    return out


LOSSES = {"mse": "the mean of (ŷ − y)²", "sse": "the sum of (ŷ − y)²",
          "half_sse": "1/2 the sum of (ŷ − y)²"}


def loss_mean_sum(p: Any, answers: Answers) -> list[Variant]:
    """The mean instead of the sum (or the reverse), or the ½ forgotten, in a squared-error loss."""
    loss = str(p.raw.get("loss"))
    if loss not in LOSSES:
        return []
    return [Variant(f"the loss taken as {LOSSES[other]} ({other}) instead of {LOSSES[loss]} ({loss})",
                    modify=setting(loss=other)) for other in LOSSES if other != loss]


def step_sign(p: Any, answers: Answers) -> list[Variant]:
    """W + η·∂L/∂W: the gradient step added instead of subtracted."""
    if "updated_weights" not in answers:
        return []

    def transform(_p: Any, a: Answers) -> Answers:
        def back(before: Any, after: Any) -> Any:
            if before is None or after is None:
                return after
            if isinstance(before, list):
                return [back(b, c) for b, c in zip(before, after)]
            return 2 * before - after
        return {"updated_weights": back(a["weights"], a["updated_weights"]),
                "updated_biases": back(a["biases"], a["updated_biases"])}
    return [Variant("the learning-rate step added instead of subtracted: W + η·∂L/∂W", transform=transform)]


# ---- conv2d, pool, dropout -------------------------------------------------------------------------

def kernel_flip(p: Any, answers: Answers) -> list[Variant]:
    """True convolution where cross-correlation was asked, or the reverse."""
    if p.flip:
        return [Variant("the kernel not flipped (cross-correlation) where true convolution was asked",
                        modify=setting(flip=False))]
    return [Variant("the kernel flipped (true convolution) where cross-correlation was asked (PyTorch's conv2d "
                    "does not flip)", modify=setting(flip=True))]


def conv_bias_sign(p: Any, answers: Answers) -> list[Variant]:
    """The sign of the conv bias flipped."""
    if not nonzero(p.bias):
        return []
    return [Variant("the sign of the bias flipped", modify=setting(bias=negated(p.bias)))]


def conv_activation_skipped(p: Any, answers: Answers) -> list[Variant]:
    """The activation of a conv layer left out."""
    if str(p.activation) not in ("relu", "leaky_relu"):
        return []
    return [Variant(f"the {p.activation} skipped (the raw cross-correlation plus bias given)",
                    modify=edit(lambda raw: (raw.update(activation="linear"), raw.pop("slope", None))))]


def conv_size_off_by_one(p: Any, answers: Answers) -> list[Variant]:
    """(n + 2p − k)/s instead of (n + 2p − k)/s + 1, or one too many."""
    out = []
    for delta in (-1, 1):
        def transform(_p: Any, a: Answers, d: int = delta) -> Answers:
            f, h, w = a["output_shape"]
            return {"output_shape": [f, h + d, w + d]}
        out.append(Variant(f"the output size off by one ((n + 2p − k)/s + 1 {'− 1' if delta < 0 else '+ 1'})",
                           transform=transform))
    return out


def pool_mode(p: Any, answers: Answers) -> list[Variant]:
    """Max pooling where average was asked, or the reverse."""
    other = "avg" if p.mode == "max" else "max"
    words = {"max": "max pooling", "avg": "average pooling"}
    return [Variant(f"{words[other]} used instead of {words[p.mode]}", modify=setting(mode=other))]


def dropout_scaling(p: Any, answers: Answers) -> list[Variant]:
    """Inverted dropout's 1/keep_prob left out (or added), or multiplied by keep_prob instead."""
    keep = p.keep_prob
    if p.inverted:
        return [Variant("the kept activations not divided by keep_prob (plain dropout, not inverted)",
                        modify=setting(inverted=False)),
                Variant("the kept activations multiplied by keep_prob instead of divided by it",
                        transform=lambda _p, a: {"output": mapped(a["output"], lambda v: v * keep * keep)})]
    return [Variant("the kept activations divided by keep_prob (inverted dropout) although inverted is false",
                    modify=setting(inverted=True))]


# ---- network ----------------------------------------------------------------------------------------

WEIGHTED = ("dense", "conv")


def _layer_lists(raw: Raw) -> list[list]:
    """Every list of layers in a network's fields (layers, each design, each branch)."""
    found = []

    def walk(layers: Any) -> None:
        if not isinstance(layers, list):
            return
        found.append(layers)
        for layer in layers:
            if isinstance(layer, dict) and isinstance(layer.get("branches"), list):
                for branch in layer["branches"]:
                    walk(branch)
    walk(raw.get("layers"))
    for design in (raw.get("designs") or {}).values():
        walk(design)
    return found


def _weighted(raw: Raw) -> list[dict]:
    return [layer for layers in _layer_lists(raw) for layer in layers
            if isinstance(layer, dict) and any(k in layer for k in WEIGHTED)]


def bias_count(p: Any, answers: Answers) -> list[Variant]:
    """Biases left out of a parameter count, or counted where a layer has `bias: false`."""
    layers = _weighted(p.raw)
    out = []
    if any(str(l.get("bias", "true")).lower() != "false" for l in layers):
        out.append(Variant("the biases left out of the parameter count",
                           modify=edit(lambda raw: [l.update(bias=False) for l in _weighted(raw)])))
    if any(str(l.get("bias", "true")).lower() == "false" for l in layers):
        out.append(Variant("biases counted although the layers have bias: false",
                           modify=edit(lambda raw: [l.pop("bias", None) for l in _weighted(raw)])))
    return out


def _designs(answers: Answers) -> list[str]:
    """Answer-name prefixes of the networks: '' for one network, 'direct.' … for designs."""
    return [n[: -len("layers")] for n in answers if n == "layers" or n.endswith(".layers")]


def _sub_counts(p: Any, prefix: str, answers: Answers, limits: Limits) -> list[dict]:
    """Every layer's own counts (the layers inside a `branches` block each on its own), its kernel and place."""
    design = prefix[:-1]
    raw_layers = (p.raw.get("designs") or {}).get(design) if prefix else p.raw.get("layers")
    where = f"designs.{design}" if prefix else "layers"
    entries = answers[prefix + "layers"]
    shape_in = [int(v) for v in p.raw["input"]]
    out = []
    for i, (layer, entry) in enumerate(zip(raw_layers, entries)):
        if isinstance(layer, dict) and isinstance(layer.get("branches"), list):
            for b, branch in enumerate(layer["branches"]):
                sub = solve_raw({"id": p.id, "kind": "network", "input": shape_in, "layers": branch}, p, limits)
                if sub is None:
                    raise ValueError("branch")
                out += [dict(e, kernel=_kernel(l), place=f"{where}[{i}].branches[{b}][{j}]")
                        for j, (l, e) in enumerate(zip(branch, sub.answers["layers"]))]
        else:
            out.append(dict(entry, kernel=_kernel(layer), place=f"{where}[{i}]"))
        shape_in = entry["output_shape"]
    return out


def _kernel(layer: Any) -> int | None:
    """The kernel size of a conv layer (1 for a 1×1 conv), else None."""
    if not isinstance(layer, dict) or "conv" not in layer:
        return None
    k = layer.get("kernel", 1)
    return int(k[0]) * int(k[1]) if isinstance(k, list) else int(k) ** 2


def _less(name: str, amount: int) -> Callable[[Any, Answers], Answers]:
    """A transform: the total `name` less `amount` (more, when negative)."""
    return lambda _p, a: {name: a[name] - amount}


def missing_term(p: Any, answers: Answers) -> list[Variant]:
    """A total without one layer's term (or with one twice); a bottleneck or inception total without the 1×1s."""
    out = []
    for prefix in _designs(answers):
        try:
            terms = _sub_counts(p, prefix, answers, DEFAULT)
        except (ValueError, KeyError, TypeError):
            continue
        where = f" of {prefix[:-1]}" if prefix else ""
        for key in ("multiplications", "params"):
            total = answers[prefix + key]
            ones = sum(t[key] for t in terms if t["kernel"] == 1)
            if 0 < ones < total:
                out.append(Variant(f"the 1×1 convolutions' {key} left out of the total{where}",
                                   transform=_less(prefix + key, ones)))
            counted = [(t["place"], t[key]) for t in terms if t[key]]
            if len(counted) < 2:
                continue
            for place, v in counted:
                out.append(Variant(f"a missing term in the sum: the {key} of {place} ({v:,}) left out of the total",
                                   transform=_less(prefix + key, v)))
                out.append(Variant(f"an extra term in the sum: the {key} of {place} ({v:,}) counted twice",
                                   transform=_less(prefix + key, -v)))
    return out


def network_off_by_one(p: Any, answers: Answers) -> list[Variant]:
    """A conv layer's output size off by one, and the multiplications that follow from it."""
    out = []
    for prefix in _designs(answers):
        raw_layers = (p.raw.get("designs") or {}).get(prefix[:-1]) if prefix else p.raw.get("layers")
        for i, (layer, entry) in enumerate(zip(raw_layers or [], answers[prefix + "layers"])):
            if not (isinstance(layer, dict) and "conv" in layer and len(entry["output_shape"]) == 3):
                continue
            h, w, c = entry["output_shape"]
            for d in (-1, 1):
                if h + d < 1 or w + d < 1:
                    continue
                mult = entry["multiplications"] * (h + d) * (w + d) // (h * w)

                def transform(_p: Any, a: Answers, i=i, d=d, mult=mult, prefix=prefix) -> Answers:
                    entries = copy.deepcopy(a[prefix + "layers"])
                    old = entries[i]["multiplications"]
                    hh, ww, cc = entries[i]["output_shape"]
                    entries[i].update(output_shape=[hh + d, ww + d, cc], multiplications=mult)
                    changed = {prefix + "layers": entries,
                               prefix + "multiplications": a[prefix + "multiplications"] - old + mult}
                    if i == len(entries) - 1:
                        changed[prefix + "output_shape"] = [hh + d, ww + d, cc]
                    return changed
                where = f" of {prefix[:-1]}" if prefix else ""
                out.append(Variant(f"the output size of layer {i}{where} off by one ({h + d}×{w + d} instead of "
                                   f"{h}×{w})", transform=transform))
    return out


# ---- the catalogue ------------------------------------------------------------------------------------

CATALOGUE: list[Slip] = [
    Slip("variance_for_std", "the variance used where the standard deviation belongs", ("batch_norm",),
         variance_for_std),
    Slip("std_for_variance", "the standard deviation given where the variance belongs", ("batch_norm",),
         std_for_variance),
    Slip("beta_sign", "the sign of β flipped", ("batch_norm",), beta_sign),
    Slip("population_sample", "population vs sample variance (N vs N − 1)", ("batch_norm",), population_sample),
    Slip("eps_forgotten", "ε forgotten in √(σ² + ε)", ("batch_norm",), eps_forgotten),
    Slip("bn_mean_for_sum", "the mean instead of the sum in ∂L/∂γ, ∂L/∂β", ("batch_norm",), bn_mean_for_sum),
    Slip("no_exponential", "softmax taken without the exponential (plain normalization)", ("softmax",),
         no_exponential),
    Slip("missing_exp_term", "a missing term in the softmax denominator", ("softmax",), missing_exp_term),
    Slip("softmax_sum_for_mean", "the sum instead of the mean over rows in the loss and its gradient",
         ("softmax",), softmax_sum_for_mean),
    Slip("log_base", "log base 2 or 10 instead of the natural logarithm", ("softmax",), log_base),
    Slip("kernel_flip", "the kernel flipped or not", ("conv2d",), kernel_flip),
    Slip("conv_bias_sign", "the sign of the conv bias flipped", ("conv2d",), conv_bias_sign),
    Slip("conv_activation_skipped", "ReLU skipped after a convolution", ("conv2d",), conv_activation_skipped),
    Slip("conv_size_off_by_one", "an off-by-one in the conv output size", ("conv2d",), conv_size_off_by_one),
    Slip("pool_mode", "max pooling for average pooling or the reverse", ("pool",), pool_mode),
    Slip("dropout_scaling", "inverted dropout's 1/keep_prob left out, added or inverted", ("dropout",),
         dropout_scaling),
    Slip("relu_skipped", "ReLU skipped", ("forward", "backprop"), relu_skipped),
    Slip("bias_sign", "the sign of a bias flipped", ("forward", "backprop"), bias_sign),
    Slip("weight_transpose", "the transpose of a weight matrix used", ("forward", "backprop"), weight_transpose),
    Slip("loss_mean_sum", "the mean instead of the sum (or the reverse, or 1/2 forgotten) in the loss",
         ("backprop",), loss_mean_sum),
    Slip("step_sign", "the learning-rate step added instead of subtracted", ("backprop",), step_sign),
    Slip("bias_count", "bias left out of (or added to) a parameter count", ("network",), bias_count),
    Slip("missing_term", "a missing or extra term in a total (e.g. without the 1×1 layers' cost)", ("network",),
         missing_term),
    Slip("network_off_by_one", "an off-by-one in a conv layer's output size", ("network",), network_off_by_one),
    Slip("power_of_ten", "a power-of-ten (decimal-point) slip", None, power_of_ten),
]
BY_NAME = {slip.name: slip for slip in CATALOGUE}


# ---- diagnosis ------------------------------------------------------------------------------------------

def solve_raw(raw: Raw, p: Any, limits: Limits = DEFAULT) -> Any:
    """Solve an edited copy of a problem (no numeric re-check: only its exact answers are wanted); None if bad."""
    from .fields import python_ctx
    from .kinds import kind_module
    from .spec import make_problem
    try:
        q = make_problem(raw, python_ctx(p.id, limits), p.seed, p.digits)
        return kind_module(q.kind).solve(q)
    except (SpecError, CheckFailed, ArithmeticError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, AssertionError):
        return None


class Trials:
    """The answers each variant (or pair of variants) gives for one problem, computed once each."""

    def __init__(self, p: Any, solution: Any, limits: Limits = DEFAULT):
        self.p, self.solution, self.limits = p, solution, limits
        self.solved: dict[str, Any] = {}
        self.solves = 0
        self.deadline = time.monotonic() + min(MAX_SECONDS, limits.seconds)
        self.variants = variants_for(p, solution.answers, limits)

    def base(self, mods: list[Callable]) -> Any:
        """The solution of the problem with `mods` applied in turn (None: not applicable or over budget)."""
        if not mods:
            return self.solution
        raw: Raw | None = self.p.raw
        for mod in mods:
            raw = mod(raw) if raw is not None else None
        if raw is None:
            return None
        key = repr(raw)
        if key not in self.solved:
            if self.solves >= MAX_SOLVES or time.monotonic() > self.deadline:
                return None
            self.solves += 1
            self.solved[key] = solve_raw(raw, self.p, self.limits)
        return self.solved[key]

    def outcome(self, combo: tuple[Variant, ...]) -> Answers | None:
        """The answers a combination of variants gives."""
        base = self.base([v.modify for v in combo if v.modify])
        if base is None:
            return None
        answers = dict(base.answers)
        try:
            for v in combo:
                if v.transform:
                    answers.update(v.transform(base.problem, answers))
        except (ArithmeticError, ValueError, TypeError, KeyError, IndexError):
            return None
        return answers


def variants_for(p: Any, answers: Answers, limits: Limits = DEFAULT) -> list[tuple[str, Variant]]:
    """Every (slip name, variant) of the catalogue that applies to this problem."""
    out = []
    for slip in CATALOGUE:
        if slip.kinds is not None and p.kind not in slip.kinds:
            continue
        try:
            found = slip.variants(p, answers)
        except (ArithmeticError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            continue
        out += [(slip.name, v) for v in found]
    return out


def numbers_of(answers: Answers, name: str, width: int) -> list | None:
    """The numbers of one answer in row-major order, if it has the expected count."""
    from .grade import leaves
    if name not in answers:
        return None
    numbers = [v for _, v in leaves(answers[name])]
    return numbers if len(numbers) == width else None


def consistent(queries: list[Query], values: dict[int, Any], hits: dict[int, Any]) -> dict[int, Any]:
    """Keep a candidate's hits in an answer only where it explains more than half of the wrong numbers it changes.

    A slip made consistently reproduces every number it changes; one lucky number among many is a coincidence.
    """
    kept = {}
    for name in {queries[i].name for i in hits}:
        changed = [i for i, q in enumerate(queries) if q.name == name and values[i] is not None
                   and q.differs(values[i])]
        mine = {i: v for i, v in hits.items() if queries[i].name == name}
        if 2 * len(mine) > len(changed):
            kept.update(mine)
    return kept


def score(trials: Trials, candidates: list, queries: list[Query], widths: dict[str, int]) -> list[tuple]:
    """(slip names, variants, {query: value}) for every candidate that reproduces some wrong number."""
    scored = []
    for names, combo in candidates:
        answers = trials.outcome(combo)
        if answers is None:
            continue
        flat = {name: numbers_of(answers, name, width) for name, width in widths.items()}
        values = {i: flat[q.name][q.position] if flat[q.name] is not None else None for i, q in enumerate(queries)}
        grades = {i: queries[i].matches(v) for i, v in values.items()}
        hits = consistent(queries, values, {i: values[i] for i, g in grades.items() if g != NONE})
        if len(hits) < 2:   # a number matched only within rtol needs a second number to back the slip
            hits = {i: v for i, v in hits.items() if grades[i] == STRONG}
        if hits:
            scored.append((names, combo, hits))
    return scored


def diagnose(p: Any, solution: Any, queries: list[Query], limits: Limits = DEFAULT) -> list[Found | None]:
    """The slip behind each wrong number: single slips first, then pairs; the one explaining most wins."""
    from .grade import leaves
    widths = {name: len(leaves(solution.answers[name])) for name in {q.name for q in queries}}
    trials = Trials(p, solution, limits)
    found: list[Found | None] = [None] * len(queries)
    left = set(range(len(queries)))
    singles = [((n,), (v,)) for n, v in trials.variants]
    pairs = [((n1, n2), (v1, v2)) for (n1, v1), (n2, v2) in itertools.combinations(trials.variants, 2) if n1 != n2]
    scored = score(trials, singles, queries, widths)
    explained = set().union(*(hits for _, _, hits in scored)) if scored else set()
    if len(explained) < len(queries):
        scored += score(trials, pairs, queries, widths)
    while left and scored:
        names, combo, hits = max(scored, key=lambda s: len(left & set(s[2])))
        explained = left & set(hits)
        if not explained:
            break
        text = ", and ".join(v.text for v in combo)
        for i in explained:
            found[i] = Found(text, hits[i], names)
        left -= explained
    return found
