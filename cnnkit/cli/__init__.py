"""The ``cnnkit`` command line: a thin layer over the library.

Each command lives in its own module with two functions,
``add_arguments(parser)`` and ``run(args) -> int``. Commands are listed here
explicitly and imported only when invoked, so ``cnnkit filter`` never pays for
importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from cnnkit import __version__

__all__ = ["COMMANDS", "main"]

# name -> (module, one-line help). Order is the order shown in `cnnkit --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "filter": ("cnnkit.cli._filter", "apply a named or custom kernel to an image file"),
    "explain": ("cnnkit.cli._explain", "print the worked sums of a small convolution"),
    "summary": ("cnnkit.cli._summary", "explain a model's shapes, parameters and cost"),
    "train": ("cnnkit.cli._train", "train a model on a dataset and write its artifacts"),
    "evaluate": ("cnnkit.cli._evaluate", "evaluate a saved model on a dataset"),
    "predict": ("cnnkit.cli._predict", "classify image files with a saved model"),
    "finetune": ("cnnkit.cli._finetune", "fine-tune a pretrained zoo model on a folder of images"),
    "cam": ("cnnkit.cli._cam", "draw class activation maps of image files as a PNG"),
    "serve": ("cnnkit.cli._serve", "start the local web studio (127.0.0.1:8000)"),
    "compare": ("cnnkit.cli._compare", "the baselines a CNN must beat (kNN, forest, MLP)"),
    "bench": ("cnnkit.cli._bench", "time training and inference by device, precision, layout"),
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnkit",
        description="cnnkit: CNNs for image classification, every number explained.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\nRun `cnnkit COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"cnnkit {__version__}")
    parser.add_argument("command", choices=list(COMMANDS), metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cnnkit`` script; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    if not argv or argv[0].startswith("-"):
        top.parse_args(argv or ["--help"])
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        top.parse_args([name])  # argparse prints the valid choices and exits 2
    module_name, text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"cnnkit {name}", description=text)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        return int(module.run(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as err:
        # User errors get one clean line, not a traceback.
        print(f"cnnkit {name}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `cnnkit filter --list | head` closed our stdout early; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
