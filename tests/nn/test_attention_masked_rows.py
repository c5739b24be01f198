"""A query whose keys are all masked, as PyTorch 2.13: scaled_dot_product_attention gives 0
(and gradient 0); MultiheadAttention gives NaN where PyTorch's weight-computing or fused
inference paths run, and 0 on its scaled_dot_product_attention path (need_weights=False in
training). Also SDPA's boolean and float masks broadcast as PyTorch's."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F

from torch_compare import compare

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


@pytest.mark.parametrize("mask_shape", [(3, 5), (2, 1, 3, 5), (1, 3, 1)])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_masks_broadcast_and_masked_rows_match_torch(mask_shape, kind):
    keep = rng.random(mask_shape) > 0.4
    keep[..., 0, :] = False                         # a query row with no key left
    mask = keep if kind == "bool" else np.where(keep, rng.standard_normal(mask_shape), -np.inf)
    arrays = [rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 2, 5, 4)),
              rng.standard_normal((2, 2, 5, 3))]
    out = compare(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cr.tensor(mask)),
                  lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
                      q, k, v, torch.tensor(mask)), arrays)
    assert not np.isnan(out[0].detach().numpy()).any()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sdpa_fully_masked_row_is_zero_in_both_dtypes(dtype):
    q = cr.randn(1, 3, 4, dtype=getattr(cr, dtype), requires_grad=True)
    kv = cr.randn(1, 5, 4, dtype=getattr(cr, dtype))
    mask = cr.ones(3, 5, dtype=cr.bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, kv, kv, attn_mask=mask)
    out.sum().backward()
    assert out.dtype == getattr(cr, dtype)
    assert np.all(out.detach().numpy()[0, 1] == 0) and np.all(q.grad.numpy()[0, 1] == 0)


def _mha_pair(batch_first):
    t = torch.nn.MultiheadAttention(4, 2, batch_first=batch_first).double()
    c = nn.MultiheadAttention(4, 2, batch_first=batch_first).double()
    c.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return c, t


def _assert_same_with_nans(a, b):
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("which", ["key_padding_mask", "attn_mask"])
@pytest.mark.parametrize("training", [True, False])
def test_multihead_attention_masked_rows_match_torch(need_weights, which, training):
    c, t = _mha_pair(batch_first=True)
    c.train(training), t.train(training)
    x = rng.standard_normal((2, 3, 4))
    kp = np.zeros((2, 3), bool)
    kp[0] = True                                   # sample 0 may attend to no key
    am = np.zeros((3, 3), bool)
    am[1] = True                                   # query 1 may attend to no key
    mask = kp if which == "key_padding_mask" else am
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oc, wc = c(xc, xc, xc, need_weights=need_weights, **{which: cr.tensor(mask)})
    ot, wt = t(xt, xt, xt, need_weights=need_weights, **{which: torch.tensor(mask)})
    _assert_same_with_nans(oc.detach().numpy(), ot.detach().numpy())
    if need_weights:
        _assert_same_with_nans(wc.detach().numpy(), wt.detach().numpy())
    else:
        assert wc is None and wt is None
    oc.sum().backward()
    ot.sum().backward()
    _assert_same_with_nans(xc.grad.numpy(), xt.grad.numpy())
    _assert_same_with_nans(c.in_proj_weight.grad.numpy(), t.in_proj_weight.grad.numpy())


def test_multihead_attention_fused_inference_path_gives_nan_as_torch():
    c, t = _mha_pair(batch_first=True)
    c.eval(), t.eval()
    x = rng.standard_normal((2, 3, 4))
    kp = np.zeros((2, 3), bool)
    kp[0] = True
    with cr.no_grad(), torch.no_grad():
        xc, xt = cr.tensor(x), torch.tensor(x)
        oc, _ = c(xc, xc, xc, key_padding_mask=cr.tensor(kp), need_weights=False)
        ot, _ = t(xt, xt, xt, key_padding_mask=torch.tensor(kp), need_weights=False)
    _assert_same_with_nans(oc.numpy(), ot.numpy())
    assert np.isnan(oc.numpy()[0]).all()
