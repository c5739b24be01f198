"""course/course_helpers.py: the quick switch, the data fallbacks, the Playground links."""
import importlib
import pathlib
import sys
import urllib.parse

import numpy as np
import pytest

COURSE = pathlib.Path(__file__).resolve().parents[2] / "course"


@pytest.fixture
def helpers(monkeypatch):
    monkeypatch.syspath_prepend(str(COURSE))
    sys.modules.pop("course_helpers", None)
    return importlib.import_module("course_helpers")


def test_pick_follows_the_quick_variable(monkeypatch, helpers):
    monkeypatch.setenv("CHAINRULE_COURSE_QUICK", "1")
    assert importlib.reload(helpers).pick(100, 5) == 5
    monkeypatch.setenv("CHAINRULE_COURSE_QUICK", "0")
    assert importlib.reload(helpers).pick(100, 5) == 100


def test_synthetic_digits_are_labelled_images(helpers):
    images, labels = helpers.synthetic_digits(50, seed=1)
    assert images.shape == (50, 1, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    # the same digit drawn twice overlaps more than two different digits
    ones = images[labels == 1].mean(axis=0)
    eights = images[labels == 8].mean(axis=0)
    assert np.abs(ones - eights).sum() > 10


def test_fallbacks_when_no_data(monkeypatch, tmp_path, helpers, capsys):
    monkeypatch.setattr(helpers, "data_folder", lambda: None)
    X, y, Xt, yt, source = helpers.load_digits(20, 10)
    assert tuple(X.shape) == (20, 1, 28, 28) and tuple(Xt.shape) == (10, 1, 28, 28)
    assert source == "synthetic digits"
    text, source = helpers.load_text(5000)
    assert len(text) == 5000 and "Citizen" in text
    assert "note:" in capsys.readouterr().out


def test_data_folder_from_the_environment(monkeypatch, tmp_path, helpers):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    assert helpers.data_folder() == tmp_path


def test_playground_link_holds_the_preset(helpers):
    from chainrule.playground.presets import PRESETS
    link = helpers.playground_link("deep_relu")
    fields = dict(pair.split("=", 1) for pair in urllib.parse.urlsplit(link).fragment.split("&"))
    settings = PRESETS["deep_relu"]["settings"]
    assert fields["init"] == "he" and fields["dataset"] == settings["dataset"]
    assert fields["layers"] == ",".join(["6-relu"] * 8)
    assert fields["discretize"] == "false"      # the page reads only "true" / "1" as true
    assert helpers.playground_link(None, layers=[{"units": 3, "activation": "tanh", "dropout": 0.2,
                                                  "batchnorm": True}]).count("3-tanh-d0.2-bn") == 1


def test_playground_link_rejects_what_the_page_would(helpers):
    from chainrule.playground.protocol import ProtocolError
    with pytest.raises(ProtocolError, match="learning_rate"):
        helpers.playground_link(None, learning_rate=0.123)
