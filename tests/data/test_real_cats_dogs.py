"""image_dataset_from_directory on the real cats-vs-dogs JPEGs (skipped where absent)."""

from __future__ import annotations

import warnings

import pytest
import torch

from cnnkit.utils import image_dataset_from_directory

pytestmark = pytest.mark.slow


def test_validation_folder_of_cats_and_dogs(shared_data):
    folder = shared_data / "cats-vs-dogs" / "validation"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every one of these JPEGs must decode
        ds = image_dataset_from_directory(folder, image_size=(64, 64), batch_size=32, seed=1)
        batches = list(ds)
    assert ds.class_names == ["cats", "dogs"] and len(ds) == 10 == len(batches)
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    assert x.shape == (300, 64, 64, 3) and x.dtype == torch.float32
    assert torch.bincount(y).tolist() == [150, 150]
    assert x.min() >= 0 and x.max() <= 255 and x.std() > 30  # real photos, not blanks
    # unshuffled, the first batch is all cats (class 0)
    first = next(iter(image_dataset_from_directory(folder, image_size=(8, 8), shuffle=False)))
    assert first[1].tolist() == [0] * 32
    ds.close()
