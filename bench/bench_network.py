"""Speed of kind `network` on 1,000-layer networks: `derive build --no-pdf` in-process, median of 5 runs.

    python bench/bench_network.py [--repeat 5]

Two networks, each about 1,000 layers counted as SPEC §6 counts them (a block and every layer inside it):
- resnet: a deep bottleneck ResNet (stem, 110 residual blocks of conv → batch norm → ReLU, four projection
  shortcuts, head), where the repeated blocks are each said in one line;
- distinct: 1,000 layers no two alike (dense layers of growing widths with batch norm and activations), every
  one worked out in full.
Each build reads the YAML, checks it, solves it exactly, recomputes it in float64, and writes the .tex and .json.
The target (SPEC §14 brief) is under 2 s per build.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def cbr(f: int, k: int, s: int = 1, p: int = 0, act: bool = True) -> list[dict]:
    """conv (no bias) → batch norm → ReLU."""
    return [{"conv": f, "kernel": k, "stride": s, "padding": p, "bias": False}, {"batchnorm": True}] + \
        ([{"activation": "relu"}] if act else [])


def resnet(stages: tuple[int, ...] = (27, 27, 27, 29)) -> list[dict]:
    """A bottleneck ResNet on 64×64 inputs: each block 1 + 8 layers, a projection block 1 + 10."""
    layers = cbr(64, 7, 2, 3) + [{"maxpool": 3, "stride": 2, "padding": 1}]
    cin = 64
    for i, n in enumerate(stages):
        w = 16 * 2 ** i
        for b in range(n):
            stride = 2 if i and not b else 1
            block = {"name": f"stage{i + 1}", "residual": cbr(w, 1) + cbr(w, 3, stride, 1) + cbr(4 * w, 1, act=False),
                     "activation": "relu"}
            if stride != 1 or cin != 4 * w:
                block["shortcut"] = cbr(4 * w, 1, stride, act=False)
            layers.append(block)
            cin = 4 * w
    return layers + [{"globalavgpool": True}, {"flatten": True}, {"dense": 10}]


def distinct(n: int = 1000) -> list[dict]:
    """n layers, no two alike: dense layers of growing widths, each followed by batch norm or an activation."""
    layers = []
    for i in range(n // 2):
        layers += [{"dense": 8 + i}, {"batchnorm": True} if i % 2 else {"activation": "tanh"}]
    return layers


def count(layers: list[dict]) -> int:
    """Layers as SPEC §6 counts them: every block and every layer inside."""
    total = 0
    for layer in layers:
        total += 1
        for key in ("residual", "shortcut"):
            total += count(layer.get(key) or [])
    return total


def spec(name: str, input_shape: list[int], layers: list[dict]) -> str:
    """A one-problem spec file's text."""
    return yaml.safe_dump({"title": name, "problems": [{"id": name, "kind": "network", "input": input_shape,
                                                        "layers": layers}]}, default_flow_style=None)


def build_time(text: str, repeat: int) -> float:
    """Median seconds of `derive build SPEC --no-pdf` in-process."""
    from derive.cli import main
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.yaml"
        path.write_text(text, encoding="utf-8")
        for i in range(repeat):
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                code = main(["build", str(path), "--no-pdf", "-o", str(Path(tmp) / f"out{i}")])
            times.append(time.perf_counter() - start)
            assert code == 0, f"build failed with exit status {code}"
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    import derive  # noqa: F401  (imports outside the timing)
    for name, shape, layers in (("resnet", [64, 64, 3], resnet()), ("distinct", [16], distinct())):
        seconds = build_time(spec(name, shape, layers), repeat)
        print(f"{name:9s} {count(layers):5d} layers: {seconds:.3f} s per build (median of {repeat}, no PDF)")


if __name__ == "__main__":
    main()
