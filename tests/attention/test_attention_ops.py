"""Scaled dot-product attention against PyTorch (float64) and finite differences."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.functional_attention import scaled_dot_product_attention as sdpa
from torch_compare import compare

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def qkv(B=2, Hh=3, L=4, S=5, E=6, Ev=3):
    return [rand(B, Hh, L, E), rand(B, Hh, S, E, seed=1), rand(B, Hh, S, Ev, seed=2)]


def test_sdpa_plain_and_scaled_match_torch():
    compare(lambda q, k, v: sdpa(q, k, v), lambda q, k, v: TF.scaled_dot_product_attention(q, k, v),
            qkv())
    compare(lambda q, k, v: sdpa(q, k, v, scale=0.3),
            lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, scale=0.3), qkv())


def test_sdpa_causal_matches_torch():
    compare(lambda q, k, v: sdpa(q, k, v, is_causal=True),
            lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
            qkv(L=5, S=5))


def test_sdpa_bool_and_float_masks_match_torch():
    mask = np.random.default_rng(7).random((4, 5)) > 0.4
    mask[:, 0] = True  # every query keeps one key
    compare(lambda q, k, v: sdpa(q, k, v, attn_mask=cr.tensor(mask)),
            lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask)),
            qkv())
    fmask = rand(2, 1, 4, 5, seed=9)
    compare(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m),
            lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
            qkv() + [fmask])


def test_sdpa_gradcheck_with_dropout_mask_fixed():
    q, k, v = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in qkv(1, 1, 3, 4, 2, 2)]

    def fn(q, k, v):
        cr.manual_seed(0)
        return sdpa(q, k, v, dropout_p=0.3, is_causal=False)
    assert cr.autograd.gradcheck(fn, (q, k, v))


def test_sdpa_dropout_one_gives_zero_and_rejects_bad_p():
    q, k, v = [cr.tensor(a) for a in qkv()]
    assert not sdpa(q, k, v, dropout_p=1.0).array.any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        sdpa(q, k, v, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="embedding size"):
        sdpa(q, k[..., :2], v)



def test_fast_and_reference_paths_agree_with_dropout_and_returned_weights():
    """What the op-case table cannot reach: a dropout mask (drawn here from one seed for both
    paths) and the attention weights as a second output with a gradient of their own."""
    x = rand(2, 4, 6)
    runs = []
    for reference in (False, True):
        cr.manual_seed(0)
        mha = cr.nn.MultiheadAttention(6, 2, dropout=0.3, batch_first=True).double()
        inp = cr.tensor(x, dtype=cr.float64, requires_grad=True)
        with cr.backends.reference(reference):
            out, weights = mha(inp, inp, inp, average_attn_weights=False)
            loss = (out * cr.tensor(rand(*out.shape, seed=3))).sum() \
                + (weights * cr.tensor(rand(*weights.shape, seed=4))).sum()
            loss.backward()
        assert (weights.array == 0).any()       # some weights were dropped
        runs.append([out.array, weights.array, inp.grad.array]
                    + [p.grad.array for p in mha.parameters()])
    for fast, ref in zip(*runs):
        np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-12)
