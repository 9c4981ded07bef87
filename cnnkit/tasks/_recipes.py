"""One table of task recipes, and the one function that trains and scores any of them.

Each :class:`TaskRecipe` says which canvases (or images) train and test the
task, how to build the model, its loss, its targets and how it is scored; the
CLI (``cnnkit train --task``) and ``benchmarks/tasks.py`` both run
:func:`train_task`, so a figure in docs/benchmarks.md is what the CLI gives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnnkit._errors import unknown_name
from cnnkit.callbacks import CosineDecay
from cnnkit.datasets import digit_canvases
from cnnkit.models import Model
from cnnkit.tasks._data import CanvasSequence
from cnnkit.tasks._detect import (
    build_detector,
    detection_loss,
    detection_targets,
    evaluate_detector,
)
from cnnkit.tasks._localize import (
    build_localizer,
    evaluate_localizer,
    localization_loss,
    localization_targets,
)
from cnnkit.tasks._segment import (
    build_fcn,
    build_unet,
    evaluate_segmenter,
    segmentation_loss,
    segmentation_targets,
)
from cnnkit.tasks._siamese import (
    HALF_TURN_ALIKE,
    TripletLoss,
    TwoViewBatches,
    build_embedding,
    contrastive_loss,
    evaluate_one_shot,
    siamese_data,
)
from cnnkit.training.optimizers import Adam
from cnnkit.utils import set_random_seed

__all__ = ["TASKS", "TaskRecipe", "train_task"]


@dataclass(frozen=True)
class TaskRecipe:
    """How one task is trained and scored (all defaults sized for a 2-core CPU).

    Attributes:
        build: ``fn(input_shape) -> Model``.
        loss: The loss function given to ``compile``.
        canvas: ``digit_canvases`` arguments (size, objects, scale, ...); empty for Siamese.
        targets: ``fn(CanvasBatch) -> array`` for canvas tasks.
        evaluate: ``fn(model, test_set) -> metrics dict``.
        train_canvases: Training canvases (or image pairs' images) per epoch.
        epochs: Default epochs.
        learning_rate: Adam's learning rate (the starting one under ``cosine``).
        batch_size: Canvases (or images) per step.
        cosine: Decay the rate along a cosine to 1% of it over the run
            (:class:`~cnnkit.callbacks.CosineDecay`, per batch).
    """

    build: Callable[..., Model]
    loss: Callable[..., Any]
    evaluate: Callable[..., dict[str, Any]]
    canvas: dict[str, Any] = field(default_factory=dict)
    targets: Callable[..., Any] | None = None
    train_canvases: int = 20_000
    epochs: int = 4
    learning_rate: float = 1e-3
    batch_size: int = 64
    cosine: bool = False


_ONE = {"size": 64, "num_objects": 1, "scale": (0.8, 1.6)}
_MANY = {"size": 64, "num_objects": (1, 4), "scale": (0.6, 1.1)}
# Segmentation: small steps at a higher rate, decayed on a cosine; the U-Net reached mean
# IoU 0.353 after 1 constant-rate epoch, 0.903 after 4 on the cosine.
_SEGMENT: dict[str, Any] = {
    "train_canvases": 9_000,
    "epochs": 4,
    "learning_rate": 3e-3,
    "batch_size": 32,
    "cosine": True,
}

TASKS: dict[str, TaskRecipe] = {
    # Localisation: 12 constant-rate epochs reached class accuracy 0.966, mean IoU 0.883;
    # on a cosine, 16 epochs 0.977 / 0.896 and 24 epochs 0.984 / 0.908 (both goals met).
    "localize": TaskRecipe(
        build_localizer,
        localization_loss,
        evaluate_localizer,
        _ONE,
        localization_targets,
        epochs=24,
        cosine=True,
    ),
    # Detection: 12 epochs with the rate on a cosine reached mAP@0.5 0.971 (3 constant: 0.587).
    "detect": TaskRecipe(
        build_detector,
        detection_loss,
        evaluate_detector,
        _MANY,
        detection_targets,
        12_000,
        epochs=12,
        cosine=True,
    ),
    "segment": TaskRecipe(
        build_unet, segmentation_loss, evaluate_segmenter, _MANY, segmentation_targets, **_SEGMENT
    ),
    # The FCN has no full-resolution features, so it needs longer: mean IoU 0.757 after 4
    # cosine epochs, 0.868 after 12 (goal 0.85 met).
    "segment_fcn": TaskRecipe(
        build_fcn,
        segmentation_loss,
        evaluate_segmenter,
        _MANY,
        segmentation_targets,
        **{**_SEGMENT, "epochs": 12},
    ),
    # Siamese: two warped views per image, quarter turns as new classes and the instance term;
    # in a plain-torch mirror, 8 such epochs gave 5-way unseen 0.79 (2 plain epochs: 0.62).
    "siamese": TaskRecipe(
        build_embedding,
        TripletLoss(instance_weight=1.0),
        evaluate_one_shot,
        train_canvases=15_000,
        epochs=8,
        cosine=True,
    ),
    "siamese_contrastive": TaskRecipe(
        build_embedding,
        contrastive_loss,
        evaluate_one_shot,
        train_canvases=15_000,
        epochs=8,
        cosine=True,
    ),
}


def _recipe(task: str) -> TaskRecipe:
    if task not in TASKS:
        raise unknown_name("task", task, TASKS, argument="task")
    return TASKS[task]


def train_task(
    task: str,
    dataset: str = "mnist",
    *,
    epochs: int | None = None,
    train_canvases: int | None = None,
    test_canvases: int = 1000,
    learning_rate: float | None = None,
    seed: int = 0,
    verbose: int | str = 0,
    callbacks: list[Any] | None = None,
) -> tuple[Model, Any, dict[str, Any], Any]:
    """Train one task from :data:`TASKS` with ``fit`` and score it on a seeded test set.

    Training canvases come from the dataset's training images (seed ``seed``),
    test canvases from its test images (seed ``seed + 1``), so the two never
    share a source image.

    Args:
        task: A key of :data:`TASKS` (``"localize"``, ``"detect"``, ``"segment"``, ...).
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        epochs, train_canvases, learning_rate: Override the recipe's defaults.
        test_canvases: Size of the test set (test images for Siamese). Default 1000.
        seed: Seed of the data and the weights.
        verbose: ``fit``'s verbosity.
        callbacks: Passed to ``fit``.

    Returns:
        ``(model, history, metrics, test_set)``; ``metrics`` holds the task's scores
        plus ``train_seconds``.
    """
    recipe = _recipe(task)
    set_random_seed(seed)
    n_train = train_canvases or recipe.train_canvases
    if recipe.targets is None:
        (x, y), test = siamese_data(dataset, n_train, test_canvases, recipe.batch_size, seed)
        train = TwoViewBatches(
            x, y, recipe.batch_size, seed, half_turn_alike=HALF_TURN_ALIKE[dataset]
        )
        shape = (28, 28, 1)
    else:
        make = dict(recipe.canvas, batch_size=recipe.batch_size)
        canvases = digit_canvases(dataset, "train", num_canvases=n_train, seed=seed, **make)
        train = CanvasSequence(canvases, recipe.targets)
        test = digit_canvases(
            dataset, "test", num_canvases=test_canvases, seed=seed + 1, **make
        ).take(test_canvases)
        shape = (canvases.height, canvases.width, 1)
    model = recipe.build(input_shape=shape)
    rate = learning_rate or recipe.learning_rate
    model.compile(optimizer=Adam(rate), loss=recipe.loss)
    callbacks = list(callbacks or [])
    if recipe.cosine:
        callbacks.append(CosineDecay(rate, alpha=0.01))
    fit_args = {"epochs": epochs or recipe.epochs, "shuffle": True, "verbose": verbose}
    start = time.perf_counter()
    history = model.fit(train, callbacks=callbacks, **fit_args)
    metrics = {"task": task, "dataset": dataset, "train_seconds": time.perf_counter() - start}
    metrics.update(recipe.evaluate(model, test))
    return model, history, metrics, test
