"""``jit_compile``: eager where compiling cannot pay, one compiled shape per mode elsewhere.

A counting ``torch.compile`` backend stands in for inductor: it records every graph
dynamo hands over (each one is a compile, or a recompile, that inductor would pay for)
and runs it as traced, so these tests exercise dynamo's real guards in seconds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from cnnkit.training._compile import (
    POLICIES,
    AmortizedCompile,
    CompilePolicy,
    build_forward,
    rewrap_forward,
)

CPU = torch.device("cpu")
AT_ONCE = CompilePolicy(compiles=True, compile_after_s=0.0)


class CountingBackend:
    def __init__(self) -> None:
        self.graphs = 0

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: list) -> object:
        self.graphs += 1
        return gm.forward


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(),
                         nn.Linear(8, 3))  # fmt: skip


def test_cpu_runs_eagerly_and_says_so_in_one_line():
    model = _net()
    with pytest.warns(UserWarning, match=r"running eagerly on the CPU") as seen:
        forward = build_forward(model, True, CPU)
    assert forward is model
    assert len(seen) == 1 and "\n" not in str(seen[0].message)


@pytest.mark.parametrize("flag", [False, None, "auto"])
def test_off_or_auto_on_cpu_is_the_model_without_a_word(flag):
    model = _net()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build_forward(model, flag, CPU) is model


def test_bad_jit_compile_is_refused_by_the_template():
    with pytest.raises(ValueError, match=r"`jit_compile` must be False, True or 'auto'.*"
                       r"Received: jit_compile='yes'"):  # fmt: skip
        build_forward(_net(), "yes", CPU)


def test_cuda_policy_compiles_only_after_a_minute_of_eager_running():
    assert POLICIES["cuda"].compiles and POLICIES["cuda"].compile_after_s == 60.0
    assert not POLICIES["cpu"].compiles


def test_ragged_batches_and_predict_shapes_never_recompile():
    backend = CountingBackend()
    model = _net()
    forward = build_forward(model, True, CPU, policy=AT_ONCE, backend=backend)
    x = torch.randn(70, 2, 2, 3)
    model.train()
    for _ in range(3):  # three "epochs": batches 32, 32 and a ragged 6
        for i in range(0, 70, 32):
            forward(x[i : i + 32]).sum().backward()
    train_graphs = backend.graphs
    assert train_graphs >= 1
    model.eval()
    with torch.inference_mode():
        outs = [forward(x[i : i + 32]) for i in range(0, 70, 32)]  # validation
        one = forward(x[:1])  # predict of one photo
        five = forward(x[:5])
    # Training compiled once (dynamo may split a graph, never per shape); eval once more.
    assert backend.graphs == 2 * train_graphs
    assert forward.counts()["eager"] == 3  # only the ragged training batches
    with torch.inference_mode():
        reference = model(x)
    torch.testing.assert_close(torch.cat(outs), reference)
    torch.testing.assert_close(one, reference[:1])
    torch.testing.assert_close(five, reference[:5])


def test_short_runs_stay_eager_until_they_have_earned_the_compile():
    backend = CountingBackend()
    forward = AmortizedCompile(_net().eval(), compile_after_s=3600.0, backend=backend)
    with torch.inference_mode():
        for _ in range(5):
            forward(torch.randn(4, 2, 2, 3))
    assert backend.graphs == 0 and forward.counts() == {"eager": 5, "compiled": 0}


def test_a_failing_compiler_falls_back_to_eager_with_a_warning():
    def broken(gm, example_inputs):
        raise RuntimeError("no triton here")

    model = _net().eval()
    forward = build_forward(model, True, CPU, policy=AT_ONCE, backend=broken)
    x = torch.randn(4, 2, 2, 3)
    with torch.inference_mode(), pytest.warns(RuntimeWarning, match="torch.compile failed"):
        out = forward(x)
        forward(x)  # a second first-call in the same mode does not retry the compiler
    with torch.inference_mode():
        torch.testing.assert_close(out, model(x))
    assert forward.counts()["compiled"] == 0


def test_rewrap_keeps_the_rule_for_a_wrapper():
    backend = CountingBackend()
    model = _net()
    compiled = build_forward(model, True, CPU, policy=AT_ONCE, backend=backend)
    wrapper = nn.Sequential(model)
    again = rewrap_forward(compiled, wrapper)
    assert isinstance(again, AmortizedCompile) and again.module is wrapper
    assert rewrap_forward(model, wrapper) is wrapper


def test_model_fit_with_jit_compile_on_cpu_trains_eagerly():
    from cnnkit import layers
    from cnnkit.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4, 4, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    model = Sequential([layers.Input((4, 4, 1)), layers.Flatten(), layers.Dense(2, "softmax")])
    with pytest.warns(UserWarning, match="running eagerly"):
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], jit_compile=True)
    history = model.fit(x, y, batch_size=40, epochs=3, verbose=0)  # ragged last batch of 16
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x[:1], verbose=0).shape == (1, 2)
