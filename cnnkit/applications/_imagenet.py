"""ImageNet input preprocessing and prediction decoding shared by the zoo families.

Two preprocessing conventions are used by the weights cnnkit imports:

- ``"torch"`` (torchvision models): RGB scaled to [0, 1], then normalised per
  channel with the ImageNet mean (0.485, 0.456, 0.406) and std
  (0.229, 0.224, 0.225). This is Keras' ``mode="torch"``.
- ``"tf"`` (EfficientNet-Lite0): RGB scaled to [-1, 1], ``(x / 255 - 0.5) / 0.5``.

The class index is Keras' ``imagenet_class_index.json``: it is looked up in
``$CNNKIT_DATA/imagenet/``, then in the cache, then downloaded from Keras'
public URL; every copy is verified by SHA-256.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = [
    "CLASS_INDEX_SHA256",
    "CLASS_INDEX_URL",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "decode_predictions",
    "load_class_index",
    "load_eval_image",
    "preprocess_input",
    "preprocess_tf",
    "preprocess_torch",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLASS_INDEX_URL = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
# Computed from the shared copy, whose md5 is the one Keras checks (c2c37ea5...).
CLASS_INDEX_SHA256 = "a1e7a966a1f601d39e4b43e119b3e7dd4a2ad3ea08cf69847cbaf021013767bc"
_MODES = ("torch", "tf")
_class_index_cache: dict[Path, list[tuple[str, str]]] = {}


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "torch") -> Any:
    """Scale RGB images in 0..255 the way the pretrained weights expect.

    Args:
        x: Images, a NumPy array or torch tensor of shape ``(..., H, W, 3)``
            (``(..., 3, H, W)`` with ``data_format="channels_first"``), values 0..255, RGB.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        mode: ``"torch"`` (ImageNet mean/std on x/255, torchvision models) or
            ``"tf"`` (x/127.5 − 1, EfficientNet-Lite0).

    Returns:
        float32 array/tensor of the same shape and kind as ``x``.
    """
    if mode not in _MODES:
        raise unknown_name("preprocessing mode", mode, _MODES, argument="mode")
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise unknown_name(
            "data_format", data_format, ("channels_last", "channels_first"), argument="data_format"
        )
    is_tensor = isinstance(x, torch.Tensor)
    if not is_tensor and not isinstance(x, np.ndarray):
        x = np.asarray(x)
    channel_axis = -1 if data_format == "channels_last" else -3
    if x.ndim < 3 or x.shape[channel_axis] != 3:
        raise invalid_value(
            "preprocess_input expects RGB images with 3 channels on the "
            f"{'last' if channel_axis == -1 else 'third-from-last'} axis.",
            expected="shape (..., H, W, 3) for channels_last or (..., 3, H, W) for channels_first",
            received={"x.shape": tuple(x.shape), "data_format": data_format},
        )
    out = x.to(torch.float32) if is_tensor else np.asarray(x, dtype=np.float32)
    if mode == "tf":
        return out / 127.5 - 1.0
    stat_shape = (3,) if channel_axis == -1 else (3, 1, 1)
    mean = np.asarray(IMAGENET_MEAN, np.float32).reshape(stat_shape) * 255.0
    std = np.asarray(IMAGENET_STD, np.float32).reshape(stat_shape) * 255.0
    if is_tensor:
        mean_t = torch.as_tensor(mean, device=out.device)
        std_t = torch.as_tensor(std, device=out.device)
        return (out - mean_t) / std_t
    return (out - mean) / std


def preprocess_torch(x: Any, data_format: str | None = None) -> Any:
    """RGB 0..255 → ImageNet mean/std normalisation of x/255 (torchvision's eval transform)."""
    return preprocess_input(x, data_format=data_format, mode="torch")


def preprocess_tf(x: Any, data_format: str | None = None) -> Any:
    """RGB 0..255 → [-1, 1] (``x / 127.5 − 1``), e.g. for EfficientNet-Lite0."""
    return preprocess_input(x, data_format=data_format, mode="tf")


def load_eval_image(path: str | Path, size: int = 224, crop_fraction: float = 0.875) -> np.ndarray:
    """Read a photo the way ImageNet models are evaluated: resize, then center crop.

    The shorter side is resized (bilinear) to ``round(size / crop_fraction)``
    (256 for 224) and the central ``size × size`` square is cut out: the
    standard torchvision / TF-slim evaluation transform.

    Args:
        path: An image file Pillow can read; converted to RGB.
        size: Output side in pixels. Default 224.
        crop_fraction: Crop side / resized shorter side. Default 0.875.

    Returns:
        ``(size, size, 3)`` uint8 RGB array (feed it to ``preprocess_input``).
    """
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        w, h = img.size
        short = round(size / crop_fraction)
        scale = short / min(w, h)
        new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
        img = img.resize((new_w, new_h), Image.Resampling.BILINEAR)
        left, top = (new_w - size) // 2, (new_h - size) // 2
        return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)


def _class_index_path() -> Path:
    # Late import: utils is a sibling package; keep import of applications light.
    from cnnkit.utils._download import data_dirs, find_or_download

    return find_or_download(
        "imagenet_class_index.json",
        url=CLASS_INDEX_URL,
        sha256=CLASS_INDEX_SHA256,
        subdir="imagenet",
        search_dirs=[d / "imagenet" for d in data_dirs()],
    )


def load_class_index() -> list[tuple[str, str]]:
    """The 1000 ImageNet classes as ``(wordnet_id, name)``, in model output order."""
    path = _class_index_path()
    if path not in _class_index_cache:
        raw = json.loads(path.read_text(encoding="utf-8"))
        _class_index_cache[path] = [tuple(raw[str(i)]) for i in range(len(raw))]
    return _class_index_cache[path]


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Turn ImageNet predictions into readable ``(wordnet_id, name, score)`` lists.

    Args:
        preds: Scores of shape ``(batch, 1000)``: probabilities or logits, NumPy or torch.
        top: How many of the best classes to return per image. Default 5.

    Returns:
        One list per image of ``top`` tuples ``(wordnet_id, class_name, score)``,
        best first, e.g. ``("n02099601", "golden_retriever", 0.91)``.
    """
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise invalid_value(
            "decode_predictions expects a batch of ImageNet predictions.",
            expected="an array of shape (samples, 1000)",
            received={"preds.shape": tuple(preds.shape)},
        )
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)):
        raise invalid_type("decode_predictions: `top` must be an integer.", received={"top": top})
    if not 1 <= top <= 1000:
        raise invalid_value(
            "decode_predictions: `top` is out of range.",
            expected="1 <= top <= 1000",
            received={"top": top},
        )
    index = load_class_index()
    # argsort of the negated scores: stable, vectorised over the whole batch.
    best = np.argsort(-preds, axis=1, kind="stable")[:, :top]
    scores = np.take_along_axis(preds, best, axis=1)
    return [
        [(*index[int(c)], float(s)) for c, s in zip(row, srow, strict=True)]
        for row, srow in zip(best, scores, strict=True)
    ]
