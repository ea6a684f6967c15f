"""Time `derive check` on a class: 200 answer files of the bundled worksheet with a mix of slips, one process.

    python bench/bench_check.py [--files 200] [--runs 3]

Prints the median wall time of the whole class, seconds per file, and one file alone as a process for scale.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKSHEET = ROOT / "problems" / "worksheet.yaml"
CHOICES = [  # per problem: a right answer and slips
    ["q1:\n  probabilities: [0.659, 0.242, 0.0986]\n", "q1:\n  probabilities: [0.0659, 0.0242, 0.00986]\n",
     "q1:\n  probabilities: [0.557, 0.279, 0.164]\n"],
    ["q5:\n  mean: 6\n  variance: 8\n  normalized: [-1.414, -0.7071, 0, 0.7071, 1.414]\n",
     "q5:\n  mean: 6\n  variance: 10\n  normalized: [-1.265, -0.6325, 0, 0.6325, 1.265]\n",
     "q5:\n  mean: 6\n  variance: 8\n  output: [-2, -1.5, -1, -0.5, 0]\n"],
    ["q4:\n  params: 26\n", "q4:\n  params: 20\n", "q4:\n  params: 260\n"],
    ["q9:\n  direct.params: 43352064\n", "q9:\n  direct.params: 43352000\n", ""],
]


def write_class(folder: Path, files: int) -> None:
    """`files` answer files, each answering every problem with one right answer or slip chosen at random."""
    rng = random.Random(7)
    for i in range(files):
        (folder / f"s{i:03d}.yaml").write_text("".join(rng.choice(c) for c in CHOICES) or "q4:\n  params: 26\n")


def timed(cmd: list[str], runs: int) -> float:
    """Median wall time of `cmd` over `runs` runs (exit 0 or 1: some answers are wrong)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        assert result.returncode in (0, 1), cmd
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="derive-class-"))
    write_class(folder, args.files)
    derive = [sys.executable, "-m", "derive.cli", "check", str(WORKSHEET)]
    one = timed(derive + [str(folder / "s000.yaml")], args.runs)
    whole = timed(derive + [str(folder), "--csv", str(folder / "class.csv")], args.runs)
    print(f"one answers file, one process            {one:6.2f} s")
    print(f"{args.files} answer files, one derive check     {whole:6.2f} s   ({whole / args.files:.3f} s a file; "
          f"goal 30 s)")


if __name__ == "__main__":
    main()
