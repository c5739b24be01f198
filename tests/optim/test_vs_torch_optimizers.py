"""Every optimiser and option combination, 100 steps in chainrule and in PyTorch from the same
start, parameters equal to 1e-10 relative; also through a state_dict save/restore."""
import copy

import numpy as np
import pytest

import chainrule as cr

from optim_problem import (INIT, assert_params_close, cr_loss, cr_params, run_cr, run_torch,
                           torch_loss, torch_params)

torch = pytest.importorskip("torch")

# Options are chosen where the dynamics are stable: PyTorch fuses some operations with FMA
# instructions, so the two runs differ by an ulp per step, and oscillating runs (very small
# betas, RMSprop centered with a small alpha) amplify that exponentially.
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.03, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.05, eps=1e-3, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.1)),
    ("Adadelta", dict(eps=1e-5, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.005, alpha=0.4)),
    ("RMSprop", dict(lr=0.005, centered=True)),
    ("RMSprop", dict(lr=0.002, momentum=0.9)),
    ("RMSprop", dict(lr=0.002, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.003, betas=(0.3, 0.9), eps=1e-6)),  # lerp weight >= 0.5
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.003, betas=(0.4, 0.99), maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.002, betas=(0.3, 0.999), maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def _sign(kw):
    # maximize=True ascends; maximising -loss keeps the run on the same well-behaved descent
    return -1.0 if kw.get("maximize") else 1.0


def _make(name, kw):
    ps, tps = cr_params(), torch_params(torch)
    return ps, getattr(cr.optim, name)(ps, **kw), tps, getattr(torch.optim, name)(tps, **kw)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_100_steps_match_pytorch(name, kw):
    ps, opt, tps, topt = _make(name, kw)
    run_cr(opt, ps, 100, _sign(kw))
    run_torch(torch, topt, tps, 100, _sign(kw))
    moved = max(np.abs(p.array - v).max() for p, v in zip(ps, INIT))
    assert moved > 1e-3, "the test problem should move the parameters"
    assert_params_close(ps, tps)
    # the state matches too, key for key
    for p, tp in zip(ps, tps):
        st, tst = opt.state[p], topt.state[tp]
        assert set(st) == set(tst)
        for key in tst:
            np.testing.assert_allclose(np.asarray(st[key].array), tst[key].numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_resume_from_state_dict_equals_uninterrupted(name, kw):
    ps, opt, tps, topt = _make(name, kw)
    sign = _sign(kw)
    run_cr(opt, ps, 50, sign)
    saved_state = copy.deepcopy(opt.state_dict())
    saved_values = [p.array.copy() for p in ps]
    run_cr(opt, ps, 50, sign)

    resumed = cr_params(saved_values)
    opt2 = getattr(cr.optim, name)(resumed, lr=123.0)  # options come back from the state dict
    opt2.load_state_dict(saved_state)
    assert opt2.param_groups[0]["lr"] == kw.get("lr", opt.defaults["lr"])
    run_cr(opt2, resumed, 50, sign)
    for a, b in zip(resumed, ps):
        np.testing.assert_array_equal(a.array, b.array)

    run_torch(torch, topt, tps, 100, sign)
    assert_params_close(resumed, tps)


@pytest.mark.parametrize("name,kw", CASES[::3], ids=IDS[::3])
def test_state_dict_format_matches_pytorch_and_loads_its_state(name, kw):
    ps, opt, tps, topt = _make(name, kw)
    sign = _sign(kw)
    run_cr(opt, ps, 20, sign)
    run_torch(torch, topt, tps, 20, sign)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == [{k: v for k, v in g.items()} for g in tsd["param_groups"]]
    assert set(sd["state"]) == set(tsd["state"])
    for i in tsd["state"]:
        assert set(sd["state"][i]) == set(tsd["state"][i])
        for key, value in sd["state"][i].items():
            assert isinstance(value, cr.Tensor)
            assert value.dtype == (cr.float32 if key in ("step", "mu_product") else cr.float64)

    # PyTorch's checkpoint, loaded into chainrule, carries on PyTorch's run
    ps2 = cr_params([p.detach().numpy() for p in tps])
    opt2 = getattr(cr.optim, name)(ps2, **kw)
    opt2.load_state_dict(tsd)
    run_cr(opt2, ps2, 30, sign)
    run_torch(torch, topt, tps, 30, sign)
    assert_params_close(ps2, tps)


@pytest.mark.parametrize("name,group_kw", [
    ("SGD", [dict(lr=0.05, momentum=0.9), dict(lr=0.01, nesterov=True, momentum=0.5)]),
    ("Adam", [dict(lr=0.02, amsgrad=True), dict(lr=0.005, weight_decay=0.1)]),
    ("RMSprop", [dict(centered=True), dict(momentum=0.9, lr=0.001)]),
    ("NAdam", [dict(momentum_decay=0.02), dict(decoupled_weight_decay=True, weight_decay=0.1)]),
])
def test_param_groups_with_different_options(name, group_kw):
    ps, tps = cr_params(), torch_params(torch)
    opt = getattr(cr.optim, name)([dict(params=ps[:2], **group_kw[0]),
                                   dict(params=ps[2:], **group_kw[1])], lr=0.003)
    topt = getattr(torch.optim, name)([dict(params=tps[:2], **group_kw[0]),
                                       dict(params=tps[2:], **group_kw[1])], lr=0.003)
    assert [sorted(g) for g in opt.param_groups] == [sorted(g) for g in topt.param_groups]
    run_cr(opt, ps, 100)
    run_torch(torch, topt, tps, 100)
    assert_params_close(ps, tps)


def test_add_param_group_mid_run_matches_pytorch():
    ps, tps = cr_params(), torch_params(torch)
    opt, topt = cr.optim.Adam(ps[:2], lr=0.01), torch.optim.Adam(tps[:2], lr=0.01)
    run_cr(opt, ps, 10)
    run_torch(torch, topt, tps, 10)
    opt.add_param_group({"params": ps[2:], "lr": 0.02, "amsgrad": True})
    topt.add_param_group({"params": tps[2:], "lr": 0.02, "amsgrad": True})
    run_cr(opt, ps, 40)
    run_torch(torch, topt, tps, 40)
    assert_params_close(ps, tps)


def test_float32_parameters_stay_float32_and_track_pytorch():
    ps = [cr.tensor(v, dtype=cr.float32, requires_grad=True) for v in INIT]
    tps = [torch.tensor(v, dtype=torch.float32, requires_grad=True) for v in INIT]
    opt, topt = cr.optim.Adam(ps, lr=0.01), torch.optim.Adam(tps, lr=0.01)
    for _ in range(30):
        opt.zero_grad()
        sum((p * p).sum() for p in ps).backward()
        opt.step()
        topt.zero_grad()
        sum((p * p).sum() for p in tps).backward()
        topt.step()
    for p, tp in zip(ps, tps):
        assert p.dtype == cr.float32
        for value in opt.state[p].values():
            assert value.array.dtype == np.float32
        np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    ps, tps = cr_params(), torch_params(torch)
    opt, topt = cr.optim.SGD(ps, lr=0.1, momentum=0.9), torch.optim.SGD(tps, lr=0.1, momentum=0.9)

    def closure():
        opt.zero_grad()
        loss = cr_loss(ps)
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        from optim_problem import torch_loss
        loss = torch_loss(torch, tps)
        loss.backward()
        return loss

    with cr.no_grad():
        for _ in range(20):
            loss = opt.step(closure)
            tloss = topt.step(tclosure)
            assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
    assert_params_close(ps, tps)
