"""Solve a problem: its kind's exact derivation, under the time limit, then the independent check."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from .errors import SpecError
from .fields import python_ctx
from .latex import display_digits
from .limits import DEFAULT, Limits
from .problem import Problem
from .solution import Solution
from .spec import make_problem
from .verify import verify


@contextmanager
def time_limit(seconds: int, problem: Problem) -> Iterator[None]:
    """Stop a derivation that runs past `seconds` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum, _frame):
        raise problem.error((), f"derivation took longer than {seconds} s (limit 'seconds')")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def as_problem(problem: Problem | dict[str, Any], seed: int = 0, digits: int = 4,
               limits: Limits = DEFAULT) -> Problem:
    """A Problem from a Problem or a plain dict (Python values; floats read by their shortest repr)."""
    if isinstance(problem, Problem):
        return problem
    if not isinstance(problem, dict):
        raise SpecError(f"expected a problem as a dict, got {type(problem).__name__}")
    raw = dict(problem)
    raw.setdefault("id", "problem")
    return make_problem(raw, python_ctx(str(raw["id"]), limits), seed, digits)


def solve(problem: Problem | dict[str, Any], seed: int = 0, digits: int = 4, limits: Limits = DEFAULT,
          outputs: tuple[str, ...] = ()) -> Solution:
    """Derive a problem exactly and check every answer against an independent float64 recomputation.

    `outputs` ("json", "tex", "questions") are made under the same time limit and kept on the solution.
    """
    p = as_problem(problem, seed, digits, limits)
    kind = p.definition
    with time_limit(limits.seconds, p), display_digits(p.digits):
        solution = kind.solve(p)
        with np.errstate(all="ignore"):   # an overflow shows up as a failed comparison, not a warning
            recomputed = kind.recompute(p)
        verify(solution, recomputed)
        make_outputs(solution, outputs)
    return solution


def make_outputs(solution: Solution, outputs: tuple[str, ...]) -> None:
    """Render the JSON entry and LaTeX fragments now (they are cached on the solution)."""
    from .jsonout import problem_json
    from .render import problem_fragment
    if "json" in outputs:
        problem_json(solution)
    if "tex" in outputs:
        problem_fragment(solution, False)
    if "questions" in outputs:
        problem_fragment(solution, True)
