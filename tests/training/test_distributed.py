"""Real 2-process data-parallel training (gloo on CPU) against a single-process run.

Every test that calls ``launch`` starts two fresh processes (a few seconds each
on two cores); the jobs live in ``tests/training/_dist_jobs.py`` so the spawned
processes can import them.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from cnnkit.models import load_model
from cnnkit.training import distributed
from tests.training import _dist_jobs as jobs


def _launch(fn, *args, timeout_s: float = 120.0):
    return distributed.launch(fn, nproc=2, args=args, backend="gloo", timeout_s=timeout_s)


def test_two_processes_train_exactly_like_one():
    single = jobs.train_small_cnn()
    ranks = _launch(jobs.equivalence_job)["ranks"]
    assert [r["info"] for r in ranks] == [(0, 2, True), (1, 2, True)]
    # DDP keeps the replicas identical, bit for bit.
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])
    # Global batch 16 split 8/8 (the last one, 1 sample, 1/0) with averaged gradients is
    # the same SGD trajectory as one process, up to rounding.
    np.testing.assert_allclose(ranks[0]["weights"], single["weights"], atol=1e-5, rtol=0)
    assert np.abs(single["weights"]).max() > 0.1  # the weights did move
    # Logs (train and validation) are sample-weighted over the ranks: identical everywhere
    # and equal to the single-process logs.
    assert ranks[0]["history"] == ranks[1]["history"]
    for key, values in single["history"].items():
        np.testing.assert_allclose(ranks[0]["history"][key], values, atol=1e-5, err_msg=key)
    # evaluate() inside a distributed process computes the full result on every rank.
    np.testing.assert_allclose(ranks[1]["evaluate"], single["evaluate"], atol=1e-5)


def test_the_equivalence_check_catches_wrong_sharding():
    # Both ranks train on rank 0's slice of every batch: the replicas still agree with
    # each other (DDP), but no longer with the single-process run.
    single = jobs.train_small_cnn()
    ranks = _launch(jobs.equivalence_job, "same_slice")["ranks"]
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])
    assert np.abs(ranks[0]["weights"] - single["weights"]).max() > 1e-3


def test_callbacks_decide_together_and_rank_zero_writes(tmp_path):
    ranks = _launch(jobs.callbacks_job, str(tmp_path))["ranks"]
    # EarlyStopping (patience 1, nothing counts as improvement) stops both after epoch 2.
    assert ranks[0]["first"] == ranks[1]["first"] == [0, 1]
    assert ranks[0]["history"] == ranks[1]["history"]
    # Only rank 1 asked to stop, in epoch 2: both ranks agree and stop there (no hang).
    assert ranks[0]["second"] == ranks[1]["second"] == [0, 1]
    # One writer: the CSV (append mode) has one header and one row per epoch, not two.
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch") and len(rows) == 3
    model = load_model(tmp_path / "best.cnnkit")
    assert model.count_params() == jobs.small_cnn().count_params()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.cnnkit", "log.csv"]


def test_unsupported_inputs_raise_template_errors(tmp_path):
    generator, backup, too_small = _launch(jobs.rejected_inputs_job, str(tmp_path / "b"))
    assert "shards array inputs only" in generator and "Received: x='generator'" in generator
    assert "BackupAndRestore is not supported in distributed training" in backup
    assert "at least world_size" in too_small and "samples=1" in too_small


def test_launch_returns_rank_zero_value():
    value, size, ranks = _launch(jobs.rank_info, 10)
    assert (value, size) == (10, 2)
    np.testing.assert_array_equal(ranks, [0, 1])


def test_a_failing_rank_surfaces_in_the_caller_without_hanging():
    start = time.monotonic()
    with pytest.raises(distributed.DistributedError, match=r"rank 1 raised(.|\n)*deliberate"):
        _launch(jobs.failing_job)
    # Rank 0 sat in a barrier that could never complete: it was stopped, not waited for.
    assert time.monotonic() - start < 60


def test_a_job_past_its_timeout_is_stopped():
    start = time.monotonic()
    with pytest.raises(distributed.DistributedError, match="did not finish within timeout_s=4"):
        _launch(jobs.sleeping_job, 120.0, timeout_s=4)
    assert time.monotonic() - start < 30


def test_outside_a_group_everything_is_single_process():
    assert (distributed.rank(), distributed.world_size()) == (0, 1)
    assert not distributed.is_distributed() and distributed.is_main_process()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fn": 3}, TypeError, "`fn` must be a callable.*Received: fn=3"),
        ({"nproc": 0}, ValueError, "`nproc` must be an integer >= 1.*Received: nproc=0"),
        ({"nproc": 2.0}, ValueError, "Received: nproc=2.0"),
        ({"args": 5}, TypeError, "`args` must be a tuple.*Received: args='int'"),
        ({"backend": "glo"}, ValueError, "Unknown backend 'glo'.*Did you mean 'gloo'"),
        ({"timeout_s": 0}, ValueError, "`timeout_s` must be None or a positive.*timeout_s=0"),
    ],
)  # fmt: skip
def test_bad_launch_arguments(kwargs, error, match):
    call = {"fn": jobs.rank_info, "nproc": 2} | kwargs
    with pytest.raises(error, match=match):
        distributed.launch(**call)


def test_nccl_without_cuda_is_refused(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="backend='nccl' needs CUDA GPUs"):
        distributed.launch(jobs.rank_info, backend="nccl")
