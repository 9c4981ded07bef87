"""The studio in a real browser: Debian's chromium, headless, driven by selenium.

A "1" and a "7" are drawn on the canvas with pointer events; the page must show
the trained model's answer, and the worked sum shown for a clicked feature-map
cell must be exactly :func:`cnnkit.ops.explain` on the image the page sent.
Screenshots go to a temporary folder (and to ``$CNNKIT_SCREENSHOTS`` when set).
In CI (``CI`` set) a missing browser fails these tests instead of skipping them.
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cnnkit import ops
from cnnkit.serve import ModelRegistry, decode_image
from cnnkit.viz import conv_kernel, feature_maps
from cnnkit.viz._probe import leaf_layers

CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)

# Strokes as offsets (x, y) from the canvas centre (280×280 canvas).
STROKES = {
    "1": [[(0, -95), (2, -40), (4, 20), (6, 95)]],
    "7": [[(-70, -85), (0, -88), (70, -90), (35, -10), (0, 60), (-15, 95)]],
}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        why = "Debian's chromium and chromium-driver are not installed (apt, see .ci/run)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    session = webdriver.Chrome(options=options, service=Service(driver))
    session.set_page_load_timeout(30)
    yield session
    session.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    folder = tmp_path_factory.mktemp("screenshots")
    extra = os.environ.get("CNNKIT_SCREENSHOTS")

    def save(browser, name: str) -> Path:
        path = folder / f"{name}.png"
        assert browser.save_screenshot(str(path))
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return path

    return save


@pytest.fixture(scope="module")
def studio(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    server.wait_ready()  # it started before the browser, so the two start-ups overlap
    browser.get(server.url + "/")
    WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return document.body.dataset.ready")
    )
    return browser


def _wait(browser, css: str, timeout: float = 30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(lambda b: b.find_elements(By.CSS_SELECTOR, css))[0]


def _tab(browser, name: str) -> None:
    browser.find_element("css selector", f"#tabs [data-tab={name}]").click()


def _draw(browser, digit: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    browser.find_element("id", "clear").click()
    canvas = browser.find_element("id", "draw")
    for stroke in STROKES[digit]:
        chain = ActionChains(browser, duration=20)
        chain.move_to_element_with_offset(canvas, *stroke[0]).click_and_hold()
        for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
            for t in (0.25, 0.5, 0.75, 1.0):  # several pointermove events per segment
                chain.move_to_element_with_offset(
                    canvas, round(x0 + t * (x1 - x0)), round(y0 + t * (y1 - y0))
                )
        chain.release().perform()


def _sent_image(browser, shape: tuple[int, int, int]) -> np.ndarray:
    """The PNG the page sent to the API, decoded as the server decodes it."""
    url = browser.execute_async_script(
        "const done = arguments[0], r = new FileReader();"
        "r.onload = () => done(r.result); r.readAsDataURL(Studio.state.blob);"
    )
    return decode_image(base64.b64decode(url.split(",", 1)[1]), shape[:2], shape[2])


@pytest.mark.parametrize("digit", ["1", "7"])
def test_a_drawn_digit_is_recognised(studio, shots, digit):
    _tab(studio, "predict")
    _draw(studio, digit)
    top = _wait(studio, "#top-class")
    shots(studio, f"predict-{digit}")
    assert top.get_attribute("data-class") == digit, top.text


def test_a_clicked_cell_shows_the_worked_sum_of_ops_explain(studio, shots, run_dir):
    from selenium.webdriver.common.action_chains import ActionChains

    _tab(studio, "predict")
    _draw(studio, "7")
    _wait(studio, "#top-class")
    _tab(studio, "overview")
    column = _wait(studio, ".layer-col.explainable")  # the first convolution
    shots(studio, "overview")
    maps = column.find_elements("css selector", "canvas")
    ActionChains(studio).move_to_element_with_offset(maps[2], 4, -6).click().perform()
    shown = _wait(studio, "#sum-text").get_attribute("textContent")
    shots(studio, "neuron-conv")
    d = studio.execute_script("return Studio.state.detail")
    assert d["channel"] == 2 and d["type"] == "Conv2D"

    served = ModelRegistry.from_paths([run_dir]).default
    image = _sent_image(studio, served.input_shape)
    leaves = leaf_layers(served.model)
    first = next(i for i, (_, m) in enumerate(leaves) if type(m).__name__ == "Conv2D")
    before, conv = leaves[first - 1][0], leaves[first][0]
    x = feature_maps(served.model, image, [before])[before][0, ..., 0]
    kernel = conv_kernel(served.model, conv)[1][..., 0, d["channel"]]
    assert shown == ops.explain(x, kernel, at=(d["row"], d["col"])).sum_text()
    check = studio.find_element("css selector", ".check-ok").text
    assert check.startswith("✓ the layer itself computed")


def test_pooling_why_and_model_pages_render(studio, shots):
    from selenium.webdriver.support.ui import Select

    _tab(studio, "neuron")
    layer = _wait(studio, "#neuron-layer")
    pool = next(o.get_attribute("value") for o in Select(layer).options if "Pooling" in o.text)
    Select(layer).select_by_value(pool)
    _wait(studio, ".sum td.win, td.win")
    assert studio.find_element("id", "sum-text").text.startswith("max(")
    shots(studio, "neuron-pool")
    _tab(studio, "why")
    _wait(studio, "#cam-note:not(:empty)")
    note = studio.find_element("id", "cam-note").text
    assert "Grad-CAM for class" in note and "upsampled to 28×28" in note, note
    shots(studio, "why")
    _tab(studio, "model")
    _wait(studio, "#summary tbody tr")
    assert len(studio.find_elements("css selector", "#charts svg")) == 2
    # Loss and accuracy, training and validation: four curves of two epochs each.
    lines = studio.find_elements("css selector", "#charts svg polyline")
    assert [len(line.get_attribute("points").split()) for line in lines] == [2, 2, 2, 2]
    assert "60,074" in studio.find_element("id", "model-facts").text
    shots(studio, "model")
    errors = [e for e in studio.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
