"""MultiheadAttention and the Transformer encoder against PyTorch (float64, weights through
state_dict, outputs, attention weights and every gradient)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.attention import MultiheadAttention, generate_square_subsequent_mask
from chainrule.nn.transformer import TransformerEncoder, TransformerEncoderLayer
from torch_compare import compare_modules

torch = pytest.importorskip("torch")
tnn = torch.nn


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def adapter(lib, module, call):
    class Adapter(lib.Module):
        def __init__(self):
            super().__init__()
            self.m = module

        def forward(self, *args):
            return call(self.m, lib, *args)
    return Adapter()


def _masks(lib, L, S, N, h, kind):
    as_t = (lambda a: cr.tensor(a)) if lib is cr.nn else (lambda a: torch.tensor(a))
    rng = np.random.default_rng(5)
    if kind == "bool_attn":
        m = rng.random((L, S)) > 0.6
        m[:, 0] = False
        return dict(attn_mask=as_t(m))
    if kind == "float_attn3d":
        return dict(attn_mask=as_t(rng.standard_normal((N * h, L, S))))
    if kind == "key_padding":
        m = np.zeros((N, S), bool)
        m[0, -2:] = True
        m[1, :1] = True
        return dict(key_padding_mask=as_t(m))
    if kind == "causal":
        return dict(attn_mask=as_t(np.triu(np.full((L, S), -np.inf), 1)), is_causal=True)
    return {}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", [None, "bool_attn", "float_attn3d", "key_padding", "causal"])
def test_self_attention_matches_torch(batch_first, masks):
    N, L, E, h = 2, 5, 8, 2
    x = rand(N, L, E) if batch_first else rand(L, N, E)

    def call(m, lib, x):
        return m(x, x, x, average_attn_weights=True, **_masks(lib, L, L, N, h, masks))
    compare_modules(adapter(cr.nn, MultiheadAttention(E, h, batch_first=batch_first), call),
                    adapter(tnn, tnn.MultiheadAttention(E, h, batch_first=batch_first), call),
                    [x])


def test_cross_attention_kdim_vdim_per_head_weights_no_bias():
    L, S, N, E = 4, 6, 2, 6
    q, k, v = rand(L, N, E), rand(S, N, 3, seed=1), rand(S, N, 5, seed=2)

    def call(m, lib, q, k, v):
        return m(q, k, v, average_attn_weights=False)
    mine = MultiheadAttention(E, 3, kdim=3, vdim=5, bias=False)
    ref = tnn.MultiheadAttention(E, 3, kdim=3, vdim=5, bias=False)
    compare_modules(adapter(cr.nn, mine, call), adapter(tnn, ref, call), [q, k, v])


def test_unbatched_attention_and_need_weights_false():
    x = rand(5, 4)

    def call(m, lib, x):
        return m(x, x, x, need_weights=False)[0]
    compare_modules(adapter(cr.nn, MultiheadAttention(4, 2), call),
                    adapter(tnn, tnn.MultiheadAttention(4, 2), call), [x])


def test_attention_state_dict_keys():
    for kw in [{}, dict(kdim=3, vdim=5), dict(bias=False)]:
        a = MultiheadAttention(6, 2, **kw).state_dict()
        b = tnn.MultiheadAttention(6, 2, **kw).state_dict()
        assert [(k, tuple(v.shape)) for k, v in a.items()] == \
            [(k, tuple(v.shape)) for k, v in b.items()]


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
              norm_first=norm_first)
    x = rand(2, 5, 8) if batch_first else rand(5, 2, 8)
    compare_modules(TransformerEncoderLayer(8, 2, **kw), tnn.TransformerEncoderLayer(8, 2, **kw),
                    [x], rtol=1e-6, atol=1e-8)


@pytest.mark.filterwarnings("ignore:Support for mismatched")
def test_encoder_stack_with_causal_mask_and_padding_matches_torch():
    kw = dict(dim_feedforward=16, dropout=0.0, batch_first=True)
    mine = TransformerEncoder(TransformerEncoderLayer(8, 2, **kw), 2, norm=cr.nn.LayerNorm(8))
    ref = tnn.TransformerEncoder(tnn.TransformerEncoderLayer(8, 2, **kw), 2,
                                 norm=tnn.LayerNorm(8), enable_nested_tensor=False)
    mask_c = generate_square_subsequent_mask(5, cr.float64)
    mask_t = tnn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    np.testing.assert_array_equal(mask_c.array, mask_t.numpy())
    pad = np.zeros((2, 5), bool)
    pad[1, -1] = True

    def call(m, lib, x):
        if lib is cr.nn:
            return m(x, mask=mask_c, src_key_padding_mask=cr.tensor(pad), is_causal=True)
        return m(x, mask=mask_t, src_key_padding_mask=torch.tensor(pad), is_causal=True)
    m_ad, t_ad = adapter(cr.nn, mine, call), adapter(tnn, ref, call)
    t_ad.eval()
    m_ad.eval()
    compare_modules(m_ad, t_ad, [rand(2, 5, 8)], rtol=1e-6, atol=1e-8)


def test_attention_dropout_in_training_only():
    cr.manual_seed(0)
    m = MultiheadAttention(4, 2, dropout=0.5)
    x = cr.randn(3, 2, 4)
    a, b = m(x, x, x)[0], m(x, x, x)[0]
    assert not np.allclose(a.array, b.array)
    m.eval()
    np.testing.assert_array_equal(m(x, x, x)[0].array, m(x, x, x)[0].array)


def test_attention_errors():
    with pytest.raises(AssertionError, match="divisible"):
        MultiheadAttention(6, 4)
    m = MultiheadAttention(4, 2)
    x = cr.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match="is_causal"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=cr.zeros(2, 2))
