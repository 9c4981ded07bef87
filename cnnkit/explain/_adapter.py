"""The model adapter: one view of any model that the explanation methods share.

Every method needs the same four things from a model, whatever its kind
(Sequential, functional, subclassed, zoo, or a plain ``torch.nn.Module``):

* the images as a float32 batch in the layout the model takes: channels-last
  ``(N, H, W, C)`` for cnnkit models, channels-first ``(N, C, H, W)`` for
  other modules (``data_format=`` overrides either);
* class *scores*: the logits. A model whose last layer applies softmax or
  sigmoid is read before that activation (Grad-CAM and Score-CAM are defined
  on pre-softmax scores); a one-unit sigmoid model counts as two classes with
  scores ``-z`` (class 0) and ``z`` (class 1);
* every layer's output in one layout, channels-first ``(N, C, h, w)`` as
  torchcam and the maps' formulas expect: a cnnkit layer outputs channels-last
  unless its own ``data_format`` says otherwise, a non-cnnkit module inside a
  cnnkit model carries the model's layout, and a plain torch model is
  channels-first throughout;
* the model left as it was: eval mode for the explanation and every module's
  training flag restored, hooks removed even when a forward pass fails, and
  no ``.grad`` written (only ``torch.autograd.grad`` on inputs and layer
  outputs is used).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers import Dense, Layer
from cnnkit.layers._activations import activation_name
from cnnkit.models._model import eval_mode, model_device

__all__ = [
    "ModelView",
    "check_model",
    "explaining",
    "model_view",
    "to_channels_first",
]

_DATA_FORMATS = ("channels_last", "channels_first")
_PROBABILITY = ("softmax", "sigmoid")


def check_model(model: Any, who: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise invalid_type(
            f"{who}: `model` must be a cnnkit model or a torch.nn.Module.",
            received={"model": type(model).__name__},
        )
    return model


def _channels_last_input(model: nn.Module, data_format: Any, who: str) -> bool:
    if data_format is None:
        return isinstance(model, Layer)
    if data_format not in _DATA_FORMATS:
        raise invalid_value(
            f"{who}: unknown `data_format`.",
            received={"data_format": data_format},
            choices=_DATA_FORMATS,
        )
    return data_format == "channels_last"


def layer_is_channels_last(module: nn.Module, model_channels_last: bool) -> bool:
    """Whether ``module``'s 4-D output is ``(N, h, w, c)`` (see the module docstring)."""
    if isinstance(module, Layer):
        return getattr(module, "data_format", "channels_last") != "channels_first"
    return model_channels_last


def to_channels_first(t: torch.Tensor, channels_last: bool) -> torch.Tensor:
    return t.permute(0, 3, 1, 2) if channels_last and t.ndim == 4 else t


def _expected_channels(model: nn.Module, channels_last: bool) -> int | None:
    try:
        shape = model.input_shape  # cnnkit models; raises ValueError while unknown
    except (AttributeError, ValueError):
        shape = None
    if isinstance(shape, tuple) and len(shape) == 4:
        return shape[-1] if channels_last else shape[1]
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return None if first is None else first.in_channels


def as_batch(model: nn.Module, images: Any, channels_last: bool, who: str) -> torch.Tensor:
    """``images`` as a float32 4-D tensor on the model's device (a copy, never a view).

    Raises:
        TypeError: non-numeric images.
        ValueError: not 4-D, empty, or a channel count the model does not take.
    """
    if not isinstance(images, torch.Tensor):
        array = np.asarray(images)
        if array.dtype.kind not in "fiu":
            raise invalid_type(
                f"{who}: `images` must be numeric.", received={"dtype": str(array.dtype)}
            )
        images = torch.as_tensor(array)
    x = images
    if not (x.is_floating_point() or x.dtype in (torch.uint8, torch.int32, torch.int64)):
        raise invalid_type(f"{who}: `images` must be numeric.", received={"dtype": str(x.dtype)})
    form = "(N, H, W, C)" if channels_last else "(N, C, H, W)"
    if x.ndim != 4 or x.shape[0] == 0:
        raise invalid_value(
            f"{who}: `images` must be a non-empty batch {form} (the model's input layout).",
            received={"images.shape": tuple(x.shape)},
            hint="Add the batch axis with images[None] for one image.",
        )
    expected = _expected_channels(model, channels_last)
    got = x.shape[-1] if channels_last else x.shape[1]
    if expected is not None and got != expected:
        raise invalid_value(
            f"{who}: `images` have {got} channels but the model takes {expected}.",
            expected=f"images of shape {form} with C={expected}",
            received={"images.shape": tuple(x.shape)},
        )
    with torch.inference_mode(False):
        return x.detach().to(model_device(model), torch.float32, copy=True)


@dataclass
class ModelView:
    """What one forward probe learned about a model (see :func:`model_view`).

    Attributes:
        model: The model itself.
        channels_last: Whether the model's input is ``(N, H, W, C)``.
        calls: ``(path, module, output shape in channels-first terms)`` for every
            module with a tensor output, in the order the forward pass finished them.
        final: The last leaf module that ran (the classifier, or its activation).
        classes: Number of classes in the scores (2 for a one-unit sigmoid model).
        binary: Whether the model has one output unit (a sigmoid classifier).
    """

    model: nn.Module
    channels_last: bool
    calls: list[tuple[str, nn.Module, tuple[int, ...]]]
    final: nn.Module | None
    classes: int
    binary: bool

    def layout_of(self, module: nn.Module) -> bool:
        return layer_is_channels_last(module, self.channels_last)

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) ``(N, K)`` of a batch in the model's layout."""
        with _logit_hook(self.final):
            out = self.model(x)
        if not isinstance(out, torch.Tensor) or out.ndim != 2:
            raise invalid_value(
                "The model must return class scores of shape (N, classes).",
                received={"output": getattr(out, "shape", type(out).__name__)},
            )
        return torch.cat([-out, out], dim=1) if out.shape[1] == 1 else out


def _probability_kind(module: nn.Module | None) -> str | None:
    fn = getattr(module, "activation", None) if module is not None else None
    if isinstance(module, nn.Softmax):
        return "softmax"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if fn is None or not callable(fn):
        return None
    name = activation_name(fn)
    return name if name in _PROBABILITY else None


@contextmanager
def _logit_hook(final: nn.Module | None) -> Iterator[None]:
    """Replace the final softmax/sigmoid output by its input (its logits) while inside."""
    if _probability_kind(final) is None:
        yield
        return
    dense = isinstance(final, Dense)

    def logits(module: nn.Module, inputs: tuple, _output: Any) -> torch.Tensor:
        # Dense applies its activation last: its logits are the affine part.
        return F.linear(inputs[0], module.weight, module.bias) if dense else inputs[0]

    handle = final.register_forward_hook(logits)
    try:
        yield
    finally:
        handle.remove()


def _ensure_built(model: nn.Module, x: torch.Tensor) -> None:
    # A cnnkit model without an input shape creates its weights on the first call;
    # that must happen outside inference mode, or the weights could never train.
    if any(isinstance(m, Layer) and not m.built for m in model.modules()):
        with eval_mode(model), torch.no_grad():
            model(x[:1])


#: model -> {(structure, image shape, layout, device): what a probe found}. Entries hold
#: the model's submodules but never the model itself, so they go when the model goes.
_VIEWS: weakref.WeakKeyDictionary[nn.Module, dict[tuple, tuple]] = weakref.WeakKeyDictionary()


def model_view(model: nn.Module, x: torch.Tensor, channels_last: bool) -> ModelView:
    """What :func:`probe_model` finds, remembered while the model's modules stay the same.

    The key holds the identity of every module, so replacing or adding a layer
    (e.g. a new classifier) probes again; a repeated call (a web page asking for
    one map after another) costs no extra forward pass.
    """
    _ensure_built(model, x)
    structure = tuple(id(m) for m in model.modules())
    key = (structure, tuple(x.shape[1:]), channels_last, x.device)
    known = _VIEWS.setdefault(model, {})
    if key not in known:
        view = probe_model(model, x, channels_last)
        known.clear()
        known[key] = (view.calls, view.final, view.classes, view.binary)
    return ModelView(model, channels_last, *known[key])


def probe_model(model: nn.Module, x: torch.Tensor, channels_last: bool) -> ModelView:
    """Run ``model`` once on ``x[:1]`` and record every module's output shape."""
    calls: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    leaves: list[nn.Module] = []
    handles = []

    def record(path: str, module: nn.Module, _inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            shape = tuple(
                to_channels_first(output, layer_is_channels_last(module, channels_last)).shape
            )
            calls.append((path, module, shape))
            if next(module.children(), None) is None:
                leaves.append(module)

    with ExitStack() as stack:
        for path, module in model.named_modules():
            if module is not model:
                handles.append(
                    module.register_forward_hook(lambda m, i, o, path=path: record(path, m, i, o))
                )
        stack.callback(lambda: [h.remove() for h in handles])
        with eval_mode(model), torch.no_grad():
            out = model(x[:1])
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        raise invalid_value(
            "The model must return class scores of shape (N, classes).",
            received={"output": getattr(out, "shape", type(out).__name__)},
        )
    final = leaves[-1] if leaves else None
    binary = out.shape[1] == 1
    return ModelView(model, channels_last, calls, final, 2 if binary else out.shape[1], binary)


@contextmanager
def explaining(model: nn.Module) -> Iterator[None]:
    """Eval mode and autograd on (even inside ``torch.no_grad``); flags restored after."""
    with eval_mode(model), torch.inference_mode(False), torch.enable_grad():
        yield


def prepare(model: Any, images: Any, data_format: Any, who: str) -> tuple[ModelView, torch.Tensor]:
    """Check the arguments and probe the model: ``(view, images as a float32 batch)``."""
    model = check_model(model, who)
    channels_last = _channels_last_input(model, data_format, who)
    x = as_batch(model, images, channels_last, who)
    return model_view(model, x, channels_last), x
