"""The model zoo: classic CNNs with torchvision-compatible ImageNet weights.

Every builder takes Keras' keywords (``include_top``, ``weights``,
``input_shape``, ``pooling``, ``classes``, ``classifier_activation``) and
returns a :class:`cnnkit.models.Model` with ``forward_features``,
``forward_head``, ``reset_classifier`` and ``feature_info``. Per-family
``preprocess_input``/``decode_predictions`` live in the family modules
(``cnnkit.applications.resnet.preprocess_input``) as in Keras.
"""

from cnnkit.applications._base import ZooModel
from cnnkit.applications._imagenet import decode_predictions
from cnnkit.applications._recipes import Recipe, default_recipe, mnist_net
from cnnkit.applications._registry import get_model, list_models
from cnnkit.applications.alexnet import AlexNet
from cnnkit.applications.densenet import DenseNet, DenseNet121
from cnnkit.applications.efficientnet_lite import EfficientNetLite0
from cnnkit.applications.googlenet import GoogLeNet
from cnnkit.applications.lenet import LeNet5
from cnnkit.applications.mobilenet_v2 import MobileNetV2
from cnnkit.applications.resnet import ResNet, ResNet18, ResNet34, ResNet50, ResNet101, ResNet152
from cnnkit.applications.vgg import VGG, VGG16, VGG19

__all__ = [
    "VGG",
    "VGG16",
    "VGG19",
    "AlexNet",
    "DenseNet",
    "DenseNet121",
    "EfficientNetLite0",
    "GoogLeNet",
    "LeNet5",
    "MobileNetV2",
    "Recipe",
    "ResNet",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "ZooModel",
    "decode_predictions",
    "default_recipe",
    "get_model",
    "list_models",
    "mnist_net",
]
