"""Data-parallel training on several processes: ``from cnnkit.training import distributed``.

::

    def train():                      # a module-level function: each process imports it
        model = build_model()
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=64, epochs=3)   # 64 = the GLOBAL batch
        return history.history

    logs = distributed.launch(train, nproc=2)   # rank 0's return value

Inside ``launch``, ``fit`` shards array inputs per global batch, averages the
gradients with ``DistributedDataParallel`` and gives every rank the same epoch
logs; file-writing callbacks and the progress bar run on rank 0 only.
``evaluate``/``predict`` are not sharded: every rank computes the full result.
"""

from cnnkit.training._ddp import writes_files
from cnnkit.training._distributed import (
    DistributedError,
    is_distributed,
    is_main_process,
    launch,
    rank,
    world_size,
)

__all__ = [
    "DistributedError",
    "is_distributed",
    "is_main_process",
    "launch",
    "rank",
    "world_size",
    "writes_files",
]
