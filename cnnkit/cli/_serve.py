"""``cnnkit serve [MODEL_OR_RUN_DIR ...]``: the local web studio.

    cnnkit serve                      # a LeNet-5 trained on MNIST the first time, then cached
    cnnkit serve runs/lenet5-mnist    # a run folder written by `cnnkit train`
    cnnkit serve a.cnnkit b.cnnkit --port 8080
    cnnkit serve --default-limit 2000 --default-epochs 1   # a quick, rougher default

The default model is trained once with exactly what ``cnnkit train --model
lenet5 --dataset mnist`` does and kept in the cache (``$CNNKIT_HOME`` or the
platformdirs user cache, ``serve/lenet5-mnist``); the next start loads it
without training. The server binds 127.0.0.1
unless ``--host`` says otherwise; only the models named here can be served.
"""

from __future__ import annotations

import argparse
import os
import shutil
import uuid
from pathlib import Path

from cnnkit._errors import invalid_value

__all__ = ["DEFAULT_RUN", "add_arguments", "default_model", "run"]

#: Cache sub-folder of the default model's run (``cnnkit.utils.cache_dir``).
DEFAULT_RUN = "serve/lenet5-mnist"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit serve``."""
    parser.add_argument(
        "models",
        nargs="*",
        metavar="MODEL_OR_RUN_DIR",
        help="model files (.cnnkit) or run folders from `cnnkit train`; default: a LeNet-5 "
        "trained on MNIST on first use and cached",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes the "
        "studio to the network)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--default-limit",
        type=int,
        default=None,
        metavar="N",
        help="without MODEL: train the default LeNet-5 on the first N MNIST images only "
        "(a quick try-out; cached apart from the full model)",
    )
    parser.add_argument(
        "--default-epochs",
        type=int,
        default=None,
        metavar="E",
        help="without MODEL: epochs for the default LeNet-5 (default: cnnkit train's, 8)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per forward pass (default: torch's choice; 1 with --workers > 1)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (default 1; 2 on a 2-core machine doubles "
        "the requests per second, each process holding its own copy of the models)",
    )
    # Set on the sibling processes that --workers starts: their own socket on the shared port.
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)


def _cache_name(limit: int | None, epochs: int | None) -> str:
    """The cache entry: the full default, or one per (limit, epochs) variant."""
    variant = "".join(f"-{key}{value}" for key, value in (("limit", limit), ("epochs", epochs))
                      if value is not None)  # fmt: skip
    return DEFAULT_RUN + variant


def default_model(verbose: int = 1, *, limit: int | None = None, epochs: int | None = None) -> Path:
    """The default model's run folder, trained with ``cnnkit train``'s lenet5 job if absent.

    Args:
        verbose: Progress display while training (0 silent).
        limit: Train on the first ``limit`` MNIST images only (default all 60,000).
        epochs: Epochs (default ``cnnkit train``'s for lenet5).

    Returns:
        The cached run folder (``cache_dir("serve/lenet5-mnist")``, plus ``-limitN-epochsE``
        for a variant). Training writes to a fresh folder beside it, renamed into place
        only when complete, so an interrupted run is never served.
    """
    from cnnkit.cli import _train
    from cnnkit.utils import cache_dir

    for name, value in (("default_limit", limit), ("default_epochs", epochs)):
        if value is not None and value < 1:
            raise invalid_value(f"--{name.replace('_', '-')} must be >= 1.", received={name: value})
    target = cache_dir(_cache_name(limit, epochs))
    if (target / "model.cnnkit").is_file():
        print(f"cnnkit serve: the default LeNet-5 from the cache ({target})")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    parser = argparse.ArgumentParser()
    _train.add_arguments(parser)
    argv = ["--model", "lenet5", "--dataset", "mnist", "--out", str(scratch)]
    argv += ["--limit", str(limit)] if limit is not None else []
    argv += ["--epochs", str(epochs)] if epochs is not None else []
    print(f"cnnkit serve: training the default LeNet-5 on MNIST once (cached in {target})")
    try:
        _train.run(parser.parse_args([*argv, "--verbose", str(verbose)]))
        try:
            os.replace(scratch, target)
        except OSError:  # another process cached it first: use theirs
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def run(args: argparse.Namespace) -> int:
    """Load the models, then serve until interrupted; returns 0."""
    if not 0 < args.port < 65536:
        raise invalid_value("--port must be in 1..65535.", received={"port": args.port})
    try:
        import uvicorn  # noqa: F401  (checked here: the extra is installed)

        from cnnkit.serve import ModelRegistry, create_app, serve
    except ImportError as err:
        raise invalid_value(
            "cnnkit serve needs the serve extra.",
            received={"missing": err.name},
            hint="pip install 'cnnkit[serve]'",
        ) from err
    if args.workers < 1:
        raise invalid_value("--workers must be >= 1.", received={"workers": args.workers})
    if args.threads is None and args.workers > 1:
        args.threads = 1  # the processes already use the cores; more threads would contend
    if args.threads is not None:
        if args.threads < 1:
            raise invalid_value("--threads must be >= 1.", received={"threads": args.threads})
        import torch

        torch.set_num_threads(args.threads)
    if args.models and (args.default_limit or args.default_epochs):
        raise invalid_value(
            "--default-limit and --default-epochs apply only without MODEL_OR_RUN_DIR.",
            received={"models": args.models},
        )
    models = args.models or [default_model(limit=args.default_limit, epochs=args.default_epochs)]
    registry = ModelRegistry.from_paths(models)
    app = create_app(registry)
    names = ", ".join(m.id for m in registry)
    if not args.reuse_port:
        workers = f", {args.workers} worker processes" if args.workers > 1 else ""
        print(
            f"cnnkit studio: http://{args.host}:{args.port}/  "
            f"(models: {names}; API docs at /docs{workers})"
        )
    serve(
        app,
        args.host,
        args.port,
        workers=args.workers,
        models=[str(m) for m in models],
        reuse_port=args.reuse_port,
    )
    return 0
