"""image_dataset_from_directory on generated folders: labels, colours, bad files, order."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.utils import image_dataset_from_directory
from tests.data._images import class_tree, solid, truncated_jpeg


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """3 classes with 4, 3 and 5 images of 12×10 pixels."""
    return class_tree(tmp_path_factory.mktemp("tree"), {"cat": 4, "dog": 3, "emu": 5})


def _all(ds):
    xs, ys = zip(*list(ds), strict=True)
    return torch.cat(xs), torch.cat(ys)


def test_inferred_int_labels_and_exact_pixels(tree):
    ds = image_dataset_from_directory(
        tree, image_size=(10, 12), batch_size=5, shuffle=False, num_workers=0
    )
    assert ds.class_names == ["cat", "dog", "emu"] and len(ds) == 3
    assert [p.split("/")[-2:] for p in ds.file_paths[:2]] == [
        ["cat", "000.png"],
        ["cat", "001.png"],
    ]
    x, y = _all(ds)
    assert x.shape == (12, 10, 12, 3) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert y.tolist() == [0] * 4 + [1] * 3 + [2] * 5
    # image i of class k is the solid colour (10k + i, i, 200); same size, so no resampling
    assert x[5, 3, 7].tolist() == [11.0, 1.0, 200.0]
    assert x[11, 0, 0].tolist() == [24.0, 4.0, 200.0]


@pytest.mark.parametrize(
    ("mode", "shape", "dtype", "first"),
    [
        ("categorical", (12, 3), torch.float32, [1.0, 0.0, 0.0]),
        ("int", (12,), torch.int64, 0),
    ],
)
def test_label_modes(tree, mode, shape, dtype, first):
    ds = image_dataset_from_directory(
        tree, label_mode=mode, image_size=(4, 4), shuffle=False, num_workers=0
    )
    _, y = _all(ds)
    assert y.shape == shape and y.dtype == dtype and y[0].tolist() == first


def test_binary_labels_and_class_names_order(tmp_path):
    root = class_tree(tmp_path, {"a": 2, "b": 3})
    ds = image_dataset_from_directory(
        root,
        label_mode="binary",
        class_names=["b", "a"],
        image_size=(4, 4),
        shuffle=False,
        num_workers=0,
    )
    _, y = _all(ds)
    assert ds.class_names == ["b", "a"]
    assert y.shape == (5, 1) and y.dtype == torch.float32
    assert y[:, 0].tolist() == [0, 0, 0, 1, 1]


def test_binary_needs_two_classes(tree):
    with pytest.raises(ValueError, match=r'label_mode="binary" needs exactly 2 classes'):
        image_dataset_from_directory(tree, label_mode="binary")


def test_no_labels_and_explicit_labels(tree):
    ds = image_dataset_from_directory(
        tree, labels=None, image_size=(4, 4), shuffle=False, num_workers=0, batch_size=12
    )
    (x,) = list(ds)
    assert isinstance(x, torch.Tensor) and x.shape == (12, 4, 4, 3)
    given = np.arange(12)[::-1].tolist()
    ds = image_dataset_from_directory(
        tree, labels=given, label_mode="int", image_size=(4, 4), shuffle=False, num_workers=0
    )
    assert _all(ds)[1].tolist() == given
    as_array = image_dataset_from_directory(
        tree, labels=np.array(given), image_size=(4, 4), shuffle=False, num_workers=0
    )
    assert _all(as_array)[1].tolist() == given


def test_explicit_labels_must_match_file_count(tree):
    with pytest.raises(ValueError, match=r"one integer label per image.*len\(labels\)=2"):
        image_dataset_from_directory(tree, labels=[0, 1])


@pytest.mark.parametrize(
    ("mode", "color", "expected"),
    [
        ("L", 90, {"rgb": [90, 90, 90], "grayscale": [90], "rgba": [90, 90, 90, 255]}),
        ("RGBA", (10, 20, 30, 40), {"rgb": [10, 20, 30], "rgba": [10, 20, 30, 40]}),
        ("RGB", (100, 150, 200), {"grayscale": [141], "rgba": [100, 150, 200, 255]}),
    ],
)
def test_color_conversions(tmp_path, mode, color, expected):
    solid(tmp_path / "c" / "img.png", color, (6, 6), mode)
    for color_mode, pixel in expected.items():
        ds = image_dataset_from_directory(
            tmp_path, color_mode=color_mode, image_size=(6, 6), num_workers=0, shuffle=False
        )
        x, _ = next(iter(ds))
        assert x[0, 2, 2].tolist() == pixel, color_mode


def test_palette_with_transparency_to_rgb(tmp_path):
    img = Image.new("P", (6, 6), 1)
    img.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    img.info["transparency"] = 0
    img.save(tmp_path / "p.png", transparency=0)
    (tmp_path / "c").mkdir()
    (tmp_path / "p.png").rename(tmp_path / "c" / "p.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = image_dataset_from_directory(tmp_path, image_size=(6, 6), num_workers=0)
        x, _ = next(iter(ds))
    assert x[0, 0, 0].tolist() == [200, 100, 50]


def test_resize_and_crop_to_aspect_ratio(tmp_path):
    # 30 wide × 10 high: left third red, middle green, right third blue
    arr = np.zeros((10, 30, 3), np.uint8)
    arr[:, :10, 0], arr[:, 10:20, 1], arr[:, 20:, 2] = 255, 255, 255
    (tmp_path / "c").mkdir()
    Image.fromarray(arr).save(tmp_path / "c" / "wide.png")
    kw = {"image_size": (10, 10), "num_workers": 0, "interpolation": "nearest"}
    cropped, _ = next(iter(image_dataset_from_directory(tmp_path, crop_to_aspect_ratio=True, **kw)))
    stretched, _ = next(iter(image_dataset_from_directory(tmp_path, **kw)))
    assert cropped.shape == stretched.shape == (1, 10, 10, 3)
    assert (cropped[0, :, :, 1] == 255).all()  # only the green centre square is kept
    assert stretched[0, 5, 0].tolist() == [255, 0, 0] and stretched[0, 5, 9].tolist() == [0, 0, 255]


def test_corrupt_files_skipped_in_workers_with_one_warning(tmp_path):
    root = class_tree(tmp_path, {"a": 5, "b": 5})
    truncated_jpeg(root / "a" / "cut.jpg")
    (root / "b" / "notes.jpg").write_text("not an image")
    ds = image_dataset_from_directory(root, image_size=(8, 8), batch_size=4, seed=0)
    assert len(ds.file_paths) == 12 and len(ds) == 3
    for _ in range(2):  # two epochs, one warning
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = list(ds)
        assert sum(b[0].shape[0] for b in batches) == 10
        assert all(b[0].shape[0] == b[1].shape[0] for b in batches)  # well-formed
        messages = [str(w.message) for w in caught]
        if _ == 0:
            assert len(messages) == 1
            assert "Skipped 2 image file(s) that could not be decoded" in messages[0]
            assert "cut.jpg" in messages[0] and "notes.jpg" in messages[0]
        else:
            assert messages == []
    ds.close()


def test_shuffle_reshuffles_each_epoch_and_repeats_with_seed(tree):
    def epochs(ds):
        return [_all(ds)[0][:, 0, 0, 0].tolist() for _ in range(2)]

    kw = {"image_size": (2, 2), "batch_size": 4, "seed": 11, "num_workers": 0}
    a, b = (
        epochs(image_dataset_from_directory(tree, **kw)),
        epochs(image_dataset_from_directory(tree, **kw)),
    )
    assert a == b and a[0] != a[1] and sorted(a[0]) == sorted(a[1])


def test_keras_validation_split_rule(tree):
    kw = {"image_size": (2, 2), "seed": 5, "validation_split": 0.25, "num_workers": 0}
    train, val = image_dataset_from_directory(tree, subset="both", **kw)
    assert len(train.file_paths) == 9 and len(val.file_paths) == 3  # int(0.25 * 12) = 3
    assert set(train.file_paths).isdisjoint(val.file_paths)
    # Keras: shuffle the sorted file list with RandomState(seed), validation = the tail
    files = sorted(train.file_paths + val.file_paths)
    np.random.RandomState(5).shuffle(files)
    assert val.file_paths == files[-3:] and train.file_paths == files[:-3]
    only_val = image_dataset_from_directory(tree, subset="validation", **kw)
    assert only_val.file_paths == val.file_paths


def test_unbatched_yields_single_samples(tree):
    ds = image_dataset_from_directory(
        tree, batch_size=None, image_size=(3, 3), shuffle=False, num_workers=0
    )
    samples = list(ds)
    assert len(ds) == 12 == len(samples)
    assert samples[0][0].shape == (3, 3, 3) and samples[0][1].shape == ()


def test_class_names_subset_uses_only_those_folders(tree):
    ds = image_dataset_from_directory(
        tree, class_names=["emu", "cat"], image_size=(2, 2), shuffle=False, num_workers=0
    )
    assert ds.class_names == ["emu", "cat"] and len(ds.file_paths) == 9
    assert _all(ds)[1].tolist() == [0] * 5 + [1] * 4


def test_keras_tutorial_chain_map_cache_shuffle_prefetch_take(tmp_path):
    from cnnkit.layers import Rescaling

    root = class_tree(tmp_path, {"a": 3, "b": 3})
    ds = image_dataset_from_directory(
        root, image_size=(4, 4), batch_size=4, shuffle=False, num_workers=0
    )
    normalized = ds.map(lambda x, y: (Rescaling(1 / 255)(x), y))
    xb, yb = next(iter(normalized))
    assert float(xb.max()) <= 1.0 and yb.tolist() == [0, 0, 0, 1]
    assert normalized.class_names == ["a", "b"] and len(normalized) == 2

    tuned = ds.cache().shuffle(1000, seed=4).prefetch(buffer_size=-1)
    assert tuned is ds

    def samples(epoch):  # (red value, label) per image, in the order served
        x, y = epoch
        return list(zip(x[:, 0, 0, 0].tolist(), y.tolist(), strict=True))

    first = samples(_all(tuned))
    for f in root.rglob("*.png"):
        f.unlink()  # later epochs must come from the memory cache
    second, third = samples(_all(tuned)), samples(_all(tuned))
    assert sorted(second) == sorted(third) == sorted(first)
    assert second != third  # still re-shuffled every epoch

    (one,) = list(ds.take(1))
    assert len(ds.take(1)) == 1 and one[0].shape == (4, 4, 4, 3)
    assert len(ds.take(-1)) == 2


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda ds: ds.cache("file.tfcache"), ValueError, r"only the in-memory cache"),
        (lambda ds: ds.take(-2), ValueError, r"`count` must be an integer >= -1"),
        (lambda ds: ds.map(3), TypeError, r"`fn` must be callable"),
        (
            lambda ds: ds.shuffle(10, reshuffle_each_iteration=False),
            ValueError,
            r"only reshuffle_each_iteration=True",
        ),
    ],
)
def test_dataset_method_errors(tree, call, error, pattern):
    ds = image_dataset_from_directory(tree, image_size=(2, 2), num_workers=0)
    with pytest.raises(error, match=pattern):
        call(ds)


def test_verbose_prints_keras_summary_lines(tree, capsys):
    image_dataset_from_directory(
        tree, image_size=(2, 2), seed=1, validation_split=0.25, subset="both", num_workers=0
    )
    assert capsys.readouterr().out.splitlines() == [
        "Found 12 files belonging to 3 classes.",
        "Using 9 files for training.",
        "Using 3 files for validation.",
    ]
    image_dataset_from_directory(tree, image_size=(2, 2), verbose=False, num_workers=0)
    assert capsys.readouterr().out == ""


def test_pad_to_aspect_ratio_letterboxes(tmp_path):
    solid(tmp_path / "c" / "wide.png", (250, 250, 250), size=(40, 10))
    ds = image_dataset_from_directory(
        tmp_path, image_size=(20, 20), pad_to_aspect_ratio=True, num_workers=0, verbose=False
    )
    x, _ = next(iter(ds))
    rows = x[0, :, 10, 0]  # a 20×5 stripe of the image, centred on zeros
    assert rows[:7].eq(0).all() and rows[8:12].eq(250).all() and rows[-7:].eq(0).all()


def test_follow_links(tmp_path):
    elsewhere = class_tree(tmp_path / "elsewhere", {"x": 2})
    root = class_tree(tmp_path / "root", {"a": 1})
    (root / "a" / "linked").symlink_to(elsewhere / "x", target_is_directory=True)
    kw = {"image_size": (2, 2), "num_workers": 0, "verbose": False}
    assert len(image_dataset_from_directory(root, **kw).file_paths) == 1
    assert len(image_dataset_from_directory(root, follow_links=True, **kw).file_paths) == 3


def test_sixteen_bit_grey_png(tmp_path):
    (tmp_path / "c").mkdir()
    Image.fromarray(np.full((4, 4), 51400, dtype=np.uint16)).save(tmp_path / "c" / "g16.png")
    ds = image_dataset_from_directory(
        tmp_path, image_size=(4, 4), color_mode="grayscale", num_workers=0, verbose=False
    )
    x, _ = next(iter(ds))
    assert x[0, 0, 0].tolist() == [200.0]  # 51400 / 257 -> 8 bits
