"""``cnnkit serve``: a local web studio that shows a CNN at work (the ``serve`` extra).

:func:`create_app` builds the FastAPI app over a :class:`ModelRegistry` of the
models named at start-up; the pages (plain HTML/JS/SVG, no build step) live in
``static/`` and call the JSON API under ``/api`` (documented at ``/docs``).
"""

from cnnkit.serve._app import MAX_UPLOAD_BYTES, create_app
from cnnkit.serve._images import MAX_PIXELS, decode_image
from cnnkit.serve._models import ModelRegistry, NotServed, ServedModel, load_served_model
from cnnkit.serve._workers import serve

__all__ = [
    "MAX_PIXELS",
    "MAX_UPLOAD_BYTES",
    "ModelRegistry",
    "NotServed",
    "ServedModel",
    "create_app",
    "decode_image",
    "load_served_model",
    "serve",
]
