"""``jit_compile``: eager where compiling cannot pay, one compiled shape per mode elsewhere.

A stand-in compiler replaces ``torch.compile(module, dynamic=False)``: it counts the graphs
dynamo would build, keyed on what dynamo guards with ``dynamic=False`` (shape, dtype,
inference-tensor-ness, training flag, grad/inference mode), and runs the module itself.
Dynamo's first compile in a process costs 5-15 s on the 2-core CI machine; this keeps the
tests to milliseconds while checking exactly the shapes and modes that reach the compiler.
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


class StaticGuards:
    """A compiler that records one graph per distinct static-guard key."""

    def __init__(self) -> None:
        self.graphs: set[tuple] = set()

    def __call__(self, module: nn.Module):
        def compiled(x: torch.Tensor):
            modes = (module.training, torch.is_grad_enabled(), torch.is_inference_mode_enabled())
            self.graphs.add((tuple(x.shape), x.dtype, x.is_inference(), *modes))
            return module(x)

        return compiled


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
    compiler = StaticGuards()
    model = _net()
    forward = build_forward(model, True, CPU, policy=AT_ONCE, compiler=compiler)
    x = torch.randn(70, 2, 2, 3)
    model.train()
    for _ in range(3):  # three "epochs": batches 32, 32 and a ragged 6
        for i in range(0, 70, 32):
            forward(x[i : i + 32]).sum().backward()
    assert len(compiler.graphs) == 1
    model.eval()
    with torch.inference_mode():
        xs = x.clone()  # batches gathered in inference mode are inference tensors
        outs = [forward(xs[i : i + 32]) for i in range(0, 70, 32)]  # validation, ragged 6
        one = forward(xs[:1])  # predict of one photo
        five = forward(xs[:5])
    assert len(compiler.graphs) == 2  # one training graph, one eval graph: nothing else
    assert forward.counts() == {"eager": 3, "compiled": 6 + 5}  # eager: ragged training only
    with torch.inference_mode():
        reference = model(x)
    np.testing.assert_allclose(torch.cat(outs), reference, atol=1e-6)  # padding: rows unchanged
    np.testing.assert_allclose(one, reference[:1], atol=1e-6)
    np.testing.assert_allclose(five, reference[:5], atol=1e-6)


def test_a_ragged_batch_is_never_the_shape_compiled():
    compiler = StaticGuards()
    model = _net().train()
    forward = AmortizedCompile(model, compile_after_s=0.0, compiler=compiler)
    forward(torch.randn(32, 2, 2, 3))  # not compiled: eager until a batch ties the largest
    assert {g[0][0] for g in compiler.graphs} == {32}
    forward(torch.randn(6, 2, 2, 3))
    assert {g[0][0] for g in compiler.graphs} == {32}


def test_short_runs_stay_eager_until_they_have_earned_the_compile():
    compiler = StaticGuards()
    forward = AmortizedCompile(_net().eval(), compile_after_s=3600.0, compiler=compiler)
    with torch.inference_mode():
        for _ in range(5):
            forward(torch.randn(4, 2, 2, 3))
    assert not compiler.graphs and forward.counts() == {"eager": 5, "compiled": 0}


def test_a_failing_compiler_falls_back_to_eager_with_a_warning():
    def broken(module):
        def compiled(x):
            raise RuntimeError("no triton here")

        return compiled

    model = _net().eval()
    forward = build_forward(model, True, CPU, policy=AT_ONCE, compiler=broken)
    x = torch.randn(4, 2, 2, 3)
    with torch.inference_mode(), pytest.warns(RuntimeWarning, match="torch.compile failed"):
        out = forward(x)
        forward(x)  # the mode is marked failed: the compiler is not tried again
    with torch.inference_mode():
        np.testing.assert_allclose(out, model(x), atol=1e-6)
    assert forward.counts() == {"eager": 2, "compiled": 0}


def test_rewrap_keeps_the_rule_for_a_wrapper():
    compiler = StaticGuards()
    model = _net()
    compiled = build_forward(model, True, CPU, policy=AT_ONCE, compiler=compiler)
    wrapper = nn.Sequential(model)
    again = rewrap_forward(compiled, wrapper)
    assert isinstance(again, AmortizedCompile) and again.module is wrapper
    assert again.compiler is compiler
    assert rewrap_forward(model, wrapper) is wrapper
