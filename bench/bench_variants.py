"""Time a batch of variants against one build of the same spec (SPEC §10's speed goal).

    python bench/bench_variants.py [--count 30] [--runs 3] [--spec SPEC] [--workers N] [--no-pdf]

Runs `derive build --questions` (one key and one question sheet, with PDFs unless --no-pdf) and `derive variants
--count N` (N keys and N sheets, the joined PDFs and index.csv) in turn, each in a fresh process, so that both meet
the same load on a shared machine; prints their median wall and CPU times (user + system of the command and all it
started: workers, TeX), the seconds per variant and their ratio to the one build (goal: at most 0.5), and the CPU
per variant spread over the cores against the build's CPU: the ratio an otherwise idle machine would show.
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

ROOT = Path(__file__).resolve().parents[1]


def timed_once(cmd: list[str], fresh: Path) -> tuple[float, float]:
    """Wall time and CPU time (the process and all it started: workers, TeX) of one run into an empty folder."""
    shutil.rmtree(fresh, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def interleaved(one: list[str], many: list[str], work: Path, runs: int) -> tuple[list, list]:
    """Run the single build and the batch in turn, `runs` times each, so that both meet the same load."""
    ones, manys = [], []
    for _ in range(runs):
        ones.append(timed_once(one, work / "one"))
        manys.append(timed_once(many, work / "many"))
    return ones, manys


def median(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall and median CPU."""
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--spec", default=str(ROOT / "problems" / "worksheet.yaml"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="derive-bench-variants-"))
    derive = [sys.executable, "-m", "derive.cli"]
    pdf = [] if not args.no_pdf else ["--no-pdf"]
    one_cmd = derive + ["build", args.spec, "--questions", "-o", str(work / "one"), *pdf]
    batch_cmd = derive + ["variants", args.spec, "--count", str(args.count), "-o", str(work / "many"), *pdf]
    if args.workers:
        batch_cmd += ["--workers", str(args.workers)]
    try:
        timed_once(derive + ["build", args.spec, "--questions", "-o", str(work / "warm")], work / "warm")  # TeX format
        ones, manys = interleaved(one_cmd, batch_cmd, work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    one, batch = median(ones), median(manys)
    (one, one_cpu), (batch, batch_cpu) = one, batch
    per, per_cpu = batch / args.count, batch_cpu / args.count
    what = "with PDFs" if not args.no_pdf else "--no-pdf"
    print(f"derive build --questions ({what})        wall {one:7.2f} s   CPU {one_cpu:7.2f} s")
    print(f"derive variants --count {args.count} ({what})    wall {batch:7.2f} s   CPU {batch_cpu:7.2f} s")
    print(f"per variant                                wall {per:7.2f} s   CPU {per_cpu:7.2f} s   "
          f"({per / one:.2f}× one build's wall time; goal ≤ 0.5×)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    print(f"CPU per variant / {cores} cores                  {per_cpu / cores:7.2f} s   ({per_cpu / cores / one_cpu:.2f}× "
          "one build's CPU: the ratio on an otherwise idle machine, where the build's wall ≈ its CPU)")


if __name__ == "__main__":
    main()
