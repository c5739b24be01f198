"""Every learning-rate schedule: the lr sequence over 50 steps equals PyTorch's exactly, the
state_dict has PyTorch's keys, and a save/restore in the middle continues the same sequence."""
import copy
import math
import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

STEPS = 50
METRICS = [1.0 / (1 + i) if i < 12 else 0.08 + 0.01 * math.sin(i) for i in range(STEPS)]


def _params(lib):
    make = cr.tensor if lib is cr else torch.tensor
    return [make(np.ones(2), requires_grad=True), make(np.ones(3), requires_grad=True)]


def _sgd(lib):
    a, b = _params(lib)
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)


def _adam(lib):
    a, b = _params(lib)
    return lib.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.01)


def _lambda(e):
    return 0.95 ** e


SCHEDULERS = {
    "LambdaLR": (_sgd, lambda S, o: S.LambdaLR(o, lr_lambda=_lambda)),
    "LambdaLR-per-group": (_sgd, lambda S, o: S.LambdaLR(
        o, lr_lambda=[_lambda, lambda e: 1.0 / (1 + e)])),
    "MultiplicativeLR": (_sgd, lambda S, o: S.MultiplicativeLR(o, lr_lambda=lambda e: 0.9)),
    "StepLR": (_sgd, lambda S, o: S.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": (_sgd, lambda S, o: S.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3)),
    "ConstantLR": (_sgd, lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=8)),
    "LinearLR": (_sgd, lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                                total_iters=20)),
    "ExponentialLR": (_sgd, lambda S, o: S.ExponentialLR(o, gamma=0.93)),
    "PolynomialLR": (_sgd, lambda S, o: S.PolynomialLR(o, total_iters=30, power=2.0)),
    "CosineAnnealingLR": (_sgd, lambda S, o: S.CosineAnnealingLR(o, T_max=12, eta_min=0.001)),
    "CosineAnnealingWarmRestarts": (_sgd, lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=7, T_mult=2, eta_min=1e-3)),
    "CosineAnnealingWarmRestarts-Tmult1": (_sgd, lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=9)),
    "OneCycleLR": (_sgd, lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS)),
    "OneCycleLR-three-phase-linear-adam": (_adam, lambda S, o: S.OneCycleLR(
        o, max_lr=0.3, epochs=5, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
        three_phase=True)),
    "CyclicLR-triangular": (_sgd, lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                          step_size_up=6)),
    "CyclicLR-triangular2-adam": (_adam, lambda S, o: S.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=4, step_size_down=7,
        mode="triangular2")),
    "CyclicLR-exp_range": (_sgd, lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                         step_size_up=5, mode="exp_range",
                                                         gamma=0.97)),
    "SequentialLR": (_sgd, lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.ExponentialLR(o, gamma=0.9),
            S.CosineAnnealingLR(o, T_max=10)], milestones=[5, 20])),
    "ChainedScheduler": (_sgd, lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.5, total_iters=4), S.ExponentialLR(o, gamma=0.95)])),
    "ReduceLROnPlateau": (_sgd, lambda S, o: S.ReduceLROnPlateau(
        o, factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.001, 0.002])),
    "ReduceLROnPlateau-max-abs": (_sgd, lambda S, o: S.ReduceLROnPlateau(
        o, mode="max", factor=0.3, patience=1, threshold=0.001, threshold_mode="abs")),
}


def _step(sched, opt, i):
    opt.step()
    if type(sched).__name__ == "ReduceLROnPlateau":
        metric = METRICS[i]
        sched.step(-metric if sched.mode == "max" else metric)
    else:
        sched.step()


def _record(lib, sched, opt):
    rows = [(list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], _momenta(opt))]
    for i in range(STEPS):
        _step(sched, opt, i)
        rows.append((list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups],
                     _momenta(opt)))
    return rows


def _momenta(opt):
    return [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]


@pytest.mark.parametrize("kind", SCHEDULERS)
def test_lr_sequence_equals_pytorch(kind):
    make_opt, make_sched = SCHEDULERS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our order of calls raises no warning, as in PyTorch
        opt, topt = make_opt(cr), make_opt(torch)
        ours = _record(cr, make_sched(cr.optim.lr_scheduler, opt), opt)
        theirs = _record(torch, make_sched(torch.optim.lr_scheduler, topt), topt)
    assert ours == theirs
    lrs = [row[1][0] for row in ours]
    assert len(set(lrs)) >= 2, "the schedule should change the learning rate"


@pytest.mark.parametrize("kind", SCHEDULERS)
def test_state_dict_keys_match_pytorch_and_resume_continues_the_sequence(kind):
    make_opt, make_sched = SCHEDULERS[kind]
    opt, topt = make_opt(cr), make_opt(torch)
    sched, tsched = make_sched(cr.optim.lr_scheduler, opt), make_sched(torch.optim.lr_scheduler,
                                                                       topt)
    for i in range(20):
        _step(sched, opt, i)
        _step(tsched, topt, i)
    sd, tsd = sched.state_dict(), tsched.state_dict()
    assert set(sd) == set(tsd)
    saved_sched, saved_opt = copy.deepcopy(sd), copy.deepcopy(opt.state_dict())

    opt2 = make_opt(cr)
    sched2 = make_sched(cr.optim.lr_scheduler, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    for i in range(20, STEPS):
        _step(sched, opt, i)
        _step(sched2, opt2, i)
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


def test_step_with_epoch_uses_the_closed_form_like_pytorch():
    for make in (lambda S, o: S.StepLR(o, 3, 0.5), lambda S, o: S.CosineAnnealingLR(o, 10),
                 lambda S, o: S.MultiStepLR(o, [2, 6]), lambda S, o: S.LinearLR(o),
                 lambda S, o: S.ExponentialLR(o, 0.9), lambda S, o: S.ConstantLR(o)):
        opt, topt = _sgd(cr), _sgd(torch)
        s, ts = make(cr.optim.lr_scheduler, opt), make(torch.optim.lr_scheduler, topt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (4, 7, 2, 9):
                opt.step(), topt.step()
                s.step(epoch)
                ts.step(epoch)
                assert s.get_last_lr() == ts.get_last_lr()


def test_scheduler_step_before_optimizer_step_warns():
    opt = _sgd(cr)
    sched = cr.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_scheduler_rejects_a_non_optimizer_and_bad_factors():
    with pytest.raises(TypeError, match="not an Optimizer"):
        cr.optim.lr_scheduler.StepLR(object(), 2)
    opt = _sgd(cr)
    with pytest.raises(ValueError, match="factor"):
        cr.optim.lr_scheduler.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="start_factor"):
        cr.optim.lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="factor"):
        cr.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="milestone"):
        cr.optim.lr_scheduler.SequentialLR(opt, [cr.optim.lr_scheduler.StepLR(opt, 2)], [3])
    with pytest.raises(KeyError, match="initial_lr"):
        cr.optim.lr_scheduler.StepLR(_sgd(cr), 2, last_epoch=4)
