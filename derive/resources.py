"""Where the templates and the bundled worksheet live: inside the wheel, or at the top of a source checkout."""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resource(name: str) -> Path:
    """`templates` or `problems/worksheet.yaml`: the installed copy, else the checkout's."""
    for base in (PACKAGE, PACKAGE.parent):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"derive is missing its {name} (a broken install?)")
