"""derive's own kinds. Each module holds one kind object, `KIND`; pyproject.toml declares them as entry points
of the group `derive.kinds` (BUILTIN repeats that list for a source checkout whose metadata is not installed)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

BUILTIN: dict[str, str] = {
    "softmax": "derive.kinds.softmax:KIND",
    "batch_norm": "derive.kinds.batch_norm:KIND",
    "text": "derive.kinds.text:KIND",
    "forward": "derive.kinds.forward:KIND",
    "backprop": "derive.kinds.backprop:KIND",
    "network": "derive.kinds.network:KIND",
    "conv2d": "derive.kinds.conv2d:KIND",
    "pool": "derive.kinds.pool:KIND",
    "dropout": "derive.kinds.dropout:KIND",
}


class _Installed(Mapping):
    """Kind name → its module, for every installed kind (read from the registry when first used)."""

    def _entries(self) -> dict:
        from ..registry import entries
        return entries()

    def __getitem__(self, name: str) -> str:
        return self._entries()[name].module

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __len__(self) -> int:
        return len(self._entries())


KINDS: Mapping[str, str] = _Installed()
