"""Jobs that the distributed tests run on every rank (module level, so spawn can import them).

Each job returns what rank 0 hands back to ``launch``'s caller; per-rank values
are gathered with ``all_gather_object`` so the test can compare the ranks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from tests.training._models import blobs

#: 66 samples: 49 train (16+16+16+1: rank 1 gets an empty slice last) + 17 validation.
SAMPLES, BATCH, EPOCHS, SEED = 66, 16, 2, 0


def small_cnn():
    """Conv -> Flatten -> Dense, no BatchNorm/Dropout: training is deterministic."""
    from cnnkit.layers import Conv2D, Dense, Flatten, Input, Rescaling
    from cnnkit.models import Sequential

    return Sequential(
        [
            Input((8, 8, 1)),
            Rescaling(1 / 255),
            Conv2D(4, 3, activation="relu"),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )


def train_small_cnn(
    callbacks: list[Any] | None = None, epochs: int = EPOCHS, seed: int = SEED
) -> dict[str, Any]:
    """The equivalence run; the same function trains single-process in the test."""
    from cnnkit.utils import set_random_seed

    torch.set_num_threads(1)
    set_random_seed(seed)
    model = small_cnn()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.optimizer.param_groups[0]["lr"] = 0.5
    x, y = blobs(SAMPLES, seed=1)
    history = model.fit(
        x, y, batch_size=BATCH, epochs=epochs, validation_split=0.25, verbose=0,
        callbacks=callbacks,
    )  # fmt: skip
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()
    return {
        "weights": flat.numpy(),
        "history": history.history,
        "epochs": list(history.epoch),
        "evaluate": model.evaluate(x, y, verbose=0),
    }


def _gathered(value: Any) -> list[Any]:
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, value)
    return out


def equivalence_job(mutation: str = "none") -> dict[str, Any]:
    """Train on every rank; ``mutation="same_slice"`` makes every rank take rank 0's slice."""
    from cnnkit.training import distributed

    if mutation == "same_slice":
        import cnnkit.training._ddp as ddp

        ddp.rank = lambda: 0  # the deliberate bug the equivalence test must catch
    # Rank 1 is seeded differently: its initial weights and data order must still be
    # rank 0's (DDP broadcasts the weights, fit broadcasts the data-order state).
    result = train_small_cnn(seed=SEED + dist.get_rank())
    info = (distributed.rank(), distributed.world_size(), distributed.is_distributed())
    return {"ranks": _gathered(result | {"info": info})}


class StopOnRankOne:
    """A rank-local decision: only rank 1 asks to stop, in epoch 1 at batch 1."""

    def __new__(cls):
        from cnnkit.callbacks import Callback

        class _Stop(Callback):
            def on_train_batch_end(self, batch, logs=None):
                epoch = len(self.model.history.epoch)
                if dist.get_rank() == 1 and epoch == 1 and batch == 1:
                    self.model.stop_training = True

        return _Stop()


def callbacks_job(folder: str) -> dict[str, Any]:
    """EarlyStopping + ModelCheckpoint + CSVLogger, then a fit a rank-local callback stops."""
    from cnnkit.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint

    out = Path(folder)
    # min_delta larger than any improvement: stops after epoch 2 (patience 1).
    early = EarlyStopping(monitor="val_loss", min_delta=10.0, patience=1)
    checkpoint = ModelCheckpoint(str(out / "best.cnnkit"), monitor="val_loss")
    csv_logger = CSVLogger(str(out / "log.csv"), append=True)
    first = train_small_cnn([early, checkpoint, csv_logger], epochs=6)
    second = train_small_cnn([StopOnRankOne()], epochs=4)
    return {"ranks": _gathered({"first": first["epochs"], "second": second["epochs"],
                                "history": first["history"]})}  # fmt: skip


def rejected_inputs_job(folder: str) -> list[str]:
    """The messages of the inputs distributed fit refuses (raised and caught on every rank)."""
    from cnnkit.callbacks import BackupAndRestore

    x, y = blobs(32)
    model = small_cnn()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    attempts = [
        {"x": ((x[i : i + 8], y[i : i + 8]) for i in range(0, 32, 8)), "steps_per_epoch": 4},
        {"x": x, "y": y, "callbacks": [BackupAndRestore(folder)]},
        {"x": x[:1], "y": y[:1]},
    ]
    messages = []
    for kwargs in attempts:
        try:
            model.fit(verbose=0, **kwargs)
        except (TypeError, ValueError) as err:
            messages.append(str(err))
    return messages


def failing_job() -> None:
    """Rank 1 raises while rank 0 waits in a collective that will never complete."""
    if dist.get_rank() == 1:
        raise ValueError("deliberate failure on rank 1")
    dist.barrier()


def sleeping_job(seconds: float) -> None:
    import time

    time.sleep(seconds)


def rank_info(offset: int) -> tuple[int, int, Any]:
    """``(rank + offset, world_size, every rank's rank)``: rank 0's value reaches the caller."""
    from cnnkit.training import distributed

    ranks = _gathered(distributed.rank())
    return distributed.rank() + offset, distributed.world_size(), np.asarray(ranks)
