"""Kind `network`, the optional `published` field: totals a source publishes, checked and stated in the key.

    published: {params: 11689512, source: "torchvision's resnet18"}

A network whose counts differ from what it claims to reproduce is a spec error naming both numbers.
"""
from __future__ import annotations

from typing import Any

from .. import fields as F
from ..problem import Problem
from ..solution import Solution
from ._arch import Row

FIELDS = F.table(params=F.Field(F.positive_int), multiplications=F.Field(F.positive_int),
                 source=F.Field(F.words))
WORDS = {"params": "parameters", "multiplications": "multiplications"}


def parse_published(value: Any, ctx: F.Ctx) -> dict[str, Any]:
    """`{params: N, multiplications: N, source: text}`, with at least one of the counts."""
    v = F.read_mapping(value, ctx, FIELDS)
    if v["params"] is None and v["multiplications"] is None:
        raise ctx.error("give the published params or multiplications (or both), e.g. {params: 11689512}")
    return v


def _totals(rows: list[Row]) -> dict[str, int]:
    """The network's parameters and multiplications."""
    return {"params": sum(r.params for r in rows), "multiplications": sum(r.mults for r in rows)}


def check_published(p: Problem, rows_of: dict[str | None, list[Row]]) -> None:
    """The layers must reproduce the published totals (one network only)."""
    published = p.fields.published
    if published is None:
        return
    if p.fields.designs is not None:
        raise p.error("published", "published totals are for one network (layers), not for designs")
    totals = _totals(rows_of[None])
    for key in ("params", "multiplications"):
        if published[key] is not None and published[key] != totals[key]:
            raise p.error(("published", key),
                          f"the layers give {totals[key]:,} {WORDS[key]}, but {published[key]:,} are published: "
                          "these layers are not the published network")


def state_published(s: Solution, p: Problem, rows: list[Row]) -> None:
    """The key's sentence saying which published totals the count reproduces."""
    published = p.fields.published
    if published is None:
        return
    totals = _totals(rows)
    said = [f"{totals[k]:,} {WORDS[k]}" for k in ("params", "multiplications") if published[k] is not None]
    source = f" ({published['source']})" if published["source"] else ""
    s.check(f"The count reproduces the published total{'s' if len(said) > 1 else ''}: {' and '.join(said)}"
            f"{source}.")
