"""Train a task of cnnkit.tasks to its goal and record the figures (issue 14).

Runs ``cnnkit.tasks.train_task`` (the same function as ``cnnkit train --task``),
scores the model on a seeded test set of unseen canvases (>= 1,000), saves it
with ``model.save``, loads it back with ``cnnkit.models.load_model`` and checks
that the loaded model scores the same, and draws the task's plots.

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/tasks.py --task localize \
        --out /tmp/tasks_runs/localize

Goals (issue 14): localize class accuracy >= 0.98 and mean IoU >= 0.85; detect
mAP@0.5 >= 0.90 (MNIST); segment / segment_fcn mean IoU >= 0.85 over 11
classes; siamese* one-shot 5-way unseen >= 0.90 and 10-way >= 0.85.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from cnnkit.models import load_model
from cnnkit.tasks import TASKS, plot_task, train_task

GOALS = {
    "localize": {"class_accuracy": 0.98, "mean_iou": 0.85},
    "detect": {"map_50": 0.90},
    "segment": {"mean_iou": 0.85},
    "segment_fcn": {"mean_iou": 0.85},
    "siamese": {"one_shot_5way_unseen": 0.90, "one_shot_10way_all": 0.85},
    "siamese_contrastive": {"one_shot_5way_unseen": 0.90, "one_shot_10way_all": 0.85},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), required=True)
    parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default="mnist")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-canvases", type=int, default=None)
    parser.add_argument("--test-canvases", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    siamese = TASKS[args.task].targets is None
    n_test = args.test_canvases or (10_000 if siamese else 1000)
    load_before = os.getloadavg()[0]
    model, history, metrics, test = train_task(
        args.task,
        args.dataset,
        epochs=args.epochs,
        train_canvases=args.train_canvases,
        test_canvases=n_test,
        seed=args.seed,
        verbose=2,
    )
    path = args.out / f"{args.task}.cnnkit"
    model.save(path)
    again = TASKS[args.task].evaluate(load_model(path), test)
    key = next(iter(GOALS[args.task]))
    metrics["reloaded_" + key] = again[key]
    metrics["goals"] = {k: [metrics[k], v, metrics[k] >= v] for k, v in GOALS[args.task].items()}
    metrics["load_average"] = [load_before, os.getloadavg()[0]]
    metrics["cpu"] = platform.processor() or platform.machine()
    metrics["history"] = history.history
    metrics["plots"] = [str(p) for p in plot_task(args.task, model, test, args.out)]
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    shown = {k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}
    print(json.dumps(shown, indent=2, default=float))
    for name, (value, goal, met) in metrics["goals"].items():
        print(f"goal {name} >= {goal}: {value:.4f} {'MET' if met else 'NOT MET'}")
    print(time.strftime("%H:%M:%S UTC", time.gmtime()))


if __name__ == "__main__":
    main()
