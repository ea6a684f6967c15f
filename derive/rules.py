"""How `derive check` judges numbers (SPEC §5, §12): the `check:` blocks of a spec, a problem and an answer,
the innermost winning, each inheriting what it does not say from the block around it."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sympy

from . import fields as F

MODES = ("digits", "relative", "absolute", "sigfig", "decimals")
SETTINGS = ("mode", "min_digits", "rtol", "atol", "digits")


@dataclass(frozen=True)
class Rule:
    """One judging rule: the mode and its numbers (SPEC §12); `digits` is the mode's, not the display's."""

    min_digits: int = 2
    rtol: sympy.Rational = sympy.Rational(1, 100)
    mode: str = "digits"
    atol: sympy.Rational = sympy.Rational(1, 10**8)
    digits: int | None = None

    def over(self, block: dict[str, Any] | None) -> "Rule":
        """This rule with a block's own settings on top (unset ones inherited)."""
        if not block:
            return self
        return replace(self, **{k: block[k] for k in SETTINGS if block.get(k) is not None})


BLOCK = F.table(
    mode=F.Field(F.choice(*MODES)),
    min_digits=F.Field(F.positive_int),
    rtol=F.Field(F.nonnegative),
    atol=F.Field(F.nonnegative),
    digits=F.Field(F.positive_int),
)


def spec_block(value: Any, ctx: F.Ctx) -> dict[str, Any]:
    """The spec's `check:` block."""
    block = F.read_mapping(value, ctx, BLOCK, what="field of a check block")
    needs_digits(Rule().over(block), ctx)
    return block


def problem_block(value: Any, ctx: F.Ctx) -> dict[str, Any]:
    """A problem's `check:` block: the block's own settings, and `answers: {NAME: block}`."""
    table = dict(BLOCK, answers=F.Field(_answer_blocks))
    return F.read_mapping(value, ctx, table, what="field of a check block")


def _answer_blocks(value: Any, ctx: F.Ctx) -> dict[str, dict[str, Any]]:
    """`answers:` inside a problem's check block: answer name → block."""
    if not isinstance(value, dict):
        raise ctx.error(f"expected a mapping of answer names to check blocks, got {F.describe(value)}")
    return {str(name): F.read_mapping(block, ctx.child(name), BLOCK, what="field of a check block")
            for name, block in value.items()}


def needs_digits(rule: Rule, ctx: F.Ctx) -> None:
    """`sigfig` and `decimals` need `digits` (from this block or one around it)."""
    if rule.mode in ("sigfig", "decimals") and rule.digits is None:
        raise ctx.error(f"mode {rule.mode} needs digits (how many {'significant digits' if rule.mode == 'sigfig' else 'decimal places'} to judge at)")


def check_problem_block(block: dict[str, Any] | None, spec_rule: Rule, answers: list[str], ctx: F.Ctx) -> None:
    """A problem's block: answer names known (bare or `design.answer`), every resulting rule complete."""
    if not block:
        return
    rule = spec_rule.over(block)
    needs_digits(rule, ctx)
    for name, inner in (block.get("answers") or {}).items():
        where = ctx.child("answers").child(name)
        if name not in answers and name.rpartition(".")[2] not in answers:
            raise where.error(f"no answer {name!r}{F.suggest(name, answers)}; answers: {', '.join(answers)}")
        needs_digits(rule.over(inner), where)


def rule_for(spec_rule: Rule, problem_block: dict[str, Any] | None, answer: str) -> Rule:
    """The rule of one answer: the spec's, then the problem's, then the answer's own (innermost wins)."""
    rule = spec_rule.over(problem_block)
    inner = (problem_block or {}).get("answers") or {}
    return rule.over(inner.get(answer) or inner.get(answer.rpartition(".")[2]))
