"""PyTorch's own checkpoint files, both ways: what torch.save wrote loads into the same chainrule
model and gives PyTorch's outputs; what cr.save writes to .pt loads with
torch.load(weights_only=True)."""
import collections

import numpy as np
import pytest

import chainrule as cr
from interop_models import MODELS, example_input

torch = pytest.importorskip("torch")


def build_pair(name, seed=0):
    torch.manual_seed(seed)
    build = MODELS[name][0]
    return build(cr.nn).eval(), build(torch.nn).eval()


def run_both(name, cr_model, torch_model):
    x = example_input(name, np.random.default_rng(1))
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    with cr.no_grad():
        got = cr_model(cr.from_numpy(x)).numpy()
    return got, expected


def assert_same_outputs(got, expected):
    # Same weights, same float32 inputs: the outputs match to the last bit where both
    # frameworks sum in the same order, and to float32 rounding where their BLAS orders differ.
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name", list(MODELS))
def test_torch_state_dict_loads_into_the_same_chainrule_model(name, tmp_path):
    cr_model, torch_model = build_pair(name)
    torch.save(torch_model.state_dict(), tmp_path / "model.pth")
    state = cr.load(tmp_path / "model.pth")
    assert isinstance(state, collections.OrderedDict)
    assert list(state) == list(torch_model.state_dict())
    for k, v in torch_model.state_dict().items():
        assert state[k].dtype == cr.float32 and np.array_equal(state[k].numpy(), v.numpy()), k
    cr_model.load_state_dict(state)
    assert_same_outputs(*run_both(name, cr_model, torch_model))


@pytest.mark.parametrize("name", list(MODELS))
def test_chainrule_state_dict_loads_into_torch(name, tmp_path):
    cr_model, torch_model = build_pair(name, seed=3)
    cr.manual_seed(5)
    cr_model = MODELS[name][0](cr.nn).eval()
    cr.save(cr_model.state_dict(), tmp_path / "model.pt")
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    torch_model.load_state_dict(state)
    for k, v in cr_model.state_dict().items():
        assert np.array_equal(state[k].numpy(), v.numpy()), k
    assert_same_outputs(*run_both(name, cr_model, torch_model))


def train_step(model, opt, x, framework):
    opt.zero_grad()
    model(framework.from_numpy(x)).square().mean().backward()
    opt.step()


def test_full_checkpoint_from_torch_resumes_in_chainrule(tmp_path):
    cr_model, torch_model = build_pair("mlp")
    torch_opt = torch.optim.Adam(torch_model.parameters(), lr=0.01)
    x = example_input("mlp", np.random.default_rng(2))
    train_step(torch_model, torch_opt, x, torch)
    torch.save({"model": torch_model.state_dict(), "optimizer": torch_opt.state_dict(),
                "epoch": 7}, tmp_path / "ckpt.pt")
    ckpt = cr.load(tmp_path / "ckpt.pt", map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 7
    cr_model.load_state_dict(ckpt["model"])
    cr_opt = cr.optim.Adam(cr_model.parameters(), lr=0.01)
    cr_opt.load_state_dict(ckpt["optimizer"])
    train_step(torch_model, torch_opt, x, torch)
    train_step(cr_model, cr_opt, x, cr)
    for (k, a), b in zip(cr_model.state_dict().items(), torch_model.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_full_checkpoint_from_chainrule_resumes_in_torch(tmp_path):
    cr_model, torch_model = build_pair("mlp")
    cr_opt = cr.optim.SGD(cr_model.parameters(), lr=0.05, momentum=0.9)
    x = example_input("mlp", np.random.default_rng(2))
    train_step(cr_model, cr_opt, x, cr)
    cr.save({"model": cr_model.state_dict(), "optimizer": cr_opt.state_dict(), "epoch": 2},
            tmp_path / "ckpt", format="torch")
    ckpt = torch.load(tmp_path / "ckpt", weights_only=True)
    assert ckpt["epoch"] == 2
    torch_model.load_state_dict(ckpt["model"])
    torch_opt = torch.optim.SGD(torch_model.parameters(), lr=0.05, momentum=0.9)
    torch_opt.load_state_dict(ckpt["optimizer"])
    train_step(cr_model, cr_opt, x, cr)
    train_step(torch_model, torch_opt, x, torch)
    for (k, a), b in zip(cr_model.state_dict().items(), torch_model.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_dtypes_strides_offsets_and_shared_storage_from_torch(tmp_path):
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    obj = {"base": base, "row": base[1], "t": base.t(), "cols": base[:, 1::2],
           "size": torch.Size([2, 3]), "scalar": torch.tensor(2.5, dtype=torch.float64),
           "ints": torch.arange(4, dtype=torch.int16), "mask": torch.tensor([True, False]),
           "half": torch.tensor([1.5], dtype=torch.float16),
           "bytes": torch.tensor([7], dtype=torch.uint8),
           "nested": [1, 2.0, "three", None, (4,)]}
    with open(tmp_path / "mixed.pt", "wb") as f:
        torch.save(obj, f)
    with open(tmp_path / "mixed.pt", "rb") as f:
        back = cr.load(f)
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            assert np.array_equal(back[k].numpy(), v.numpy()) and back[k].shape == tuple(v.shape), k
            assert str(back[k].dtype).split(".")[1] == str(v.dtype).split(".")[1], k
    assert back["size"] == (2, 3) and isinstance(back["size"], cr.Size)
    assert back["nested"] == [1, 2.0, "three", None, (4,)]
    back["base"].array[1, 1] = -1.0          # one storage: every view sees the write
    assert back["row"].numpy()[1] == -1.0 and back["t"].numpy()[1, 1] == -1.0
    assert back["cols"].numpy()[1, 0] == -1.0


def test_views_saved_by_chainrule_share_storage_in_torch(tmp_path):
    weight = cr.randn(4, 3)
    cr.save({"w": weight, "tied": weight, "row": weight[2], "wt": weight.t()}, tmp_path / "v.pt")
    back = torch.load(tmp_path / "v.pt", weights_only=True)
    assert back["w"].untyped_storage().data_ptr() == back["tied"].untyped_storage().data_ptr()
    back["w"][2, 0] = 100.0
    assert back["tied"][2, 0] == 100.0 and back["row"][0] == 100.0 and back["wt"][0, 2] == 100.0
    assert np.array_equal(back["wt"].numpy(), back["w"].numpy().T)


def test_legacy_torch_files_load(tmp_path):
    obj = {"w": torch.randn(3, 2), "n": 4}
    torch.save(obj, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    back = cr.load(tmp_path / "old.pt")
    assert back["n"] == 4 and np.array_equal(back["w"].numpy(), obj["w"].numpy())


def test_suffix_chooses_the_format(tmp_path):
    state = cr.nn.Linear(2, 2).state_dict()
    for name in ("a.pt", "b.pth", "c.safetensors", "d.bin"):
        cr.save(state, tmp_path / name)
    assert (tmp_path / "a.pt").read_bytes()[:4] == b"PK\x03\x04"
    assert (tmp_path / "b.pth").read_bytes()[:4] == b"PK\x03\x04"
    for name in ("c.safetensors", "d.bin"):
        assert (tmp_path / name).read_bytes()[:4] != b"PK\x03\x04"
        assert list(cr.load(tmp_path / name)) == list(state)
    cr.save(state, tmp_path / "e.pt", format="safetensors")
    assert (tmp_path / "e.pt").read_bytes()[:4] != b"PK\x03\x04"
    with pytest.raises(ValueError, match="format must be one of"):
        cr.save(state, tmp_path / "f.pt", format="pickle")


def test_training_checkpoints_stay_safetensors_and_metadata_needs_them(tmp_path):
    from chainrule.io import load_checkpoint, save_checkpoint
    model = cr.nn.Linear(2, 2)
    save_checkpoint(tmp_path / "ckpt.pt", model, epoch=4)
    assert (tmp_path / "ckpt.pt").read_bytes()[:4] != b"PK\x03\x04"
    assert load_checkpoint(tmp_path / "ckpt.pt", model)["epoch"] == 4
    with pytest.raises(ValueError, match="metadata goes into a safetensors header"):
        cr.save(model.state_dict(), tmp_path / "w.pt", metadata={"a": "b"})
