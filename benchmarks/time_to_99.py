"""time_to_99: ``cnnkit train`` with the default MNIST recipe, against the same work by hand.

Goal (issue #4): at least 99.0% MNIST test accuracy (median of 3 seeds) in at most 15 s of
wall time on a 2-core CPU, data loading included.

For every seed this runs, in one process and in alternating order (so neither side always
gets the warm caches):

* ``cnnkit train --dataset mnist --seed N`` through ``cnnkit.cli.main`` (the default recipe of
  ``cnnkit.applications._recipes``): load and verify the data, build, train, evaluate on the test
  set, write ``model.cnnkit``, ``history.csv``, ``metrics.json`` and ``curves.png``;
* the same recipe hand-written in plain PyTorch (``_mnist_research.run`` with its default
  ``Config``): same network, optimizer, schedule, batch size, epochs and arithmetic; it only
  trains and tests, and writes nothing.

Wall time is ``time.perf_counter`` around each run (process start and imports of the
benchmark excluded; cnnkit's own lazy imports included). CPU time (``time.process_time``)
and the 1-minute load average are printed too: on a shared machine they tell a slow run
from a busy machine.

Usage::

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/time_to_99.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _mnist_research import Config, run

from cnnkit.applications import default_recipe
from cnnkit.cli import main as cnnkit_main
from cnnkit.training._engine import fast_precision

GOAL_ACCURACY, GOAL_SECONDS = 0.990, 15.0
Result = tuple[float, float, float]  # accuracy, wall seconds, CPU seconds


def _find_data() -> None:
    # Like tests/conftest.py: default CNNKIT_DATA to ../shared/data beside the repository.
    if not os.environ.get("CNNKIT_DATA"):
        shared = Path(__file__).resolve().parents[2] / "shared" / "data"
        if shared.is_dir():
            os.environ["CNNKIT_DATA"] = str(shared)


def run_cnnkit(seed: int) -> Result:
    """``cnnkit train --dataset mnist --seed SEED`` in-process; accuracy from metrics.json."""
    with tempfile.TemporaryDirectory() as out:
        argv = ["train", "--dataset", "mnist", "--seed", str(seed), "--out", out]
        argv += ["--verbose", "0"]
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cnnkit_main(argv)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if code != 0:
            raise SystemExit(f"cnnkit train exited with {code}")
        accuracy = json.loads((Path(out) / "metrics.json").read_text())["test_accuracy"]
    return float(accuracy), wall, cpu


def run_torch(seed: int) -> Result:
    """The hand-written PyTorch loop with the recipe's settings."""
    accuracy, wall, cpu, _ = run(Config(bf16=fast_precision() == "bf16"), seed)
    return accuracy, wall, cpu


def _line(name: str, r: Result) -> str:
    return f"{name}: acc {r[0]:.4f}  wall {r[1]:6.2f} s  cpu {r[2]:6.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description="time to 99% MNIST test accuracy")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-torch", action="store_true", help="skip the hand-written loop")
    args = parser.parse_args()
    _find_data()
    print(f"recipe: {default_recipe('mnist').description}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {_load()}")
    runners: list[tuple[str, Callable[[int], Result]]] = [("cnnkit", run_cnnkit)]
    if not args.no_torch:
        runners.append(("torch ", run_torch))
    results: dict[str, list[Result]] = {name: [] for name, _ in runners}
    for i, seed in enumerate(args.seeds):
        order = runners if i % 2 == 0 else runners[::-1]
        for name, runner in order:
            results[name].append(runner(seed))
            print(f"seed {seed}  {_line(name, results[name][-1])}  load {_load()}", flush=True)
    # Each column's own median: accuracy and wall time need not come from the same seed.
    medians = {name: _medians(rs) for name, rs in results.items()}
    for name, med in medians.items():
        print(f"median  {_line(name, med)}")
    if "torch " in medians:
        ratio = medians["cnnkit"][1] / medians["torch "][1]
        print(f"wall-time ratio cnnkit / hand-written torch (medians): {ratio:.2f}")
    acc, wall = medians["cnnkit"][0], medians["cnnkit"][1]
    met = acc >= GOAL_ACCURACY and wall <= GOAL_SECONDS
    print(
        f"goal (median acc >= {GOAL_ACCURACY:.3f} in <= {GOAL_SECONDS:.0f} s): "
        f"{'MET' if met else 'NOT MET'} (acc {acc:.4f}, {wall:.2f} s)"
    )


def _medians(results: list[Result]) -> Result:
    acc, wall, cpu = (statistics.median(col) for col in zip(*results, strict=True))
    return acc, wall, cpu


def _load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


if __name__ == "__main__":
    main()
