"""Field tables as data, and the parsers that turn spec values into exact, checked values."""
from __future__ import annotations

import dataclasses
import difflib
import math
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
    check_keys(raw, ctx, fields_, ignore, what)
    out = {}
    for name, spec in fields_.items():
        if name in raw and raw[name] is not None:
            out[name] = spec.parse(raw[name], ctx.child(name))
        elif spec.required:
            raise ctx.child(name).error("required")
        else:
            out[name] = spec.default
    return out


def check_keys(raw: Any, ctx: Ctx, fields_: dict[str, Field], ignore: set[str] = frozenset(),
               what: str = "field") -> None:
    """A mapping whose every key is in the field table (or ignored); else the unknown one, with a suggestion."""
    if not isinstance(raw, dict):
        raise ctx.error(f"expected a mapping of fields, got {describe(raw)}")
    for key in raw:
        if key not in fields_ and key not in ignore:
            allowed = sorted(fields_) + sorted(ignore)
            raise ctx.child(key).error(f"unknown {what}{suggest(key, allowed)}; allowed: {', '.join(allowed)}")


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


# ---- draws (SPEC §10): `{draw: uniform, low: -1, high: 1, shape: [2, 3]}` wherever a value is expected -----------

DRAW_KINDS = ("uniform", "normal", "integer", "choice")
MAX_DECIMALS = 15
MAX_DIMS = 4


def is_draw(value: Any) -> bool:
    """A mapping that draws a value (it has a `draw` key)."""
    return isinstance(value, dict) and "draw" in value


def has_draws(value: Any) -> bool:
    """Any draw inside a spec value, at any depth."""
    if isinstance(value, dict):
        return "draw" in value or any(has_draws(v) for v in value.values())
    return isinstance(value, list) and any(has_draws(v) for v in value)


def _decimals(value: Any, ctx: Ctx) -> int:
    """Decimals a drawn value is rounded to: 0 … 15."""
    n = nonnegative_int(value, ctx)
    if n > MAX_DECIMALS:
        raise ctx.error(f"at most {MAX_DECIMALS} decimals (float64 holds no more), got {n}")
    return n


def _draw_shape(value: Any, ctx: Ctx) -> tuple[int, ...]:
    """`3` or `[2, 3]`: at most 4 sides, each within `matrix_side`, at most `numbers` values in all."""
    sides = value if isinstance(value, list) else [value]
    if not sides or len(sides) > MAX_DIMS:
        raise ctx.error(f"expected a shape: a whole number or a list of 1 to {MAX_DIMS} of them, such as [2, 3]")
    dims = tuple(positive_int(v, ctx.child(i) if isinstance(value, list) else ctx) for i, v in enumerate(sides))
    for n in dims:
        _side(n, ctx, "values along one side")
    if math.prod(dims) > ctx.limits.numbers:
        raise ctx.error(f"a draw of {shape_text(dims)} values is more than {ctx.limits.numbers:,} numbers "
                        "(limit 'numbers')")
    return dims


def _options(value: Any, ctx: Ctx) -> list:
    """A choice's `from`: a non-empty list of entries, each what the field expects."""
    if not isinstance(value, list) or not value:
        raise ctx.error(f"expected a non-empty list of entries to choose from, got "
                        f"{describe(value) if value != [] else '[]'}")
    return value


_KIND = Field(choice(*DRAW_KINDS), required=True)
DRAWS = {
    "uniform": table(draw=_KIND, low=Field(number, required=True), high=Field(number, required=True),
                     decimals=Field(_decimals, 1), shape=Field(_draw_shape)),
    "normal": table(draw=_KIND, mean=Field(number, 0), std=Field(nonnegative, 1), decimals=Field(_decimals, 1),
                    shape=Field(_draw_shape)),
    "integer": table(draw=_KIND, low=Field(integer, required=True), high=Field(integer, required=True),
                     shape=Field(_draw_shape)),
    "choice": table(draw=_KIND, **{"from": Field(_options, required=True)}),
}


def draw_values(raw: Any, ctx: Ctx, rng: Any) -> tuple[Any, dict[tuple, tuple]]:
    """`raw` with its draws drawn in written order, depth first; and each chosen entry's path → where it is written."""
    moved: dict[tuple, tuple] = {}
    return _walk(raw, ctx, ctx.path, rng, moved), moved


def _walk(value: Any, ctx: Ctx, target: tuple, rng: Any, moved: dict[tuple, tuple]) -> Any:
    """One value with its draws drawn (`ctx` is where it is written, `target` where it lands)."""
    if is_draw(value):
        return _draw(value, ctx, target, rng, moved)
    if isinstance(value, dict):
        return {k: _walk(v, ctx.child(k), target + (k,), rng, moved) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, ctx.child(i), target + (i,), rng, moved) for i, v in enumerate(value)]
    return value


def _draw(spec: dict, ctx: Ctx, target: tuple, rng: Any, moved: dict[tuple, tuple]) -> Any:
    """One draw: plain numbers (nested lists with a shape), or the chosen entry with its own draws drawn."""
    kind = choice(*DRAW_KINDS)(spec["draw"], ctx.child("draw"))
    how = read_mapping(spec, ctx, DRAWS[kind], what=f"field for a {kind} draw")
    if kind == "choice":
        k = int(rng.integers(len(how["from"])))
        moved[target] = ctx.path + ("from", k)
        return _walk(how["from"][k], ctx.child("from").child(k), target, rng, moved)
    import numpy as np
    if kind == "integer":
        if not how["low"] <= how["high"] or max(abs(how["low"]), abs(how["high"])) >= 2**63:
            raise ctx.error(f"an integer draw needs low ≤ high, both within ±2⁶³, got {how['low']} and {how['high']}")
        return np.asarray(rng.integers(how["low"], how["high"], size=how["shape"], endpoint=True)).tolist()
    if kind == "uniform":
        if not how["low"] < how["high"]:
            raise ctx.error(f"a uniform draw needs low < high, got {how['low']} and {how['high']}")
        values = rng.uniform(float(how["low"]), float(how["high"]), size=how["shape"])
    else:
        values = rng.normal(float(how["mean"]), float(how["std"]), size=how["shape"])
    values = np.round(values, how["decimals"])
    if not np.all(np.isfinite(values)):
        raise ctx.error("the draw gives values beyond float64's range")
    return np.asarray(values).tolist()

