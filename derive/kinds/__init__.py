"""derive's own kinds. Each module holds one kind object, `KIND`; pyproject.toml declares them as entry points
of the group `derive.kinds`, the way a plugin package declares its own."""
from __future__ import annotations

from collections.abc import Iterator, Mapping


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
