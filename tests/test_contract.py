"""One contract test over every installed kind (SPEC §9): examples build and verify, declared answers are the
answers produced, every slip is reproduced and named, no slip raises."""
from __future__ import annotations

import pytest

from derive import contract, registry
from derive.kind import AnswerSpec, Kind, Slip, Variant


@pytest.mark.parametrize("name", registry.names())
def test_the_kind_keeps_the_contract(name):
    assert contract.failures(name) == []


class Broken(Kind):
    """A kind whose slip never changes a number and whose answer list lies: the contract must say so."""

    name = "broken"
    fields = {}
    answers = {"x": AnswerSpec()}
    slips = (Slip("does_nothing", "a slip that changes nothing",
                  lambda p, a: [Variant("nothing", transform=lambda _p, ans: dict(ans))]),)
    examples = ({},)

    def answer_names(self, p):
        return ["x", "y"]


def test_the_contract_catches_a_broken_kind(monkeypatch):
    from derive.solution import Solution
    import sympy
    broken = Broken()
    monkeypatch.setattr(Broken, "solve", lambda self, p: _one(Solution(p), sympy.Integer(3)))
    monkeypatch.setattr(Broken, "recompute", lambda self, p: {"x": 3.0})
    monkeypatch.setattr(registry, "get", lambda name: broken if name == "broken" else registry.get(name))
    monkeypatch.setattr(registry, "has", lambda name: name == "broken")
    found = contract.failures("broken")
    assert found == ["broken e1: produced ['x'], answer_names says ['x', 'y']",
                     "broken: slip 'does_nothing' is not reproduced and named on any example"]


def _one(s, value):
    s.answer("x", value)
    return s
