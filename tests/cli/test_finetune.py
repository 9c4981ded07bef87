"""cnnkit finetune: artifacts on a tiny generated folder (train/ + validation/ or one folder)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.cli import main
from cnnkit.models import load_model
from tests.transfer._models import SIZE, two_class_images


def _folder(root, n: int, seed: int) -> None:
    x, y = two_class_images(n, seed)
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        folder = root / ("dark", "bright")[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(folder / f"{i:03d}.png")


def _args(data, out, *extra: str) -> list[str]:
    return [
        "finetune", "--model", "efficientnet_lite0", "--weights", "none", "--data", str(data),
        "--image-size", str(SIZE), "--head-epochs", "2", "--epochs", "1", "--batch-size", "8",
        "--out", str(out), "--verbose", "0", *extra,
    ]  # fmt: skip


def test_train_validation_folders_write_every_artifact(tmp_path, capsys):
    _folder(tmp_path / "data" / "train", 16, 0)
    _folder(tmp_path / "data" / "validation", 8, 1)
    out = tmp_path / "run"
    assert main(_args(tmp_path / "data", out)) == 0
    printed = capsys.readouterr().out
    assert "validation accuracy of the saved model:" in printed and "fine-tune" in printed
    names = {p.name for p in out.iterdir()}
    assert names == {"model.cnnkit", "classes.json", "report.txt", "curves.png", "confusion.png"}
    assert json.loads((out / "classes.json").read_text()) == ["bright", "dark"]
    for png in ("curves.png", "confusion.png"):
        with Image.open(out / png) as image:
            assert image.format == "PNG"
    model = load_model(out / "model.cnnkit").eval()
    probs = model(torch.rand(2, SIZE, SIZE, 3) * 255)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2))


def test_single_folder_is_split(tmp_path, capsys):
    _folder(tmp_path / "data", 20, 0)
    out = tmp_path / "run"
    assert main(_args(tmp_path / "data", out, "--validation-split", "0.25", "--epochs", "0")) == 0
    report = (out / "report.txt").read_text()
    assert "fine-tune" not in report and "cached: 15 training images" in report


def test_user_errors_exit_2(tmp_path, capsys):
    assert main(_args(tmp_path / "missing", tmp_path / "out")) == 2
    assert "`--data` is not a folder" in capsys.readouterr().err
    _folder(tmp_path / "data" / "train", 4, 0)
    (tmp_path / "data" / "validation" / "other").mkdir(parents=True)
    Image.new("RGB", (SIZE, SIZE)).save(tmp_path / "data" / "validation" / "other" / "a.png")
    assert main(_args(tmp_path / "data", tmp_path / "out")) == 2
    assert "must hold the same class folders" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--help"])
def test_help_lists_the_options(flag, capsys):
    with pytest.raises(SystemExit):
        main(["finetune", flag])
    text = capsys.readouterr().out
    assert "--head-epochs" in text and "--unfreeze-from" in text and "--no-cache" in text
    assert "--augment" in text and "--schedule" in text and "--precision" in text


def test_augment_schedule_and_precision_options_reach_fine_tune(tmp_path, capsys):
    _folder(tmp_path / "data" / "train", 16, 0)
    _folder(tmp_path / "data" / "validation", 8, 1)
    default = tmp_path / "default"
    assert main(_args(tmp_path / "data", default, "--precision", "float32")) == 0
    report = (default / "report.txt").read_text()
    assert "cached: 16 training images and their mirror images" in report
    assert "cosine decay to 0" in report and "float32)" in report
    plain = tmp_path / "plain"
    extra = ("--augment", "none", "--schedule", "none", "--precision", "bf16")
    assert main(_args(tmp_path / "data", plain, *extra)) == 0
    report = (plain / "report.txt").read_text()
    assert "cached: 16 training images →" in report and "bf16)" in report
    assert "cosine" not in report
    with pytest.raises(SystemExit):
        main(_args(tmp_path / "data", plain, "--augment", "rotate"))
    assert "invalid choice: 'rotate'" in capsys.readouterr().err
