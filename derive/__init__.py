"""derive: exact, checked, typeset worked solutions for deep-learning worksheet problems.

    >>> import derive
    >>> derive.softmax([2, 1, 0.1]).answers["probabilities"][0]
    exp(2)/(exp(1/10) + E + exp(2))
"""
from __future__ import annotations

from typing import Any, Callable

from .errors import BuildError, CheckFailed, SpecError
from .limits import Limits

__all__ = ["load", "solve", "check", "build", "kinds", "helper", "SpecError", "CheckFailed", "BuildError", "Limits"]
__version__ = "0.1.0"


def load(path: Any, limits: Limits | None = None):
    """Parse and check a spec file; returns a Worksheet (title, problems, …)."""
    from .spec import load as _load
    return _load(path, limits or Limits())


def solve(problem: Any, seed: int = 0, digits: int = 4, limits: Limits | None = None):
    """Solve one problem (a dict as in a spec, or a loaded Problem): exact answers, worked steps, checked."""
    from .engine import solve as _solve
    return _solve(problem, seed, digits, limits or Limits())


def build(*specs: Any, out: Any = "build", pdf: bool = True, questions: bool = False) -> list:
    """Build specs as `derive build` does; returns the paths written."""
    from .build import build_spec
    return [path for spec in specs for path in build_spec(spec, out, pdf=pdf, questions=questions).paths]


def kinds() -> list[str]:
    """The names of every installed kind."""
    from .registry import names
    return names()


def check(spec: Any, answers: Any, min_digits: int | None = None, rtol: Any = None):
    """Grade an answers file (or mapping) against a spec's exact answers; returns the report."""
    from .grading.run import check as _check
    return _check(spec, answers, min_digits=min_digits, rtol=rtol)


def helper(kind: str) -> Callable[..., Any]:
    """The plain Python helper of a kind: positional arguments as the kind names them, the rest as keywords."""
    from .registry import get
    definition = get(kind)
    names = definition.helper_arguments()

    def solve_kind(*args: Any, **fields: Any):
        if len(args) > len(names):
            raise TypeError(f"{kind}() takes at most {len(names)} positional arguments ({', '.join(names)})")
        given = {n: v for n, v in zip(names, args) if v is not None}
        return solve({"kind": kind, **given, **fields})
    solve_kind.__name__ = solve_kind.__qualname__ = kind
    solve_kind.__doc__ = f"{definition.summary or kind} (positional: {', '.join(names)}; other fields as keywords)."
    return solve_kind


def __getattr__(name: str) -> Any:
    """`derive.softmax(...)` and a helper for every installed kind, a plugin's too."""
    from pathlib import Path
    here = Path(__file__).parent
    if (here / f"{name}.py").exists() or (here / name / "__init__.py").exists():
        raise AttributeError(name)   # a submodule not imported yet: let the import system load it
    from .registry import has
    if not name.startswith("_") and has(name):
        return helper(name)
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(kinds()))
