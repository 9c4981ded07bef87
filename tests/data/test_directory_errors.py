"""Bad input to image_dataset_from_directory: each case has its own message."""

from __future__ import annotations

import os

import pytest

from cnnkit.utils import image_dataset_from_directory
from tests.data._images import class_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return class_tree(tmp_path_factory.mktemp("tree"), {"a": 2, "b": 2})


def test_empty_directory(tmp_path):
    with pytest.raises(ValueError, match=r"No images found in directory .*sub-folder per class"):
        image_dataset_from_directory(tmp_path)


def test_directory_without_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "readme.txt").write_text("hi")
    with pytest.raises(ValueError, match=r"No images found.*\.bmp, \.gif, \.jpeg, \.jpg, \.png"):
        image_dataset_from_directory(tmp_path)


def test_missing_directory(tmp_path):
    with pytest.raises(ValueError, match=r"`directory` does not exist.*Received: directory="):
        image_dataset_from_directory(tmp_path / "nope")


def test_file_instead_of_directory(tmp_path):
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"`directory` must be a folder of images, not a file"):
        image_dataset_from_directory(tmp_path / "f.png")


def test_unreadable_directory(tree, monkeypatch):
    real_scandir = os.scandir

    def refuse(path="."):
        if str(path).endswith(os.sep + "b"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(ValueError, match=r"Cannot read the folder .*b: Permission denied"):
        image_dataset_from_directory(tree)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any folder")
def test_unreadable_directory_by_permissions(tmp_path):
    root = class_tree(tmp_path, {"a": 1})
    (root / "a").chmod(0)
    try:
        with pytest.raises(ValueError, match=r"Cannot read the folder"):
            image_dataset_from_directory(root)
    finally:
        (root / "a").chmod(0o755)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"label_mode": "sparse"}, ValueError, r"Unknown label_mode 'sparse'.*'categorical'"),
        (
            {"color_mode": "gray"},
            ValueError,
            r"Unknown color_mode 'gray'.*Did you mean 'grayscale'",
        ),
        ({"interpolation": "cubic"}, ValueError, r"Unknown interpolation 'cubic'.*'bicubic'"),
        ({"image_size": (0, 5)}, ValueError, r"`image_size` must be \(height, width\)"),
        ({"image_size": 64}, ValueError, r"`image_size` must be .*Received: image_size=64"),
        ({"batch_size": 0}, ValueError, r"`batch_size` must be positive"),
        ({"labels": "folders"}, ValueError, r'`labels` must be "inferred", None, or a list'),
        ({"labels": [0.5] * 4}, ValueError, r"`labels` must be a flat list of non-negative int"),
        ({"labels": [0, -1, 0, 1]}, ValueError, r"`labels` must be a flat list of non-negative"),
        ({"labels": None, "class_names": ["a"]}, ValueError, r"`class_names` can only be given"),
        (
            {"class_names": ["a", "c"]},
            ValueError,
            r"must name sub-folders of `directory`.*from \['a', 'b'\]",
        ),
        ({"validation_split": 0.2}, ValueError, r"`subset` and `validation_split` go together"),
        ({"subset": "training"}, ValueError, r"`subset` and `validation_split` go together"),
        ({"subset": "train", "validation_split": 0.2}, ValueError, r"Did you mean 'training'"),
        ({"validation_split": 1.5, "subset": "training"}, ValueError, r"strictly between 0 and 1"),
        ({"validation_split": 0.5, "subset": "both"}, ValueError, r"a `seed` is required"),
        ({"crop_to_aspect_ratio": "yes"}, TypeError, r"`crop_to_aspect_ratio` must be a bool"),
        (
            {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
            ValueError,
            r"Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio`",
        ),
        ({"data_format": "channels_first"}, ValueError, r"Only data_format='channels_last'"),
        (
            {"validation_split": 0.1, "subset": "validation", "seed": 1},
            ValueError,
            r"The validation subset of .* is empty",
        ),
    ],
)
def test_bad_arguments(tree, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        image_dataset_from_directory(tree, **kwargs)
