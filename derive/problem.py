"""A problem as read from a spec: its common fields, its kind's checked values, and where each came from."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import SpecError
from .fields import Ctx


@dataclass
class Problem:
    """One problem: id, kind, heading, statement and the kind's fields (exact numbers)."""

    id: str
    kind: str
    values: dict[str, Any]
    ctx: Ctx
    title: str | None = None
    statement: str | None = None
    seed: int = 0
    digits: int = 4
    raw: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def at(self, *path: Any) -> Ctx:
        """The context of a field (or an item inside it), for located errors."""
        ctx = self.ctx
        for key in path:
            ctx = ctx.child(key)
        return ctx

    def error(self, path: tuple | str, text: str) -> SpecError:
        """A SpecError about one field of this problem: `file:line: id.path: text`."""
        path = (path,) if isinstance(path, str) else tuple(path)
        return self.at(*path).error(text)

    def rng(self) -> np.random.Generator:
        """This problem's own generator (SPEC §8): default_rng([seed, crc32(id)])."""
        return np.random.default_rng([self.seed, zlib.crc32(self.id.encode("utf-8"))])
