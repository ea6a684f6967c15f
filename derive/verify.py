"""Compare every exact answer with the kind's independent float64 recomputation; a mismatch stops the build."""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import CheckFailed
from .solution import Solution
from .values import to_float

RTOL = 1e-9
ATOL = 1e-12




def _flat(x: Any) -> list:
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in _flat(x[k]) if not isinstance(x[k], str)]
    if isinstance(x, (list, tuple, np.ndarray)):
        return [v for item in x for v in _flat(item)]
    return [x]


def compare(name: str, exact: Any, numeric: Any) -> float:
    """Largest difference of one answer (relative above 1, absolute below); raises CheckFailed past tolerance."""
    got = _flat(to_float(exact))
    want = _flat(numeric)
    if len(got) != len(want):
        raise CheckFailed(f"{name}: the exact answer has {len(got)} numbers, the recomputation {len(want)}")
    worst = 0.0
    for i, (a, b) in enumerate(zip(got, want)):
        if a is None or b is None:
            if a is not b and not (a is None and b is None):
                raise CheckFailed(f"{name}[{i}]: exact {a} but recomputed {b}")
            continue
        a, b = float(a), float(b)
        diff = abs(a - b)
        if diff > ATOL + RTOL * abs(b):
            raise CheckFailed(f"{name}[{i}]: exact answer {a!r} disagrees with the float64 recomputation {b!r}")
        worst = max(worst, diff / max(abs(b), 1.0))
    return worst


def verify(solution: Solution, recomputed: dict[str, Any]) -> float:
    """Check all answers against `recomputed`; record the check sentence; return the worst relative gap."""
    answers = solution.answers
    missing = [name for name in answers if name not in recomputed]
    if missing:
        raise CheckFailed(f"{solution.problem.id}: no independent recomputation of {', '.join(missing)}")
    worst = 0.0
    for name, value in answers.items():
        try:
            worst = max(worst, compare(name, value, recomputed[name]))
        except CheckFailed as exc:
            raise CheckFailed(f"{solution.problem.id}.{exc}") from None
    if answers:
        shown = "exactly" if worst == 0 else f"to within {worst:.1e}"
        subject = "The answer agrees" if len(answers) == 1 else f"All {len(answers)} answers agree"
        solution.check(f"{subject} with an independent float64 (NumPy) recomputation "
                       f"{shown} (tolerance: relative {RTOL:g}).")
    return worst
