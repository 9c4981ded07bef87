"""Beyond one label per image: localisation, detection, segmentation and Siamese one-shot.

Boxes are ``(x1, y1, x2, y2)`` pixels; masks are class-indexed (0 = background).
The models are cnnkit functional models trained by ``fit`` with the task losses
here, and save/load like any cnnkit model. Data: ``cnnkit.datasets.digit_canvases``.
"""

from cnnkit.tasks._average_precision import COCO_IOU_THRESHOLDS, mean_average_precision
from cnnkit.tasks._boxes import (
    batched_nms,
    box_area,
    box_iou,
    check_boxes,
    decode_boxes,
    encode_boxes,
    nms,
)
from cnnkit.tasks._data import CanvasSequence
from cnnkit.tasks._detect import (
    Detector,
    build_detector,
    detection_loss,
    detection_targets,
    evaluate_detector,
)
from cnnkit.tasks._localize import (
    build_localizer,
    evaluate_localizer,
    generalized_iou,
    localization_loss,
    localization_targets,
    predict_localizer,
)
from cnnkit.tasks._masks import dice_score, mask_iou, segmentation_scores
from cnnkit.tasks._plots import (
    plot_boxes,
    plot_masks,
    plot_pairs,
    plot_task,
    plot_tsne_embeddings,
)
from cnnkit.tasks._recipes import TASKS, TaskRecipe, train_task
from cnnkit.tasks._segment import (
    build_fcn,
    build_unet,
    evaluate_segmenter,
    predict_masks,
    segmentation_loss,
    segmentation_targets,
)
from cnnkit.tasks._siamese import (
    ContrastiveLoss,
    TripletLoss,
    TwoViewBatches,
    build_embedding,
    contrastive_loss,
    embed,
    evaluate_one_shot,
    one_shot_accuracy,
    siamese_data,
    triplet_loss,
)

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "TASKS",
    "CanvasSequence",
    "ContrastiveLoss",
    "Detector",
    "TaskRecipe",
    "TripletLoss",
    "TwoViewBatches",
    "batched_nms",
    "box_area",
    "box_iou",
    "build_detector",
    "build_embedding",
    "build_fcn",
    "build_localizer",
    "build_unet",
    "check_boxes",
    "contrastive_loss",
    "decode_boxes",
    "detection_loss",
    "detection_targets",
    "dice_score",
    "embed",
    "encode_boxes",
    "evaluate_detector",
    "evaluate_localizer",
    "evaluate_one_shot",
    "evaluate_segmenter",
    "generalized_iou",
    "localization_loss",
    "localization_targets",
    "mask_iou",
    "mean_average_precision",
    "nms",
    "one_shot_accuracy",
    "plot_boxes",
    "plot_masks",
    "plot_pairs",
    "plot_task",
    "plot_tsne_embeddings",
    "predict_localizer",
    "predict_masks",
    "segmentation_loss",
    "segmentation_scores",
    "segmentation_targets",
    "siamese_data",
    "train_task",
    "triplet_loss",
]
