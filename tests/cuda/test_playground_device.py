"""A Playground session on the fake ``cuda`` device trains to the CPU's frames: the network and
its data live on the device, and every frame, backprop answer and saved model reads the host's
numbers. ``chainrule playground --device cuda`` without CUDA stops at start with the reason."""
import base64
import json

import pytest

pytest.importorskip("chainrule.playground.session")

import chainrule as cr                                                   # noqa: E402
from chainrule.playground import cli                                    # noqa: E402
from chainrule.playground.session import DEVICE_VARIABLE, Session       # noqa: E402
from fake_array_module import FakeDeviceArray                            # noqa: E402

LAYER = {"units": 4, "activation": "tanh", "dropout": 0, "batchnorm": False}
SETTINGS = {
    "default": {"samples": 120},
    "everything": {"samples": 120, "optimizer": "adam", "regularization": "L1",
                   "regularization_rate": 0.001, "residual": True, "loss": "cross_entropy",
                   "layers": [dict(LAYER, units=5, activation="relu", dropout=0.2),
                              dict(LAYER, units=5, batchnorm=True), dict(LAYER, units=3)]},
    "regression": {"samples": 120, "dataset": "plane", "problem": "regression",
                   "regularization": "L2", "regularization_rate": 0.01, "optimizer": "momentum"},
}


def _run(settings, device):
    s = Session(settings, device=device)
    replies = [s.advance(epochs=3), s.frame(), s.advance(epochs=2), s.frame(),
               s.handle({"type": "backprop", "layer": 1, "to": 0, "from": 1})]
    saved = s.handle({"type": "save_model"})[0]["base64"]
    return s, json.loads(json.dumps(replies)), base64.b64decode(saved)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_session_on_the_fake_device_gives_the_cpu_frames(fake_cuda, name):
    _, on_cpu, saved_cpu = _run(SETTINGS[name], "cpu")
    session, on_cuda, saved_cuda = _run(SETTINGS[name], "cuda")
    assert all(type(p.array) is FakeDeviceArray for p in session.net.model.parameters())
    assert session.trainer.epoch == 5 and on_cuda[3]["epoch"] == 5
    assert on_cuda == on_cpu
    assert saved_cuda == saved_cpu


def test_session_reads_the_device_from_the_environment(fake_cuda, monkeypatch):
    monkeypatch.setenv(DEVICE_VARIABLE, "cuda")
    assert Session({"samples": 40}).net.output.weight.device.type == "cuda"
    monkeypatch.delenv(DEVICE_VARIABLE)
    assert Session({"samples": 40}).net.output.weight.device.type == "cpu"


@pytest.mark.skipif(cr.cuda.is_available(), reason="CUDA is available here")
def test_cli_without_cuda_says_why_at_start(capsys, monkeypatch):
    monkeypatch.delenv(DEVICE_VARIABLE, raising=False)
    assert cli.main(["--device", "cuda", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda: CUDA is not available here (needs a GPU and CuPy: " \
           "pip install 'chainrule[cuda]')" in err
    assert cli.main(["--device", "gpu"]) == 2
    assert "--device gpu: Expected one of cpu, cuda" in capsys.readouterr().err
