"""``cnnkit filter``: end to end through the dispatcher, output PNG checked."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from cnnkit.cli import main
from cnnkit.ops import apply_kernel, sample_image


def test_filter_test_card_default_kernel(tmp_path, capsys):
    out = tmp_path / "edges.png"
    assert main(["filter", "-o", str(out)]) == 0
    written = np.asarray(Image.open(out))
    np.testing.assert_array_equal(written, apply_kernel(sample_image(), "sobel_x", scale="abs"))
    text = capsys.readouterr().out
    assert "kernel sobel_x, scale abs (chosen from the kernel's sum" in text


def test_filter_image_file_custom_kernel_and_gray(tmp_path, capsys):
    src = tmp_path / "card.png"
    Image.fromarray(sample_image()).save(src)
    out = tmp_path / "sub" / "blur.png"
    args = ["filter", str(src), "--kernel", "0 0 0; 0 2 0; 0 0 0", "--gray", "--scale", "rescale"]
    assert main([*args, "-o", str(out)]) == 0
    written = np.asarray(Image.open(out))
    assert written.shape == (256, 256)
    assert written.min() == 0 and written.max() == 255
    assert "kernel custom, scale rescale)" in capsys.readouterr().out


def test_filter_default_output_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["filter", "--kernel", "gaussian_3x3"]) == 0
    assert (tmp_path / "test_card_gaussian_3x3.png").is_file()


def test_filter_real_photo(shared_data, tmp_path):
    photos = sorted((shared_data / "cats-vs-dogs").rglob("*.jpg"))
    if not photos:
        pytest.skip("no cats-vs-dogs JPEGs under the shared data folder")
    out = tmp_path / "cat.png"
    assert main(["filter", str(photos[0]), "--kernel", "gaussian_5x5", "-o", str(out)]) == 0
    assert Image.open(out).size == Image.open(photos[0]).size


def test_filter_list(capsys):
    assert main(["filter", "--list"]) == 0
    assert "sobel_x" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--kernel", "sobelx"], r"Unknown kernel 'sobelx'.*Did you mean 'sobel_x'"),
        (["--kernel", "1 2; 3"], r"rows of `--kernel` have different lengths"),
        (["no_such_file.png"], r"no such image file"),
    ],
)
def test_filter_errors_are_one_line(args, match, capsys, tmp_path):
    assert main(["filter", *args, "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnkit filter: error:")
    assert re.search(match, err)


def test_filter_rejects_a_non_image(tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert main(["filter", str(bad), "-o", str(tmp_path / "x.png")]) == 2
    assert "is not an image file Pillow can read" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_filter_output_format_follows_the_suffix(tmp_path):
    out = tmp_path / "blur.jpg"
    assert main(["filter", "--kernel", "box_blur", "-o", str(out)]) == 0
    assert Image.open(out).format == "JPEG"
