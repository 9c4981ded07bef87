"""Data pipelines: in-memory arrays batched by index gather, folders of images
decoded in worker processes, and Keras' deterministic shuffling and split rules."""

from cnnkit.data._arrays import ArrayBatches
from cnnkit.data._directory import DirectoryDataset
from cnnkit.data._from_directory import image_dataset_from_directory
from cnnkit.data._order import epoch_permutation
from cnnkit.data._scan import IMAGE_FORMATS, list_image_files

__all__ = [
    "IMAGE_FORMATS",
    "ArrayBatches",
    "DirectoryDataset",
    "epoch_permutation",
    "image_dataset_from_directory",
    "list_image_files",
]
