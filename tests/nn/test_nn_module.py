"""Module system: registration, traversal, modes, state dicts, hooks, printing."""
import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 8)
        self.out = nn.Linear(8, 1)
        self.register_buffer("steps", cr.zeros(()))
        self.register_buffer("scratch", cr.zeros(3), persistent=False)

    def forward(self, x):
        return self.out(self.hidden(x).tanh())


def test_attribute_assignment_registers_in_order():
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == ["hidden.weight", "hidden.bias",
                                                    "out.weight", "out.bias"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in m.named_children()] == ["hidden", "out"]
    assert [n for n, _ in m.named_modules()] == ["", "hidden", "out"]
    assert list(m.state_dict()) == ["steps", "hidden.weight", "hidden.bias", "out.weight",
                                    "out.bias"]
    assert isinstance(m.hidden.weight, nn.Parameter) and m.hidden.weight.requires_grad


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.Tanh(), lin) if hasattr(nn, "Tanh") else nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2


def test_reassignment_and_deletion():
    m = TwoLayer()
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.hidden.weight = cr.zeros(8, 2)
    m.hidden.bias = None
    assert "hidden.bias" not in m.state_dict()
    m.extra = nn.Parameter(cr.ones(2))
    assert "extra" in dict(m.named_parameters())
    del m.extra
    assert "extra" not in dict(m.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        m.nothing


def test_assignment_before_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(2))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_train_eval_apply_zero_grad_requires_grad():
    m = TwoLayer()
    assert m.training and m.hidden.training
    m.eval()
    assert not m.training and not m.out.training
    m.train()
    assert m.out.training
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Linear", "TwoLayer"]
    m(cr.randn(4, 2)).sum().backward()
    assert m.hidden.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.all(m.hidden.weight.grad.numpy() == 0)
    m.zero_grad()
    assert m.hidden.weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_double_keeps_parameter_identity():
    m = TwoLayer()
    w = m.hidden.weight
    m.double()
    assert m.hidden.weight is w and w.dtype == cr.float64 and m.steps.dtype == cr.float64
    m.to(cr.float32)
    assert w.dtype == cr.float32


def test_state_dict_round_trip_and_returned_keys():
    a, b = TwoLayer(), TwoLayer()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.numpy(force=True), q.numpy(force=True))
    sd = a.state_dict()
    sd.pop("out.bias")
    sd["junk"] = cr.zeros(1)
    result = b.load_state_dict(sd, strict=False)
    assert result == (["out.bias"], ["junk"])


def test_state_dict_error_lists_every_bad_key():
    m = TwoLayer()
    sd = m.state_dict()
    sd.pop("out.bias")
    sd.pop("steps")
    sd["hidden.weight"] = cr.zeros(8, 3)
    sd["surprise"] = cr.zeros(2)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    for part in ['"out.bias"', '"steps"', '"surprise"', "hidden.weight", "(8, 3)", "(8, 2)"]:
        assert part in msg
    with pytest.raises(RuntimeError, match="size mismatch for hidden.weight"):
        m.load_state_dict(sd, strict=False)


def test_forward_hooks_and_pre_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    y = lin(cr.randn(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)),
                               rtol=1e-6)
    assert calls == [cr.Size([3, 2])]
    h1.remove()
    h2.remove()
    x = cr.randn(3, 2)
    np.testing.assert_allclose(lin(x).detach().numpy(),
                               x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy(),
                               rtol=1e-6)


def test_repr_matches_pytorch_tree():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 8), nn.Identity(), nn.Sequential(nn.Linear(8, 1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Identity(),
                                 torch.nn.Sequential(torch.nn.Linear(8, 1)))
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.Identity()])) == \
        repr(torch.nn.ModuleList([torch.nn.Linear(2, 2)] * 3 + [torch.nn.Identity()]))


def test_parameter_repr_and_deepcopy():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    m = TwoLayer()
    m2 = copy.deepcopy(m)
    assert isinstance(m2.hidden.weight, nn.Parameter) and m2.hidden.weight is not m.hidden.weight
    np.testing.assert_array_equal(m2.hidden.weight.numpy(force=True),
                                  m.hidden.weight.numpy(force=True))
    assert (p * 2).__class__ is cr.Tensor


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Identity(), nn.Linear(3, 4))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    seq.append(nn.Identity())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"]
    assert seq(cr.randn(5, 2)).shape == (5, 4)
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    md = nn.ModuleDict({"enc": nn.Linear(2, 2), "dec": nn.Linear(2, 2)})
    assert list(md.keys()) == ["enc", "dec"] and "enc.weight" in md.state_dict()
    pl = nn.ParameterList([cr.zeros(2), nn.Parameter(cr.ones(3))])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    assert all(isinstance(p, nn.Parameter) for p in pl)
    pd = nn.ParameterDict({"a": cr.zeros(2)})
    assert list(pd.state_dict()) == ["a"]


def test_state_dict_keys_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(4, 3), nn.ModuleList([nn.Linear(3, 3, bias=False)]),
                         nn.ModuleDict({"head": nn.Linear(3, 1)}))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3),
                                 torch.nn.ModuleList([torch.nn.Linear(3, 3, bias=False)]),
                                 torch.nn.ModuleDict({"head": torch.nn.Linear(3, 1)}))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours[0].weight.numpy(force=True),
                                  theirs[0].weight.detach().numpy())
