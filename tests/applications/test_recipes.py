"""The default training recipes: what they build, what they pass to compile/fit, and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.applications._recipes import RECIPES, Recipe, default_recipe, mnist_net
from cnnkit.callbacks import OneCycle
from cnnkit.training._engine import fast_precision
from cnnkit.utils import set_random_seed


def test_mnist_recipe_model_has_the_documented_size_and_cost():
    model = default_recipe("mnist").build_model((28, 28, 1), 10)
    summary = model.summary(cost=True, show=False)
    assert summary.output_shape == (None, 10)
    assert summary.trainable_params == 25_978 == model.count_params()
    assert summary.buffer_values == 224  # BatchNorm moving mean and variance
    assert summary.keras_total_params == 26_202
    assert summary.total_macs == 1_479_424
    assert [r.output_shape for r in summary.rows if r.type == "MaxPooling2D"] == [
        (None, 14, 14, 16),
        (None, 7, 7, 32),
        (None, 2, 2, 64),
    ]


def test_recipe_fields_and_fit_arguments():
    recipe = default_recipe("mnist")
    assert isinstance(recipe, Recipe)
    assert recipe.name == "mnist"
    assert recipe.fit_kwargs["epochs"] == 2
    assert recipe.fit_kwargs["batch_size"] == 256
    assert recipe.fit_kwargs["validation_split"] == 0.0
    (schedule,) = recipe.fit_kwargs["callbacks"]
    assert isinstance(schedule, OneCycle) and schedule.update == "batch"
    assert recipe.compile_kwargs["mixed_precision"] == fast_precision()
    assert "25,978 parameters" in recipe.description
    with pytest.raises(AttributeError):
        recipe.name = "other"  # frozen


def test_each_call_gives_fresh_callbacks():
    # A schedule keeps its step counter, so two runs in one process must not share one.
    first, second = default_recipe("mnist"), default_recipe("mnist")
    assert first.fit_kwargs["callbacks"][0] is not second.fit_kwargs["callbacks"][0]
    assert first.compile_kwargs["optimizer"] is not second.compile_kwargs["optimizer"]


def test_fashion_mnist_shares_the_network_with_more_epochs():
    fashion, mnist = default_recipe("fashion_mnist"), default_recipe("mnist")
    assert fashion.build_model is mnist.build_model is mnist_net
    assert fashion.fit_kwargs["epochs"] > mnist.fit_kwargs["epochs"]
    assert set(RECIPES) == {"mnist", "fashion_mnist"}


def test_builder_takes_other_shapes_and_class_counts():
    model = mnist_net((32, 32, 3), 4)
    out = model(torch.zeros(2, 32, 32, 3))
    assert tuple(out.shape) == (2, 4)
    torch.testing.assert_close(out.sum(dim=1), torch.ones(2))  # softmax probabilities


def test_recipe_trains_a_few_batches_with_its_schedule():
    set_random_seed(0)
    recipe = default_recipe("mnist")
    model = recipe.build_model((28, 28, 1), 10)
    model.compile(**recipe.compile_kwargs)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(320, 28, 28, 1), dtype=np.uint8)
    y = rng.integers(0, 10, size=320)
    before = [p.detach().clone() for p in model.parameters()]
    fit_kwargs = recipe.fit_kwargs | {"epochs": 1, "batch_size": 64, "verbose": 0}
    history = model.fit(x, y, **fit_kwargs)
    loss = history.history["loss"][0]
    assert np.isfinite(loss) and loss > 0
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    # One cycle over 5 batches ends at peak / div_factor / final_div_factor = 1e-5.
    assert history.history["learning_rate"][-1] == pytest.approx(1e-5)
    probs = model.predict(x[:3], verbose=0)
    assert probs.shape == (3, 10)
    # The softmax runs in float32 even under bf16 autocast: rows sum to 1 to float32 precision.
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", ["minst", "MNIST", "cifar10", ""])
def test_unknown_dataset_names_the_ones_with_a_recipe(name):
    with pytest.raises(ValueError, match=r"Unknown dataset for a default recipe") as err:
        default_recipe(name)
    assert f"Received: dataset={name!r}" in str(err.value)
    assert "Valid choices: 'fashion_mnist', 'mnist'." in str(err.value)


def test_misspelt_dataset_gets_a_suggestion():
    with pytest.raises(ValueError, match=r"Did you mean 'mnist'"):
        default_recipe("minst")


def test_non_string_dataset_is_refused():
    with pytest.raises(ValueError, match=r"Received: dataset=3"):
        default_recipe(3)  # type: ignore[arg-type]


def _no_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)


@pytest.mark.parametrize(
    ("avx512_bf16", "amx", "expected"),
    [(True, False, "bf16"), (False, True, "bf16"), (False, False, None)],
)
def test_bf16_only_where_the_cpu_computes_it(monkeypatch, avx512_bf16, amx, expected):
    _no_accelerator(monkeypatch)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    assert fast_precision() == expected
    assert default_recipe("mnist").compile_kwargs["mixed_precision"] == expected


def test_gpu_uses_bf16_when_supported(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert fast_precision() is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert fast_precision() == "bf16"


def test_peak_learning_rate_and_constant_schedule():
    moved = default_recipe("mnist", peak_lr=0.003)
    (cycle,) = moved.fit_kwargs["callbacks"]
    assert cycle.max_lrs == [0.003] and "peaking at 0.003" in moved.description
    assert moved.compile_kwargs["optimizer"].learning_rate == pytest.approx(0.0003)
    flat = default_recipe("fashion_mnist", peak_lr=0.002, schedule="constant")
    assert flat.fit_kwargs["callbacks"] == []
    assert flat.compile_kwargs["optimizer"].learning_rate == pytest.approx(0.002)
    assert "Adam at a constant 0.002" in flat.description
    assert default_recipe("mnist").fit_kwargs["callbacks"][0].max_lrs == [0.01]


def test_bad_recipe_options():
    with pytest.raises(ValueError, match=r"Unknown schedule 'cosine'.*'constant', 'onecycle'"):
        default_recipe("mnist", schedule="cosine")
    with pytest.raises(ValueError, match=r"`peak_lr` must be a positive number.*peak_lr=0"):
        default_recipe("mnist", peak_lr=0)


def test_the_recipe_api_is_public():
    import cnnkit.applications

    assert cnnkit.applications.default_recipe is default_recipe
    assert cnnkit.applications.Recipe is Recipe and cnnkit.applications.mnist_net is mnist_net
