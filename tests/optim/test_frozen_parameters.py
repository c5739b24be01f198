"""Optimisers accept parameters that do not require grad and skip them, as PyTorch's do: a
transfer-learning script freezes layers and still passes ``model.parameters()`` whole."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

OPTIMISERS = {
    "SGD": dict(lr=0.1, momentum=0.9), "Adagrad": dict(lr=0.1), "Adadelta": dict(lr=1.0),
    "RMSprop": dict(lr=0.01), "Adam": dict(lr=0.01), "AdamW": dict(lr=0.01),
    "NAdam": dict(lr=0.01), "Adamax": dict(lr=0.01),
}


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1))


def _train(lib, name, steps=3):
    model = _model(lib)
    if lib is cr:   # the same starting weights in both
        model.load_state_dict({k: cr.tensor(v.detach().numpy())
                               for k, v in _model(torch).state_dict().items()})
    for p in model[0].parameters():
        p.requires_grad = False
    opt = getattr(lib.optim, name)(model.parameters(), **OPTIMISERS[name])
    x = lib.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - 1) ** 2).mean().backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_frozen_layers_stay_put_and_the_rest_trains_as_in_torch(name):
    ours, our_opt = _train(cr, name)
    theirs, their_opt = _train(torch, name)
    before = _model(torch).state_dict()
    for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    np.testing.assert_array_equal(theirs[0].weight.detach().numpy(), before["0.weight"].numpy())
    assert our_opt.state_dict()["state"].keys() == their_opt.state_dict()["state"].keys()


def test_a_parameter_without_grad_is_skipped():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0])                       # never requires grad
    opt = cr.optim.Adam([a, b], lr=0.1)
    (a * 2).sum().backward()
    opt.step()
    assert b.tolist() == [3.0] and a.tolist() != [1.0, 2.0]
    assert len(opt.state) == 1
