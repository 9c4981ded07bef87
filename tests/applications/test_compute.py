"""``summary(cost=True)`` reproduces torchvision's published compute within 2%.

torchvision's "GFLOPS" column counts multiply-accumulates of convolutions
and linear layers: ResNet-50 4.09 G, VGG16 15.47 G, GoogLeNet 1.50 G,
MobileNetV2 0.30 G (at 224×224).
"""

from __future__ import annotations

import pytest

from cnnkit.applications import get_model

PUBLISHED_GMACS = [
    ("resnet50", 4.09),
    ("vgg16", 15.47),
    ("googlenet", 1.50),
    ("mobilenet_v2", 0.30),
]


@pytest.mark.parametrize(("name", "gmacs"), PUBLISHED_GMACS, ids=[n for n, _ in PUBLISHED_GMACS])
def test_summary_macs_match_published_compute(name, gmacs):
    model = get_model(name)
    lines: list[str] = []
    summary = model.summary(cost=True, print_fn=lines.append)
    assert summary.total_macs / 1e9 == pytest.approx(gmacs, rel=0.02)
    assert summary.total_params == model.count_params()
    assert lines  # it printed the table as well as returning it
