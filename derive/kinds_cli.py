"""`derive kinds [--json]`: every installed kind, the distribution that provides it, its fields and answers."""
from __future__ import annotations

import json
from typing import Any

import sympy

from . import registry
from .values import to_float


def describe_kinds() -> list[dict[str, Any]]:
    """SPEC §9's listing: name, package, fields (name, required, default), answers."""
    out = []
    for name, entry in registry.entries().items():
        kind = registry.get(name)
        fields = [{"name": f, "required": spec.required, "default": default_json(spec.default)}
                  for f, spec in kind.fields.items()]
        out.append({"name": name, "package": entry.package, "summary": kind.summary, "fields": fields,
                    "answers": list(kind.answers), "slips": [{"name": s.name, "about": s.about} for s in kind.slips]})
    return out


def default_json(value: Any) -> Any:
    """A field's default as JSON: numbers as numbers, words as strings, nothing as null."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [default_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): default_json(v) for k, v in value.items()}
    if isinstance(value, sympy.Integer) or (isinstance(value, int) and not isinstance(value, bool)):
        return int(value)
    return to_float(value) if isinstance(value, (sympy.Basic, float)) else str(value)


def kinds_text(listing: list[dict[str, Any]]) -> str:
    """The listing for a person: one block per kind."""
    lines = []
    for k in listing:
        lines.append(f"{k['name']}  ({k['package']})" + (f": {k['summary']}" if k["summary"] else ""))
        shown = [f["name"] + ("*" if f["required"] else f"={json.dumps(f['default'])}" if f["default"] is not None
                              else "") for f in k["fields"]]
        lines.append("  fields: " + ", ".join(shown))
        lines.append("  answers: " + (", ".join(k["answers"]) or "none"))
        if k["slips"]:
            lines.append("  slips: " + "; ".join(f"{s['name']} ({s['about']})" for s in k["slips"]))
    lines.append("(* required)")
    return "\n".join(lines) + "\n"


def run(as_json: bool) -> int:
    """Print the listing; 0, or 2 when two distributions declare one kind."""
    listing = describe_kinds()
    if as_json:
        print(json.dumps({"kinds": listing}, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(kinds_text(listing), end="")
    return 0
