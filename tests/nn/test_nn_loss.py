"""Losses: equality with PyTorch (value, input and target gradients, float64) over shapes and
options, gradcheck, and the error messages."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F
from nn_oracle import close, pair, run_both

torch = pytest.importorskip("torch")
TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [("mse_loss", {}), ("l1_loss", {}),
                                         ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}),
                                         ("smooth_l1_loss", {"beta": 0.0}),
                                         ("huber_loss", {}), ("huber_loss", {"delta": 0.4})])
@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 3, 2)])
def test_regression_losses_match_torch(name, kwargs, reduction, shape):
    run_both(lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kwargs),
             lambda x, y: getattr(TF, name)(x, y, reduction=reduction, **kwargs),
             [rand(*shape), rand(*shape, seed=1)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(reduction, weighted):
    x = 1 / (1 + np.exp(-rand(4, 3) * 3))
    x[0, 0], x[0, 1] = 0.0, 1.0  # exercises PyTorch's clamp of the log at -100
    y = (rand(4, 3, seed=1) > 0).astype(float)
    y[1, 1] = 0.3  # soft target
    w = np.abs(rand(3, seed=2))
    ours, theirs = pair(w, requires_grad=False)
    # At exactly 0 and 1 the input gradient is finite only through PyTorch's 1e-12 clamp, and
    # the target gradient is infinite in PyTorch (unclamped logs) but uses the same -100 clamp
    # as the forward pass here: compare those two elements loosely / not at all.
    xo, xt = pair(x)
    yo, yt = pair(y)
    lo = F.binary_cross_entropy(xo, yo, weight=ours if weighted else None, reduction=reduction)
    lt = TF.binary_cross_entropy(xt, yt, weight=theirs if weighted else None, reduction=reduction)
    close(lo, lt, "forward")
    g = rand(*lo.shape, seed=3)
    lo.backward(cr.tensor(g))
    lt.backward(torch.tensor(g))
    close(xo.grad, xt.grad, "input grad", rtol=1e-6, atol=1e-3)
    close(xo.grad.numpy()[1:], xt.grad.numpy()[1:], "input grad")
    close(yo.grad.numpy()[1:], yt.grad.numpy()[1:], "target grad")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 3)])
def test_bce_with_logits_matches_torch(reduction, weighted, pos_weighted, shape):
    x = rand(*shape) * 10
    x.flat[0], x.flat[1] = 800.0, -800.0  # stable for any logit
    y = (rand(*shape, seed=1) > 0).astype(float)
    wo, wt = pair(np.abs(rand(shape[-1], seed=2)), requires_grad=False)
    po, pt = pair(np.abs(rand(shape[-1], seed=3)) * 3, requires_grad=False)
    run_both(lambda a, b: F.binary_cross_entropy_with_logits(
                 a, b, wo if weighted else None, reduction=reduction,
                 pos_weight=po if pos_weighted else None),
             lambda a, b: TF.binary_cross_entropy_with_logits(
                 a, b, wt if weighted else None, reduction=reduction,
                 pos_weight=pt if pos_weighted else None),
             [x, y])


CE_OPTIONS = [{}, {"label_smoothing": 0.1}, {"ignore_index": 1}, {"weight": True},
              {"weight": True, "ignore_index": 2, "label_smoothing": 0.25}]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("shape", [(4,), (6, 4), (3, 4, 5), (2, 4, 3, 2)])
def test_cross_entropy_indices_match_torch(reduction, opts, shape):
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    target = np.random.default_rng(1).integers(0, C, tshape)
    if "ignore_index" in opts and target.size > 1:
        target.flat[0] = opts["ignore_index"]
    kw = dict(opts)
    wo = wt = None
    if kw.pop("weight", False):
        wo, wt = pair(np.abs(rand(C, seed=2)) + 0.1, requires_grad=False)
    to, tt = pair(target, requires_grad=False)
    run_both(lambda x: F.cross_entropy(x, to, weight=wo, reduction=reduction, **kw),
             lambda x: TF.cross_entropy(x, tt, weight=wt, reduction=reduction, **kw),
             [rand(*shape) * 3])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.2}, {"weight": True}], ids=str)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
def test_cross_entropy_probabilities_match_torch(reduction, opts, shape):
    q = np.exp(rand(*shape, seed=4))
    q /= q.sum(axis=1, keepdims=True)
    kw = dict(opts)
    wo = wt = None
    if kw.pop("weight", False):
        wo, wt = pair(np.abs(rand(shape[1], seed=2)) + 0.1, requires_grad=False)
    run_both(lambda x, t: F.cross_entropy(x, t, weight=wo, reduction=reduction, **kw),
             lambda x, t: TF.cross_entropy(x, t, weight=wt, reduction=reduction, **kw),
             [rand(*shape) * 3, q])


def test_cross_entropy_extreme_logits_are_stable():
    x = cr.tensor([[1000.0, -1000.0, 0.0]], dtype=cr.float64, requires_grad=True)
    loss = F.cross_entropy(x, cr.tensor([1]))
    loss.backward()
    assert loss.item() == 2000.0
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-12)


def test_cross_entropy_is_one_fused_node():
    x = cr.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, cr.tensor([0, 1, 2, 0]))
    assert loss.grad_fn.node_name() == "NllLossBackward0"
    ((logits_node, _),) = loss.grad_fn.next_functions   # the integer target is not listed
    assert logits_node.name() == "AccumulateGrad" and logits_node.variable is x


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"ignore_index": 0}, {"weight": True}], ids=str)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)])
def test_nll_loss_matches_torch(reduction, opts, shape):
    target = np.random.default_rng(1).integers(0, shape[1], shape[:1] + shape[2:])
    kw = dict(opts)
    wo = wt = None
    if kw.pop("weight", False):
        wo, wt = pair(np.abs(rand(shape[1], seed=2)) + 0.1, requires_grad=False)
    to, tt = pair(target, requires_grad=False)
    run_both(lambda x: F.nll_loss(F.log_softmax(x, 1), to, weight=wo, reduction=reduction, **kw),
             lambda x: TF.nll_loss(TF.log_softmax(x, 1), tt, weight=wt, reduction=reduction, **kw),
             [rand(*shape)])


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    p = np.exp(rand(4, 5, seed=1))
    p /= p.sum(1, keepdims=True)
    target = np.log(p) if log_target else p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(lambda x, t: F.kl_div(F.log_softmax(x, 1), t, reduction=reduction,
                                       log_target=log_target),
                 lambda x, t: TF.kl_div(TF.log_softmax(x, 1), t, reduction=reduction,
                                        log_target=log_target),
                 [rand(4, 5), target])


LOSS_MODULES = [
    (nn.MSELoss(), "float"), (nn.L1Loss(reduction="sum"), "float"), (nn.SmoothL1Loss(), "float"),
    (nn.HuberLoss(delta=0.5), "float"), (nn.BCELoss(), "prob"),
    (nn.BCEWithLogitsLoss(pos_weight=cr.tensor([2.0, 0.5, 1.0], dtype=cr.float64)), "binary"),
    (nn.CrossEntropyLoss(label_smoothing=0.1), "index"), (nn.NLLLoss(), "index"),
    (nn.KLDivLoss(reduction="batchmean"), "prob"),
]


@pytest.mark.parametrize("loss,kind", LOSS_MODULES, ids=[repr(m) for m, _ in LOSS_MODULES])
def test_loss_modules_gradcheck(loss, kind):
    x = cr.tensor(rand(4, 3) * 0.8, requires_grad=True)
    if kind == "prob":
        x = cr.tensor(1 / (1 + np.exp(-rand(4, 3))), requires_grad=True)
        y = cr.tensor(1 / (1 + np.exp(-rand(4, 3, seed=1))), requires_grad=True)
    elif kind == "binary":
        y = cr.tensor((rand(4, 3, seed=1) > 0).astype(float), requires_grad=True)
    elif kind == "index":
        y = cr.tensor([0, 2, 1, 2])
    else:
        y = cr.tensor(rand(4, 3, seed=1), requires_grad=True)
    assert cr.autograd.gradcheck(loss, (x, y))


def test_cross_entropy_target_out_of_range_names_value_and_classes():
    with pytest.raises(IndexError, match=r"target 7 is out of bounds for 5 classes"):
        F.cross_entropy(cr.randn(3, 5), cr.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"target -3 is out of bounds for 5 classes"):
        nn.CrossEntropyLoss()(cr.randn(3, 5), cr.tensor([0, -3, 1]))
    # ignore_index is exempt from the range check
    F.cross_entropy(cr.randn(3, 5), cr.tensor([0, -100, 1]))


def test_loss_bad_input_messages():
    with pytest.raises(ValueError, match=r"expected target of shape \(3,\)"):
        F.cross_entropy(cr.randn(3, 5), cr.tensor([[0, 1, 2]]))
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(cr.randn(3, 5), cr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(cr.randn(3), cr.randn(3), reduction="avg")
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy_with_logits(cr.randn(3), cr.randn(3, 1))
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(cr.randn(3, 1), cr.randn(3))


def test_all_ignored_mean_is_nan_like_torch():
    x = cr.randn(2, 3)
    t = cr.tensor([-100, -100])
    assert np.isnan(F.cross_entropy(x, t).item())
    assert np.isnan(TF.cross_entropy(torch.randn(2, 3), torch.tensor([-100, -100])).item())


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_a_shape_error_names_the_loss_as_users_call_it(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the size-mismatch warning comes first
        with pytest.raises(RuntimeError, match=rf"^{name}: shapes \(4, 3\) and \(5, 3\) do not "
                                               rf"broadcast"):
            getattr(F, name)(cr.randn(4, 3), cr.randn(5, 3))


def test_kl_div_shape_error_names_kl_div():
    with pytest.raises(RuntimeError, match=r"^kl_div: shapes"):
        F.kl_div(cr.randn(4, 3), cr.rand(5, 3), reduction="sum")


def test_embedding_float_indices_are_named_indices_with_their_dtype():
    with pytest.raises(TypeError, match=r"embedding: indices must be integer \(long\) tensors, "
                                        r"got dtype float32; convert them with \.long\(\)"):
        nn.Embedding(5, 3)(cr.tensor([1.0, 2.0]))


@pytest.mark.parametrize("target_shape", [(4,), (5, 3)])
def test_cross_entropy_float_target_of_a_wrong_shape_explains_both_target_kinds(target_shape):
    with pytest.raises(ValueError) as info:
        F.cross_entropy(cr.randn(4, 3), cr.randn(*target_shape))
    message = str(info.value)
    assert f"float target of shape {target_shape}" in message
    assert "class-index targets must be integers (target.long()) of shape (4,)" in message
    assert "class-probability targets floats of the input's shape" in message
