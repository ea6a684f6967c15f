"""derive: exact, checked, typeset worked solutions for deep-learning worksheet problems.

    >>> import derive
    >>> derive.softmax([2, 1, 0.1]).answers["probabilities"][0]
    exp(2)/(exp(1/10) + E + exp(2))
"""
from __future__ import annotations

from typing import Any

from .errors import BuildError, CheckFailed, SpecError
from .limits import Limits

__all__ = ["load", "solve", "check", "build", "SpecError", "CheckFailed", "BuildError", "Limits",
           "softmax", "batch_norm", "conv2d", "pool", "dropout", "forward", "backprop", "network", "text"]
__version__ = "0.1.0"


def load(path: Any, limits: Limits | None = None):
    """Parse and check a spec file; returns a Worksheet (title, problems, …)."""
    from .spec import load as _load
    return _load(path, limits or Limits())


def solve(problem: Any, seed: int = 0, digits: int = 4, limits: Limits | None = None):
    """Solve one problem (a dict as in a spec, or a loaded Problem): exact answers, worked steps, checked."""
    from .engine import solve as _solve
    return _solve(problem, seed, digits, limits or Limits())


def build(*specs: Any, out: Any = "build", pdf: bool = True, questions: bool = False) -> list:
    """Build specs as `derive build` does; returns the paths written."""
    from .build import build_specs
    return build_specs([str(s) for s in specs], out, pdf=pdf, questions=questions)


def check(spec: Any, answers: Any, min_digits: int | None = None, rtol: Any = None):
    """Grade an answers file (or mapping) against a spec's exact answers; returns the report."""
    from .grading.run import check as _check
    return _check(spec, answers, min_digits=min_digits, rtol=rtol)


def _kind(kind: str, **fields: Any):
    """Solve a problem of `kind` from keyword fields (`seed=`, `digits=`, `id=` work as in a spec)."""
    return solve({"kind": kind, **fields})


def softmax(logits: Any, **fields: Any):
    """Softmax (and cross-entropy with `target=`) of logits."""
    return _kind("softmax", logits=logits, **fields)


def batch_norm(x: Any, **fields: Any):
    """Batch normalization of `x` (gamma, beta, eps, variance, upstream as keywords)."""
    return _kind("batch_norm", x=x, **fields)


def conv2d(image: Any, kernel: Any = None, **fields: Any):
    """2-D cross-correlation of an image with a kernel (or `kernels=`)."""
    if kernel is not None:
        fields["kernel"] = kernel
    return _kind("conv2d", image=image, **fields)


def pool(image: Any, size: Any, **fields: Any):
    """Max or average pooling."""
    return _kind("pool", image=image, size=size, **fields)


def dropout(activations: Any, keep_prob: Any, **fields: Any):
    """Dropout with a given or seeded mask."""
    return _kind("dropout", activations=activations, keep_prob=keep_prob, **fields)


def forward(input: Any, layers: Any, **fields: Any):  # noqa: A002 (the spec's field name)
    """A forward pass through dense layers."""
    return _kind("forward", input=input, layers=layers, **fields)


def backprop(inputs: Any, targets: Any, layers: Any, **fields: Any):
    """One forward and backward pass on a batch, and the gradient-descent update."""
    return _kind("backprop", inputs=inputs, targets=targets, layers=layers, **fields)


def network(input: Any, layers: Any = None, **fields: Any):  # noqa: A002
    """Shapes, parameters and multiplications of an architecture (or `designs=`)."""
    if layers is not None:
        fields["layers"] = layers
    return _kind("network", input=input, **fields)


def text(answer: str, **fields: Any):
    """A written answer."""
    return _kind("text", answer=answer, **fields)
