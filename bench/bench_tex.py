"""Time derive's TeX step against latexmk alone, side by side (medians of N runs, wall clock).

    python bench/bench_tex.py [--runs N]

Rows: latexmk alone on the worksheet's .tex; derive's PDF step (compile_all in this process, warm format
cache); the whole `derive build` with PDF and with `--questions` (fresh processes, as a user waits); the
format dump itself (cold cache). Goals: whole build <= 0.7 x latexmk alone; --questions <= 1.2 x without.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derive import texformat  # noqa: E402
from derive.pdf import compile_all  # noqa: E402

DERIVE = [sys.executable, "-m", "derive.cli"]


def median_time(step: Callable[[int], object], runs: int) -> tuple[float, float]:
    """Median wall time of `step(i)` over `runs` runs, and the median CPU time of the processes it ran."""
    walls, cpus = [], []
    for i in range(runs):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        step(i)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def run(cmd: list[str], cwd: Path) -> None:
    """Run a command quietly; fail loudly."""
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fresh(folder: Path, files: list[Path]) -> list[Path]:
    """An empty `folder` holding copies of `files`."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return [Path(shutil.copy(f, folder / f.name)) for f in files]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="derive-bench-tex-"))
    run(DERIVE + ["build", "--no-pdf", "--questions", "-o", str(work / "gen")], work)
    key, sheet = work / "gen" / "worksheet.tex", work / "gen" / "worksheet-questions.tex"
    rows: list[tuple[str, tuple[float, float]]] = []
    if shutil.which("latexmk"):
        def latexmk(_: int) -> None:
            fresh(work / "lm", [key])
            run(["latexmk", "-pdf", "-quiet", "worksheet.tex"], work / "lm")
        rows.append(("latexmk alone (worksheet.tex)", median_time(latexmk, runs)))
    compile_all(fresh(work / "warm", [key]))                     # the format is dumped here if missing
    rows.append(("derive PDF step (worksheet.tex)", median_time(lambda _: compile_all(fresh(work / "p", [key])), runs)))
    rows.append(("derive PDF step (key + questions)",
                 median_time(lambda _: compile_all(fresh(work / "q", [key, sheet])), runs)))
    rows.append(("derive build --no-pdf", median_time(lambda i: run(DERIVE + ["build", "--no-pdf", "-o",
                                                                            f"n{i}"], work), runs)))
    rows.append(("derive build (with PDF)", median_time(lambda i: run(DERIVE + ["build", "-o", f"b{i}"], work), runs)))
    rows.append(("derive build --questions", median_time(lambda i: run(DERIVE + ["build", "--questions", "-o",
                                                                               f"c{i}"], work), runs)))
    cold = work / "cache"
    os.environ["XDG_CACHE_HOME"] = str(cold)
    rows.append(("format dump + PDF step (cold cache)",
                 median_time(lambda _: (shutil.rmtree(cold, ignore_errors=True),
                                        compile_all(fresh(work / "d", [key]))), max(1, runs // 2))))
    assert texformat.cache_dir() == cold / "derive"
    print(f"{'median of ' + str(runs) + ' runs':40s} {'wall':>8s} {'CPU':>8s}   (CPU: the processes it ran)")
    for name, (wall, cpu) in rows:
        print(f"{name:40s} {wall:6.2f} s {cpu:6.2f} s")
    table = dict(rows)
    whole, questions = table["derive build (with PDF)"], table["derive build --questions"]
    if "latexmk alone (worksheet.tex)" in table:
        alone = table["latexmk alone (worksheet.tex)"]
        print(f"{'whole build / latexmk alone':40s} {whole[0] / alone[0]:6.2f}   {whole[1] / alone[1]:6.2f}"
              "     (goal <= 0.70)")
    print(f"{'--questions / without':40s} {questions[0] / whole[0]:6.2f}   {questions[1] / whole[1]:6.2f}"
          "     (goal <= 1.20)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
