"""Transfer learning: freeze a pretrained body, give it a new head, extract features, fine-tune.

The usual recipe in one call::

    from cnnkit.applications import EfficientNetLite0
    from cnnkit.transfer import fine_tune
    from cnnkit.utils import image_dataset_from_directory

    train = image_dataset_from_directory("photos/train", image_size=(224, 224))
    val = image_dataset_from_directory("photos/validation", image_size=(224, 224))
    result = fine_tune(EfficientNetLite0(weights="imagenet"), train, val)
    print(result)  # the report; result.model is the trained model
"""

from cnnkit.transfer._extract import extract_features
from cnnkit.transfer._fine_tune import FineTuneResult, fine_tune
from cnnkit.transfer._head import ImagePreprocessing, replace_head
from cnnkit.transfer._units import freeze, model_units, unfreeze

__all__ = [
    "FineTuneResult",
    "ImagePreprocessing",
    "extract_features",
    "fine_tune",
    "freeze",
    "model_units",
    "replace_head",
    "unfreeze",
]
