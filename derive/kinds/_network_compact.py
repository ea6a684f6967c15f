"""Kind `network`, a long network's key in a few pages (SPEC §15): each kind of layer is worked in full once; a
later layer of the same kind gets one sentence of the same substitutions, and a run of such layers is one step
with a bullet per layer."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..latex import Latex
from ..solution import Solution, Step
from . import _arch as A
from ._arch import Row
from ._network_tex import plain

LONG_NETWORK = 16   # layers (blocks' own included) past which a layer worked like an earlier one takes one sentence


@dataclass
class Worked:
    """What the key of one long network has worked so far."""

    first: dict[tuple, str] = field(default_factory=dict)   # a layer's `formulas` → where they were worked in full
    bullets: dict[int, str] = field(default_factory=dict)   # id of a one-sentence step → its line in a run's list


def worked_for(rows: list[Row]) -> Worked | None:
    """A record for a long network (past LONG_NETWORK layers), None for a short one (every layer in full)."""
    return Worked() if len(A.leaves(rows)) > LONG_NETWORK else None


def formulas(row: Row) -> tuple:
    """What decides the formulas of a layer's step: its type, bias, grouping, dilation, ceil mode, input rank."""
    layer = row.layer
    return (layer.type, layer.bias, layer.groups == 1, layer.dilation == (1, 1), layer.ceil_mode,
            len(row.shape_in))


def compact(lines: list[Latex], row: Row) -> str:
    """A layer's lines as one sentence of inline math, each count's symbolic formula left out (it was worked in
    full above): `params = (3·3·64 + 1)·128 = 73,856`. A layer without lines: what it keeps."""
    if not lines:
        return f"nothing to learn, nothing multiplied; the shape stays {A.shape_text(row.shape_out)}."
    short = []
    for line in lines:
        parts = line.split(" = ", 2)
        if line.startswith((r"\text{params} = ", r"\text{mult} = ")) and len(parts) == 3:
            line = f"{parts[0]} = {parts[2]}"
        short.append(f"${line}$")
    return "; ".join(short) + "."


def one_sentence(s: Solution, worked: Worked, where: str, name: str, lines: list[Latex], row: Row) -> None:
    """The step of a layer whose formulas were worked above: `As layer 1: …`, remembered for merging."""
    first = worked.first[formulas(row)]
    step = s.step(f"{where}: {name}", text=f"As {first}: " + compact(lines, row))
    worked.bullets[id(step)] = f"{where} ({plain(name)}), as {first}: " + compact(lines, row)


def merge_runs(s: Solution, worked: Worked) -> None:
    """Consecutive one-sentence steps become one step, a bullet per layer (the headings took half the room)."""
    out: list[Step] = []
    run: list[Step] = []
    for step in s.steps + [None]:
        if step is not None and id(step) in worked.bullets:
            run.append(step)
            continue
        if len(run) > 1:
            out.append(Step(_span(run), text="\n".join("- " + worked.bullets[id(r)] for r in run)))
        else:
            out += run
        run = []
        if step is not None:
            out.append(step)
    s.steps[:] = out


def _span(run: list[Step]) -> str:
    """`Layers 4 to 8`, `Layer 7, main path, layers 2 to 5`: the title of a run of steps."""
    first, last = (step.title.split(": ", 1)[0] for step in (run[0], run[-1]))
    head, _, a = first.rpartition(" ")
    b = last.rpartition(" ")[2]
    if not head or not last.startswith(head + " "):
        return f"{first} to {last}"
    word = head.rpartition(" ")[2] if " " in head else head
    return f"{head[:len(head) - len(word)]}{word}s {a} to {b}"
