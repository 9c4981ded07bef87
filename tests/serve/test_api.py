"""The studio's JSON API in-process (FastAPI TestClient): answers, numbers and refusals."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cnnkit import ops
from cnnkit.serve import ModelRegistry, create_app, decode_image
from cnnkit.viz import conv_kernel, feature_maps
from cnnkit.viz._probe import leaf_layers
from tests.serve.conftest import png_bytes

LIMIT = 64 * 1024
NOISE = np.random.default_rng(0).integers(0, 256, (28, 28), np.uint8)  # PNG cannot shrink it


@pytest.fixture(scope="module")
def registry(run_dir: Path) -> ModelRegistry:
    return ModelRegistry.from_paths([run_dir])


@pytest.fixture(scope="module")
def client(registry: ModelRegistry) -> TestClient:
    return TestClient(create_app(registry, max_upload_bytes=LIMIT))


@pytest.fixture(scope="module")
def names(registry: ModelRegistry) -> dict[str, str]:
    """Layer names by role (automatic names depend on what the process built before)."""
    leaves = leaf_layers(registry.default.model)
    kinds = [(name, type(m).__name__) for name, m in leaves]
    convs = [n for n, t in kinds if t == "Conv2D"]
    pools = [n for n, t in kinds if t == "MaxPooling2D"]
    dense = [n for n, t in kinds if t == "Dense"]
    rescaling = next(n for n, t in kinds if t == "Rescaling")
    return {"conv1": convs[0], "conv2": convs[1], "pool1": pools[0], "pool2": pools[1],
            "dense": dense[0], "rescaling": rescaling}  # fmt: skip


def upload(data: bytes) -> dict:
    return {"image": ("x.png", data, "image/png")}


def test_models_lists_the_served_model_with_its_classes(client):
    (info,) = client.get("/api/models").json()
    assert info["id"] == "lenet5-mnist" and info["input_shape"] == [28, 28, 1]
    assert info["classes"] == [str(d) for d in range(10)] and info["params"] == 60_074
    detail = client.get("/api/models/lenet5-mnist").json()
    assert detail["history"]["epoch"] == [1.0, 2.0] and len(detail["history"]["val_accuracy"]) == 2
    formulas = [r["param_formula"] for r in detail["summary"]["rows"]]
    assert "6 × (3×3×1) + 6 = 60" in formulas
    assert detail["summary"]["totals"][0].startswith("Total params: 60,074")


def test_predict_classifies_real_mnist_digits(client, mnist_test):
    x, y = mnist_test
    right = 0
    for image, label in zip(x[:40], y[:40], strict=True):
        answer = client.post("/api/predict", params={"top_k": 3}, files=upload(png_bytes(image)))
        assert answer.status_code == 200
        top = answer.json()["top"]
        assert len(top) == 3 and top[0]["probability"] >= top[1]["probability"]
        right += top[0]["class"] == str(label)
    assert right >= 36  # a briefly trained LeNet-5 is ~96% right; chance is 10%


def test_activations_follow_the_forward_pass(client, names, mnist_test):
    answer = client.post("/api/activations", files=upload(png_bytes(mnist_test[0][0]))).json()
    found = [(layer["name"], layer["shape"]) for layer in answer["layers"]]
    assert found[:5] == [
        (names["rescaling"], [None, 28, 28, 1]),
        (names["conv1"], [None, 26, 26, 6]),
        (names["pool1"], [None, 13, 13, 6]),
        (names["conv2"], [None, 11, 11, 16]),
        (names["pool2"], [None, 5, 5, 16]),
    ]
    assert answer["layers"][-1]["type"] == "Activation" and found[-1][1] == [None, 10]
    probs = np.array(answer["layers"][-1]["values"])
    assert abs(probs.sum() - 1) < 1e-3
    conv = answer["layers"][1]
    assert np.array(conv["maps"]).shape == (6, 26, 26) and conv["explainable"]


def _reference(model, image: np.ndarray, before: str, layer: str, f: int, at: tuple[int, int]):
    """ops.explain on the layer's input computed here, independently of cnnkit.serve."""
    x = feature_maps(model, image[..., None], [before])[before][0]
    kernel = conv_kernel(model, layer)[1][..., f]
    if kernel.shape[2] == 1:
        x, kernel = x[..., 0], kernel[..., 0]
    return ops.explain(x, kernel, at=at)


@pytest.mark.parametrize(
    ("role", "before", "channel", "row", "col"),
    [("conv1", "rescaling", 3, 12, 13), ("conv2", "pool1", 7, 5, 4)],
)
def test_explain_a_conv_cell_is_ops_explain_and_the_layer_output(
    client, registry, names, mnist_test, role, before, channel, row, col
):
    image, layer = mnist_test[0][1], names[role]
    params = {"layer": layer, "channel": channel, "row": row, "col": col}
    d = client.post("/api/explain", params=params, files=upload(png_bytes(image))).json()
    ref = _reference(registry.default.model, image, names[before], layer, channel, (row, col))
    assert d["sum_text"] == ref.sum_text()
    assert d["sum"] == pytest.approx(float(ref.value), abs=1e-5)
    assert d["pre_activation"] == pytest.approx(d["sum"] + d["bias"], abs=1e-6)
    assert d["activated"] == pytest.approx(max(d["pre_activation"], 0.0), abs=1e-6)  # relu
    assert d["activated"] == pytest.approx(d["output"], abs=1e-4)


def test_explain_a_max_pooling_cell_names_the_winner(client, names, mnist_test):
    params = {"layer": names["pool1"], "channel": 2, "row": 6, "col": 6}
    d = client.post("/api/explain", params=params, files=upload(png_bytes(mnist_test[0][0]))).json()
    window = np.array(d["window"])[..., 0]
    assert window.shape == (2, 2) and d["origin"] == [12, 12] and d["mode"] == "max"
    assert window[tuple(d["winner"])] == window.max() == pytest.approx(d["output"], abs=1e-4)


@pytest.mark.parametrize(
    ("params", "status", "match"),
    [
        ({"layer": "dense", "row": 0, "col": 0}, 400, "has no worked sum"),
        ({"layer": "conv1", "row": 26, "col": 0}, 400, "outside the layer's output"),
        ({"layer": "conv1", "row": 0, "col": 0, "channel": 6}, 400, "outside"),
        ({"layer": "conv2d_9", "row": 0, "col": 0}, 404, "Did you mean 'conv2d"),
        ({"layer": "conv1", "row": 0, "col": 0, "model": "../model.cnnkit"}, 404, "No model"),
    ],
)
def test_explain_refusals(client, names, mnist_test, params, status, match):
    params = {**params, "layer": names.get(params["layer"], params["layer"])}
    answer = client.post("/api/explain", params=params, files=upload(png_bytes(mnist_test[0][0])))
    assert answer.status_code == status and match in answer.json()["detail"]


def _bomb_png(width: int, height: int) -> bytes:
    """A valid tiny PNG whose header claims ``width × height`` pixels."""
    png = bytearray(png_bytes(np.zeros((8, 8), np.uint8)))
    ihdr = png[12:29]  # b"IHDR" + 13 data bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    png[12:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(png)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 not an image at all", "not an image"),
        (png_bytes(NOISE)[:400], "truncated"),
        (_bomb_png(20_000, 20_000), "too many pixels"),
    ],
)
def test_bad_images_get_400_with_a_message(client, data, match):
    answer = client.post("/api/predict", files=upload(data))
    assert answer.status_code == 400 and match in answer.json()["detail"]


def test_decode_image_names_the_pixel_limit():
    match = r"too many pixels.*at most 100 pixels.*Received: size='200×200'"
    with pytest.raises(ValueError, match=match):
        decode_image(png_bytes(np.zeros((200, 200), np.uint8)), (28, 28), 1, max_pixels=100)


def test_uploads_over_the_limit_get_413(client):
    big = bytes(LIMIT + 1)
    assert client.post("/api/predict", files=upload(big)).status_code == 413

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(4):
            yield bytes(LIMIT // 2)

    form = {"Content-Type": "multipart/form-data; boundary=b"}
    answer = client.post("/api/predict", content=chunks(), headers=form)
    assert answer.status_code == 413 and "larger than the limit" in answer.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/..%2F..%2Fpyproject.toml",
        "/api/models/%2E%2E",
        "/static/../../pyproject.toml",
        "/static/%2E%2E/%2E%2E/pyproject.toml",
        "/static/..%2F_app.py",
    ],
)
def test_paths_in_requests_are_never_opened(client, path):
    assert client.get(path).status_code == 404


def test_unknown_model_in_a_query_is_404(client, mnist_test):
    for model in ("/etc/passwd", "../../lenet5-mnist", "lenet5-mnist/../x"):
        answer = client.post("/api/predict", params={"model": model}, files=upload(b"x"))
        assert answer.status_code == 404
        assert "Served models: 'lenet5-mnist'" in answer.json()["detail"]


def test_pages_and_openapi_are_served(client):
    assert "cnnkit studio" in client.get("/").text
    assert client.get("/static/app.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/predict", "/api/activations", "/api/explain", "/api/cam", "/api/models"} <= set(
        paths
    )
    assert "swagger" in client.get("/docs").text.lower()


def test_cam_is_cnnkit_explain_cam_for_the_served_model(client, registry, mnist_test):
    from cnnkit.explain import cam

    image = mnist_test[0][2]
    d = client.post("/api/cam", params={"target": 4}, files=upload(png_bytes(image))).json()
    heat = np.array(d["heatmap"])
    assert heat.shape == (28, 28) and heat.min() >= 0.0 and heat.max() <= 1.0
    assert d["target"] == 4 and d["class"] == "4" and d["method"] == "gradcam"
    expected = cam(registry.default.model, image[None, ..., None], target=4)[0]
    np.testing.assert_allclose(heat, expected, atol=1e-4)
    predicted = client.post("/api/cam", files=upload(png_bytes(image))).json()
    assert predicted["target"] == predicted["predicted"] == int(mnist_test[1][2])


def test_cam_refuses_an_unknown_method(client, mnist_test):
    answer = client.post(
        "/api/cam", params={"method": "gradkam"}, files=upload(png_bytes(mnist_test[0][0]))
    )
    assert answer.status_code == 400 and "Did you mean 'gradcam'" in answer.json()["detail"]


def test_decode_image_honours_the_exif_orientation():
    from PIL import Image

    ramp = np.tile((np.arange(40) * 6).astype(np.uint8)[None, :], (20, 1))  # dark left, light right
    exif = Image.new("L", (1, 1)).getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    upright = decode_image(buf.getvalue(), (40, 20), 1)[..., 0]
    assert upright.shape == (40, 20)
    assert upright[:3].mean() < 20 and upright[-3:].mean() > 200  # the ramp now runs downwards
    plain = decode_image(png_bytes(ramp), (20, 40), 1)[..., 0]  # no EXIF: unchanged
    assert np.array_equal(plain, ramp)
