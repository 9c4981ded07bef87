"""``cnnkit bench --model resnet18 --device cpu,cuda --precision fp32,bf16``: images per second.

Prints one line per configuration as it finishes (or why it was skipped),
then the table; ``--json FILE`` also writes the rows with what they ran on.
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit bench``."""
    parser.add_argument("--model", default="lenet5", help="a zoo name (default lenet5)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cpu,cuda (default cpu)")
    parser.add_argument("--precision", default="fp32", help="comma-separated fp32,bf16,fp16")
    parser.add_argument(
        "--channels-last", action="store_true", help="also run in channels_last memory format"
    )
    parser.add_argument("--compile", action="store_true", help="also run through torch.compile")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per figure")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before each figure")
    parser.add_argument("--image-size", type=int, default=None, help="square input side")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")


def run(args: argparse.Namespace) -> int:
    """Run the configurations, print each and the table, optionally write JSON."""
    from cnnkit.bench import bench, bench_meta, print_bench, write_bench

    def announce(row: object) -> None:
        if row.status == "skipped":
            print(f"{row.device} {row.precision}: skipped: {row.note}", flush=True)
            return
        print(
            f"{row.device} {row.precision} {row.layout}{' compiled' if row.compiled else ''}: "
            f"train {row.train_images_per_s:,.1f} img/s, infer {row.infer_images_per_s:,.1f} img/s"
            + (f" ({row.note})" if row.note else ""),
            flush=True,
        )

    settings = {
        "model": args.model,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "warmup": args.warmup,
        "image_size": args.image_size,
    }
    rows = bench(
        args.model,
        devices=args.device,
        precisions=args.precision,
        channels_last=args.channels_last,
        compile=args.compile,
        batch_size=args.batch_size,
        steps=args.steps,
        warmup=args.warmup,
        image_size=args.image_size,
        on_row=announce,
    )
    print_bench(rows, title=f"cnnkit bench: {args.model}, batch {args.batch_size}")
    if args.json:
        print(f"wrote {write_bench(rows, args.json, bench_meta(**settings))}")
    return 0
