"""``cnnkit serve [MODEL_OR_RUN_DIR ...]``: the local web studio.

    cnnkit serve                      # a LeNet-5 trained on MNIST the first time, then cached
    cnnkit serve runs/lenet5-mnist    # a run folder written by `cnnkit train`
    cnnkit serve a.cnnkit b.cnnkit --port 8080

The default model is trained once with exactly what ``cnnkit train --model
lenet5 --dataset mnist`` does and kept in the cache (``$CNNKIT_HOME`` or the
platformdirs user cache, ``serve/lenet5-mnist``). The server binds 127.0.0.1
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
        "--threads",
        type=int,
        default=None,
        help="torch threads per forward pass (default: torch's choice)",
    )


def default_model(verbose: int = 1) -> Path:
    """The default model's run folder, trained with ``cnnkit train``'s lenet5 job if absent.

    Training writes to a fresh folder beside the cache entry, which is renamed
    into place only when complete, so an interrupted run is never served.
    """
    from cnnkit.cli import _train
    from cnnkit.utils import cache_dir

    target = cache_dir(DEFAULT_RUN)
    if (target / "model.cnnkit").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    parser = argparse.ArgumentParser()
    _train.add_arguments(parser)
    argv = ["--model", "lenet5", "--dataset", "mnist", "--out", str(scratch)]
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
        import uvicorn

        from cnnkit.serve import ModelRegistry, create_app
    except ImportError as err:
        raise invalid_value(
            "cnnkit serve needs the serve extra.",
            received={"missing": err.name},
            hint="pip install 'cnnkit[serve]'",
        ) from err
    if args.threads is not None:
        if args.threads < 1:
            raise invalid_value("--threads must be >= 1.", received={"threads": args.threads})
        import torch

        torch.set_num_threads(args.threads)
    registry = ModelRegistry.from_paths(args.models or [default_model()])
    app = create_app(registry)
    names = ", ".join(m.id for m in registry)
    print(f"cnnkit studio: http://{args.host}:{args.port}/  (models: {names}; API docs at /docs)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
