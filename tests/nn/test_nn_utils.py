"""cr.nn.utils (clipping, vector conversion, penalties, max-norm), summary, whole-model checks:
state-dict keys identical to PyTorch's, and the XOR lesson."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import utils
from nn_oracle import close

torch = pytest.importorskip("torch")


def _model_pair():
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)).double()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3)) * 5
    (ours(cr.tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _model_pair()
    n_ours = utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type)
    close(n_ours, n_theirs, "total norm")
    for p, q in zip(ours.parameters(), theirs.parameters()):
        close(p.grad, q.grad, "clipped grad")


def test_clip_grad_norm_nonfinite_and_value():
    ours, theirs = _model_pair()
    utils.clip_grad_value_(ours.parameters(), 0.1)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.1)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        close(p.grad, q.grad, "clipped values")
    ours[0].weight.grad.array[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(ours.parameters(), 1.0, error_if_nonfinite=True)


def test_parameters_to_vector_and_back():
    ours, theirs = _model_pair()
    vec = utils.parameters_to_vector(ours.parameters())
    close(vec, torch.nn.utils.parameters_to_vector(theirs.parameters()), "vector")
    utils.vector_to_parameters(vec * 2, ours.parameters())
    close(ours[0].weight.detach(), 2 * theirs[0].weight.detach(), "written back")
    with pytest.raises(RuntimeError, match="expected a 1-D vector of 26 elements"):
        utils.vector_to_parameters(cr.zeros(5), ours.parameters())
    with pytest.raises(TypeError, match="expected chainrule.Tensor"):
        utils.vector_to_parameters([1.0], ours.parameters())


def test_penalties_and_their_gradients():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).double()
    w1, w2 = m[0].weight.numpy(force=True), m[2].weight.numpy(force=True)
    l1 = utils.l1_penalty(m)
    l2 = utils.l2_penalty(m)
    assert l1.item() == pytest.approx(np.abs(w1).sum() + np.abs(w2).sum())
    assert l2.item() == pytest.approx((w1 ** 2).sum() + (w2 ** 2).sum())
    (0.5 * l2).backward()
    np.testing.assert_allclose(m[0].weight.grad.numpy(), w1)  # d/dw (1/2)||w||^2 = w
    assert m[0].bias.grad is None and m[1].weight.grad is None  # biases, BN scales excluded


def test_max_norm_matches_torch_renorm():
    lin = nn.Linear(5, 4).double()
    lin.weight.array[:] = np.random.default_rng(0).standard_normal((4, 5))
    expected = torch.renorm(torch.tensor(lin.weight.numpy(force=True)), 2, 0, 1.5)
    n = utils.max_norm_(lin, 1.5)
    close(lin.weight.detach(), expected, "renormed", rtol=1e-6, atol=1e-6)
    assert n == int((np.linalg.norm(np.random.default_rng(0).standard_normal((4, 5)), axis=1)
                     > 1.5).sum())
    assert np.all(np.linalg.norm(lin.weight.numpy(force=True), axis=1) <= 1.5 + 1e-9)


def test_summary_table():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.BatchNorm1d(256),
                          nn.Linear(256, 10))
    model[4].weight.requires_grad_(False)
    model.train()
    s = nn.summary(model, (2, 1, 28, 28))
    assert [r[:3] for r in s.rows] == [("0", "Flatten", "[2, 784]"), ("1", "Linear", "[2, 256]"),
                                       ("2", "ReLU", "[2, 256]"),
                                       ("3", "BatchNorm1d", "[2, 256]"), ("4", "Linear", "[2, 10]")]
    assert [r[3] for r in s.rows] == [0, 784 * 256 + 256, 0, 512, 2570]
    assert s.total_params == 784 * 256 + 256 + 512 + 2570
    assert s.non_trainable_params == 2560
    text = str(s)
    assert "Total params: 204,042" in text and "Non-trainable params: 2,560" in text
    assert model.training and int(model[3].num_batches_tracked.item()) == 0  # mode restored
    emb = nn.Sequential(nn.Embedding(10, 3), nn.Flatten())
    assert nn.summary(emb, (4, 5), dtypes=[cr.int64]).rows[-1][2] == "[4, 15]"


def test_state_dict_keys_identical_to_torch_for_a_full_architecture():
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Embedding(20, 8, padding_idx=0), n.LayerNorm(8), n.Flatten(),
                            n.Linear(32, 16), n.BatchNorm1d(16), n.PReLU(), n.Dropout(0.1),
                            n.ModuleList([n.Linear(16, 16), n.GELU()]),
                            n.Linear(16, 5), n.LogSoftmax(dim=1))
    ours, theirs = build(cr), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert repr(ours) == repr(theirs)
    ours.double().load_state_dict(theirs.double().state_dict())
    ours.eval()
    theirs.eval()
    idx = np.random.default_rng(0).integers(0, 20, (3, 4))
    x_ours = cr.tensor(idx)
    h = ours[:7](x_ours)
    h = ours[7][1](ours[7][0](h))
    y_ours = ours[9](ours[8](h))
    with torch.no_grad():
        t = theirs[:7](torch.tensor(idx))
        t = theirs[7][1](theirs[7][0](t))
        y_theirs = theirs[9](theirs[8](t))
    close(y_ours, y_theirs, "whole model")


def _train_xor(model, steps=1500, lr=0.5):
    x = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with cr.no_grad():
            for p in model.parameters():
                p.array -= lr * p.grad.array
    with cr.no_grad():
        predictions = (model(x).numpy() > 0).astype(float)
    return loss.item(), (predictions == y.numpy()).mean()


def test_mlp_learns_xor_and_a_linear_layer_cannot():
    cr.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    loss, accuracy = _train_xor(mlp)
    assert accuracy == 1.0 and loss < 0.05
    linear = nn.Linear(2, 1)
    loss, accuracy = _train_xor(linear)
    # No line separates XOR: at best 3 of 4 points, and the loss stays at log 2 (the optimum
    # of a linear model is w = 0, b = 0: sigmoid(0) = 1/2 everywhere)
    assert accuracy <= 0.75 and loss > 0.69
