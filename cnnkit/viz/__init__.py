"""Plots and probes (matplotlib, the ``viz`` extra): training curves, confusion matrices,
filters, feature maps and feature embeddings. matplotlib is imported only when drawing."""

from cnnkit.viz._confusion import confusion_matrix, plot_confusion_matrix
from cnnkit.viz._curves import plot_history
from cnnkit.viz._embedding import embed_features, plot_embedding, plot_tsne
from cnnkit.viz._feature_maps import feature_maps, plot_feature_maps
from cnnkit.viz._filters import conv_kernel, plot_filters
from cnnkit.viz._probe import layer_features

__all__ = [
    "confusion_matrix",
    "conv_kernel",
    "embed_features",
    "feature_maps",
    "layer_features",
    "plot_confusion_matrix",
    "plot_embedding",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_tsne",
]
