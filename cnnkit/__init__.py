"""cnnkit: convolutional neural networks for image classification.

Keras-simple API, PyTorch engine, every number explainable. Import the parts
you need (``from cnnkit.models import Sequential``); this top-level module stays
light so that ``cnnkit.ops`` works without importing torch.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
