"""Time the default build against its floor: `import sympy` for the derivation, latexmk alone for the PDF.

    python bench/bench_build.py [--runs N]

Each figure is the median of N runs of a fresh process (what a user waits for).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], cwd: Path, runs: int) -> float:
    """Median wall time of `cmd` over `runs` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="derive-bench-"))
    derive = [sys.executable, "-m", "derive.cli"]
    sympy_import = timed([sys.executable, "-c", "import sympy"], work, runs)
    no_pdf = timed(derive + ["build", "--no-pdf", "-o", str(work / "a")], work, runs)
    print(f"python -c 'import sympy'                 {sympy_import:6.2f} s")
    print(f"derive build --no-pdf (worksheet)        {no_pdf:6.2f} s   (+{no_pdf - sympy_import:.2f} s over "
          "importing sympy)")
    if shutil.which("latexmk"):
        full = timed(derive + ["build", "-o", str(work / "b")], work, runs)
        tex = work / "alone"
        tex.mkdir()
        shutil.copy(work / "a" / "worksheet.tex", tex / "worksheet.tex")
        alone = []
        for _ in range(runs):
            for f in tex.iterdir():
                if f.name != "worksheet.tex":
                    f.unlink()
            start = time.perf_counter()
            subprocess.run(["latexmk", "-pdf", "-quiet", "worksheet.tex"], cwd=tex, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            alone.append(time.perf_counter() - start)
        latexmk = statistics.median(alone)
        pdf_part = full - no_pdf
        print(f"derive build (with PDF)                  {full:6.2f} s")
        print(f"latexmk alone on the same .tex           {latexmk:6.2f} s")
        print(f"PDF step inside derive (full − no-pdf)   {pdf_part:6.2f} s   ({(pdf_part / latexmk - 1) * 100:+.0f}% "
              "over latexmk alone)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
