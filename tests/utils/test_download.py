"""Download, verify and cache against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from cnnkit.utils import (
    DownloadError,
    cache_dir,
    data_dirs,
    download,
    find_or_download,
    sha256_of,
)
from tests.utils._http import closed_port_url, serve

PAYLOAD = os.urandom(3 * (1 << 20) + 123)  # > 1 chunk, so streaming loops
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_cache_dir_follows_cnnkit_home(home):
    assert cache_dir() == home
    assert cache_dir("datasets/mnist") == home / "datasets" / "mnist"


def test_cache_dir_default_is_platformdirs(monkeypatch):
    import platformdirs

    monkeypatch.delenv("CNNKIT_HOME", raising=False)
    assert cache_dir("w") == Path(platformdirs.user_cache_dir("cnnkit")) / "w"


def test_data_dirs_keeps_existing_entries_in_order(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    value = os.pathsep.join([str(b), str(tmp_path / "missing"), "", str(a)])
    monkeypatch.setenv("CNNKIT_DATA", value)
    assert data_dirs() == [b, a]
    monkeypatch.delenv("CNNKIT_DATA")
    assert data_dirs() == []


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    assert sha256_of(path) == DIGEST


def test_download_then_cached_without_request(home):
    with serve({"data.bin": PAYLOAD}) as server:
        url = f"{server.url}/data.bin"
        path = find_or_download("data.bin", url=url, sha256=DIGEST, subdir="ds", progress=True)
        assert path == home / "ds" / "data.bin"
        assert path.read_bytes() == PAYLOAD
        again = find_or_download("data.bin", url=url, sha256=DIGEST, subdir="ds")
        assert again == path
        assert server.requests == ["data.bin"]  # the second call used the cache
    assert [p.name for p in path.parent.iterdir()] == ["data.bin"]  # no temp files left


def test_search_dirs_come_before_cache_and_network(tmp_path, home):
    local = tmp_path / "shared"
    local.mkdir()
    (local / "data.bin").write_bytes(PAYLOAD)
    url = closed_port_url("data.bin")  # would fail if it were used
    found = find_or_download(
        "data.bin", url=url, sha256=DIGEST, subdir="ds", search_dirs=[tmp_path / "no", local]
    )
    assert found == local / "data.bin"


def test_wrong_local_file_is_named_and_kept(tmp_path, home):
    local = tmp_path / "shared"
    local.mkdir()
    (local / "data.bin").write_bytes(b"not it")
    with pytest.raises(ValueError, match=r"shared/data.bin is not the expected data.bin"):
        find_or_download(
            "data.bin", url="http://x/data.bin", sha256=DIGEST, subdir="ds", search_dirs=[local]
        )
    assert (local / "data.bin").read_bytes() == b"not it"


def test_wrong_cached_file_is_deleted_and_downloaded_again(home):
    cached = home / "ds" / "data.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD[:1000])  # e.g. left by a crashed older tool
    with serve({"data.bin": PAYLOAD}) as server:
        with pytest.warns(UserWarning, match="wrong SHA-256 digest.*downloading it again"):
            path = find_or_download(
                "data.bin", url=f"{server.url}/data.bin", sha256=DIGEST, subdir="ds"
            )
        assert server.requests == ["data.bin"]
    assert path.read_bytes() == PAYLOAD


def test_hash_mismatch_deletes_download(tmp_path):
    dest = tmp_path / "out" / "data.bin"
    wrong = "0" * 64
    with serve({"data.bin": PAYLOAD}) as server:
        url = f"{server.url}/data.bin"
        with pytest.raises(
            ValueError, match=rf"downloaded from {url}.*Received: sha256='{DIGEST}'"
        ):
            download(url, dest, wrong, progress=False)
    assert list(dest.parent.iterdir()) == []  # neither dest nor the temp file


def test_interrupted_transfer_deletes_partial_file(tmp_path):
    dest = tmp_path / "data.bin"
    with serve({"data.bin": PAYLOAD}, truncated=frozenset({"data.bin"})) as server:
        url = f"{server.url}/data.bin"
        with pytest.raises(DownloadError, match=rf"{url}.*(interrupted|IncompleteRead)"):
            download(url, dest, DIGEST, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_reported(tmp_path):
    with serve({}) as server:
        url = f"{server.url}/missing.bin"
        with pytest.raises(DownloadError, match=r"answered HTTP 404"):
            download(url, tmp_path / "missing.bin", DIGEST, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_offline_message_names_url_and_destination(home):
    url = closed_port_url("data.bin")
    expected_dest = home / "ds" / "data.bin"
    with pytest.raises(DownloadError) as info:
        find_or_download("data.bin", url=url, sha256=DIGEST, subdir="ds", progress=False)
    message = str(info.value)
    assert f"Could not download {url}" in message
    assert f"place it at {expected_dest}" in message
    assert "CNNKIT_DATA" in message
    assert not expected_dest.exists()


@pytest.mark.parametrize("bad", ["abc", "g" * 64, 123])
def test_bad_sha256_argument(tmp_path, bad):
    with pytest.raises(ValueError, match=r"`sha256` must be the file's SHA-256 digest"):
        download("http://127.0.0.1:1/x", tmp_path / "x", bad, progress=False)


def test_mirrors_are_tried_in_order(home):
    dead = closed_port_url("data.bin")
    with serve({"data.bin": PAYLOAD}) as server:
        path = find_or_download(
            "data.bin", url=[dead, f"{server.url}/data.bin"], sha256=DIGEST, subdir="ds"
        )
        assert server.requests == ["data.bin"]
    assert path.read_bytes() == PAYLOAD


def test_all_mirrors_down_lists_each_url_and_every_place(tmp_path, home):
    first, second = closed_port_url("data.bin"), closed_port_url("data.bin")
    local = tmp_path / "shared" / "ds"
    with pytest.raises(DownloadError) as info:
        find_or_download(
            "data.bin",
            url=[first, second],
            sha256=DIGEST,
            subdir="ds",
            search_dirs=[local],
            progress=False,
        )
    message = str(info.value)
    assert "data.bin was not found locally and could not be downloaded" in message
    assert f"Could not download {first}" in message
    assert f"Could not download {second}" in message
    assert str(home / "ds" / "data.bin") in message
    assert str(local / "data.bin") in message


def test_no_url_and_no_local_copy(tmp_path, home):
    with pytest.raises(FileNotFoundError, match=r"data.bin was not found in any of: .*cannot be"):
        find_or_download("data.bin", url=[], sha256=DIGEST, subdir="ds", search_dirs=[tmp_path])
