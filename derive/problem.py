"""A problem as read from a spec: its common fields, its kind's checked values, and where each came from."""
from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import SpecError
from .fields import Ctx


@dataclass(frozen=True)
class Problem:
    """One problem: id, kind, heading, statement, and its kind's fields as a typed record (`p.fields.logits`).

    `definition` is the kind object that read it (it solves, checks and shows the problem).
    """

    id: str
    kind: str
    fields: Any
    ctx: Ctx
    title: str | None = None
    statement: str | None = None
    seed: int = 0
    digits: int = 4
    raw: dict[str, Any] = field(default_factory=dict)
    definition: Any = None
    check: dict[str, Any] | None = None    # the problem's own `check:` block (SPEC §12)
    variant: str = ""                      # the variant it was drawn for (SPEC §10); "" as `derive build`
    notes: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)   # shared by with_fields copies

    def with_fields(self, **changes: Any) -> "Problem":
        """A copy with some fields replaced (typed values, as the kind's parsers give them)."""
        return dataclasses.replace(self, fields=dataclasses.replace(self.fields, **changes))

    def at(self, *path: Any) -> Ctx:
        """The context of a field (or an item inside it), for located errors."""
        ctx = self.ctx
        for key in path:
            ctx = ctx.child(key)
        return ctx

    def error(self, path: tuple | str, message: str) -> SpecError:
        """A SpecError about one field of this problem: `file:line: id.path: message`."""
        path = (path,) if isinstance(path, str) else tuple(path)
        return self.at(*path).error(message)

    def rng(self) -> np.random.Generator:
        """default_rng([seed, crc32(id)]) (SPEC §8), or [seed, crc32(id), crc32(V)] in a variant V ≠ "" (§10)."""
        self.note_varies()
        key = [self.seed, zlib.crc32(self.id.encode("utf-8"))]
        if self.variant:
            key.append(zlib.crc32(self.variant.encode("utf-8")))
        return np.random.default_rng(key)

    def note_varies(self) -> None:
        """Mark this problem as differing from variant to variant (it was drawn, or drew random values)."""
        self.notes["varies"] = True

    @property
    def varies(self) -> bool:
        """True when its values may differ between variants: it was drawn, or its generator was asked for."""
        return self.notes.get("varies", False)
