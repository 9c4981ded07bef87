"""``cnnkit compare --dataset mnist --out DIR``: the baselines a CNN must beat, in one table.

Runs ``cnnkit.baselines.compare`` and writes ``results.json``, ``results.md``
and ``accuracy_vs_predict_time.png`` into ``--out``; each row is printed as
soon as it is measured, the full table at the end.
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit compare``."""
    parser.add_argument(
        "--dataset",
        default="mnist",
        help="mnist (default), fashion_mnist, cifar10 or cifar10_subset",
    )
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated: knn-l1,knn-l2,forest,mlp,lenet5,cnn (default: all)",
    )
    parser.add_argument(
        "--no-normalize",
        dest="normalize",
        action="store_false",
        help="feed raw 0..255 pixels instead of standardised ones",
    )
    parser.add_argument("--train-size", type=int, default=None, help="first N training images")
    parser.add_argument("--test-size", type=int, default=None, help="first N test images")
    parser.add_argument("-k", type=int, default=3, help="neighbours of the kNN rows (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--out", required=True, help="folder for results.json/.md and the PNG")
    parser.add_argument("--verbose", type=int, default=0, help="fit's progress for the networks")


def run(args: argparse.Namespace) -> int:
    """Run the comparison, print each row and the table, write the report files."""
    from cnnkit.baselines import compare, print_table, write_report

    def announce(row: object) -> None:
        print(
            f"{row.model}: accuracy {row.accuracy * 100:.2f}%, fit {row.fit_seconds:.2f} s, "
            f"predict {row.predict_seconds_per_1000:.4f} s / 1,000 images",
            flush=True,
        )

    comparison = compare(
        args.dataset,
        args.models,
        normalize=args.normalize,
        train_size=args.train_size,
        test_size=args.test_size,
        k=args.k,
        seed=args.seed,
        device=args.device,
        verbose=args.verbose,
        on_row=announce,
    )
    print_table(comparison)
    for path in write_report(comparison, args.out):
        print(f"wrote {path}")
    return 0
