"""OneCycle and CosineDecay against torch's own schedulers, step by step, and their resumption."""

from __future__ import annotations

import json
import math

import pytest
import torch

from cnnkit.callbacks import Callback, CosineDecay, OneCycle
from tests.callbacks._fakes import FakeModel, drive

EPOCHS, STEPS = 4, 5


class RecordBatchRates(Callback):
    """Records (lr, momentum-or-beta1) of group 0 as each batch starts, after the schedule."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[float, float]] = []

    def on_train_batch_begin(self, batch, logs=None):
        group = self.model.optimizer.param_groups[0]
        momentum = group["betas"][0] if "betas" in group else group["momentum"]
        self.seen.append((float(group["lr"]), float(momentum)))


def _torch_one_cycle(optimizer_name, total, **kwargs):
    model = FakeModel(optimizer=optimizer_name)
    sched = torch.optim.lr_scheduler.OneCycleLR(model.optimizer, total_steps=total, **kwargs)
    seen = []
    for _ in range(total):
        group = model.optimizer.param_groups[0]
        momentum = group["betas"][0] if "betas" in group else group["momentum"]
        seen.append((float(group["lr"]), float(momentum)))
        model.optimizer.step()
        sched.step()
    return seen


ONE_CYCLE_CASES = [
    ("sgd", {"max_lr": 0.1}),
    ("adam", {"max_lr": 0.01, "pct_start": 0.25}),
    ("sgd", {"max_lr": 0.1, "anneal_strategy": "linear"}),
    ("sgd", {"max_lr": 0.1, "three_phase": True}),
    ("sgd", {"max_lr": 0.5, "div_factor": 10.0, "final_div_factor": 100.0, "pct_start": 0.4}),
    ("sgd", {"max_lr": 0.1, "cycle_momentum": False}),
]


@pytest.mark.parametrize(("optimizer", "kwargs"), ONE_CYCLE_CASES)
def test_one_cycle_matches_torch_one_cycle_lr(optimizer, kwargs):
    record = RecordBatchRates()
    model = FakeModel(optimizer=optimizer)
    drive([OneCycle(**kwargs), record], [{}] * EPOCHS, model=model, steps=STEPS)
    expected = _torch_one_cycle(optimizer, EPOCHS * STEPS, **kwargs)
    assert [lr for lr, _ in record.seen] == pytest.approx([lr for lr, _ in expected], rel=1e-9)
    assert [m for _, m in record.seen] == pytest.approx([m for _, m in expected], rel=1e-9)


def test_one_cycle_per_group_peaks_and_clamping_past_the_end():
    model = FakeModel(lrs=(1.0, 1.0))
    cb = OneCycle(max_lr=[0.1, 0.01], total_steps=10, cycle_momentum=False)
    drive(cb, [{}] * 3, model=model, steps=5)  # 15 steps > total_steps
    final = 0.1 / 25 / 1e4
    assert model.lrs() == pytest.approx([final, final / 10])


def _torch_cosine(lr0, alpha, total, steps):
    model = FakeModel(lrs=(lr0,))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        model.optimizer, T_max=total, eta_min=alpha * lr0
    )
    seen = []
    for _ in range(steps):
        seen.append(model.lrs()[0])
        model.optimizer.step()
        sched.step()
    return seen


@pytest.mark.parametrize(("lr0", "alpha", "decay_steps"), [(0.1, 0.0, None), (0.05, 0.1, 12)])
def test_cosine_decay_matches_torch_cosine_annealing(lr0, alpha, decay_steps):
    record = RecordBatchRates()
    model = FakeModel(optimizer="sgd")
    cb = CosineDecay(lr0, decay_steps=decay_steps, alpha=alpha)
    drive([cb, record], [{}] * EPOCHS, model=model, steps=STEPS)
    total = decay_steps or EPOCHS * STEPS
    # Keras clamps at decay_steps; compare over the part where torch's cosine is defined.
    n = min(total + 1, EPOCHS * STEPS)
    expected = _torch_cosine(lr0, alpha, total, n)
    assert [lr for lr, _ in record.seen][:n] == pytest.approx(expected, rel=1e-6)
    if decay_steps:
        assert [lr for lr, _ in record.seen][n:] == pytest.approx([alpha * lr0] * (20 - n))


# Keras' CosineDecay with warm-up: linear from initial to target, then cosine from target.
@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 0.0), (5, 0.5), (10, 1.0), (15, 0.5), (20, 0.0), (30, 0.0)],
)
def test_cosine_decay_warmup_values(step, expected):
    cosine = CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=10)
    assert cosine(step) == pytest.approx(expected, abs=1e-12)


def test_cosine_decay_per_epoch():
    model = FakeModel()
    seen = []

    class Record(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(model.lrs()[0])

    drive([CosineDecay(1.0, update="epoch"), Record()], [{}] * 4, model=model, steps=2)
    assert seen == pytest.approx([(1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)])


@pytest.mark.parametrize(
    "make", [lambda: OneCycle(0.1), lambda: CosineDecay(0.1, warmup_target=0.2, warmup_steps=3)]
)
def test_schedules_resume_mid_epoch_from_state(make):
    whole, record_whole = make(), RecordBatchRates()
    drive([whole, record_whole], [{}] * EPOCHS, steps=STEPS)

    # Crash right after batch 2 of epoch 1 (0-based): 8 batches done.
    first, record_first = make(), RecordBatchRates()
    model = FakeModel()
    drive([first, record_first], [{}] * EPOCHS, model=model, steps=STEPS, crash_after=(1, 2))
    first_state = json.loads(json.dumps(first.get_state()))
    assert first_state == {"step": STEPS + 3}
    # Resume: a fresh callback gets the state; fit re-enters epoch 1 at batch 3.
    second, record_second = make(), RecordBatchRates()
    second.set_state(first_state)
    drive(
        [second, record_second], [{}] * 3, model=model, steps=STEPS, initial_epoch=1, start_batch=3
    )
    assert record_first.seen + record_second.seen == record_whole.seen


def test_fresh_run_from_initial_epoch_continues_the_schedule():
    whole, record_whole = OneCycle(0.1), RecordBatchRates()
    drive([whole, record_whole], [{}] * EPOCHS, steps=STEPS)
    later, record_later = OneCycle(0.1), RecordBatchRates()
    drive([later, record_later], [{}] * 2, steps=STEPS, initial_epoch=2)
    assert record_later.seen == record_whole.seen[2 * STEPS :]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: OneCycle(-0.1), ValueError, r"OneCycle: `max_lr` must be a learning rate"),
        (lambda: OneCycle(0.1, pct_start=1.0), ValueError, r"0 < pct_start < 1"),
        (
            lambda: OneCycle(0.1, anneal_strategy="cosine"),
            ValueError,
            r"unknown `anneal_strategy` 'cosine'.*Valid choices: 'cos', 'linear'",
        ),
        (lambda: OneCycle(0.1, div_factor=0), ValueError, r"`div_factor` must be > 0"),
        (lambda: OneCycle(0.1, total_steps=0), ValueError, r"`total_steps` must be a positive"),
        (lambda: OneCycle(0.1, update="step"), ValueError, r"unknown `update` 'step'"),
        (lambda: CosineDecay(0.1, alpha=2), ValueError, r"0 <= alpha <= 1.*Received: alpha=2"),
        (lambda: CosineDecay(0.1, decay_steps=0), ValueError, r"`decay_steps` must be an integer"),
        (lambda: CosineDecay("0.1"), ValueError, r"`initial_learning_rate` must be a learning"),
    ],
)
def test_schedule_argument_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_one_cycle_needs_total_steps_when_fit_does_not_know_them():
    with pytest.raises(ValueError, match=r"cannot tell how long training is.*total_steps="):
        drive(OneCycle(0.1), [{}], steps=0)


def test_one_cycle_max_lr_list_must_match_param_groups():
    with pytest.raises(ValueError, match=r"one rate per optimizer param group"):
        drive(OneCycle([0.1, 0.2, 0.3]), [{}], steps=2, model=FakeModel(lrs=(1.0, 1.0)))


def test_one_cycle_momentum_needs_a_momentum_optimizer():
    model = FakeModel()
    model.optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"needs an optimizer with `momentum`.*Adagrad"):
        drive(OneCycle(0.1), [{}], steps=2, model=model)


def test_cosine_warmup_longer_than_training():
    with pytest.raises(ValueError, match=r"no longer than the warm-up"):
        drive(CosineDecay(0.1, warmup_target=0.2, warmup_steps=50), [{}], steps=5)
