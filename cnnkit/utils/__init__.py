"""Utilities: file download/cache/verify, label encoding, seeding, directory datasets."""

from cnnkit.data import image_dataset_from_directory
from cnnkit.utils._download import (
    DownloadError,
    cache_dir,
    data_dirs,
    download,
    find_or_download,
    sha256_of,
)
from cnnkit.utils._labels import to_categorical
from cnnkit.utils._plot_model import plot_model
from cnnkit.utils._seed import set_random_seed
from cnnkit.utils._sequence import PyDataset, Sequence

__all__ = [
    "DownloadError",
    "PyDataset",
    "Sequence",
    "cache_dir",
    "data_dirs",
    "download",
    "find_or_download",
    "image_dataset_from_directory",
    "plot_model",
    "set_random_seed",
    "sha256_of",
    "to_categorical",
]
