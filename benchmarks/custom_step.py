"""A custom ``train_step`` in ``fit`` vs the same step in a hand-written torch loop (goal <= 1.05x).

One process, the runs interleaved, the same model object's weights restored before
each run, the same batches (float32 ``(n, 28, 28, 1)`` pixels drawn once, seeded;
timing does not depend on their values), Adam 1e-3, batch 64:

- ``custom``: ``fit`` on a ``Model`` subclass whose ``train_step`` is the Keras guide's
  torch idiom (``zero_grad``, ``compute_loss``, ``backward``, ``optimizer.apply``,
  ``self.metrics`` updated, the dict returned);
- ``custom-torch``: exactly that step's work written by hand (forward, cross-entropy
  from logits, backward, ``torch.optim.Adam.step``, a running mean of the loss);
- ``builtin``: ``fit`` with the built-in step on the same network (the custom-step
  dispatch must not slow it), against ``custom-torch`` too.

Usage::

    .venv/bin/python benchmarks/custom_step.py --steps 300 --repeats 3

Prints the median seconds per run, the ratios ``custom / custom-torch`` and
``builtin / custom-torch`` of those medians, and the median of the per-round ratios
(steadier when the machine's speed drifts).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit import layers
from cnnkit.models import Model

BATCH, LR = 64, 1e-3


class GuideStepModel(Model):
    """The Keras torch-backend guide's first ``train_step``."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = list(self.trainable_weights)
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def build(cls: type) -> Model:
    """A small MNIST CNN (LeNet-like, 3x3 ReLU) ending in logits."""
    torch.manual_seed(0)
    inputs = layers.Input(shape=(28, 28, 1))
    h = layers.Conv2D(6, 3, activation="relu")(inputs)
    h = layers.MaxPooling2D()(h)
    h = layers.Conv2D(16, 3, activation="relu")(h)
    h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    h = layers.Dense(120, activation="relu")(h)
    return cls(inputs, layers.Dense(10)(h))


def compile_model(model: Model) -> None:
    from cnnkit.losses import SparseCategoricalCrossentropy
    from cnnkit.optimizers import Adam

    model.compile(optimizer=Adam(LR), loss=SparseCategoricalCrossentropy(from_logits=True))


def restore(model: Model, start: list[torch.Tensor]) -> None:
    """Copy ``start`` in by position (the two models' automatic layer names differ)."""
    with torch.no_grad():
        for tensor, value in zip(model.state_dict().values(), start, strict=True):
            tensor.copy_(value)


def run_fit(model: Model, start: list[torch.Tensor], x: np.ndarray, y: np.ndarray) -> float:
    restore(model, start)
    compile_model(model)  # a fresh optimizer state each run
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return time.perf_counter() - t0


def run_torch(model: Model, start: list[torch.Tensor], x: np.ndarray, y: np.ndarray) -> float:
    """The same step by hand on the same module: forward, CE, backward, Adam, running mean."""
    restore(model, start)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    t0 = time.perf_counter()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    total, count = torch.zeros(()), 0
    for i in range(0, len(xt), BATCH):
        xb, yb = xt[i : i + BATCH], yt[i : i + BATCH]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(xb)
        count += len(xb)
    float(total / count)  # the loss is read once, as fit's History does
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    n = a.steps * BATCH
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    custom, builtin = build(GuideStepModel), build(Model)
    start = [t.detach().clone() for t in custom.state_dict().values()]
    runs = {
        "custom": lambda: run_fit(custom, start, x, y),
        "builtin": lambda: run_fit(builtin, start, x, y),
        "custom-torch": lambda: run_torch(custom, start, x, y),
    }
    for run in runs.values():  # warm-up: allocator, oneDNN primitives
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(a.repeats):
        for name, run in runs.items():
            times[name].append(run())
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, value in med.items():
        print(f"{name:>13}: {value:.3f} s  ({1e3 * value / a.steps:.2f} ms/step)  {times[name]}")
    print(f"custom / custom-torch  = {med['custom'] / med['custom-torch']:.3f}  (goal <= 1.05)")
    print(f"builtin / custom-torch = {med['builtin'] / med['custom-torch']:.3f}")
    # On a shared machine the speed drifts between rounds; the ratio within each round
    # (runs seconds apart) is steadier, and its median is the figure to quote there.
    for name in ("custom", "builtin"):
        pairs = [a / b for a, b in zip(times[name], times["custom-torch"], strict=True)]
        print(f"{name} / custom-torch, median of per-round ratios = {statistics.median(pairs):.3f}")


if __name__ == "__main__":
    main()
