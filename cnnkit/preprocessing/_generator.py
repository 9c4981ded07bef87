"""``ImageDataGenerator``: Keras' augmentation front end, run on whole batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.preprocessing._flow import NumpyArrayIterator
from cnnkit.preprocessing._flow_directory import DirectoryIterator
from cnnkit.preprocessing._transform import FILL_MODES, Augment, augment_batch

__all__ = ["ImageDataGenerator"]

_EPS = 1e-6  # Keras' guard against dividing by a zero standard deviation
_UNSUPPORTED = ("zca_whitening",)


def _number(name: str, value: Any, *, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or value < low:
        raise invalid_value(
            f"ImageDataGenerator: `{name}` must be a number >= {low:g}.",
            received={name: value},
        )
    return float(value)


def _shift_range(name: str, value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        if not all(isinstance(v, Real) for v in value):
            raise invalid_type(
                f"ImageDataGenerator: `{name}` must hold numbers.", received={name: value}
            )
        return tuple(float(v) for v in value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)  # whole pixels, as Keras treats an int
    return _number(name, value)


def _pair(name: str, value: Any, *, around_one: bool) -> tuple[float, float] | None:
    if value is None:
        return None
    if around_one and isinstance(value, Real) and not isinstance(value, bool):
        return (1.0 - float(value), 1.0 + float(value))
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, Real) for v in value)
    ):
        return (float(value[0]), float(value[1]))
    raise invalid_value(
        f"ImageDataGenerator: `{name}` must be "
        + ("a number or " if around_one else "")
        + "a pair [lower, upper].",
        received={name: value},
    )


class ImageDataGenerator:
    """Keras' ``ImageDataGenerator``: random augmentation plus rescaling, per batch.

    Every batch is augmented at once (one ``grid_sample`` warp, see
    ``_transform``); the geometry matches Keras' per-image SciPy warp (same
    matrices, bilinear, ``"nearest"``/``"reflect"`` fills identical; the
    ``"constant"``/``"wrap"`` fills differ only in the blend at the border).
    Order per batch, as Keras: random transform, ``preprocessing_function``,
    ``rescale``, sample-wise then feature-wise normalisation.

    Args:
        featurewise_center, featurewise_std_normalization: Subtract the
            per-channel mean / divide by the std computed by :meth:`fit`.
        samplewise_center, samplewise_std_normalization: The same per image.
        rotation_range: Degrees. width_shift_range, height_shift_range:
            fraction (< 1), pixels (>= 1), int pixels or a list of choices.
        brightness_range: ``[lower, upper]`` factor. shear_range: degrees.
        zoom_range: ``z`` means ``[1 - z, 1 + z]``, or ``[lower, upper]``.
        channel_shift_range: Random offset added to all channels.
        fill_mode: ``"nearest"`` (default), ``"constant"``, ``"reflect"``, ``"wrap"``.
        cval: Fill value for ``"constant"``.
        horizontal_flip, vertical_flip: Random flips.
        rescale: Multiply by this (e.g. ``1/255``) after augmenting.
        preprocessing_function: Called on each augmented batch as a float32
            NumPy array ``(batch, h, w, c)`` (Keras calls it per image; Keras'
            ``preprocess_input`` functions accept both).
        data_format: Only ``"channels_last"`` (the default) is supported.
        validation_split: Fraction held out for ``subset="validation"``.
        interpolation_order: 1 (bilinear, default) or 0 (nearest).
        dtype: Only ``"float32"``.
    """

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range: Any = 0.0,
        height_shift_range: Any = 0.0,
        brightness_range: Sequence[float] | None = None,
        shear_range: float = 0.0,
        zoom_range: Any = 0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        interpolation_order: int = 1,
        dtype: str | None = None,
    ) -> None:
        del zca_epsilon  # only meaningful with zca_whitening, which is refused below
        if zca_whitening:
            raise invalid_value(
                "ImageDataGenerator: `zca_whitening` is not supported by cnnkit.",
                received={"zca_whitening": zca_whitening},
            )
        if fill_mode not in FILL_MODES:
            raise unknown_name("fill_mode", fill_mode, FILL_MODES, argument="fill_mode")
        if data_format not in (None, "channels_last"):
            raise invalid_value(
                "ImageDataGenerator: only data_format='channels_last' is supported.",
                received={"data_format": data_format},
            )
        if dtype not in (None, "float32"):
            raise invalid_value(
                "ImageDataGenerator: only dtype='float32' is supported.", received={"dtype": dtype}
            )
        if interpolation_order not in (0, 1):
            raise invalid_value(
                "ImageDataGenerator: `interpolation_order` must be 0 (nearest) or 1 (bilinear).",
                received={"interpolation_order": interpolation_order},
            )
        split = _number("validation_split", validation_split)
        if split >= 1:
            raise invalid_value(
                "ImageDataGenerator: `validation_split` must be in [0, 1).",
                received={"validation_split": validation_split},
            )
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise invalid_type(
                "ImageDataGenerator: `preprocessing_function` must be callable.",
                received={"preprocessing_function": preprocessing_function},
            )
        self.augment = Augment(
            rotation_range=_number("rotation_range", rotation_range),
            width_shift_range=_shift_range("width_shift_range", width_shift_range),
            height_shift_range=_shift_range("height_shift_range", height_shift_range),
            shear_range=_number("shear_range", shear_range),
            zoom_range=_pair("zoom_range", zoom_range, around_one=True) or (1.0, 1.0),
            horizontal_flip=bool(horizontal_flip),
            vertical_flip=bool(vertical_flip),
            fill_mode=fill_mode,
            cval=float(cval),
            channel_shift_range=_number("channel_shift_range", channel_shift_range),
            brightness_range=_pair("brightness_range", brightness_range, around_one=False),
            interpolation="nearest" if interpolation_order == 0 else "bilinear",
        )
        self.rescale = None if rescale is None else float(rescale)
        self.preprocessing_function = preprocessing_function
        self.featurewise_center = bool(featurewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_center = bool(samplewise_center)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.validation_split = split
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute the per-channel ``mean``/``std`` for feature-wise normalisation.

        Args:
            x: Images ``(samples, height, width, channels)``.
            augment: Also fit on ``rounds`` randomly augmented copies.
            rounds: Number of augmented passes when ``augment``.
            seed: Seed of those augmentations.
        """
        data = torch.as_tensor(np.asarray(x)).float()
        if data.ndim != 4:
            raise invalid_value(
                "ImageDataGenerator.fit: `x` must be a batch of images (rank 4).",
                received={"x.shape": tuple(data.shape)},
            )
        if augment:
            rng = np.random.default_rng(seed)
            data = torch.cat([augment_batch(data, self.augment, rng) for _ in range(rounds)])
        if self.rescale is not None:
            data = data * self.rescale
        self.mean = data.mean(dim=(0, 1, 2)).numpy()
        self.std = data.std(dim=(0, 1, 2)).numpy()

    def standardize(self, x: Any) -> np.ndarray:
        """``preprocessing_function``, ``rescale`` and normalisation of an image or a batch."""
        arr = np.asarray(x, dtype=np.float32)
        batch = torch.from_numpy(arr if arr.ndim == 4 else arr[None].copy())
        out = self._standardize(batch)
        return out if arr.ndim == 4 else out[0]

    def _standardize(self, x: torch.Tensor, rescaled: bool = False) -> np.ndarray:
        if self.preprocessing_function is not None:
            x = torch.as_tensor(np.asarray(self.preprocessing_function(x.numpy()), np.float32))
        if self.rescale is not None and not rescaled:
            x = x * self.rescale
        if self.samplewise_center:
            x = x - x.mean(dim=(1, 2, 3), keepdim=True)
        if self.samplewise_std_normalization:
            x = x / (x.std(dim=(1, 2, 3), keepdim=True) + _EPS)
        if self.featurewise_center or self.featurewise_std_normalization:
            if self.mean is None or self.std is None:
                raise invalid_value(
                    "ImageDataGenerator: feature-wise normalisation needs statistics; "
                    "call .fit(x_train) first."
                )
            if self.featurewise_center:
                x = x - torch.from_numpy(self.mean)
            if self.featurewise_std_normalization:
                x = x / (torch.from_numpy(self.std) + _EPS)
        return x.contiguous().numpy()

    def transform_batch(self, x: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
        """Augment then standardize a batch ``(n, h, w, c)``; float32 NumPy out.

        A uint8 batch goes into the warp as it is (its one conversion to float
        happens there), and without a ``preprocessing_function`` (which sees the
        0..255 values, as in Keras) ``rescale`` rides along with it.
        """
        if not x.is_floating_point():
            x = x if x.dtype == torch.uint8 else x.to(torch.float32)
        elif x.dtype != torch.float32:
            x = x.to(torch.float32)
        fold = self.rescale if self.preprocessing_function is None else None
        out = augment_batch(x, self.augment, rng, scale=fold)
        return self._standardize(out, rescaled=fold is not None)

    def random_transform(self, x: Any, seed: int | None = None) -> np.ndarray:
        """One image ``(h, w, c)`` with a random transform (no standardisation), as Keras."""
        batch = torch.as_tensor(np.asarray(x, dtype=np.float32))[None]
        rng = np.random.default_rng(seed)
        return augment_batch(batch, self.augment, rng)[0].numpy()

    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        subset: str | None = None,
        ignore_class_split: bool = False,
    ) -> NumpyArrayIterator:
        """Augmented batches of in-memory images; see :class:`NumpyArrayIterator`."""
        return NumpyArrayIterator(
            x,
            y,
            self,
            batch_size=batch_size,
            shuffle=shuffle,
            sample_weight=sample_weight,
            seed=seed,
            subset=subset,
            ignore_class_split=ignore_class_split,
        )

    def flow_from_directory(self, directory: Any, **kwargs: Any) -> DirectoryIterator:
        """Augmented batches from ``directory/<class>/*``; see :class:`DirectoryIterator`."""
        return DirectoryIterator(directory, self, **kwargs)
