"""``get_config()`` of metrics: constructor kwargs, JSON-able, round-trips."""

from __future__ import annotations

import json

import pytest

from cnnkit.training import metrics


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (metrics.Accuracy(), {"name": "accuracy", "k": None}),
        (metrics.BinaryAccuracy(threshold=0.3), {"name": "binary_accuracy", "threshold": 0.3}),
        (metrics.TopKCategoricalAccuracy(k=3, name="top3"), {"name": "top3", "k": 3}),
        (
            metrics.SparseTopKCategoricalAccuracy(k=2),
            {"name": "sparse_top_k_categorical_accuracy", "k": 2},
        ),
        (metrics.Precision(thresholds=0.7), {"name": "precision", "thresholds": 0.7}),
        (metrics.Recall(), {"name": "recall", "thresholds": 0.5}),
        (metrics.SparseCategoricalAccuracy(), {"name": "sparse_categorical_accuracy"}),
        (metrics.Mean("loss"), {"name": "loss"}),
    ],
)
def test_metric_get_config_round_trips(metric, expected):
    config = json.loads(json.dumps(metric.get_config()))
    assert config == expected
    assert type(metric)(**config).get_config() == config
