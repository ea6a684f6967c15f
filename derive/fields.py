"""Field tables as data, and the parsers that turn spec values into exact, checked values."""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from .errors import Message, SpecError
from .limits import DEFAULT, Limits
from .numbers import NotANumber, describe, to_number
from .yamlsafe import Plain

REQUIRED = object()


@dataclass
class Budget:
    """Counts numbers read from one spec against the limit."""

    limits: Limits = DEFAULT
    numbers: int = 0


@dataclass
class Ctx:
    """Where a value sits (file, line, path inside its problem): makes located errors."""

    file: str | None
    lines: Callable[[tuple], int | None]
    root: tuple                      # path of the problem inside the document
    path: tuple = ()                 # path inside the problem
    label: str | None = None         # the problem's id, prefixed to the path
    budget: Budget = field(default_factory=Budget)

    def child(self, key: Any) -> "Ctx":
        """The context of one field or item below this one."""
        return Ctx(self.file, self.lines, self.root, self.path + (key,), self.label, self.budget)

    @property
    def limits(self) -> Limits:
        return self.budget.limits

    def where(self) -> str | None:
        """`q3.layers[1].weights`: the id, then the path."""
        text = self.label or ""
        for key in self.path:
            text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
        return text or None

    def message(self, text: str) -> Message:
        return Message(text, self.file, self.lines(self.root + self.path), self.where())

    def error(self, text: str) -> SpecError:
        """A SpecError located at this value."""
        return SpecError(self.message(text))


def python_ctx(label: str | None = None, limits: Limits = DEFAULT) -> Ctx:
    """A context for values given from Python (no file, no lines)."""
    return Ctx(None, lambda _path: None, (), (), label, Budget(limits))


@dataclass(frozen=True)
class Field:
    """One field of a kind: how to read it and its default."""

    parse: Callable[[Any, Ctx], Any]
    default: Any = None
    required: bool = False


def table(**fields_: Field) -> dict[str, Field]:
    """A kind's field table (kept as a plain dict so it reads as data)."""
    return fields_


_RECORDS: dict[tuple, type] = {}


def record_type(name: str, fields_: dict[str, Field]) -> type:
    """A frozen dataclass with one attribute per field (typed by each parser's return annotation)."""
    key = (name, tuple(fields_))
    if key not in _RECORDS:
        spec = [(n, getattr(f.parse, "__annotations__", {}).get("return", Any), dataclasses.field(default=None))
                for n, f in fields_.items()]
        _RECORDS[key] = dataclasses.make_dataclass(f"{_camel(name)}Fields", spec, frozen=True)
    return _RECORDS[key]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Kind"


def record(name: str, fields_: dict[str, Field], values: dict[str, Any]) -> Any:
    """The typed record of a kind's checked values."""
    return record_type(name, fields_)(**values)


def suggest(name: str, choices) -> str:
    """` (did you mean 'stride'?)` or nothing."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_mapping(raw: Any, ctx: Ctx, fields_: dict[str, Field], ignore: set[str] = frozenset(),
                 what: str = "field") -> dict[str, Any]:
    """Check a mapping against a field table: unknown keys (with a suggestion), required ones, parsers."""
    if not isinstance(raw, dict):
        raise ctx.error(f"expected a mapping of fields, got {describe(raw)}")
    for key in raw:
        if key not in fields_ and key not in ignore:
            allowed = sorted(fields_) + sorted(ignore)
            raise ctx.child(key).error(f"unknown {what}{suggest(key, allowed)}; allowed: {', '.join(allowed)}")
    out = {}
    for name, spec in fields_.items():
        if name in raw and raw[name] is not None:
            out[name] = spec.parse(raw[name], ctx.child(name))
        elif spec.required:
            raise ctx.child(name).error("required")
        else:
            out[name] = spec.default
    return out


# ---- scalar parsers -------------------------------------------------------------------------

def number(value: Any, ctx: Ctx) -> sympy.Rational:
    """Any exact number."""
    ctx.budget.numbers += 1
    if ctx.budget.numbers > ctx.limits.numbers:
        raise ctx.error(f"more than {ctx.limits.numbers:,} numbers in one spec (limit 'numbers')")
    try:
        return to_number(value)
    except NotANumber as exc:
        raise ctx.error(str(exc)) from None


def positive(value: Any, ctx: Ctx) -> sympy.Rational:
    """A number > 0."""
    x = number(value, ctx)
    if x <= 0:
        raise ctx.error(f"must be positive, got {x}")
    return x


def nonnegative(value: Any, ctx: Ctx) -> sympy.Rational:
    """A number ≥ 0."""
    x = number(value, ctx)
    if x < 0:
        raise ctx.error(f"must be zero or positive, got {x}")
    return x


def integer(value: Any, ctx: Ctx) -> int:
    """A whole number, as a Python int."""
    x = number(value, ctx)
    if not x.is_integer:
        raise ctx.error(f"expected a whole number, got {x}")
    return int(x)


def positive_int(value: Any, ctx: Ctx) -> int:
    """A whole number ≥ 1."""
    n = integer(value, ctx)
    if n < 1:
        raise ctx.error(f"must be a positive whole number, got {n}")
    return n


def nonnegative_int(value: Any, ctx: Ctx) -> int:
    """A whole number ≥ 0."""
    n = integer(value, ctx)
    if n < 0:
        raise ctx.error(f"must be zero or a positive whole number, got {n}")
    return n


def boolean(value: Any, ctx: Ctx) -> bool:
    """true or false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ctx.error(f"expected true or false, got {describe(value)}")


def words(value: Any, ctx: Ctx) -> str:
    """Free text (a plain scalar such as `2024` is text here too)."""
    if isinstance(value, (dict, list)) or isinstance(value, bool):
        raise ctx.error(f"expected text, got {describe(value)}")
    return str(value)


def choice(*options: str) -> Callable[[Any, Ctx], str]:
    """One of a fixed set of words, with a suggestion for a typo."""
    def parse(value: Any, ctx: Ctx) -> str:
        word = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if word not in options:
            shown = describe(value) if word is None else repr(word)
            raise ctx.error(f"expected one of {', '.join(options)}, got {shown}{suggest(word or '', options)}")
        return word
    parse.__doc__ = f"one of {options}"
    return parse


# ---- arrays -----------------------------------------------------------------------------------

def _side(n: int, ctx: Ctx, what: str) -> None:
    if n > ctx.limits.matrix_side:
        raise ctx.error(f"{n} {what} is more than the limit of {ctx.limits.matrix_side} (limit 'matrix_side')")


def vector(value: Any, ctx: Ctx, item: Callable = number) -> list:
    """A non-empty list of numbers."""
    if not isinstance(value, list):
        raise ctx.error(f"expected a list of numbers, got {describe(value)}")
    if not value:
        raise ctx.error("expected a non-empty list of numbers, got []")
    _side(len(value), ctx, "entries")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, list):
            raise ctx.child(i).error("expected a number, got a list (this field is a vector)")
        out.append(item(v, ctx.child(i)))
    return out


def matrix(value: Any, ctx: Ctx, item: Callable = number) -> list[list]:
    """A non-empty rectangular list of rows."""
    if not isinstance(value, list) or not value:
        raise ctx.error(f"expected a matrix (a list of rows), got {describe(value) if value != [] else '[]'}")
    if not all(isinstance(row, list) for row in value):
        if not any(isinstance(row, list) for row in value):
            raise ctx.error("expected a matrix (a list of rows), got a flat list; write one row as [[…]]")
        raise ctx.error("expected a matrix (a list of rows): every row must be a list")
    _side(len(value), ctx, "rows")
    rows = [vector(row, ctx.child(i), item) for i, row in enumerate(value)]
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ctx.child(i).error(f"ragged matrix: row {i} has {len(row)} numbers, row 0 has {width}")
    return rows


def vector_or_matrix(value: Any, ctx: Ctx) -> list:
    """A vector, or a matrix with one row per sample."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return matrix(value, ctx)
    return vector(value, ctx)


def scalar_or_vector(value: Any, ctx: Ctx) -> Any:
    """A single number or a list of them."""
    if isinstance(value, list):
        return vector(value, ctx)
    return number(value, ctx)


def shape(a: Any) -> tuple[int, ...]:
    """The shape of a nested list."""
    dims = []
    while isinstance(a, list):
        dims.append(len(a))
        a = a[0] if a else None
    return tuple(dims)


def shape_text(dims: tuple[int, ...]) -> str:
    """`3×2`."""
    return "×".join(str(d) for d in dims) if dims else "a scalar"
