import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                                  SequentialSampler, Subset, TensorDataset, default_collate,
                                  random_split)


def _xy(n=10):
    return cr.arange(n * 2).reshape(n, 2).float(), cr.arange(n)


def test_tensor_dataset_items_and_length():
    X, y = _xy()
    ds = TensorDataset(X, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.tolist() == [6.0, 7.0] and yi.item() == 3


def test_tensor_dataset_size_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(10, 2\).*\(9,\)"):
        TensorDataset(cr.zeros(10, 2), cr.zeros(9))


def test_sequential_batches_cover_everything_in_order():
    X, y = _xy(10)
    batches = list(DataLoader(TensorDataset(X, y), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert np.concatenate([b[1].array for b in batches]).tolist() == list(range(10))
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == cr.float32


def test_drop_last_and_len():
    ds = TensorDataset(*_xy(10))
    assert len(DataLoader(ds, batch_size=4)) == 3
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(b[1]) for b in loader] == [4, 4]


def test_shuffle_is_a_permutation_and_reproducible_with_seed():
    ds = TensorDataset(*_xy(50))

    def order(seed):
        cr.manual_seed(seed)
        return np.concatenate([b[1].array for b in DataLoader(ds, batch_size=7, shuffle=True)])

    a, b, c = order(1), order(1), order(2)
    assert sorted(a.tolist()) == list(range(50))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_shuffle_with_generator_differs_per_epoch_and_is_reproducible():
    ds = TensorDataset(*_xy(30))
    loader = DataLoader(ds, batch_size=30, shuffle=True, generator=cr.Generator().manual_seed(3))
    e1, e2 = next(iter(loader))[1].tolist(), next(iter(loader))[1].tolist()
    loader2 = DataLoader(ds, batch_size=30, shuffle=True, generator=cr.Generator().manual_seed(3))
    assert e1 != e2
    assert next(iter(loader2))[1].tolist() == e1


def test_tensor_dataset_batch_uses_one_fancy_index_not_per_sample_getitem(monkeypatch):
    ds = TensorDataset(*_xy(20))
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: pytest.fail("per-sample path"))
    batch = next(iter(DataLoader(ds, batch_size=8, shuffle=True)))
    assert batch[0].shape == (8, 2)
    # a Subset of a TensorDataset is vectorised too
    sub = Subset(ds, [5, 3, 1])
    assert next(iter(DataLoader(sub, batch_size=3)))[1].tolist() == [5, 3, 1]


def test_custom_collate_fn_goes_through_samples():
    ds = TensorDataset(*_xy(6))
    loader = DataLoader(ds, batch_size=3, collate_fn=lambda samples: len(samples))
    assert list(loader) == [3, 3]


def test_default_collate_follows_pytorch():
    batch = default_collate([(1, 2.0, "a", {"k": cr.tensor([1.0])}),
                             (3, 4.0, "b", {"k": cr.tensor([2.0])})])
    ints, floats, strs, dicts = batch
    assert ints.dtype == cr.int64 and ints.tolist() == [1, 3]
    assert floats.dtype == cr.float64
    assert strs == ["a", "b"]
    assert dicts["k"].shape == (2, 1)
    assert default_collate([np.zeros(3, np.float32)] * 2).shape == (2, 3)
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return float(i * i), i


def test_generic_dataset_and_batch_size_none():
    assert [b[1].tolist() for b in DataLoader(Squares(), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert list(DataLoader(Squares(), batch_size=None))[2] == (4.0, 2)


def test_samplers_and_batch_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = cr.Generator().manual_seed(0)
    assert sorted(RandomSampler(range(6), generator=g)) == list(range(6))
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=10, generator=g))
    assert len(drawn) == 10 and set(drawn) <= {0, 1, 2}
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    loader = DataLoader(Squares(), batch_sampler=[[4, 0], [1]])
    assert [b[1].tolist() for b in loader] == [[4, 0], [1]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(Squares(), batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(), batch_size=0)


def test_concat_dataset_and_add():
    a, b = TensorDataset(cr.arange(3)), TensorDataset(cr.arange(10, 12))
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 5
    assert [cat[i][0].item() for i in range(5)] == [0, 1, 2, 10, 11]
    assert cat[-1][0].item() == 11


def test_random_split_lengths_fractions_and_seed():
    ds = TensorDataset(cr.arange(10))
    a, b = random_split(ds, [7, 3], generator=cr.Generator().manual_seed(1))
    assert len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=cr.Generator().manual_seed(1))
    assert a2.indices == a.indices
    # fractions: floor(n * f), then the remainder round-robin from the first split (PyTorch's rule)
    parts = random_split(ds, [0.33, 0.33, 0.34], generator=cr.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [4, 3, 3]
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [5, 4])


def test_random_split_matches_torch_lengths():
    torch = pytest.importorskip("torch")
    for n, fr in [(10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (101, [0.8, 0.1, 0.1])]:
        ours = [len(p) for p in random_split(range(n), fr)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fr)]
        assert ours == theirs
