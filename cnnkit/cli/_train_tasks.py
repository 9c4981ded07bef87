"""``cnnkit train --task ...``: localisation, detection, segmentation and Siamese nets.

    cnnkit train --task detect --dataset mnist-canvas --out runs/detect

trains the task's recipe (``cnnkit.tasks.TASKS``) on seeded canvases and
writes what classification writes: ``model.cnnkit``, ``history.csv``,
``metrics.json`` (the task's scores on a seeded 1,000-canvas test set) and
``curves.png``, plus the task's plots (``boxes.png``, ``masks.png``, or
``tsne.png`` and ``pairs.png``). ``--limit N`` (quick trials) trains on N
canvases and tests on at most N.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cnnkit._errors import unknown_name
from cnnkit._io import atomic_write
from cnnkit.callbacks import CSVLogger
from cnnkit.tasks import TASKS, plot_task, train_task

__all__ = ["DATASETS", "run_task"]

#: ``--dataset`` names of the canvas tasks -> the source dataset of the canvases.
DATASETS = {
    "mnist-canvas": "mnist",
    "fashion-mnist-canvas": "fashion_mnist",
    "mnist": "mnist",
    "fashion_mnist": "fashion_mnist",
}


def run_task(args: argparse.Namespace) -> int:
    """Train ``args.task`` on ``args.dataset``, write the artifacts, print the scores."""
    if args.task not in TASKS:
        raise unknown_name("task", args.task, ["classify", *TASKS], argument="task")
    if args.dataset not in DATASETS:
        raise unknown_name(
            f"dataset for --task {args.task}", args.dataset, DATASETS, argument="dataset"
        )
    out = Path(args.out or f"runs/{args.task}-{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)
    model, history, metrics, test = train_task(
        args.task,
        DATASETS[args.dataset],
        epochs=args.epochs,
        train_canvases=args.limit,
        test_canvases=1000 if args.limit is None else min(args.limit, 1000),
        learning_rate=args.lr,
        seed=args.seed,
        verbose=args.verbose,
        callbacks=[CSVLogger(out / "history.csv")],
    )
    model.save(out / "model.cnnkit")
    metrics |= {"epochs": len(history.epoch), "seed": args.seed, "params": model.count_params()}
    text = json.dumps(metrics, indent=2, default=float) + "\n"
    atomic_write(out / "metrics.json", lambda tmp: Path(tmp).write_text(text))
    written = ["model.cnnkit", "history.csv", "metrics.json"]
    try:
        from cnnkit.viz import plot_history

        plot_history(history, out / "curves.png", title=f"{args.task} on {args.dataset}")
        written += ["curves.png", *(p.name for p in plot_task(args.task, model, test, out))]
    except ImportError:  # matplotlib / scikit-learn are the optional `viz` extra
        print("plots skipped: install the viz extra (pip install 'cnnkit[viz]')")
    print(f"wrote {out}/: {', '.join(written)}")
    for key, value in metrics.items():
        if isinstance(value, float) and key != "train_seconds":
            print(f"{key}: {value:.4f}")
    return 0
