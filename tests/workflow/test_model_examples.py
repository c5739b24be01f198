"""The conv/recurrent/attention examples run at reduced size and their loss falls."""
import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist")
TEXT = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare.txt")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def needs(path):
    return pytest.mark.skipif(not os.path.exists(path), reason=f"{path} is not available")


@needs(MNIST)
def test_mnist_cnn_quick_learns():
    r = load("mnist_cnn").main(quick=True, root=MNIST, device="cpu")
    first, last = np.mean(r["losses"][:5]), np.mean(r["losses"][-5:])
    assert last < 0.6 * first
    assert r["accuracy"] > 0.7


@needs(MNIST)
def test_resnet_small_quick_residual_learns():
    r = load("resnet_small").main(quick=True, root=MNIST, blocks=1, epochs=2, device="cpu")
    res = r["residual"]["losses"]
    assert np.mean(res[-3:]) < np.mean(res[:3])


@needs(TEXT)
def test_char_lstm_quick_validation_loss_falls(capsys):
    r = load("char_lstm").main(TEXT, quick=True, device="cpu")
    assert r["val_losses"][-1] < r["val_losses"][0] - 0.5
    assert "saved, reloaded, kept sampling" in capsys.readouterr().out


@needs(TEXT)
def test_char_transformer_quick_validation_loss_falls():
    r = load("char_transformer").main(TEXT, quick=True, device="cpu")
    assert r["val_losses"][-1] < r["val_losses"][0] - 0.3
