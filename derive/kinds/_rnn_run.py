"""One `rnn` problem worked out: the forward pass, BPTT with upstream, the answers; cached on the problem per
mistake, under the escalating precisions of `_dense_num` (a carried value that needs more digits is worked again)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..problem import Problem
from . import _dense_exact as E
from . import _dense_num as N
from ._rnn_bptt import backward, totals
from ._rnn_core import EXACT, Back, Mistake, Net, Step, forward, net_of


@dataclass
class Run:
    """Everything one problem computes: the steps and backward steps (SymPy values), the answers (SymPy, each made
    consistent: once one entry is carried as a decimal every irrational one is), and those carried."""

    net: Net
    steps: list[Step]
    backs: list[Back | None] | None
    answers: dict[str, Any]
    approximate: set[str]


def run(p: Problem, m: Mistake = EXACT) -> Run:
    """The forward (and, with upstream, backward) pass of a problem, cached on it per mistake."""
    cache = p.__dict__.setdefault("_rnn_runs", {})
    if m not in cache:
        cache[m] = N.escalating(lambda: _compute(p, m))
    return cache[m]


def _compute(p: Problem, m: Mistake) -> Run:
    """One run at the current working precisions (Imprecise when a carried value needs more). A slip's run is
    worked in decimals from the start (it is compared with a student's numbers, never shown), except a ReLU
    RNN's, whose kinks want exact zeros (and which is rational, so fast)."""
    relu = p.fields.cell == "rnn" and p.fields.nonlinearity == "relu"
    net = net_of(p, numeric=m != EXACT and not relu, no_b_hh=m.no_b_hh)
    steps = forward(net, m)
    raw: dict[str, Any] = {"hidden": [s.h for s in steps]}
    if net.cell == "lstm":
        raw["cells"] = [s.c for s in steps]
    if net.cell != "rnn":
        raw["gates"] = [s.gates for s in steps]
    backs = None
    if net.upstream is not None:
        backs = backward(net, m, steps)
        raw.update(totals(net, steps, backs))
    settled = {k: E.settle(v) if v is not None else (None, False) for k, v in raw.items()}
    return Run(net, [_sympy(s) for s in steps], None if backs is None else [_sympy(b) for b in backs],
               {k: v for k, (v, _) in settled.items()}, {k for k, (_, a) in settled.items() if a})


def _sympy(record: Any) -> Any:
    """A Step or Back with every value as SymPy (a carried one as its checked 50-digit decimal)."""
    if record is None:
        return None
    return dataclasses.replace(record, **{f.name: E.to_sympy(getattr(record, f.name))
                                          for f in dataclasses.fields(record)})
