"""BatchNorm, LayerNorm, Dropout, Flatten, Embedding: equality with PyTorch in train and eval
mode, gradcheck, running statistics, bad input."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F
from nn_oracle import close, compare_modules

torch = pytest.importorskip("torch")


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


BN_CASES = [("BatchNorm1d", (6, 4), {}), ("BatchNorm1d", (5, 4, 3), {}),
            ("BatchNorm2d", (3, 4, 2, 3), {}), ("BatchNorm1d", (6, 4), {"momentum": None}),
            ("BatchNorm2d", (3, 4, 2, 2), {"affine": False}), ("BatchNorm1d", (5, 4), {"bias": False}),
            ("BatchNorm1d", (6, 4), {"track_running_stats": False}),
            ("BatchNorm2d", (2, 4, 3, 3), {"eps": 1e-3, "momentum": 0.3}),
            ("BatchNorm3d", (2, 4, 2, 2, 2), {})]


@pytest.mark.parametrize("name,shape,kw", BN_CASES, ids=[f"{n}{s}{k}" for n, s, k in BN_CASES])
def test_batchnorm_matches_torch_train_then_eval(name, shape, kw):
    ours, theirs = getattr(nn, name)(4, **kw).double(), getattr(torch.nn, name)(4, **kw).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if ours.affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rand(4, seed=9) + 1))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.tensor(rand(4, seed=8)))
    for step in range(3):  # several batches: running statistics and their counter
        x = rand(*shape, seed=step) * 2 + 1
        compare_modules(ours, theirs, x, grad_seed=step)
        ours.zero_grad()
        theirs.zero_grad()
        for key, value in theirs.state_dict().items():
            close(ours.state_dict()[key], value, key)
    ours.eval()
    theirs.eval()
    compare_modules(ours, theirs, rand(*shape, seed=5), grad_seed=5)


def test_batchnorm_gradcheck_train_and_eval():
    bn = nn.BatchNorm1d(3).double()
    bn.weight.array[:] = [0.5, 1.5, -1.0]
    x = cr.tensor(rand(5, 3), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
                                 (x, bn.weight, bn.bias))
    rm, rv = cr.tensor(rand(3)), cr.tensor(np.abs(rand(3)) + 0.5)
    assert cr.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False),
                                 (x, bn.weight, bn.bias))
    x4 = cr.tensor(rand(2, 3, 2, 2), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
                                 (x4, bn.weight, bn.bias))


def test_batchnorm_bad_input():
    with pytest.raises(ValueError, match="expected 4D input, got 2D"):
        nn.BatchNorm2d(3)(cr.randn(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3\) expected input with 3 channels"):
        nn.BatchNorm1d(3)(cr.randn(4, 5))
    assert repr(nn.BatchNorm2d(8)) == repr(torch.nn.BatchNorm2d(8))


@pytest.mark.parametrize("normalized_shape,shape", [(5, (4, 5)), ((3, 4), (2, 3, 4)),
                                                    (4, (2, 3, 4))])
@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False},
                                {"eps": 1e-2}], ids=str)
def test_layernorm_matches_torch(normalized_shape, shape, kw):
    ours = nn.LayerNorm(normalized_shape, **kw).double()
    theirs = torch.nn.LayerNorm(normalized_shape, **kw).double()
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rand(*theirs.weight.shape, seed=3)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, rand(*shape) * 3 + 2)


def test_layernorm_gradcheck_and_bad_input():
    ln = nn.LayerNorm((2, 3)).double()
    ln.weight.array[:] = rand(2, 3)
    x = cr.tensor(rand(2, 2, 3), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
                                 (x, ln.weight, ln.bias))
    with pytest.raises(RuntimeError, match=r"expected input with shape \(\*, 2, 3\), got \(2, 3, 2\)"):
        ln(cr.randn(2, 3, 2, dtype=cr.float64))


def test_dropout_train_and_eval():
    cr.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = cr.ones(200, 500, requires_grad=True)
    y = drop(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # gradient = mask / (1-p)
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 0.9, training=False) is x
    assert np.all(F.dropout(x, 1.0).detach().numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))


def test_dropout_is_seeded_and_matches_torch_in_eval():
    cr.manual_seed(7)
    a = F.dropout(cr.ones(50)).numpy()
    cr.manual_seed(7)
    b = F.dropout(cr.ones(50)).numpy()
    np.testing.assert_array_equal(a, b)
    ours, theirs = nn.Dropout(0.5).eval(), torch.nn.Dropout(0.5).eval()
    compare_modules(ours, theirs, rand(3, 4))


def test_dropout_gradcheck_with_fixed_mask():
    x = cr.tensor(rand(4, 5), requires_grad=True)

    def f(x):
        cr.manual_seed(3)
        return F.dropout(x, 0.4)
    assert cr.autograd.gradcheck(f, (x,))


def test_dropout2d_drops_whole_channels():
    cr.manual_seed(1)
    y = nn.Dropout2d(0.5)(cr.ones(4, 6, 3, 3)).numpy()
    per_channel = y.reshape(4, 6, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))


def test_flatten_unflatten():
    x = cr.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (2, 30))(nn.Flatten()(x)).shape == (2, 2, 30)
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
@pytest.mark.parametrize("idx_shape", [(5,), (3, 4)])
def test_embedding_matches_torch(padding_idx, idx_shape):
    ours = nn.Embedding(7, 3, padding_idx=padding_idx).double()
    theirs = torch.nn.Embedding(7, 3, padding_idx=padding_idx).double()
    assert repr(ours) == repr(theirs)
    idx = np.random.default_rng(0).integers(0, 7, idx_shape)
    idx.flat[0] = idx.flat[-1] = 6  # repeated and padding rows
    ours.load_state_dict(theirs.state_dict())
    yo, yt = ours(cr.tensor(idx)), theirs(torch.tensor(idx))
    close(yo, yt, "forward")
    g = rand(*yo.shape)
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    close(ours.weight.grad, theirs.weight.grad, "weight grad")


def test_embedding_init_padding_pretrained_and_errors():
    cr.manual_seed(0)
    emb = nn.Embedding(1000, 20, padding_idx=3)
    w = emb.weight.numpy(force=True)
    assert np.all(w[3] == 0) and abs(w.std() - 1) < 0.02
    pre = cr.tensor(rand(4, 2))
    frozen = nn.Embedding.from_pretrained(pre)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(cr.tensor([2])).numpy(), pre.numpy()[[2]])
    assert nn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad
    w = cr.tensor(rand(5, 2), requires_grad=True)
    assert cr.autograd.gradcheck(lambda w: F.embedding(cr.tensor([[0, 4], [4, 1]]), w), (w,))
    with pytest.raises(IndexError, match="index 9 is out of range for 5 embeddings"):
        F.embedding(cr.tensor([1, 9]), w)


def test_embedding_max_norm_matches_torch():
    ours = nn.Embedding(5, 3, max_norm=1.0).double()
    theirs = torch.nn.Embedding(5, 3, max_norm=1.0).double()
    ours.load_state_dict(theirs.state_dict())
    idx = np.array([0, 2, 2])
    close(ours(cr.tensor(idx)), theirs(torch.tensor(idx)), "forward")
    close(ours.weight.detach(), theirs.weight.detach(), "renormalised rows")
