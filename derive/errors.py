"""The one exception type for user errors, and the message it carries."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """One located complaint: `file:line: path: text`."""

    words: str
    file: str | None = None
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        elif self.line:
            where = f"line {self.line}: "
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.words}"


class SpecError(Exception):
    """A bad spec, answers file or argument: the user's to fix (exit status 2)."""

    def __init__(self, messages: str | Message | list[Message], *, path: str | None = None):
        if isinstance(messages, str):
            messages = [Message(messages, path=path)]
        elif isinstance(messages, Message):
            messages = [messages]
        self.messages: list[Message] = list(messages)
        super().__init__("\n".join(str(m) for m in self.messages))


class CheckFailed(Exception):
    """An exact answer disagreed with its independent float64 recomputation (exit status 1)."""


class BuildError(Exception):
    """The build could not finish for a reason outside the spec: TeX, the file system (exit 1)."""
