"""The fused recurrent steps and sequence ops against PyTorch (float64) and finite differences."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.recurrent import GRUCellStep, LSTMCellStep, RNNCellStep
from torch_compare import compare

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def cell_arrays(gates, N=3, I=4, H=5):
    return [rand(N, I), rand(N, H, seed=1), rand(gates * H, I, seed=2), rand(gates * H, H, seed=3),
            rand(gates * H, seed=4), rand(gates * H, seed=5)]


def test_lstm_step_matches_torch_lstm_cell():
    arrays = cell_arrays(4) + [rand(3, 5, seed=6)]

    def mine(x, h, wi, wh, bi, bh, c):
        return LSTMCellStep.apply(x @ wi.t() + bi, h, c, wh, bh)

    def ref(x, h, wi, wh, bi, bh, c):
        return torch._VF.lstm_cell(x, (h, c), wi, wh, bi, bh)
    compare(mine, ref, arrays)


def test_gru_step_matches_torch_gru_cell():
    compare(lambda x, h, wi, wh, bi, bh: GRUCellStep.apply(x @ wi.t() + bi, h, wh, bh),
            lambda x, h, wi, wh, bi, bh: torch._VF.gru_cell(x, h, wi, wh, bi, bh), cell_arrays(3))


@pytest.mark.parametrize("nl", ["tanh", "relu"])
def test_rnn_step_matches_torch_rnn_cell(nl):
    ref = torch._VF.rnn_tanh_cell if nl == "tanh" else torch._VF.rnn_relu_cell
    compare(lambda x, h, wi, wh, bi, bh: RNNCellStep.apply(x @ wi.t() + bi, h, wh, bh, nl),
            lambda x, h, wi, wh, bi, bh: ref(x, h, wi, wh, bi, bh), cell_arrays(1))


def test_recurrent_steps_gradcheck():
    t = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in
         [rand(2, 8), rand(2, 2, seed=1), rand(2, 2, seed=2), rand(8, 2, seed=3), rand(8, seed=4)]]
    assert cr.autograd.gradcheck(lambda gx, h, c, w, b: LSTMCellStep.apply(gx, h, c, w, b), t)
    def leaf(a):
        return cr.tensor(a.array.copy(), requires_grad=True)
    assert cr.autograd.gradcheck(lambda gx, h, w, b: GRUCellStep.apply(gx, h, w, b),
                                 [leaf(t[0][:, :6]), t[1], leaf(t[3][:6]), leaf(t[4][:6])])
    assert cr.autograd.gradcheck(lambda gx, h, w: RNNCellStep.apply(gx, h, w, None, "tanh"),
                                 [leaf(t[0][:, :2]), t[1], leaf(t[3][:2])])


@pytest.mark.parametrize("mode,G", [("GRU", 3), ("RNN_TANH", 1), ("RNN_RELU", 1)])
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_op_gradcheck(mode, G, reverse):
    from chainrule.ops.recurrent import RecurrentSequence
    H = 2

    def leaf(*shape, seed):
        return cr.tensor(rand(*shape, seed=seed), dtype=cr.float64, requires_grad=True)
    gx, h0 = leaf(3, 2, G * H, seed=0), leaf(2, H, seed=1)
    w, b = leaf(G * H, H, seed=3), leaf(G * H, seed=4)
    fn = lambda gx, h0, w, b: RecurrentSequence.apply(gx, h0, w, b, mode, reverse)  # noqa: E731
    assert cr.autograd.gradcheck(fn, (gx, h0, w, b))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_layer_op_gradcheck(bias, reverse):
    from chainrule.ops.lstm_layer import LSTMLayer
    H, E = 2, 3

    def leaf(*shape, seed):
        return cr.tensor(rand(*shape, seed=seed), dtype=cr.float64, requires_grad=True)
    x, h0, c0 = leaf(3, 2, E, seed=0), leaf(2, H, seed=1), leaf(2, H, seed=2)
    w_ih, w_hh = leaf(4 * H, E, seed=3), leaf(4 * H, H, seed=4)
    b_ih, b_hh = (leaf(4 * H, seed=5), leaf(4 * H, seed=6)) if bias else (None, None)
    args = (x, w_ih, b_ih, b_hh, h0, c0, w_hh) if bias else (x, w_ih, h0, c0, w_hh)

    def fn(*a):
        full = a if bias else (a[0], a[1], None, None, *a[2:])
        return LSTMLayer.apply(*full, reverse)
    assert cr.autograd.gradcheck(fn, args)
