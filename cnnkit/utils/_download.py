"""Find, download, verify and cache data files (datasets, pretrained weights).

Every file cnnkit reads from disk or the network is checked against a SHA-256
digest before it is used. Downloads stream into a temporary file in the
destination folder and are renamed into place only once complete and verified,
so an interrupted or corrupted transfer never leaves a file that looks valid.

Where files are looked for, in order (see :func:`find_or_download`):

1. the caller's ``search_dirs`` (dataset loaders pass the ``CNNKIT_DATA`` dirs);
2. the cache, ``$CNNKIT_HOME/<subdir>`` or the platformdirs user cache;
3. the official URL, downloaded into the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import platformdirs

from cnnkit._errors import format_error, invalid_value

__all__ = [
    "DownloadError",
    "cache_dir",
    "data_dirs",
    "download",
    "find_or_download",
    "sha256_of",
]

_CHUNK = 1 << 20  # 1 MiB: large enough that per-chunk Python overhead is negligible
_HEX64 = re.compile(r"[0-9a-f]{64}")


class DownloadError(ConnectionError):
    """A transfer failed (offline, refused, HTTP error or cut short).

    A subclass of :class:`ConnectionError` (and so :class:`OSError`); the
    message names the URL and where to put the file by hand.
    """


def cache_dir(subdir: str = "") -> Path:
    """The cache folder for downloaded files; it is not created here.

    Args:
        subdir: A sub-folder such as ``"datasets/mnist"`` or ``"weights"``.

    Returns:
        ``$CNNKIT_HOME/subdir`` when ``CNNKIT_HOME`` is set, otherwise
        ``platformdirs.user_cache_dir("cnnkit")/subdir``.
    """
    home = os.environ.get("CNNKIT_HOME")
    root = Path(home).expanduser() if home else Path(platformdirs.user_cache_dir("cnnkit"))
    return root / subdir if subdir else root


def data_dirs() -> list[Path]:
    """The existing directories listed in ``$CNNKIT_DATA`` (``os.pathsep``-separated), in order."""
    entries = os.environ.get("CNNKIT_DATA", "").split(os.pathsep)
    # Resolved, so a relative entry (CI: ../shared/data) survives a later chdir or symlink.
    return [Path(e).expanduser().resolve() for e in entries if e and Path(e).expanduser().is_dir()]


def sha256_of(path: Path) -> str:
    """The lowercase hex SHA-256 digest of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256_argument(sha256: str) -> str:
    if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256.lower()):
        raise invalid_value(
            "`sha256` must be the file's SHA-256 digest.",
            expected="64 hexadecimal characters",
            received={"sha256": sha256},
        )
    return sha256.lower()


def _offline_hint(url: str, dest: Path) -> str:
    return (
        f"If this machine is offline, download {url} on another machine and place it at "
        f"{dest} (or in a folder listed in the CNNKIT_DATA environment variable, with the "
        "layout the loader expects)."
    )


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int | None, label: str) -> Iterator:
    """Yield ``advance(n)``; a rich progress bar on stderr when ``enabled``."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(
        "[progress.description]{task.description}", *columns, console=Console(stderr=True)
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.update(task, advance=n)


def _stream(response: BinaryIO, out: BinaryIO, total: int | None, progress: bool, label: str):
    """Copy ``response`` to ``out``; return (bytes written, sha256 hexdigest)."""
    digest = hashlib.sha256()
    written = 0
    with _progress_bar(progress, total, label) as advance:
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            advance(len(chunk))
    return written, digest.hexdigest()


def download(
    url: str, dest: Path, sha256: str, *, progress: bool = True, timeout: float = 60
) -> Path:
    """Download ``url`` to ``dest`` atomically and verify its SHA-256.

    The bytes stream into a temporary file in ``dest``'s folder (created if
    needed); only when the transfer is complete and the digest matches is it
    flushed, fsynced and renamed to ``dest`` with :func:`os.replace`.

    Args:
        url: The address to fetch (``http``, ``https`` or ``file``).
        dest: Where the verified file ends up.
        sha256: The expected digest, 64 hex characters.
        progress: Show a rich progress bar on stderr. Default True.
        timeout: Socket timeout in seconds for connecting and each read. Default 60.

    Returns:
        ``dest``.

    Raises:
        ValueError: The downloaded bytes do not have the expected digest (the
            temporary file is deleted; nothing is left at ``dest``).
        DownloadError: The server could not be reached, answered with an HTTP
            error, or the transfer ended early (the partial file is deleted).
    """
    expected = _check_sha256_argument(sha256)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "cnnkit"})
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    written, actual = _stream(response, out, total, progress, dest.name)
            except urllib.error.HTTPError as err:
                raise DownloadError(
                    f"Could not download {url}: the server answered HTTP {err.code} "
                    f"({err.reason}). {_offline_hint(url, dest)}"
                ) from err
            except (OSError, http.client.HTTPException) as err:
                # URLError (an OSError) wraps refused or unresolvable hosts;
                # IncompleteRead (an HTTPException), a reset or a timeout comes
                # from a connection dropped mid-body.
                reason = getattr(err, "reason", None) or repr(err)
                raise DownloadError(
                    f"Could not download {url}: {reason}. {_offline_hint(url, dest)}"
                ) from err
            if total is not None and written != total:
                raise DownloadError(
                    f"Download of {url} was interrupted: received {written} of {total} "
                    f"bytes. The partial file was deleted; run again to retry. "
                    f"{_offline_hint(url, dest)}"
                )
            if actual != expected:
                raise ValueError(
                    format_error(
                        f"The file downloaded from {url} does not have the expected SHA-256 "
                        "digest; it was deleted.",
                        expected=f"sha256={expected}",
                        received={"sha256": actual},
                        hint="The server may have served a different file, or the transfer "
                        "was corrupted. Try again; if it persists, the URL is serving "
                        "something else.",
                    )
                )
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def find_or_download(
    filename: str,
    *,
    url: str | Sequence[str],
    sha256: str,
    subdir: str,
    search_dirs: Sequence[Path] = (),
    progress: bool = True,
) -> Path:
    """Return a verified local copy of ``filename``, downloading it only if needed.

    Looks in each of ``search_dirs``, then in ``cache_dir(subdir)``, and
    finally downloads ``url`` into ``cache_dir(subdir)``. Every file returned
    has the expected SHA-256.

    Args:
        filename: The file's name, e.g. ``"train-images-idx3-ubyte.gz"``.
        url: The official address to download it from, or several mirrors
            tried in order until one can be reached.
        sha256: The expected digest, 64 hex characters.
        subdir: The cache sub-folder, e.g. ``"datasets/mnist"``.
        search_dirs: Folders to look in first, e.g. ``[d / "mnist" for d in data_dirs()]``.
        progress: Show a progress bar while downloading. Default True.

    Returns:
        The path of the verified file.

    Raises:
        ValueError: A file found in ``search_dirs`` has the wrong digest (it is
            not touched: it is the user's file), or the download has the wrong digest.
        DownloadError: The file is nowhere locally and no URL can be reached;
            the message says where to place the file by hand.
        FileNotFoundError: The file is nowhere locally and ``url`` is empty
            (a file that cannot be downloaded).
    """
    expected = _check_sha256_argument(sha256)
    urls = [url] if isinstance(url, str) else list(url)
    for folder in search_dirs:
        candidate = Path(folder) / filename
        if candidate.is_file():
            actual = sha256_of(candidate)
            if actual != expected:
                raise ValueError(
                    format_error(
                        f"The file {candidate} is not the expected {filename}: its SHA-256 "
                        "digest differs.",
                        expected=f"sha256={expected}",
                        received={"sha256": actual},
                        hint="Replace it with the official file, or remove it so that cnnkit "
                        f"fetches the file into its cache (from {urls[0] if urls else 'nowhere'}).",
                    )
                )
            return candidate
    cached = cache_dir(subdir) / filename
    if cached.is_file():
        if sha256_of(cached) == expected:
            return cached
        warnings.warn(
            f"The cached file {cached} has the wrong SHA-256 digest (corrupted or "
            "incomplete); deleting it and downloading it again.",
            stacklevel=2,
        )
        cached.unlink()
    places = [str(cached)] + [str(Path(d) / filename) for d in search_dirs]
    if not urls:
        raise FileNotFoundError(
            f"{filename} was not found in any of: {', '.join(places)}. It cannot be "
            "downloaded; set the CNNKIT_DATA environment variable to the folder that holds it."
        )
    failures = []
    for u in urls:
        try:
            return download(u, cached, expected, progress=progress)
        except DownloadError as err:
            failures.append(err)
    if len(failures) == 1 and not search_dirs:
        raise failures[0]
    tried = "; ".join(str(f).split(" If this machine is offline")[0] for f in failures)
    raise DownloadError(
        f"{filename} was not found locally and could not be downloaded. {tried} If this "
        f"machine is offline, download {urls[0]} on another machine and place it at one of: "
        + ", ".join(places)
        + " (a folder in the CNNKIT_DATA environment variable is searched as well)."
    ) from failures[-1]
