import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import CheckpointError, load_checkpoint, save_checkpoint
from workflow_helpers import TinyMLP


def test_state_dict_round_trip_is_plain_safetensors(tmp_path):
    cr.manual_seed(0)
    model = TinyMLP()
    path = tmp_path / "w.safetensors"
    cr.save(model.state_dict(), path)
    loaded = cr.load(path)
    assert list(loaded) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert loaded[k].dtype == v.dtype and np.array_equal(loaded[k].array, v.array)
    other = TinyMLP()
    other.load_state_dict(loaded)
    x = cr.randn(3, 2)
    assert np.array_equal(other(x).array, model(x).array)


def test_files_interoperate_with_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = TinyMLP()
    cr.save(model.state_dict(), tmp_path / "ours.safetensors")
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    assert np.array_equal(theirs["hidden.weight"], model.hidden.weight.array)
    arrays = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), "b": np.ones(2, np.float64),
              "c": np.array([True, False])}
    st.save_file(arrays, str(tmp_path / "theirs.safetensors"))
    back = cr.load(tmp_path / "theirs.safetensors")
    for k, v in arrays.items():
        assert back[k].array.dtype == v.dtype and np.array_equal(back[k].array, v)


def test_nested_objects_round_trip_without_pickle(tmp_path):
    obj = {"epoch": 3, "name": "run", "lr": 0.1, "nan": float("nan"), "none": None, "flag": True,
           "betas": (0.9, 0.999), "int_keys": {0: {"m": cr.ones(2)}, 1: {"m": cr.zeros(3)}},
           "arr": np.arange(3), "list": [cr.tensor([1, 2]), 2.5, "x"], "__odd": 1}
    path = tmp_path / "obj.safetensors"
    cr.save(obj, path)
    back = cr.load(path)
    assert back["epoch"] == 3 and back["name"] == "run" and back["none"] is None and back["flag"] is True
    assert np.isnan(back["nan"]) and back["betas"] == (0.9, 0.999) and back["__odd"] == 1
    assert set(back["int_keys"]) == {0, 1} and back["int_keys"][1]["m"].shape == (3,)
    assert isinstance(back["arr"], np.ndarray) and back["arr"].tolist() == [0, 1, 2]
    assert back["list"][0].dtype == cr.int64 and back["list"][1:] == [2.5, "x"]
    with open(path, "rb") as f:
        assert b"pickle" not in f.read()
    with pytest.raises(TypeError, match="cannot store an object of type set at a"):
        cr.save({"a": {1, 2}}, tmp_path / "bad.safetensors")


def test_optimizer_state_round_trip(tmp_path):
    model = TinyMLP()
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    model(cr.randn(4, 2)).sum().backward()
    opt.step()
    cr.save(opt.state_dict(), tmp_path / "opt.safetensors")
    opt2 = cr.optim.Adam(model.parameters(), lr=0.5)
    opt2.load_state_dict(cr.load(tmp_path / "opt.safetensors"))
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    a, b = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    assert np.array_equal(a["exp_avg"].array, b["exp_avg"].array)


def test_crash_during_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        cr.save({"w": cr.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]     # no temporary file left behind
    assert cr.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        cr.save({"w": cr.zeros(5)}, path)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert path.read_bytes() == before and len(os.listdir(tmp_path)) == 1


@pytest.mark.parametrize("damage", ["truncate_data", "truncate_header", "flip_data_byte",
                                    "flip_header_byte", "empty", "garbage"])
def test_damaged_files_are_rejected(tmp_path, damage):
    path = tmp_path / "w.safetensors"
    cr.save({"model": {"w": cr.randn(20, 20)}, "epoch": 4}, path)
    raw = bytearray(path.read_bytes())
    header_len = int.from_bytes(raw[:8], "little")
    if damage == "truncate_data":
        raw = raw[:-7]
    elif damage == "truncate_header":
        raw = raw[:8 + header_len // 2]
    elif damage == "flip_data_byte":
        raw[-50] ^= 0xFF
    elif damage == "flip_header_byte":
        raw[8 + header_len // 3] = ord("}")
    elif damage == "empty":
        raw = b""
    else:
        raw = b"not a safetensors file at all" * 10
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="w.safetensors"):
        cr.load(path)


def test_checkpoint_restores_everything(tmp_path):
    cr.manual_seed(1)
    model = TinyMLP()
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    model(cr.randn(4, 2)).sum().backward()
    opt.step()
    sched.step()
    gen = cr.Generator().manual_seed(7)
    gen.rng.random(3)
    save_checkpoint(tmp_path / "c.safetensors", model, opt, sched, epoch=2,
                    history={"epoch": [1, 2], "history": {"loss": [1.0, 0.5]}},
                    generators={"loader0": gen})
    expected_draw = cr.rand(3).tolist()
    expected_gen = gen.rng.random(2).tolist()

    cr.manual_seed(99)
    model2 = TinyMLP()
    opt2 = cr.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    sched2 = cr.optim.lr_scheduler.StepLR(opt2, step_size=1, gamma=0.5)
    gen2 = cr.Generator()
    state = load_checkpoint(tmp_path / "c.safetensors", model2, opt2, sched2, generators={"loader0": gen2})
    assert state["epoch"] == 2 and state["history"]["history"]["loss"] == [1.0, 0.5]
    assert np.array_equal(model2.out.weight.array, model.out.weight.array)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.05
    assert sched2.state_dict()["last_epoch"] == 1
    assert cr.rand(3).tolist() == expected_draw
    assert gen2.rng.random(2).tolist() == expected_gen


def test_load_checkpoint_rejects_a_plain_state_dict(tmp_path):
    cr.save(TinyMLP().state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match="not a chainrule training checkpoint"):
        load_checkpoint(tmp_path / "w.safetensors", TinyMLP())
