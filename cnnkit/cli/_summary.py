"""``cnnkit summary``: explain a saved model or a zoo model (shapes, parameters, cost)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cnnkit._errors import invalid_value

__all__ = ["add_arguments", "parse_input_shape", "run"]

FORMATS = ("table", "json", "markdown")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit summary``."""
    parser.add_argument(
        "model", help="a model file written by model.save() (.cnnkit) or a zoo name (resnet50)"
    )
    parser.add_argument(
        "--formulas", action="store_true", help="add each layer's parameter and output-size sums"
    )
    parser.add_argument(
        "--cost",
        action="store_true",
        help="add MACs, activation memory, parameter memory and a training-memory estimate",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    parser.add_argument(
        "--input-shape",
        metavar="H,W,C",
        help="input shape for a zoo model, e.g. 224,224,3 (default: the model's own)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="batch size of the training-memory estimate"
    )
    parser.add_argument(
        "--optimizer", default="adam", help="optimizer of the training-memory estimate (adam)"
    )


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``"224,224,3"`` -> ``(224, 224, 3)``; raises a ValueError naming the option."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if not shape or any(d < 1 for d in shape):
        raise invalid_value(
            "--input-shape must be positive integers separated by commas.",
            expected="e.g. 224,224,3",
            received={"input_shape": text},
        )
    return shape


def _load(name: str, input_shape: tuple[int, ...] | None) -> Any:
    path = Path(name)
    if path.suffix == ".cnnkit" or path.exists():
        if input_shape is not None:
            raise invalid_value(
                "--input-shape applies to zoo models only; a saved model keeps its own.",
                received={"model": name, "input_shape": input_shape},
            )
        from cnnkit.models import load_model

        return load_model(path, compile=False)
    from cnnkit.applications import get_model  # the zoo is imported only when asked for

    kwargs = {} if input_shape is None else {"input_shape": input_shape}
    return get_model(name, **kwargs)


def run(args: argparse.Namespace) -> int:
    """Print the summary of the model in the chosen format."""
    shape = parse_input_shape(args.input_shape) if args.input_shape else None
    model = _load(args.model, shape)
    summary = model.summary(
        formulas=args.formulas,
        cost=args.cost,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        show=args.format == "table",
    )
    if args.format == "json":
        print(summary.to_json())
    elif args.format == "markdown":
        print(summary.to_markdown())
    return 0
