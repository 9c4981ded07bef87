"""Why a model chose a class: class activation maps and pixel attributions.

``cam(model, images)`` returns one map per image, ``(N, H, W)`` in [0, 1] at the
input resolution, for any cnnkit model or ``torch.nn.Module``; ``cam_result``
also says which layer, class and probability. torchcam and captum (the
``explain`` extra) are imported only when a method needs them.
"""

from cnnkit.explain._attribute import ATTRIBUTION_METHODS, attribute, heatmap
from cnnkit.explain._cam import CAM_METHODS, CamResult, cam, cam_result
from cnnkit.explain._layers import find_cam_layer
from cnnkit.explain._plot import overlay, plot_cam, plot_cam_grid
from cnnkit.explain._sanity import cascading_randomization, randomized_copy, rank_correlation

__all__ = [
    "ATTRIBUTION_METHODS",
    "CAM_METHODS",
    "CamResult",
    "attribute",
    "cam",
    "cam_result",
    "cascading_randomization",
    "find_cam_layer",
    "heatmap",
    "overlay",
    "plot_cam",
    "plot_cam_grid",
    "randomized_copy",
    "rank_correlation",
]
