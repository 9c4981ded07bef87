"""The studio's FastAPI app: static pages at ``/``, the JSON API under ``/api``.

Every route only decodes the request, calls the library (``ServedModel.predict``,
:mod:`cnnkit.serve._inspect`, :func:`cnnkit.explain.cam_result`) and encodes the
answer. User errors (``ValueError``/``TypeError`` from the project's error
template) become 400 with their message, unknown models and layers 404, and an
upload over the size limit 413, before its body is read. FastAPI documents the
API at ``/docs`` (OpenAPI at ``/openapi.json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile as StarletteUpload

from cnnkit import __version__
from cnnkit._errors import invalid_value
from cnnkit.explain import CAM_METHODS, cam_result
from cnnkit.serve._images import MAX_PIXELS, decode_image
from cnnkit.serve._inspect import activations, explain_cell
from cnnkit.serve._limits import BodySizeLimit
from cnnkit.serve._models import ModelRegistry, NotServed, ServedModel

__all__ = ["MAX_UPLOAD_BYTES", "STATIC_DIR", "create_app"]

#: Largest request body accepted (the uploaded image plus form overhead): 8 MiB.
MAX_UPLOAD_BYTES = 8 * 1024 * 1024

STATIC_DIR = Path(__file__).parent / "static"

ModelId = Annotated[str | None, Query(description="Model id from /api/models; default the first")]
Image = Annotated[UploadFile, File(description="An image file (PNG, JPEG, ...)")]


#: /api/predict's parameters for the OpenAPI page (the route parses them itself).
PREDICT_OPENAPI: dict[str, Any] = {
    "parameters": [
        {"name": "model", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "Model id from /api/models; default the first"},
        {"name": "top_k", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 5}},
    ],
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["image"],
            "properties": {"image": {"type": "string", "format": "binary",
                                     "description": "An image file (PNG, JPEG, ...)"}},
        }}},
    },
}  # fmt: skip


def _top_k(text: str) -> int:
    if not (text.isdigit() and 1 <= int(text) <= 1000):
        raise invalid_value("top_k must be an integer in 1..1000.", received={"top_k": text})
    return int(text)


def _summary(served: ServedModel) -> dict[str, Any]:
    with served.lock:
        summary = served.model.summary(formulas=True, cost=True, show=False)
    return {**summary.to_dict(), "totals": summary.totals_lines()}


def create_app(
    registry: ModelRegistry,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> FastAPI:
    """The studio app serving ``registry``'s models (and no other file).

    Args:
        registry: The models named at start-up.
        max_upload_bytes: Requests with a larger body get 413. Default 8 MiB.
        max_pixels: Images with more pixels get 400 (decompression bombs). Default 24 M.
    """
    app = FastAPI(
        title="cnnkit studio",
        version=__version__,
        description="Look inside a CNN: predictions, every layer's activations, the worked "
        "sum behind any feature-map cell, Grad-CAM and the model's summary. Images are "
        "uploaded as multipart form field `image`.",
        # The studio exports no traces; FastAPI's per-request OpenTelemetry check is skipped.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_upload_bytes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(ValueError)
    @app.exception_handler(TypeError)
    async def _bad_request(_request: Request, err: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, status_code=400)

    @app.exception_handler(NotServed)
    async def _not_found(_request: Request, err: NotServed) -> JSONResponse:
        return JSONResponse({"detail": str(err.args[0])}, status_code=404)

    def model_or_404(model_id: str | None) -> ServedModel:
        served = registry.get(model_id)
        if served is None:
            known = ", ".join(repr(m.id) for m in registry)
            raise HTTPException(404, f"No model {model_id!r} is served. Served models: {known}.")
        return served

    def decode(served: ServedModel, data: bytes) -> np.ndarray:
        if len(data) > max_upload_bytes:
            raise HTTPException(413, f"The upload is larger than {max_upload_bytes:,} bytes.")
        h, w, c = served.input_shape
        return decode_image(data, (h, w), c, max_pixels=max_pixels)

    def read_image(served: ServedModel, image: UploadFile) -> np.ndarray:
        return decode(served, image.file.read(max_upload_bytes + 1))

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/api/models", summary="The served models")
    def list_models() -> list[dict[str, Any]]:
        return [served.info() for served in registry]

    @app.get("/api/models/{model_id}", summary="One model: summary with formulas and history")
    def model_detail(model_id: str) -> dict[str, Any]:
        served = model_or_404(model_id)
        return {**served.info(), "summary": _summary(served), "history": served.history}

    @app.post(
        "/api/predict",
        summary="Top-k class probabilities for an image",
        openapi_extra=PREDICT_OPENAPI,
    )
    async def predict(request: Request) -> JSONResponse:
        # The hot path reads its request itself: FastAPI's dependency solver took 40% of the
        # server's CPU per request (benchmarks/serve_load.py), and `async` skips the thread
        # pool; the batcher runs the forward pass on the loop.
        served = model_or_404(request.query_params.get("model"))
        top_k = _top_k(request.query_params.get("top_k", "5"))
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("image")
            if not isinstance(upload, StarletteUpload):
                raise invalid_value(
                    "/api/predict needs the image as the multipart form field 'image'.",
                    expected="multipart/form-data with a file field named 'image'",
                    received={"fields": sorted(form.keys())},
                )
            data = await upload.read(max_upload_bytes + 1)
        probs = await served.batcher(decode(served, data))
        order = np.argsort(-probs)[: min(top_k, probs.size)]
        top = [
            {"index": int(i), "class": served.class_names[i], "probability": float(probs[i])}
            for i in order
        ]
        answer = {"model": served.id, "top": top, "probabilities": probs.round(6).tolist()}
        return JSONResponse(answer)

    @app.post("/api/activations", summary="Every layer's output for an image")
    def layer_activations(
        image: Image,
        model: ModelId = None,
        max_channels: Annotated[int, Query(ge=1, le=512)] = 16,
    ) -> dict[str, Any]:
        served = model_or_404(model)
        result = activations(served, read_image(served, image), max_channels)
        return {"model": served.id, **result}

    @app.post("/api/explain", summary="The worked sum behind one feature-map cell")
    def explain(
        image: Image,
        layer: Annotated[str, Query(description="Layer name from /api/activations")],
        row: Annotated[int, Query(ge=0)],
        col: Annotated[int, Query(ge=0)],
        channel: Annotated[int, Query(ge=0)] = 0,
        model: ModelId = None,
    ) -> dict[str, Any]:
        served = model_or_404(model)
        result = explain_cell(served, read_image(served, image), layer, channel, row, col)
        return {"model": served.id, **result}

    @app.post("/api/cam", summary="A class activation map (Grad-CAM by default) for an image")
    def class_activation_map(
        image: Image,
        model: ModelId = None,
        target: Annotated[int | None, Query(ge=0, description="Class; default predicted")] = None,
        method: Annotated[str, Query(description=", ".join(CAM_METHODS))] = "gradcam",
    ) -> dict[str, Any]:
        served = model_or_404(model)
        x = read_image(served, image)[None]
        try:
            with served.lock:
                result = cam_result(served.model, x, target=target, method=method)
        except ImportError as err:  # torchcam is the `explain` extra
            raise HTTPException(
                503, f"{method} needs the explain extra: pip install 'cnnkit[explain]' ({err})."
            ) from err
        index = int(result.targets[0])
        return {
            "model": served.id,
            "method": method,
            "layer": result.layer,
            "target": index,
            "class": served.class_names[index],
            "probability": float(result.probabilities[0]),
            "predicted": int(result.predicted[0]),
            "heatmap": result.maps[0].round(4).tolist(),
        }

    return app
