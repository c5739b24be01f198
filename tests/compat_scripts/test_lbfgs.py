"""optim.LBFGS (time_sequence_prediction's optimiser) against torch.optim.LBFGS, step for step."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def model(nn):
    return nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))


@pytest.mark.parametrize("options", [dict(lr=0.8), dict(lr=1, max_iter=7, history_size=3),
                                     dict(lr=0.5, max_iter=4, max_eval=3, tolerance_change=1e-5)])
def test_lbfgs_matches_pytorch(options):
    ours, theirs = model(cr.nn).double(), model(torch.nn).double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3))
    y = np.sin(x.sum(1, keepdims=True))
    runs = []
    for net, lib, optim in [(ours, cr, cr.optim), (theirs, torch, torch.optim)]:
        opt = optim.LBFGS(net.parameters(), **options)
        xs, ys, losses, evals = lib.tensor(x), lib.tensor(y), [], []

        def closure():
            opt.zero_grad()
            loss = ((net(xs) - ys) ** 2).mean()
            loss.backward()
            evals.append(loss.item())
            return loss

        for _ in range(3):
            losses.append(opt.step(closure).item())
        runs.append((losses, evals, [p.detach().numpy().copy() for p in net.parameters()]))
    (lo, eo, po), (lt, et, pt) = runs
    # float64 round-off only: 20 iterations of dot products summed in another order
    np.testing.assert_allclose(lo, lt, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(eo, et, rtol=1e-7, atol=1e-12)     # the same evaluations, as many
    for a, b in zip(po, pt):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10)
    assert lo[-1] < lo[0]


def test_lbfgs_errors():
    p = cr.nn.Parameter(cr.zeros(2))
    with pytest.raises(ValueError, match="LBFGS: line_search_fn='strong_wolfe' is not available"):
        cr.optim.LBFGS([p], line_search_fn="strong_wolfe")
    with pytest.raises(ValueError, match="parameter groups"):
        cr.optim.LBFGS([{"params": [p]}, {"params": [cr.nn.Parameter(cr.zeros(1))]}])
    with pytest.raises(RuntimeError, match="LBFGS: step\\(\\) needs a closure"):
        cr.optim.LBFGS([p]).step(None)


def test_lbfgs_stops_at_a_zero_gradient():
    p = cr.nn.Parameter(cr.tensor([1.0, 2.0]))
    opt = cr.optim.LBFGS([p])
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p * 0).sum()
        loss.backward()
        calls.append(1)
        return loss

    opt.step(closure)
    assert len(calls) == 1 and p.tolist() == [1.0, 2.0]
