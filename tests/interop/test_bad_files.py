"""Damaged or hostile PyTorch files: each gets a clear error, nothing in them runs, and a failed
save leaves the folder as it was."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import CheckpointError

torch = pytest.importorskip("torch")


def rewrite_zip(src, dst, change):
    """Copy the zip ``src`` to ``dst`` with ``change(name, data) -> data`` applied per record."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_a_command_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": RunsACommand(marker)}, protocol=2)
    with zipfile.ZipFile(tmp_path / "evil.pt", "w") as z:
        z.writestr("evil/data.pkl", payload)
        z.writestr("evil/version", "3\n")
    with pytest.raises(CheckpointError, match=r"names the global (posix|os|nt)\.system"):
        cr.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_other_torch_globals_are_refused_by_name(tmp_path):
    torch.save({"opt": torch.optim.SGD}, tmp_path / "cls.pt")
    with pytest.raises(CheckpointError, match="torch.optim.sgd.SGD"):
        cr.load(tmp_path / "cls.pt")


def test_truncated_zip(tmp_path):
    torch.save({"w": torch.randn(64, 64)}, tmp_path / "ok.pt")
    raw = (tmp_path / "ok.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        cr.load(tmp_path / "cut.pt")


def test_wrong_magic(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"\x00GARBAGE" * 40)
    with pytest.raises(CheckpointError, match="safetensors files and PyTorch's .pt/.pth"):
        cr.load(tmp_path / "junk.pt")


def test_storage_shorter_than_its_tensor(tmp_path):
    torch.save({"w": torch.randn(4, 5)}, tmp_path / "ok.pt")
    rewrite_zip(tmp_path / "ok.pt", tmp_path / "short.pt",
                lambda name, data: data[:40] if "/data/" in name else data)
    with pytest.raises(CheckpointError, match="storage '0' has 40 bytes but its 20 float "
                                              "elements need 80"):
        cr.load(tmp_path / "short.pt")


def test_tensor_reaching_past_its_storage(tmp_path):
    base = torch.arange(10.0)
    torch.save({"v": base[2:8]}, tmp_path / "ok.pt")

    def grow_view(name, data):
        # the view's size 6 (BININT1 6 after offset 2) becomes 9: 2 + 9 > 10 elements
        return data.replace(b"K\x02K\x06\x85", b"K\x02K\x09\x85") if name.endswith("data.pkl") \
            else data
    rewrite_zip(tmp_path / "ok.pt", tmp_path / "long.pt", grow_view)
    with pytest.raises(CheckpointError, match="needs 11 elements but its storage '0' holds 10"):
        cr.load(tmp_path / "long.pt")


def test_unsupported_dtype_is_named(tmp_path):
    torch.save({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf16.pt")
    with pytest.raises(CheckpointError, match="BFloat16Storage"):
        cr.load(tmp_path / "bf16.pt")


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.pt"
    cr.save({"w": cr.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="type set at the top level\\['bad'\\]"):
        cr.save({"w": cr.zeros(2), "bad": {1, 2}}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]
    with pytest.raises(TypeError, match="type object"):
        cr.save(object(), tmp_path / "new.pt")
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]
    assert np.array_equal(torch.load(path, weights_only=True)["w"].numpy(), np.ones(2, "float32"))


def test_save_to_a_file_object(tmp_path):
    buf = io.BytesIO()
    cr.save({"w": cr.arange(3)}, buf, format="torch")
    buf.seek(0)
    assert torch.load(buf, weights_only=True)["w"].tolist() == [0, 1, 2]
    buf.seek(0)
    assert cr.load(buf)["w"].tolist() == [0, 1, 2]
