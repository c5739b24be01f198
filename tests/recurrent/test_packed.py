"""Padded and packed sequences (nn.utils.rnn) and the recurrent layers over them, against
PyTorch: the packing functions' values, gradients and errors; RNN/LSTM/GRU on a PackedSequence
(outputs, h_n from each sequence's last real step, every gradient) with copied weights; LSTM's
proj_size (state_dict keys, values, gradients)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import rnn as R

from torch_compare import compare, compare_modules

torch = pytest.importorskip("torch")
TR = torch.nn.utils.rnn
rng = np.random.default_rng(0)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    arrays = [rng.standard_normal((n, 2, 3)) for n in (2, 5, 3)]
    compare(lambda *s: R.pad_sequence(list(s), batch_first, -1.5, padding_side),
            lambda *s: TR.pad_sequence(list(s), batch_first, -1.5, padding_side), arrays)


@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True), ([2, 5, 3, 5], False)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_match_torch(lengths, enforce_sorted, batch_first):
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))

    def run(lib, x):
        pack = lib.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                        enforce_sorted=enforce_sorted)
        padded, lens = lib.pad_packed_sequence(pack, batch_first, 0.25, total_length=7)
        return pack.data, padded, pack.batch_sizes, pack.sorted_indices, lens

    ours = run(R, cr.tensor(x, requires_grad=True))
    theirs = run(TR, torch.tensor(x, requires_grad=True))
    compare(lambda x: run(R, x)[:2], lambda x: run(TR, x)[:2], [x])
    for a, b in zip(ours[2:], theirs[2:]):
        if b is None:
            assert a is None
        else:
            assert a.dtype == cr.int64
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_pack_sequence_and_unpack_match_torch():
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    ours = R.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False)
    theirs = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    np.testing.assert_array_equal(ours.unsorted_indices.numpy(), theirs.unsorted_indices.numpy())
    for a, s in zip(R.unpack_sequence(ours), seqs):
        np.testing.assert_array_equal(a.numpy(), s)
    rebuilt = R.PackedSequence(ours.data, ours.batch_sizes, ours.sorted_indices)
    np.testing.assert_array_equal(rebuilt.unsorted_indices.numpy(), ours.unsorted_indices.numpy())
    assert ours.double().data.dtype == cr.float64 and ours.float().data.dtype == cr.float32


def test_packing_gradcheck():
    x = cr.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)

    def round_trip(x):
        pack = R.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        return R.pad_packed_sequence(pack, padding_value=3.0)[0] * pack.data.sum()
    assert cr.autograd.gradcheck(round_trip, (x,))


def test_packing_errors_as_torch():
    x = cr.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        R.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(RuntimeError, match="batch_size"):
        R.pack_padded_sequence(x, [3, 2])
    pack = R.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        R.pad_packed_sequence(pack, total_length=3)
    with pytest.raises(ValueError, match="padding_side"):
        R.pad_sequence([cr.randn(2)], padding_side="middle")


def _copy(ours, theirs):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


LAYERS = [("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", dict(nonlinearity="relu")),
          ("LSTM", dict(num_layers=2, bidirectional=True)), ("GRU", dict(bidirectional=True)),
          ("LSTM", dict(proj_size=2)), ("LSTM", dict(proj_size=3, num_layers=2,
                                                     bidirectional=True, bias=False))]


@pytest.mark.parametrize("cls,kw", LAYERS, ids=lambda v: str(v))
@pytest.mark.parametrize("with_state", [False, True])
def test_layers_on_packed_input_match_torch(cls, kw, with_state):
    theirs = getattr(torch.nn, cls)(3, 4, **kw).double()
    ours = getattr(nn, cls)(3, 4, **kw).double()
    _copy(ours, theirs)
    lengths = [3, 5, 1, 5]
    x = rng.standard_normal((5, 4, 3))
    D, P = (2 if kw.get("bidirectional") else 1), kw.get("proj_size") or 4
    layers = kw.get("num_layers", 1) * D
    states = [rng.standard_normal((layers, 4, P))] + ([rng.standard_normal((layers, 4, 4))]
                                                     if cls == "LSTM" else [])

    def run(lib, module, x, *hx):
        pack = lib.pack_padded_sequence(x, lengths, enforce_sorted=False)
        hx = (tuple(hx) if cls == "LSTM" else hx[0]) if with_state else None
        out, state = module(pack, hx)
        assert type(out).__name__ == "PackedSequence"
        padded = lib.pad_packed_sequence(out, batch_first=True)[0]
        return (padded,) + (state if isinstance(state, tuple) else (state,))

    compare(lambda *a: run(R, ours, *a), lambda *a: run(TR, theirs, *a), [x] + states,
            grad_mask=[True] + [with_state] * len(states))
    ours.zero_grad(), theirs.zero_grad()
    out_c = run(R, ours, cr.tensor(x), *[cr.tensor(s) for s in states])
    out_t = run(TR, theirs, torch.tensor(x), *[torch.tensor(s) for s in states])
    sum(o.sum() for o in out_c).backward()
    sum(o.sum() for o in out_t).backward()
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-10, err_msg=name)


def test_packed_input_float32_matches_torch():
    theirs, ours = torch.nn.GRU(3, 4), nn.GRU(3, 4)
    _copy(ours, theirs)
    seqs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (4, 2, 3)]
    oc, hc = ours(R.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False))
    ot, ht = theirs(TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False))
    assert oc.data.dtype == cr.float32
    np.testing.assert_allclose(oc.data.detach().numpy(), ot.data.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(hc.detach().numpy(), ht.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw", [dict(proj_size=2), dict(proj_size=2, num_layers=2,
                                                        bidirectional=True, batch_first=True)])
def test_lstm_proj_size_matches_torch(kw):
    ours, theirs = nn.LSTM(3, 5, **kw), torch.nn.LSTM(3, 5, **kw)
    assert repr(ours) == repr(theirs)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape)
                                                          for p in theirs.parameters()]
    compare_modules(ours, theirs, [rng.standard_normal((2, 4, 3))])


def test_lstm_proj_size_gradcheck_and_errors():
    lstm = nn.LSTM(2, 3, proj_size=1).double()
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x: lstm(x)[0], (x,))
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(2, 3, proj_size=3)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.RNNBase("GRU", 2, 3, proj_size=1)
    with pytest.raises(ValueError, match="positive integer or zero"):
        nn.LSTM(2, 3, proj_size=-1)
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        lstm(x, (cr.zeros(1, 2, 3, dtype=cr.float64), cr.zeros(1, 2, 3, dtype=cr.float64)))
