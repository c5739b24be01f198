"""nn.Transformer, TransformerDecoder and TransformerDecoderLayer against PyTorch (weights copied
through state_dict), which word_language_model's TransformerModel subclasses."""
import numpy as np
import pytest

import chainrule as cr
from torch_compare import compare_modules

torch = pytest.importorskip("torch")


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("norm_first,batch_first", [(False, False), (True, True)])
def test_decoder_layer_matches_pytorch(norm_first, batch_first):
    kw = dict(dim_feedforward=12, dropout=0.0, norm_first=norm_first, batch_first=batch_first)
    ours, theirs = cr.nn.TransformerDecoderLayer(8, 2, **kw), torch.nn.TransformerDecoderLayer(8, 2, **kw)
    tgt, memory = (data(2, 5, 8), data(2, 4, 8, seed=1)) if batch_first else (data(5, 2, 8), data(4, 2, 8, seed=1))
    compare_modules(ours, theirs, [tgt, memory], rtol=1e-6, atol=1e-8)


def test_decoder_layer_with_causal_mask_matches_pytorch():
    ours, theirs = cr.nn.TransformerDecoderLayer(8, 2, 16, 0.0), torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0)
    mask = cr.nn.Transformer.generate_square_subsequent_mask(5, dtype=cr.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())

    class WithMask:
        def __init__(self, layer, m):
            self.layer, self.m = layer, m
        def __getattr__(self, name):
            return getattr(self.layer, name)
        def __call__(self, tgt, memory):
            return self.layer(tgt, memory, tgt_mask=self.m)

    ours_m, theirs_m = WithMask(ours, mask), WithMask(theirs, tmask)
    ours.double(); theirs.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    a, b = ours_m(cr.tensor(data(5, 2, 8)), cr.tensor(data(4, 2, 8, seed=1))), \
        theirs_m(torch.tensor(data(5, 2, 8)), torch.tensor(data(4, 2, 8, seed=1)))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-8)


def test_transformer_keys_values_and_gradients_match_pytorch():
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=10, dropout=0.0)
    ours, theirs = cr.nn.Transformer(**kw), torch.nn.Transformer(**kw)
    compare_modules(ours, theirs, [data(6, 3, 8), data(4, 3, 8, seed=2)], rtol=1e-6, atol=1e-8)


def test_transformer_starts_xavier_uniform_and_checks_shapes():
    cr.manual_seed(0)
    model = cr.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                              dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight
    bound = (6 / (16 + 32)) ** 0.5
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.8 * bound
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(cr.zeros(3, 2, 16), cr.zeros(3, 4, 16))
    with pytest.raises(RuntimeError, match="feature number"):
        model(cr.zeros(3, 2, 8), cr.zeros(3, 2, 8))


def test_a_subclass_used_as_encoder_only_as_word_language_model_does():
    class EncoderOnly(cr.nn.Transformer):
        def __init__(self):
            super().__init__(d_model=8, nhead=2, dim_feedforward=16, num_encoder_layers=2)
            self.head = cr.nn.Linear(8, 5)

        def forward(self, src):
            return self.head(self.encoder(src, mask=self.generate_square_subsequent_mask(len(src))))

    model = EncoderOnly()
    out = model(cr.randn(7, 3, 8))
    out.sum().backward()
    assert tuple(out.shape) == (7, 3, 5)
    assert model.encoder.layers[1].linear1.weight.grad is not None
