"""Speed of exact backprop: a 64→32→10 MLP on a batch of 8, 1-decimal inputs and weights, vs PyTorch float64.

    python bench/bench_mlp.py [--repeat 3] [--runs 5]

First the engine alone (mse, ReLU hidden layer): the exact forward+backward pass, the whole `derive.solve`
(worked steps, update and the independent NumPy check included), and PyTorch on the same numbers.

Then the goal of the issue "Speed to the limit": `derive build --no-pdf` of the same MLP with `cross_entropy`
and a ReLU hidden layer, and with a tanh hidden layer, each in fresh processes side by side with
`python -c "import sympy"` (medians of --runs). Goal: each build ≤ import sympy + 2 s on a 2-core machine.
Every answer of each build is checked against PyTorch autograd to 1e-9 (ReLU masks from the exact
pre-activations: one of them is exactly 0, which float64 misses).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOAL = 2.0          # seconds over `import sympy`


def problem(seed: int = 0, activation: str = "relu", loss: str = "mse") -> dict:
    """The benchmark network: inputs, targets and weights drawn once, each with one decimal (cross_entropy's
    classes are the largest drawn target of each row)."""
    rng = np.random.default_rng(seed)
    one = lambda shape: np.round(rng.uniform(-1, 1, size=shape), 1).tolist()  # noqa: E731
    x, t = one((8, 64)), one((8, 10))
    targets = [int(np.argmax(row)) for row in t] if loss == "cross_entropy" else t
    return {"id": "bench", "kind": "backprop", "inputs": x, "targets": targets,
            "layers": [{"weights": one((32, 64)), "bias": one(32), "activation": activation},
                       {"weights": one((10, 32)), "bias": one(10), "activation": "linear"}],
            "loss": loss, "learning_rate": 0.1}


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of `repeat` runs, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def kinks(spec: dict) -> list[tuple[int, int]]:
    """(sample, unit) where the exact hidden pre-activation is 0 (derive's exact forward pass)."""
    from derive.engine import as_problem
    from derive.kinds import _dense_exact as E, _layers as L
    p = as_problem(dict(spec))
    zs, _ = E.forward_pass(L.resolve(p, 64), E.rows(p.fields.inputs))
    return [(n, j) for n, row in enumerate(zs[0]) for j, v in enumerate(row) if v == 0]


def torch_step(spec: dict, exact_kinks: list[tuple[int, int]] | None) -> dict:
    """PyTorch float64: output, loss, gradients and the SGD step; ReLU′ = 0 at `exact_kinks` when given."""
    import torch
    import torch.nn.functional as TF
    x = torch.tensor(spec["inputs"], dtype=torch.float64)
    params = [(torch.tensor(layer["weights"], dtype=torch.float64, requires_grad=True),
               torch.tensor(layer["bias"], dtype=torch.float64, requires_grad=True)) for layer in spec["layers"]]
    z = TF.linear(x, *params[0])
    if spec["layers"][0]["activation"] == "tanh":
        h = torch.tanh(z)
    else:
        mask = (z > 0).double()
        for n, j in exact_kinks or []:
            mask[n, j] = 0.0
        h = z * mask
    out = TF.linear(h, *params[1])
    if spec["loss"] == "cross_entropy":
        value = TF.cross_entropy(out, torch.tensor(spec["targets"]))
    else:
        value = TF.mse_loss(out, torch.tensor(spec["targets"], dtype=torch.float64))
    value.backward()
    lr = spec["learning_rate"]
    return {"output": out.detach().numpy(), "loss": value.item(),
            "grad_weights": [w.grad.numpy() for w, _ in params], "grad_biases": [b.grad.numpy() for _, b in params],
            "updated_weights": [(w - lr * w.grad).detach().numpy() for w, _ in params],
            "updated_biases": [(b - lr * b.grad).detach().numpy() for _, b in params]}


def worst_gap(got: Any, want: Any) -> float:
    """The largest |got − want| / max(|want|, 1e-3) over an answer (nested lists against arrays)."""
    if isinstance(want, list):
        return max(worst_gap(g, w) for g, w in zip(got, want))
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float).reshape(np.shape(got))
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-3)))


def engine_bench(repeat: int) -> None:
    """The exact engine alone on the mse network, against PyTorch."""
    import derive
    from derive.engine import as_problem
    from derive.kinds import _backward as BW, _dense_exact as E, _layers as L, backprop as B
    from derive.verify import to_float

    spec = problem()
    p = as_problem(dict(spec))

    def engine() -> tuple:
        """The exact forward and backward pass alone."""
        x = E.rows(p.fields.inputs)
        layers = L.resolve(p, 64)
        zs, acts = E.forward_pass(layers, x)
        back = BW.backward(layers, x, zs, acts, B.target_rows(p), "mse", None)
        return E.to_sympy(back.grad_w), E.to_sympy(back.loss)

    t_engine, (grad_w, loss) = best(engine, repeat)
    t_solve, solution = best(lambda: derive.solve(dict(spec)), repeat)
    torch_step(spec, None)  # warm-up
    t_torch, plain = best(lambda: torch_step(spec, None), max(repeat, 20))
    at_kinks = torch_step(spec, kinks(spec))
    gap = worst_gap(to_float(grad_w), plain["grad_weights"])
    worst = worst_gap(to_float(grad_w), at_kinks["grad_weights"])
    assert abs(float(to_float(loss)) - at_kinks["loss"]) < 1e-12 and worst < 1e-12, "exact and PyTorch disagree"
    assert solution.answers["loss"] == loss
    print("64→32→10 MLP, batch 8, 1-decimal inputs and weights, mse loss, ReLU hidden layer")
    print(f"  exact forward+backward (derive engine): {t_engine * 1000:8.1f} ms")
    print(f"  derive.solve (steps, update, check):    {t_solve * 1000:8.1f} ms")
    print(f"  PyTorch float64 forward+backward:       {t_torch * 1000:8.3f} ms")
    print(f"  exact loss = {loss}; largest relative gap to PyTorch over the weight gradients {worst:.1e} with "
          f"ReLU′ taken at the exact kinks, {gap:.3g} without")


def run(args: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def check_build(json_path: Path, spec: dict) -> float:
    """The largest relative gap between a build's answers and PyTorch's (ReLU masks from the exact values)."""
    answers = json.loads(json_path.read_text())["problems"][0]["answers"]
    want = torch_step(spec, kinks(spec) if spec["layers"][0]["activation"] == "relu" else None)
    gaps = [worst_gap(answers[name]["value"], value) for name, value in want.items()]
    return max(gaps)


def build_bench(runs: int) -> None:
    """derive build --no-pdf of the cross-entropy MLP (ReLU, tanh) beside import sympy, medians of fresh runs."""
    import yaml
    with tempfile.TemporaryDirectory() as tmp:
        specs = {}
        for act in ("relu", "tanh"):
            spec = problem(activation=act, loss="cross_entropy")
            path = Path(tmp) / f"mlp_{act}.yaml"
            body = {"title": "MLP", "problems": [{k: v for k, v in spec.items()}]}
            path.write_text(yaml.safe_dump(body, default_flow_style=None, width=100000))
            specs[act] = (path, spec)
        times: dict[str, list[tuple[float, float]]] = {"sympy": [], "relu": [], "tanh": []}
        for _ in range(runs):
            times["sympy"].append(run(["-c", "import sympy"]))
            for act, (path, _) in specs.items():
                times[act].append(run(["-m", "derive.cli", "build", "--no-pdf", str(path), "-o", f"{tmp}/{act}"]))
        gaps = {act: check_build(Path(tmp) / act / f"mlp_{act}.json", spec) for act, (_, spec) in specs.items()}
    wall = {k: statistics.median(t for t, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(f"\nderive build --no-pdf, 64→32→10 MLP, batch 8, cross_entropy (medians of {runs} fresh processes; "
          f"wall clock, and CPU time user + system, which load from other processes changes less)")
    print(f"  python -c 'import sympy':      wall {wall['sympy']:5.2f} s   CPU {cpu['sympy']:5.2f} s")
    for act in ("relu", "tanh"):
        over = wall[act] - wall["sympy"]
        print(f"  {act} hidden layer:             wall {wall[act]:5.2f} s   CPU {cpu[act]:5.2f} s   "
              f"(+{over:.2f} s wall, +{cpu[act] - cpu['sympy']:.2f} s CPU over import sympy; goal +{GOAL:.0f} s: "
              f"{'within' if over <= GOAL else 'OVER'}); every answer within {gaps[act]:.1e} of PyTorch autograd")
        assert gaps[act] < 1e-9, f"{act}: the build disagrees with PyTorch ({gaps[act]:.2e})"


def main() -> None:
    """Both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="in-process repetitions of the engine timings")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per build timing")
    args = parser.parse_args()
    engine_bench(args.repeat)
    build_bench(args.runs)


if __name__ == "__main__":
    main()
