"""Time the worksheet's build and check against their floors, side by side (issue 19's goals).

    python bench/bench_build.py [--runs N]

Every command is a fresh process, as a user runs it; the rounds interleave (each round runs every command once),
so a change in the machine's load touches every row alike; each figure is the median of N rounds, wall clock.
Floors: `python -c "import sympy"`, latexmk alone on the very .tex derive wrote (a fresh folder each time, so it
makes its usual two passes), one plain pdflatex pass over the marked copy. The seed student is the answers file
of the README's `derive check` example.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKSHEET = ROOT / "problems" / "worksheet.yaml"
SEED_STUDENT = """q1:
  probabilities: [0.66, 0.24, 0.0099]
q4:
  params: 20
q5:
  variance: 8
  output: [-2, -1.5, -1, -0.5, 0]
q9:
  direct.multiplications: 43352064
  bottleneck.multiplications: 3612672
"""
DERIVE = [sys.executable, "-m", "derive.cli"]


def fresh_copy(source: Path, folder: Path) -> Path:
    """`source` alone in an emptied `folder`."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Path(shutil.copy(source, folder / source.name))


def commands(work: Path) -> dict[str, tuple[list[str], Path]]:
    """Each row: its command and the folder it runs in (prepared by `prepare`)."""
    return {
        "python -c 'import sympy'": ([sys.executable, "-c", "import sympy"], work),
        "derive build --no-pdf": (DERIVE + ["build", "--no-pdf", "-o", "n"], work),
        "derive build (with PDF)": (DERIVE + ["build", "-o", "b"], work),
        "derive build --questions": (DERIVE + ["build", "--questions", "-o", "q"], work),
        "latexmk alone (worksheet.tex)": (["latexmk", "-pdf", "-quiet", "worksheet.tex"], work / "lm"),
        "derive check (seed student)": (DERIVE + ["check", str(WORKSHEET), "answers.yaml"], work),
        "derive check --pdf": (DERIVE + ["check", str(WORKSHEET), "answers.yaml", "--pdf", "-o", "m"], work),
        "pdflatex, one pass (marked copy)": (["pdflatex", "-interaction=nonstopmode", "answers-marked.tex"],
                                             work / "pass"),
    }


def prepare(work: Path) -> tuple[Path, Path]:
    """The seed student's answers, and the .tex files the floors run on (written by derive itself)."""
    (work / "answers.yaml").write_text(SEED_STUDENT, encoding="utf-8")
    subprocess.run(DERIVE + ["build", "--no-pdf", "-o", "gen"], cwd=work, check=True, capture_output=True)
    subprocess.run(DERIVE + ["check", str(WORKSHEET), "answers.yaml", "--pdf", "-o", "gen"], cwd=work,
                   capture_output=True)
    return work / "gen" / "worksheet.tex", work / "gen" / "answers-marked.tex"


def timed(cmd: list[str], cwd: Path) -> float:
    """Wall time of one run (exit 0, or 1 for a check with wrong answers)."""
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed


def bytecode_note() -> str:
    """Whether derive's modules start from cached bytecode (this machine sets PYTHONDONTWRITEBYTECODE=1)."""
    cached = (ROOT / "derive" / "__pycache__").is_dir()
    env = "PYTHONDONTWRITEBYTECODE=1" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "bytecode written"
    return f"derive's bytecode: {'cached' if cached else 'compiled at every start'} ({env})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="derive-bench-"))
    key, marked = prepare(work)
    rows = commands(work)
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(runs):
        for name, (cmd, cwd) in rows.items():
            fresh_copy(key, work / "lm")
            fresh_copy(marked, work / "pass")
            times[name].append(timed(cmd, cwd))
    t = {name: statistics.median(values) for name, values in times.items()}
    print(f"median of {runs} interleaved rounds; {bytecode_note()}")
    for name, value in t.items():
        print(f"{name:36s} {value:6.2f} s")
    pass_and_check = t["derive check (seed student)"] + t["pdflatex, one pass (marked copy)"]
    print(f"{'--no-pdf − import sympy':36s} {t['derive build --no-pdf'] - t[next(iter(t))]:+6.2f} s  (goal <= +0.5 s)")
    print(f"{'build with PDF / latexmk alone':36s} "
          f"{t['derive build (with PDF)'] / t['latexmk alone (worksheet.tex)']:6.2f}    (goal <= 0.70)")
    print(f"{'--questions / without':36s} "
          f"{t['derive build --questions'] / t['derive build (with PDF)']:6.2f}    (goal <= 1.20)")
    print(f"{'check --pdf / (check + one pass)':36s} {t['derive check --pdf'] / pass_and_check:6.2f}    "
          "(goal <= 1.20)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
