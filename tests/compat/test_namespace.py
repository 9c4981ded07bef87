"""``import cnnkit as keras`` resolves Keras' module paths to the existing cnnkit objects."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import cnnkit

# Keras path (under ``keras.``) -> where cnnkit implements it
SAME_OBJECT = [
    ("layers.Conv2D", "cnnkit.layers", "Conv2D"),
    ("models.Sequential", "cnnkit.models", "Sequential"),
    ("Sequential", "cnnkit.models", "Sequential"),
    ("Model", "cnnkit.models", "Model"),
    ("Input", "cnnkit.layers", "Input"),
    ("utils.to_categorical", "cnnkit.utils", "to_categorical"),
    ("callbacks.EarlyStopping", "cnnkit.callbacks", "EarlyStopping"),
    ("datasets.mnist", "cnnkit.datasets", "mnist"),
    ("preprocessing.image.ImageDataGenerator", "cnnkit.preprocessing.image", "ImageDataGenerator"),
    ("applications.VGG16", "cnnkit.applications", "VGG16"),
    ("optimizers.Adam", "cnnkit.training.optimizers", "Adam"),
    ("optimizers.SGD", "cnnkit.training.optimizers", "SGD"),
    ("losses.CategoricalCrossentropy", "cnnkit.training.losses", "CategoricalCrossentropy"),
    ("losses.get", "cnnkit.training.losses", "get_loss"),
    ("metrics.SparseCategoricalAccuracy", "cnnkit.training.metrics", "SparseCategoricalAccuracy"),
    ("metrics.get", "cnnkit.training.metrics", "get_metric"),
    ("regularizers.l2", "cnnkit.layers", "l2"),
    ("regularizers.L2", "cnnkit.layers", "l2"),
    ("initializers.HeNormal", "cnnkit.layers", "HeNormal"),
    ("initializers.he_normal", "cnnkit.layers", "HeNormal"),
    ("initializers.get", "cnnkit.layers", "get_initializer"),
    ("constraints.MaxNorm", "cnnkit.layers", "MaxNorm"),
    ("constraints.max_norm", "cnnkit.layers", "MaxNorm"),
    ("activations.get", "cnnkit.layers", "get_activation"),
]


def _resolve(dotted: str) -> object:
    value: object = cnnkit
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize(("keras_path", "module", "name"), SAME_OBJECT)
def test_keras_paths_resolve_to_the_cnnkit_objects(keras_path: str, module: str, name: str):
    assert _resolve(keras_path) is getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    "module",
    [
        "activations",
        "constraints",
        "initializers",
        "losses",
        "metrics",
        "optimizers",
        "regularizers",
    ],
)
def test_keras_twin_modules_export_exactly_their_names(module: str):
    mod = getattr(cnnkit, module)
    assert mod is importlib.import_module(f"cnnkit.{module}")
    public = {n for n in vars(mod) if not n.startswith("_")} - {"annotations"}
    assert set(mod.__all__) == public


@pytest.mark.parametrize("name", ["relu", "softmax", "sigmoid", "tanh", "swish", "linear"])
def test_activation_functions_are_the_registered_ones(name: str):
    from cnnkit.layers import ACTIVATIONS, Dense

    fn = getattr(cnnkit.activations, name)
    assert fn is ACTIVATIONS[name]
    assert Dense(4, activation=fn).get_config()["activation"] == name


def test_keras_style_arguments_from_the_twin_modules_build_a_layer():
    import torch

    keras = cnnkit
    layer = keras.layers.Dense(
        3,
        kernel_initializer=keras.initializers.HeNormal(seed=1),
        kernel_regularizer=keras.regularizers.L2(0.5),
        kernel_constraint=keras.constraints.MaxNorm(2.0),
        activation=keras.activations.relu,
        input_shape=(4,),
    )
    out = layer(torch.ones(2, 4))
    assert out.shape == (2, 3) and bool((out >= 0).all())
    kernel = layer.get_weights()[0]
    expected_penalty = 0.5 * float((kernel**2).sum())
    assert float(sum(layer.regularization_losses()).detach()) == pytest.approx(
        expected_penalty, rel=1e-5
    )


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'cnnkit' has no attribute 'Sequentail'"):
        cnnkit.Sequentail  # noqa: B018
    assert not hasattr(cnnkit, "tensorflow")


def test_dir_lists_the_lazy_names():
    names = dir(cnnkit)
    for name in ("layers", "models", "optimizers", "Sequential", "__version__"):
        assert name in names


def test_import_cnnkit_stays_light_until_a_subpackage_is_used():
    code = (
        "import sys, cnnkit\n"
        "light = 'torch' not in sys.modules\n"
        "cnnkit.ops.pad\n"
        "ops_light = 'torch' not in sys.modules\n"
        "cnnkit.layers.Conv2D\n"
        "print(light, ops_light, 'torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["True", "True", "True"]


# The public API of DESIGN.md, reached the way course code reaches it: ``keras.<module>.<name>``.
DESIGN_API = {
    "models": "Sequential Model load_model",
    "layers": "Input Conv1D Conv2D DepthwiseConv2D SeparableConv2D MaxPooling2D AveragePooling2D "
    "GlobalAveragePooling2D GlobalMaxPooling2D Dense Flatten Dropout BatchNormalization "
    "Activation LeakyReLU ZeroPadding2D Add Concatenate Rescaling RandomFlip RandomRotation "
    "RandomZoom RandomTranslation",
    "callbacks": "EarlyStopping ModelCheckpoint TensorBoard CSVLogger ReduceLROnPlateau "
    "LearningRateScheduler TerminateOnNaN BackupAndRestore",
    "datasets": "mnist fashion_mnist cifar10 cifar100",
    "utils": "to_categorical image_dataset_from_directory set_random_seed",
    "preprocessing.image": "ImageDataGenerator",
    "applications": "LeNet5 AlexNet VGG16 VGG19 ResNet18 ResNet34 ResNet50 ResNet101 ResNet152 "
    "GoogLeNet MobileNetV2 DenseNet121",
}


@pytest.mark.parametrize(
    "keras_path",
    [f"{module}.{name}" for module, names in DESIGN_API.items() for name in names.split()],
)
def test_design_public_api_resolves_through_import_cnnkit_as_keras(keras_path: str):
    module, name = keras_path.rsplit(".", 1)
    assert _resolve(keras_path) is getattr(importlib.import_module(f"cnnkit.{module}"), name)
