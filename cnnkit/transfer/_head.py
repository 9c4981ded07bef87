"""``replace_head``: a pretrained zoo body with a new classifier, the Keras transfer recipe.

The result is a functional model that takes raw RGB images (0..255), applies
the family's ImageNet preprocessing as a layer (so the saved model predicts on
raw photos), runs the pretrained body with ``training=False`` (Keras' advice:
its BatchNormalization stays in inference mode even after unfreezing, and its
stochastic depth is off), then global average pooling, an optional hidden
Dense layer, dropout and the new classifier.
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.applications import ZooModel
from cnnkit.applications._imagenet import preprocess_input, preprocess_tf, preprocess_torch
from cnnkit.layers import Dense, Dropout, GlobalAveragePooling2D, Input, Layer
from cnnkit.models import Model

__all__ = ["ImagePreprocessing", "preprocessing_mode", "replace_head"]


class ImagePreprocessing(Layer):
    """The ImageNet input scaling of a zoo family as a layer (no weights).

    Args:
        mode: ``"torch"`` (x/255 normalised by ImageNet mean/std) or ``"tf"``
            (x/127.5 − 1, EfficientNet-Lite0), as ``preprocess_input(mode=...)``.
    """

    def __init__(self, mode: str = "torch", **kwargs: Any):
        super().__init__(**kwargs)
        preprocess_input(torch.zeros(1, 1, 3), mode=mode)  # rejects unknown modes, template error
        self.mode = mode
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return preprocess_input(inputs, mode=self.mode)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"mode": self.mode}


def preprocessing_mode(model: ZooModel) -> str | None:
    """``"tf"``/``"torch"`` from the family module's ``preprocess_input``; None when it has none."""
    fn = getattr(sys.modules.get(type(model).__module__), "preprocess_input", None)
    if fn is preprocess_tf:
        return "tf"
    if fn is preprocess_torch:
        return "torch"
    return None


def _body_only(model: ZooModel) -> ZooModel:
    """The same architecture and weights without the classifier (``include_top=False``)."""
    if not model.include_top:
        return model
    config = model.get_config() | {"include_top": False, "pooling": None, "weights": None}
    body = type(model).from_config(config)
    prefixes = type(model).head_prefixes
    state = {k: v for k, v in model.state_dict().items() if not k.startswith(prefixes)}
    body.load_state_dict(state, strict=True)
    body.to(next(model.parameters()).device)
    return body


def replace_head(
    model: ZooModel,
    classes: int,
    hidden: int | None = None,
    dropout: float = 0.2,
    *,
    activation: str | None = None,
    preprocess: bool = True,
) -> Model:
    """A new model: ``model``'s pretrained body with a fresh classifier for ``classes`` classes.

    Layers: ``Input(H, W, 3)`` raw 0..255 RGB → ImageNet preprocessing of the
    family → body (called with ``training=False``) → ``GlobalAveragePooling2D``
    → [``Dense(hidden, relu)`` → ``Dropout``] → ``Dropout(dropout)`` →
    ``Dense(classes, activation)``.

    Args:
        model: A zoo model, e.g. ``EfficientNetLite0(weights="imagenet")``; with
            or without its top (the ImageNet classifier is dropped).
        classes: Number of classes, >= 2 (softmax) or 1 (one sigmoid unit, binary).
        hidden: Width of an optional hidden Dense layer. Default None (none).
        dropout: Dropout rate before the classifier. Default 0.2.
        activation: Final activation; default ``"softmax"``, or ``"sigmoid"`` for ``classes=1``.
        preprocess: Put the family's input scaling in the model (default True), so it
            takes raw 0..255 images. False: the caller preprocesses.

    Returns:
        A functional :class:`cnnkit.models.Model` whose layers are
        ``[input, preprocessing, body, pooling, ..., classifier]``.

    Raises:
        TypeError: ``model`` is not a zoo model.
        ValueError: bad ``classes``, ``hidden`` or ``dropout``.
    """
    if not isinstance(model, ZooModel):
        raise invalid_type(
            "replace_head: `model` must be a cnnkit zoo model (cnnkit.applications).",
            received={"model": type(model).__name__},
        )
    for name, value, low in (("classes", classes, 1), ("hidden", hidden, 1)):
        if value is None and name == "hidden":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise invalid_value(
                f"replace_head: `{name}` must be an integer >= {low}.", received={name: value}
            )
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise invalid_value(
            "replace_head: `dropout` must be a number in [0, 1).", received={"dropout": dropout}
        )
    body = _body_only(model)
    inputs = Input(body.sample_shape)
    mode = preprocessing_mode(body) if preprocess else None
    x = inputs if mode is None else ImagePreprocessing(mode)(inputs)
    x = body(x, training=False)
    x = GlobalAveragePooling2D()(x)
    if hidden is not None:
        x = Dense(hidden, activation="relu")(x)
        x = Dropout(dropout)(x)
    if dropout > 0:
        x = Dropout(dropout)(x)
    final = activation or ("sigmoid" if classes == 1 else "softmax")
    outputs = Dense(classes, activation=final)(x)
    new = Model(inputs, outputs, name=f"{body.name}_transfer")
    new.to(next(body.parameters()).device)
    return new
