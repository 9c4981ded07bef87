"""Full-MNIST kNN prediction: cnnkit's torch kNN vs scikit-learn brute force, one process.

10,000 test images against 60,000 training images (784 raw pixel values as
float32, k=3), for L2 and L1. Both sides predict the same test set; the
predictions must agree (the script exits 1 if they do not), then it prints
each side's time and the ratio cnnkit / scikit-learn. Goals: <= 0.5x for L2,
<= 1.0x for L1. cnnkit's L1 compile (torch.compile, ~25 s, once per shape) is
done in ``fit`` and timed separately, not as prediction.

scikit-learn: ``KNeighborsClassifier(k, algorithm="brute", p=1|2, n_jobs=-1)``.

Usage::

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/knn.py
    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/knn.py --test 2000 --metric l2
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

GOALS = {"l2": 0.5, "l1": 1.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=int, default=10_000, help="test images (default all)")
    parser.add_argument("--metric", choices=["l2", "l1", "both"], default="both")
    parser.add_argument("-k", type=int, default=3)
    args = parser.parse_args()

    from sklearn.neighbors import KNeighborsClassifier

    from cnnkit.baselines import KNNClassifier
    from cnnkit.datasets import mnist

    (x, y), (xt, yt) = mnist.load_data()
    x = x.reshape(len(x), -1).astype(np.float32)
    xt = xt[: args.test].reshape(-1, 784).astype(np.float32)
    yt = yt[: args.test]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load {os.getloadavg()[0]:.1f}; {len(xt):,} x {len(x):,} images")  # fmt: skip
    failed = False
    for metric in ("l2", "l1") if args.metric == "both" else (args.metric,):
        start = time.perf_counter()
        ours = KNNClassifier(args.k, metric).fit(x, y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        mine = ours.predict(xt)
        ours_s = time.perf_counter() - start
        ref = KNeighborsClassifier(args.k, algorithm="brute", p=int(metric[1]), n_jobs=-1)
        ref.fit(x, y)
        start = time.perf_counter()
        theirs = ref.predict(xt)
        ref_s = time.perf_counter() - start
        agree = int((mine == theirs).sum())
        ratio = ours_s / ref_s
        goal = GOALS[metric]
        print(f"{metric}: cnnkit {ours_s:.2f} s (fit {fit_s:.2f} s) vs scikit-learn {ref_s:.2f} s "
              f"-> {ratio:.3f}x (goal <= {goal}x: {'met' if ratio <= goal else 'NOT met'}); "
              f"accuracy {np.mean(mine == yt):.4f} vs {np.mean(theirs == yt):.4f}; "
              f"identical predictions {agree}/{len(xt)}; load {os.getloadavg()[0]:.1f}",
              flush=True)  # fmt: skip
        failed |= agree != len(xt)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
