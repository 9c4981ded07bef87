"""Process-wide defaults that Keras keeps in ``keras.backend`` (read by the layers).

Only the image data format lives here: it is the one global default that changes
what a layer computes (``data_format=None`` means this value). ``cnnkit.backend``
is the user-facing side; this module sits at the root so that ``cnnkit.layers``
can read it without importing anything above itself.
"""

from __future__ import annotations

from cnnkit._errors import unknown_name

__all__ = ["DATA_FORMATS", "image_data_format", "set_image_data_format"]

DATA_FORMATS = ("channels_last", "channels_first")

_state = {"image_data_format": "channels_last"}


def image_data_format() -> str:
    """The default ``data_format`` of layers: ``"channels_last"`` unless set otherwise."""
    return _state["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    """Set the default ``data_format`` of layers built from now on.

    Raises:
        ValueError: for anything but ``"channels_last"`` or ``"channels_first"``.
    """
    if not isinstance(data_format, str) or data_format.lower() not in DATA_FORMATS:
        raise unknown_name("data_format", data_format, DATA_FORMATS, argument="data_format")
    _state["image_data_format"] = data_format.lower()
