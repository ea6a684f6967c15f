"""Kind `text`: a written answer (plain text with `$…$` math), no numbers to derive."""
from __future__ import annotations

from .. import fields as F
from ..kind import Kind, delegate
from ..latex import Latex
from ..problem import Problem
from ..prose import UnsafeText, to_latex
from ..solution import Solution


def _answer(value, ctx: F.Ctx) -> str:
    """Plain text whose math passes the whitelist."""
    body = F.words(value, ctx)
    if not body.strip():
        raise ctx.error("expected a non-empty answer")
    try:
        to_latex(body)
    except UnsafeText as exc:
        raise ctx.error(str(exc)) from None
    return body


FIELDS = F.table(answer=F.Field(_answer, required=True))


def solve(p: Problem) -> Solution:
    """The written answer, as given."""
    s = Solution(p)
    s.step("Answer", text=p.fields.answer)
    return s


def recompute(p: Problem) -> dict:
    """Nothing numeric to recompute."""
    return {}


class Text(Kind):
    """A written answer: no numbers, no slips; the question sheet never shows the answer."""

    name = "text"
    summary = "a written answer (plain text with $…$ math), shown in the key only"
    fields = FIELDS
    answers: dict = {}
    examples = ({"answer": "Batch norm normalizes each feature over the batch: $\\hat{x} = (x - \\mu)/\\sigma$."},)
    positional = ("answer",)

    solve = delegate()
    recompute = delegate()

    def answer_names(self, p: Problem) -> list[str]:
        return []

    def given(self, p: Problem) -> list[tuple[str, Latex]]:
        return []


KIND = Text()
