"""Keras course programs run in cnnkit with only their import lines rewritten.

Each program under ``keras_programs/`` is Keras code; the test rewrites its
imports, executes it on small stand-in data for one epoch, and checks what a
Keras user would see: the published parameter count in the printed summary,
Keras' automatic layer names, ``History`` contents, ``evaluate``'s
``[loss, metric]`` list and ``predict``'s NumPy array.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnkit.callbacks import History

# program, Keras' published total, the accuracy key compile(metrics=[...]) produces
PUBLISHED = [
    ("lenet5_classic", 61_706, "accuracy"),
    ("lenet5_relu", 60_074, "accuracy"),
    ("mnist_cnn", 1_199_882, "accuracy"),
    ("mnist_mlp", 669_706, "accuracy"),
    ("fashion_mnist_mlp", 101_770, "accuracy"),
    ("toy_resnet", 223_242, "acc"),
]


def _check_history(history: object, epochs: int, metric: str) -> None:
    assert isinstance(history, History)
    assert history.epoch == list(range(epochs))
    assert history.params["epochs"] == epochs
    for key in ("loss", metric, "val_loss", f"val_{metric}"):
        values = history.history[key]
        assert len(values) == epochs, key
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), key


def _check_score(score: object) -> None:
    assert isinstance(score, list) and len(score) == 2
    loss, accuracy = score
    assert isinstance(loss, float) and math.isfinite(loss) and loss > 0
    assert isinstance(accuracy, float) and 0.0 <= accuracy <= 1.0


@pytest.mark.parametrize(("program", "total", "metric"), PUBLISHED)
def test_published_programs_train_and_report_keras_counts(keras_program, program, total, metric):
    run = keras_program(program)
    ns, out = run.namespace, run.stdout
    assert f"Total params: {total:,}" in out
    assert f"Trainable params: {total:,}" in out
    assert ns["model"].count_params() == total
    assert "Epoch 1/1" in out
    _check_history(ns["history"], 1, metric)
    _check_score(ns["score"])
    assert ns["model"].output_shape == (None, 10)


def test_sequential_layers_get_keras_automatic_names(keras_program):
    ns = keras_program("lenet5_relu").namespace
    names = [layer.name for layer in ns["model"].layers]
    assert names == [
        "conv2d",
        "max_pooling2d",
        "conv2d_1",
        "max_pooling2d_1",
        "flatten",
        "dense",
        "dense_1",
        "dense_2",
    ]
    predictions = ns["predictions"]
    assert isinstance(predictions, np.ndarray) and predictions.dtype == np.float32
    assert predictions.shape == (64, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert ns["predicted_classes"].shape == (64,)


def test_lenet5_classic_predicts_softmax_rows_and_prints_the_score(keras_program):
    run = keras_program("lenet5_classic")
    ns, out = run.namespace, run.stdout
    assert f"Test loss: {ns['score'][0]}" in out
    assert f"Test accuracy: {ns['score'][1]}" in out
    assert ns["predictions"].shape == (8, 10)
    np.testing.assert_allclose(ns["predictions"].sum(axis=1), 1.0, rtol=1e-5)


def test_functional_residual_block_keeps_keras_graph_and_names(keras_program):
    ns = keras_program("toy_resnet").namespace
    model = ns["model"]
    assert model.name == "toy_resnet"
    assert model.input_shape == (None, 32, 32, 3)
    names = [layer.name for layer in model.layers]
    assert names[0] == "img"
    assert names.count("add") == 1 and "add_1" in names
    assert (
        len(names) == 15
    )  # Keras lists the InputLayer, 8 convs, pool, 2 adds, GAP, 2 dense, dropout
    # from_logits=True: predictions are raw logits, not probabilities
    logits = model.predict(ns["x_test"][:4], verbose=0)
    assert logits.shape == (4, 10)
    assert not np.allclose(logits.sum(axis=1), 1.0)


def test_cats_dogs_generator_program_with_fit_generator(keras_program):
    run = keras_program("cats_dogs_generator")
    ns, out = run.namespace, run.stdout
    assert "Total params: 1,212,513" in out
    assert "Found 16 images belonging to 2 classes." in out
    assert "Found 8 images belonging to 2 classes." in out
    assert ns["train_generator"].class_indices == {"cats": 0, "dogs": 1}
    _check_history(ns["history"], 1, "accuracy")
    _check_score(ns["score"])
    probabilities = ns["probabilities"]
    assert probabilities.shape == (8, 1)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()

    # save_weights("first_try.h5") round-trips through load_weights
    model = ns["model"]
    saved = model.get_weights()
    model.set_weights([np.zeros_like(w) for w in saved])
    model.load_weights(run.folder / "first_try.h5")
    for before, after in zip(saved, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_callbacks_checkpoint_save_and_load_model(keras_program):
    run = keras_program("callbacks_save_load")
    ns, out = run.namespace, run.stdout
    # cnnkit keeps Keras' file names but says that the file holds its own format
    messages = [str(w.message) for w in run.warnings if issubclass(w.category, UserWarning)]
    assert any("'best.h5' has a Keras extension" in m for m in messages)
    history = ns["history"]
    assert isinstance(history, History)
    assert 1 <= len(history.epoch) <= 3
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history)
    assert (run.folder / "best.h5").is_file() and (run.folder / "m.h5").is_file()
    np.testing.assert_allclose(ns["actual"], ns["expected"], rtol=1e-5, atol=1e-6)
    assert ns["best"].count_params() == ns["reloaded"].count_params() == 60_074
    assert "Total params: 60,074" in out
    assert isinstance(ns["test_loss"], float) and 0.0 <= ns["test_acc"] <= 1.0
    # the checkpoint holds a trained model: its predictions are probabilities too
    best = ns["best"].predict(ns["x_test"][:4], verbose=0)
    np.testing.assert_allclose(best.sum(axis=1), 1.0, rtol=1e-5)


def test_vgg16_feature_extraction_counts_frozen_weights_like_the_book(keras_program):
    run = keras_program("vgg16_feature_extraction")
    ns, out = run.namespace, run.stdout
    assert ns["conv_base"].count_params() == 14_714_688
    assert ns["conv_base"].output_shape == (None, 4, 4, 512)
    assert "freezing the conv base: 30" in out
    assert "freezing the conv base: 4" in out
    assert "Total params: 16,812,353" in out
    assert "Trainable params: 2,097,665" in out
    assert "Non-trainable params: 14,714,688" in out
    # the frozen base stays out of the optimizer; lr is the one the program asked for
    groups = ns["model"].optimizer.param_groups
    assert sum(len(g["params"]) for g in groups) == 4
    assert all(g["lr"] == pytest.approx(2e-5) for g in groups)


def test_fashion_mnist_logits_model_predicts_raw_scores(keras_program):
    run = keras_program("fashion_mnist_mlp")
    ns = run.namespace
    assert f"Test accuracy: {ns['test_acc']}" in run.stdout
    assert ns["predictions"].shape == (64, 10)
    assert ns["predicted_label"] in ns["class_names"]
    assert not np.allclose(ns["predictions"].sum(axis=1), 1.0)


def test_cats_dogs_augmented_program_trains_saves_and_plots(keras_program):
    run = keras_program("cats_dogs_augmented")
    ns, out = run.namespace, run.stdout
    assert "Total params: 3,453,121" in out
    assert ns["model"].count_params() == 3_453_121
    _check_history(ns["history"], 2, "acc")
    assert list(ns["epochs"]) == [1, 2]
    assert (run.folder / "cats_and_dogs_small_2.h5").is_file()
    assert (run.folder / "loss.png").stat().st_size > 10_000
    # RMSprop(learning_rate=1e-4) reached the torch optimizer
    assert ns["model"].optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_keras_guide_custom_train_step_in_torch(keras_program):
    ns = keras_program("custom_train_step_torch").namespace
    for name, epochs in (("history_first", 3), ("history_lower_level", 5),
                         ("history_weighted", 3)):  # fmt: skip
        history = ns[name].history
        assert len(history["loss"]) == len(history["mae"]) == epochs, name
        assert history["loss"][-1] < history["loss"][0], name  # the custom step trains
    # The guide evaluates a fresh, untrained model: the custom test_step's dict, as
    # evaluate's list, must be that model's MSE and MAE on the program's random data.
    loss, mae = ns["score"]
    error = ns["model"].predict(ns["x"], verbose=0) - ns["y"]
    # The loss tracker is fed one scalar per batch (Keras' Mean: each update weighs 1), so
    # the loss is the mean of the 32-sample batches' MSEs; MAE is tracked per sample.
    batches = [float(np.mean(error[i : i + 32] ** 2)) for i in range(0, len(error), 32)]
    assert loss == pytest.approx(float(np.mean(batches)), rel=1e-4)
    assert mae == pytest.approx(float(np.mean(np.abs(error))), rel=1e-4)
    gan = ns["history_gan"].history
    assert all(math.isfinite(gan[k][0]) for k in ("d_loss", "g_loss"))
    # two optimizers, each built on its first apply() with the program's rate
    for optimizer in (ns["gan"].d_optimizer, ns["gan"].g_optimizer):
        assert optimizer.learning_rate == pytest.approx(3e-4)


def test_keras_io_vae_in_the_torch_step_idiom(keras_program):
    run = keras_program("vae_keras_io")
    ns, out = run.namespace, run.stdout
    # keras.io's published summaries of the encoder and the decoder
    assert "Total params: 69,076" in out and "Total params: 65,089" in out
    history = ns["history"].history
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        assert len(history[key]) == 1 and math.isfinite(history[key][0]), key
    assert history["loss"][0] == pytest.approx(
        history["reconstruction_loss"][0] + history["kl_loss"][0], rel=1e-4
    )
    assert ns["x_decoded"].shape == (9, 28, 28, 1)
    assert ((ns["x_decoded"] >= 0) & (ns["x_decoded"] <= 1)).all()
    assert ns["z_mean_test"].shape == (32, 2)


def test_keras_io_dcgan_in_the_torch_step_idiom(keras_program):
    run = keras_program("dcgan_keras_io")
    ns, out = run.namespace, run.stdout
    # keras.io's published summaries of the discriminator and the generator
    assert "Total params: 404,801" in out and "Total params: 3,979,651" in out
    history = ns["history"].history
    assert all(len(history[k]) == 1 and math.isfinite(history[k][0]) for k in ("d_loss", "g_loss"))
    images = ns["generated_images"].detach().numpy()
    assert images.shape == (3, 64, 64, 3) and images.min() >= 0 and images.max() <= 255
    for optimizer in (ns["gan"].d_optimizer, ns["gan"].g_optimizer):
        assert optimizer.learning_rate == pytest.approx(1e-4)
