"""An overridden train_step under 2-process data parallelism (gloo on CPU) equals one process.

The job lives in this module so the spawned processes can import it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from cnnkit import layers
from cnnkit.models import Model
from cnnkit.training import distributed

SAMPLES, BATCH, EPOCHS = 64, 16, 2


class GuideStep(Model):
    """The Keras torch guide's step: compute_loss, backward, optimizer.apply, metrics."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        weights = list(self.trainable_weights)
        with torch.no_grad():
            self.optimizer.apply([v.value.grad for v in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def train(seed: int = 0) -> dict[str, Any]:
    from cnnkit.utils import set_random_seed

    torch.set_num_threads(1)
    set_random_seed(seed)
    inputs = layers.Input(shape=(6,))
    model = GuideStep(inputs, layers.Dense(1)(layers.Dense(8, activation="tanh")(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(SAMPLES, 6)).astype(np.float32)
    y = (x @ rng.normal(size=(6, 1))).astype(np.float32)
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, shuffle=False)
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()
    return {"weights": flat.numpy(), "loss": history.history["loss"]}


def ddp_job() -> dict[str, Any]:
    # Rank 1 starts from other weights: DDP must broadcast rank 0's.
    result = train(seed=dist.get_rank())
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, result)
    return {"ranks": out}


def test_two_processes_with_a_custom_step_train_like_one():
    single = train(seed=0)
    ranks = distributed.launch(ddp_job, nproc=2, backend="gloo", timeout_s=120.0)["ranks"]
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])
    # each rank's step sees half of every global batch; averaged gradients = one process
    np.testing.assert_allclose(ranks[0]["weights"], single["weights"], atol=1e-5, rtol=0)
    assert np.abs(single["weights"]).max() > 0.1
