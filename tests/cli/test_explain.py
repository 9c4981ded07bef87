"""``cnnkit explain``: matrices as text in, worked sums out."""

from __future__ import annotations

import pytest

from cnnkit.cli import main


def test_default_is_the_course_example(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert "out[0, 0] = 1×3 + 0×0 + (−1)×1 + 1×1 + 0×5 + (−1)×8 + 1×2 + 0×7 + (−1)×2 = −5" in out
    assert out.rstrip().endswith("−3  −2  −3 −16")


def test_one_position_with_named_kernel(capsys):
    args = ["explain", "--image", "3 0 1; 1 5 8; 2 7 2", "--kernel", "sobel_x", "--at", "0,0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(−1)×3 + 0×0 + 1×1 + (−2)×1 + 0×5 + 2×8 + (−1)×2 + 0×7 + 1×2 = 12" in out
    assert "⊙" in out


def test_padding_strides_and_custom_kernel(capsys):
    args = ["explain", "--image", "3 0 1; 1 5 8; 2 7 2", "--kernel", "1 1; 1 1"]
    assert main([*args, "--padding", "same", "--strides", "2"]) == 0
    out = capsys.readouterr().out
    assert "output rows: ceil(3 / 2) = 2  (same: 0 before, 1 after)" in out
    assert "out[1, 1] = 1×2 + 1×0 + 1×0 + 1×0 = 2" in out
    assert main([*args, "--padding", "0,1,0,1", "--dilation", "1"]) == 0
    assert "out[1, 1] = 1×5 + 1×8 + 1×7 + 1×2 = 22" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--at", "9,9"], "`at` is outside the output"),
        (["--at", "1"], '--at must be integers written as "A,B"'),
        (["--padding", "1,x"], "--padding must be integers"),
        (
            ["--padding", "sam"],
            "Unknown padding 'sam'. Received: --padding='sam' Did you mean 'same'",
        ),
        (["--strides", "0"], "`strides` must be a positive integer"),
        (["--image", "1 2; 3"], "rows of `--image` have different lengths"),
        (["--image", "1 a"], "not a number: 'a'"),
        (["--kernel", "sobelx"], "Did you mean 'sobel_x'"),
        (["--kernel", "9 9 9 9 9 9 9; 1 1 1 1 1 1 1"], "kernel is larger than the padded input"),
    ],
)
def test_errors(args, match, capsys):
    assert main(["explain", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnkit explain: error:")
    assert match in err
