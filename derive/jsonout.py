"""The JSON form of answers (SPEC §4): float64 values nested like the answer, SymPy str() as `exact`."""
from __future__ import annotations

import json
import math
from typing import Any

import sympy

from .values import exact_text, to_float


def value_json(x: Any) -> Any:
    """Exact value → float64 (ints stay JSON integers; None stays null)."""
    if isinstance(x, dict):
        return {k: value_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [value_json(v) for v in x]
    if isinstance(x, str):
        return x
    f = to_float(x)
    return f if not isinstance(f, float) or math.isfinite(f) else None   # beyond float64: null, `exact` keeps it


def exact_json(x: Any) -> Any:
    """Exact value → SymPy's str() (dict entries such as a layer summary keep their integers)."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: v if isinstance(v, (int, str, list)) and not isinstance(v, sympy.Basic) else exact_json(v)
                for k, v in x.items()}
    if isinstance(x, list):
        return [exact_json(v) for v in x]
    return exact_text(x)


def problem_json(solution: Any) -> dict[str, Any]:
    """One problem's entry: id, kind, answers {name: {value, exact[, approximate]}} (made once)."""
    if "json" not in solution.cache:
        solution.cache["json"] = _problem_json(solution)
    return solution.cache["json"]


def _problem_json(solution: Any) -> dict[str, Any]:
    answers = {}
    for a in solution.answer_list:
        entry = {"value": value_json(a.value), "exact": exact_json(a.value)}
        if a.approximate:
            entry["approximate"] = True
        answers[a.name] = entry
    return {"id": solution.problem.id, "kind": solution.problem.kind, "answers": answers}


def document_json(worksheet: Any, solutions: list) -> str:
    """The whole `<stem>.json` text (deterministic)."""
    doc = {"title": worksheet.title, "problems": [problem_json(s) for s in solutions]}
    return dumps(doc)


def dumps(doc: Any) -> str:
    """Strict RFC 8259 JSON (no NaN or Infinity), indented, UTF-8 kept."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
