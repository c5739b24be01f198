"""Recurrent layers (RNN, LSTM, GRU and their cells) against PyTorch: weights copied through
state_dict (keys must match), float64 outputs and every gradient (inputs and parameters)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.conv import Conv2d, ConvTranspose2d
from chainrule.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from torch_compare import compare_modules

torch = pytest.importorskip("torch")
tnn = torch.nn


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


RNN_CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, batch_first=True, bias=False),
    dict(num_layers=3, bidirectional=True, batch_first=True),
]


def _initial_state(mode, cfg, N=3, H=5, seed=10):
    D = 2 if cfg.get("bidirectional") else 1
    shape = (cfg["num_layers"] * D, N, H)
    if mode == "LSTM":
        return [rand(*shape, seed=seed), rand(*shape, seed=seed + 1)]
    return [rand(*shape, seed=seed)]


@pytest.mark.parametrize("cfg", RNN_CONFIGS)
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU", "RNN_relu"])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers(cfg, kind, with_state):
    mine_cls = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU, "RNN_relu": RNN}[kind]
    torch_cls = {"RNN": tnn.RNN, "LSTM": tnn.LSTM, "GRU": tnn.GRU, "RNN_relu": tnn.RNN}[kind]
    extra = dict(nonlinearity="relu") if kind == "RNN_relu" else {}
    mine, ref = mine_cls(4, 5, **cfg, **extra), torch_cls(4, 5, **cfg, **extra)
    x = rand(3, 6, 4) if cfg.get("batch_first") else rand(6, 3, 4)
    lstm = kind == "LSTM"
    states = _initial_state("LSTM" if lstm else kind, cfg) if with_state else []

    def adapt(module, tensor_lib):
        class Adapter(tensor_lib.Module):
            def __init__(self):
                super().__init__()
                self.m = module

            def forward(self, x, *s):
                if not s:
                    return self.m(x)
                return self.m(x, (s[0], s[1]) if lstm else s[0])
        return Adapter()
    compare_modules(adapt(mine, cr.nn), adapt(ref, tnn), [x] + states)


def test_unbatched_lstm_and_gru():
    compare_modules(LSTM(4, 5, num_layers=2), tnn.LSTM(4, 5, num_layers=2), [rand(6, 4)])
    compare_modules(GRU(4, 5, bidirectional=True), tnn.GRU(4, 5, bidirectional=True), [rand(6, 4)])


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells(cell, bias):
    mine = {"RNNCell": RNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell}[cell](4, 5, bias=bias)
    ref = getattr(tnn, cell)(4, 5, bias=bias)
    compare_modules(mine, ref, [rand(3, 4)])
    states = [rand(3, 5, seed=3)]
    if cell == "LSTMCell":
        states.append(rand(3, 5, seed=4))

    def adapt(module, lib):
        class Adapter(lib.Module):
            def __init__(self):
                super().__init__()
                self.m = module

            def forward(self, x, *s):
                return self.m(x, tuple(s) if len(s) == 2 else s[0])
        return Adapter()
    compare_modules(adapt(mine, cr.nn), adapt(ref, tnn), [rand(3, 4)] + states)
    compare_modules(mine, ref, [rand(4)])


def test_state_dict_keys_and_shapes_match_torch():
    for mine, ref in [(LSTM(3, 4, 2, bidirectional=True), tnn.LSTM(3, 4, 2, bidirectional=True)),
                      (GRU(3, 4, bias=False), tnn.GRU(3, 4, bias=False)),
                      (Conv2d(3, 4, 3, groups=1), tnn.Conv2d(3, 4, 3)),
                      (ConvTranspose2d(4, 6, 3, groups=2), tnn.ConvTranspose2d(4, 6, 3, groups=2))]:
        a = {k: tuple(v.shape) for k, v in mine.state_dict().items()}
        b = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
        assert list(a.items()) == list(b.items())


def test_default_init_ranges_like_torch():
    lstm = LSTM(3, 16)
    for p in lstm.parameters():
        assert np.abs(p.array).max() <= 0.25 and np.abs(p.array).max() > 0.2
    conv = Conv2d(3, 8, 5)
    bound = 1 / np.sqrt(3 * 25)
    assert np.abs(conv.weight.array).max() <= bound and np.abs(conv.bias.array).max() <= bound
    assert conv.weight.array.std() > bound / 3


def test_truncated_bptt_with_detach():
    cr.manual_seed(0)
    lstm = LSTM(2, 3)
    x = cr.randn(8, 1, 2)
    state = None
    for chunk in (x[:4], x[4:]):
        out, state = lstm(chunk, state)
        out.sum().backward()
        state = tuple(s.detach() for s in state)
        assert all(not s.requires_grad for s in state)
    # The second chunk's gradient must not flow into the first: compare with a fresh run of the
    # second chunk from the detached state.
    g_total = lstm.weight_hh_l0.grad.array.copy()
    lstm.zero_grad()
    out, _ = lstm(x[:4])
    out.sum().backward()
    g_first = lstm.weight_hh_l0.grad.array.copy()
    assert not np.allclose(g_total, g_first)


def test_rnn_dropout_between_layers_only_in_training():
    cr.manual_seed(0)
    m = LSTM(3, 4, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 3)
    a = m(x)[0]
    b = m(x)[0]
    assert not np.allclose(a.array, b.array)
    m.eval()
    np.testing.assert_array_equal(m(x)[0].array, m(x)[0].array)


def test_recurrent_bad_input_errors():
    with pytest.raises(RuntimeError, match="input_size"):
        LSTM(3, 4)(cr.randn(5, 2, 7))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        GRU(3, 4)(cr.randn(5, 2, 3), cr.randn(1, 3, 4))
    with pytest.raises(ValueError, match="dropout"):
        LSTM(3, 4, dropout=2)


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("layer", ["LSTM", "GRU", "RNN"])
def test_empty_batch_runs_forward_and_backward_as_torch(layer, reference):
    """A batch of zero sequences: empty outputs, empty input gradients, zero weight gradients."""
    cr.manual_seed(0)
    ours = getattr(cr.nn, layer)(3, 4)
    theirs = getattr(torch.nn, layer)(3, 4)
    with cr.backends.reference(reference):
        x = cr.zeros(5, 0, 3, requires_grad=True)
        out, _ = ours(x)
        out.sum().backward()
    tx = torch.zeros(5, 0, 3, requires_grad=True)
    tout, _ = theirs(tx)
    tout.sum().backward()
    assert tuple(out.shape) == tuple(tout.shape) and tuple(x.grad.shape) == tuple(tx.grad.shape)
    assert float(ours.weight_hh_l0.grad.abs().sum()) == 0.0


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_an_empty_sequence_raises_as_torch(name, batch_first):
    shape = (2, 0, 3) if batch_first else (0, 2, 3)
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch.nn, name)(3, 4, batch_first=batch_first)(torch.randn(*shape))
    with pytest.raises(RuntimeError) as ours:
        getattr(cr.nn, name)(3, 4, batch_first=batch_first)(cr.randn(*shape))
    assert str(ours.value) == str(theirs.value)
