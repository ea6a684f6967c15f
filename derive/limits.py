"""Size limits that keep any spec from hanging a build or filling a disk; the runner may change them."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .errors import SpecError


@dataclass(frozen=True)
class Limits:
    """Bounds on one build; a spec cannot raise its own."""

    spec_bytes: int = 1 << 20        # size of one spec (or answers) file
    numbers: int = 100_000           # numbers in one spec
    matrix_side: int = 512           # rows or columns of one matrix
    layers: int = 1024               # layers in one network (every layer inside a block counts, and the block)
    seconds: int = 60                # derivation, check, rendering and JSON of one problem

    def with_overrides(self, pairs: list[str]) -> "Limits":
        """Apply `NAME=VALUE` pairs from the command line."""
        names = {f.name for f in fields(self)}
        changes = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in names:
                raise SpecError(f"--limit {pair!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(names))}")
            try:
                number = int(value)
            except ValueError:
                raise SpecError(f"--limit {pair!r}: VALUE must be a positive integer") from None
            if number <= 0:
                raise SpecError(f"--limit {pair!r}: VALUE must be a positive integer")
            if number > MAXIMA[name]:
                raise SpecError(f"--limit {pair!r}: VALUE must be at most {MAXIMA[name]:,}")
            changes[name] = number
        return replace(self, **changes)

    @staticmethod
    def describe() -> str:
        """The limits and their defaults, for --help."""
        d = Limits()
        return ", ".join(f"{f.name}={getattr(d, f.name)}" for f in fields(d))


DEFAULT = Limits()
MAXIMA = {"spec_bytes": 1 << 30, "numbers": 10**8, "matrix_side": 10**5, "layers": 10**6,
          "seconds": 10**7}   # past these a limit means nothing (and setitimer overflows)
