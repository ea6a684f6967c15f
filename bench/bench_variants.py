"""Time a batch of variants against one build of the same spec (SPEC §10's speed goal).

    python bench/bench_variants.py [--count 30] [--runs 3] [--spec SPEC] [--workers N] [--no-pdf]

Prints the median wall time of `derive build --questions` (key and question sheet, with PDFs unless --no-pdf)
and of `derive variants --count N` (N keys and N question sheets, the joined PDFs and index.csv), each in a
fresh process, then the seconds per variant and their ratio to the one build (goal: at most 0.5). The CPU time
(user + system of the command and everything it started: workers, TeX) is printed beside each, as a figure that
other work on a busy machine does not inflate.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], runs: int, fresh: Path) -> tuple[float, float]:
    """Median wall time and CPU time (the process and all it started: workers, TeX) of `cmd` over `runs` runs,
    each into an empty output folder."""
    walls, cpus = [], []
    for _ in range(runs):
        shutil.rmtree(fresh, ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


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
    try:
        timed(derive + ["build", args.spec, "--questions", "-o", str(work / "warm")], 1, work / "warm")  # TeX format
        one = timed(derive + ["build", args.spec, "--questions", "-o", str(work / "one"), *pdf], args.runs,
                    work / "one")
        batch_cmd = derive + ["variants", args.spec, "--count", str(args.count), "-o", str(work / "many"), *pdf]
        if args.workers:
            batch_cmd += ["--workers", str(args.workers)]
        batch = timed(batch_cmd, args.runs, work / "many")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (one, one_cpu), (batch, batch_cpu) = one, batch
    per, per_cpu = batch / args.count, batch_cpu / args.count
    what = "with PDFs" if not args.no_pdf else "--no-pdf"
    print(f"derive build --questions ({what})        wall {one:7.2f} s   CPU {one_cpu:7.2f} s")
    print(f"derive variants --count {args.count} ({what})    wall {batch:7.2f} s   CPU {batch_cpu:7.2f} s")
    print(f"per variant                                wall {per:7.2f} s   CPU {per_cpu:7.2f} s   "
          f"({per / one:.2f}× one build's wall time; goal ≤ 0.5×)")


if __name__ == "__main__":
    main()
