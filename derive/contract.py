"""The contract every kind keeps (SPEC §9), checked on the kind's own examples:

- every example builds and its exact answers agree with the kind's float64 recomputation;
- the answers a problem produces are exactly those the kind says it produces, all of them declared;
- every slip is reproduced by a wrong answer made from it, and `derive check` names it;
- no slip raises (an exception inside a slip is a failure, never "no slip").

Run it on an installed kind: `python -m derive.contract NAME` (exit 0 when it holds).
"""
from __future__ import annotations

import sys
from typing import Any

import sympy

from . import registry
from .errors import SpecError
from .engine import solve
from .grading.diagnose import Trials, slips_of
from .grading.run import check
from .latex import decimal_text
from .spec import Worksheet
from .values import as_sympy, leaves
from .yamlsafe import Plain


def problems(kind: Any) -> list[Any]:
    """The kind's examples as checked problems (ids e1, e2, …)."""
    from .engine import as_problem
    return [as_problem({"id": f"e{i}", "kind": kind.name, **example}) for i, example in enumerate(kind.examples, 1)]


def written(x: Any) -> Any:
    """An exact leaf as a student would write it exactly enough: `p/q`, or 15 significant digits."""
    if x is None or isinstance(x, int):
        return x
    x = as_sympy(x)
    if isinstance(x, sympy.Rational):
        return Plain(str(x.p)) if x.q == 1 else f"{x.p}/{x.q}"
    return Plain(decimal_text(x, 15))


def as_given(value: Any) -> Any:
    """An exact answer written out (mappings of a layer list keep their keys, names dropped)."""
    if isinstance(value, list):
        return [as_given(v) for v in value]
    if isinstance(value, dict):
        return {k: as_given(v) for k, v in value.items() if not isinstance(v, str)}
    return written(value)


def check_examples(kind: Any) -> list[str]:
    """Failures of the first three rules."""
    failures = []
    if not kind.examples:
        return [f"{kind.name}: no examples"]
    for p in problems(kind):
        solution = solve(p)
        produced = [a.name for a in solution.answer_list]
        said = kind.answer_names(p)
        if produced != said:
            failures.append(f"{kind.name} {p.id}: produced {produced}, answer_names says {said}")
        undeclared = [n for n in produced if _bare(n) not in kind.answers]
        if undeclared:
            failures.append(f"{kind.name} {p.id}: answers not declared: {undeclared}")
    return failures


def _bare(name: str) -> str:
    """`bottleneck.params` → `params` (a design's prefix)."""
    return name.rpartition(".")[2]


def check_slips(kind: Any) -> list[str]:
    """Every slip of the kind reproduced and named on some example."""
    named = {slip.name: False for slip in kind.slips}
    for p in problems(kind):
        solution = solve(p)
        trials = Trials(p, solution)
        for name, variant in trials.variants:
            if name not in named or named[name]:
                continue
            named[name] = _is_named(p, solution, trials, name, variant)
    return [f"{kind.name}: slip {name!r} is not reproduced and named on any example"
            for name, ok in named.items() if not ok]


def _is_named(p: Any, solution: Any, trials: Trials, name: str, variant: Any) -> bool:
    """Does a student answer made from this variant get the slip's name?"""
    outcome = trials.outcome((variant,))
    if outcome is None:
        return False
    for answer, value in outcome.items():
        if answer not in solution.answers or _same(value, solution.answers[answer]):
            continue
        sheet = Worksheet("contract", [p])
        report = check(sheet, {p.id: {answer: as_given(value)}})
        if any(name in m.slip_names for m in report.problems[0].marks if not m.ok):
            return True
    return False


def _same(a: Any, b: Any) -> bool:
    """Equal exact values (leaf by leaf)."""
    left, right = leaves(a), leaves(b)
    return len(left) == len(right) and all(x == y for (_, x), (_, y) in zip(left, right))


def failures(name: str) -> list[str]:
    """Every broken rule of one installed kind."""
    kind = registry.get(name)
    out = check_examples(kind)
    for p in problems(kind):
        for slip in slips_of(p):
            slip.variants(p, solve(p).answers)   # raises if a slip is broken
    return out + check_slips(kind)


def main(argv: list[str]) -> int:
    """`python -m derive.contract NAME…` (default: every installed kind)."""
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: python -m derive.contract [KIND …]   (default: every installed kind)")
        return 0
    names = argv or registry.names()
    try:
        found = [f for name in names for f in failures(name)]
    except SpecError as exc:
        print(f"derive.contract: {exc}", file=sys.stderr)
        return 2
    for f in found:
        print(f)
    print(f"{len(names)} kinds checked, {len(found)} failures")
    return 1 if found else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
