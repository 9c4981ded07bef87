"""cnnkit cam: saved models and zoo names, images of any size in one batch, a real PNG."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from cnnkit.cli import main
from tests.explain.conftest import blob_images, small_cnn


@pytest.fixture
def image_files(tmp_path):
    x, _ = blob_images(2, seed=31)
    paths = []
    for i, size in enumerate([(16, 16), (40, 23)]):  # any size: resized to the input
        path = tmp_path / f"img{i}.png"
        Image.fromarray((x[i, ..., 0] * 255).astype(np.uint8)).resize(size).save(path)
        paths.append(str(path))
    return paths


def test_saved_model_grid_of_images_by_methods(tmp_path, image_files, capsys):
    model_file = tmp_path / "model.cnnkit"
    small_cnn().save(model_file)
    out = tmp_path / "cam.png"
    code = main(
        ["cam", str(model_file), *image_files, "--method", "gradcam,eigencam", "-o", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "layer: conv2d_1\n" in printed
    assert printed.count("(p=") == 2 and f"wrote {out}" in printed
    with Image.open(out) as png:
        assert png.format == "PNG" and png.width > png.height  # 3 columns, 2 rows


def test_zoo_name_one_image_three_panels(tmp_path, image_files, capsys):
    out = tmp_path / "one.png"
    assert main(["cam", "lenet5", image_files[1], "--target", "3", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "class 3 (p=" in printed
    with Image.open(out) as png:
        assert png.format == "PNG"


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--method", "gradcamm"], r"Unknown CAM method 'gradcamm'.*--method="),
        (["--layer", "nope"], r"Unknown layer .*'nope'"),
        (["--target", "12"], r"out of range.*Received: target=12"),
    ],
)
def test_bad_options_exit_2_with_the_template_message(image_files, extra, match, capsys):
    assert main(["cam", "lenet5", image_files[0], *extra]) == 2
    assert re.search(match, capsys.readouterr().err)
