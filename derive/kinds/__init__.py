"""The one visible registry of kinds: each is a module with FIELDS, solve(problem) and recompute(problem)."""
from __future__ import annotations

import importlib
from types import ModuleType

KINDS: dict[str, str] = {
    "softmax": "derive.kinds.softmax",
    "batch_norm": "derive.kinds.batch_norm",
    "text": "derive.kinds.text",
    "forward": "derive.kinds.forward",
    "backprop": "derive.kinds.backprop",
    "network": "derive.kinds.network",
    "conv2d": "derive.kinds.conv2d",
    "pool": "derive.kinds.pool",
    "dropout": "derive.kinds.dropout",
}


def kind_module(name: str) -> ModuleType:
    """The module of a registered kind (imported on first use, so `import derive` stays light)."""
    return importlib.import_module(KINDS[name])
