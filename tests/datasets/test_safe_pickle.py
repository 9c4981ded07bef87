"""The restricted unpickler: NumPy arrays and containers pass, anything else is refused."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cnnkit.datasets._safe_pickle import restricted_loads
from tests.datasets._fakes import Hostile


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_arrays_and_containers_load(protocol):
    value = {
        b"data": np.arange(12, dtype=np.uint8).reshape(3, 4),
        b"labels": [1, 2, 3],
        b"names": (b"a", b"b"),
        b"set": {1, 2},
        b"f": np.linspace(0, 1, 5, dtype=np.float32),
    }
    got = restricted_loads(pickle.dumps(value, protocol=protocol), "test data")
    np.testing.assert_array_equal(got[b"data"], value[b"data"])
    np.testing.assert_array_equal(got[b"f"], value[b"f"])
    assert got[b"labels"] == [1, 2, 3] and got[b"names"] == (b"a", b"b") and got[b"set"] == {1, 2}


@pytest.mark.parametrize("protocol", [0, 4])
def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path, protocol):
    proof = tmp_path / "plain_unpickler_ran_it"
    pickle.loads(pickle.dumps(Hostile(proof), protocol=protocol))
    assert proof.exists()  # the payload is real: the ordinary unpickler runs it

    marker = tmp_path / "pwned"
    data = pickle.dumps({"data": Hostile(marker)}, protocol=protocol)
    with pytest.raises(
        ValueError,
        match=r"Refusing to unpickle evil.pkl: it asks for the global '(posix|nt|os)\.system'"
        r".*Nothing in the file was run",
    ):
        restricted_loads(data, "evil.pkl")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [("builtins", "eval"), ("subprocess", "Popen"), ("numpy", "load"), ("builtins", "getattr")],
)
def test_other_globals_refused(module, name):
    # protocol-0 GLOBAL opcode naming the callable, then an empty tuple and REDUCE
    data = f"c{module}\n{name}\n(tR.".encode()
    with pytest.raises(ValueError, match=rf"global '{module}\.{name}', which is not on the allow"):
        restricted_loads(data, "x")


def test_malformed_pickle_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Could not unpickle batch: .*corrupted"):
        restricted_loads(b"\x80\x04not a pickle", "batch")
