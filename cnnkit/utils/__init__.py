"""Utilities: file download/cache/verify, label encoding, seeding, directory datasets."""

from cnnkit.utils._download import (
    DownloadError,
    cache_dir,
    data_dirs,
    download,
    find_or_download,
    sha256_of,
)

__all__ = [
    "DownloadError",
    "cache_dir",
    "data_dirs",
    "download",
    "find_or_download",
    "sha256_of",
]
