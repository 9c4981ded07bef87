"""Classical baselines a CNN must beat: kNN (L1/L2), a random forest, an MLP, LeNet-5.

``compare("mnist")`` runs them on one dataset and returns one row each (test
accuracy, fit time, predict time per 1,000 images, size, peak memory);
``write_report`` writes the table as JSON, Markdown and an accuracy-vs-time PNG.
``cnnkit compare`` is the same from the command line.
"""

from cnnkit.baselines._compare import BASELINES, Comparison, Row, compare, run_baseline
from cnnkit.baselines._data import DATASETS, ComparisonData, load_comparison_data
from cnnkit.baselines._forest import RandomForest
from cnnkit.baselines._knn import L1_KERNELS, METRICS, KNNClassifier
from cnnkit.baselines._networks import NETWORKS, NetworkSpec
from cnnkit.baselines._report import REPORT_FILES, markdown_table, print_table, write_report

__all__ = [
    "BASELINES",
    "DATASETS",
    "L1_KERNELS",
    "METRICS",
    "NETWORKS",
    "REPORT_FILES",
    "Comparison",
    "ComparisonData",
    "KNNClassifier",
    "NetworkSpec",
    "RandomForest",
    "Row",
    "compare",
    "load_comparison_data",
    "markdown_table",
    "print_table",
    "run_baseline",
    "write_report",
]
