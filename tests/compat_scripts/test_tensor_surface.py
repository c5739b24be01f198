"""Tensor methods and cr functions that PyTorch's tutorials and examples call, against PyTorch:
new_* factories, narrow, diag, unique and the legacy typed constructors."""
import numpy as np
import pytest

import chainrule as cr
from torch_compare import compare

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_new_factories_follow_self_dtype(dtype):
    x, t = cr.zeros(2, dtype=getattr(cr, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    for name, args in [("new_zeros", (2, 3)), ("new_ones", ((3,),)), ("new_full", ((2, 2), 7)),
                       ("new_empty", (4,))]:
        a, b = getattr(x, name)(*args), getattr(t, name)(*args)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch", "chainrule")
        if name != "new_empty":
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    a, b = x.new_tensor([1, 2]), t.new_tensor([1, 2])
    assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
    a = x.new_zeros(2, dtype=cr.float64, requires_grad=True)
    assert a.dtype == cr.float64 and a.requires_grad


def test_new_tensor_copies_and_takes_a_dtype():
    x = cr.ones(2)
    data = np.array([1.0, 2.0])
    y = x.new_tensor(data, dtype=cr.int64)
    data[0] = 9
    assert y.dtype == cr.int64 and y.tolist() == [1, 2]


@pytest.mark.parametrize("dim,start,length", [(0, 0, 2), (1, 1, 2), (-1, -3, 1), (0, 3, 0)])
def test_narrow_values_and_gradient(dim, start, length):
    a = np.random.default_rng(0).standard_normal((3, 4))
    compare(lambda x: x.narrow(dim, start, length), lambda x: x.narrow(dim, start, length), [a])
    compare(lambda x: cr.narrow(x, dim, start, length), lambda x: torch.narrow(x, dim, start, length), [a])


def test_narrow_errors_like_pytorch():
    x, t = cr.zeros(3, 4), torch.zeros(3, 4)
    for args in [(1, 5, 1), (1, 2, 3)]:
        with pytest.raises((IndexError, RuntimeError)) as ours:
            x.narrow(*args)
        with pytest.raises((IndexError, RuntimeError)) as theirs:
            t.narrow(*args)
        assert ours.type is theirs.type
        assert "narrow" in str(ours.value)


@pytest.mark.parametrize("shape,offset", [((4,), 0), ((3,), 2), ((3,), -1), ((3, 3), 0),
                                          ((3, 5), 1), ((4, 2), -2), ((2, 3), 4)])
def test_diag_values_and_gradient(shape, offset):
    a = np.random.default_rng(1).standard_normal(shape)
    compare(lambda x: cr.diag(x, offset), lambda x: torch.diag(x, offset), [a])
    compare(lambda x: x.diag(offset), lambda x: x.diag(offset), [a])


def test_diag_gradcheck_and_bad_rank():
    for shape in [(3,), (3, 4)]:
        x = cr.randn(*shape, dtype=cr.float64, requires_grad=True)
        assert cr.autograd.gradcheck(lambda v: cr.diag(v, 1), (x,))
    with pytest.raises(RuntimeError, match="diag: expected a 1-D or 2-D tensor"):
        cr.diag(cr.zeros(2, 2, 2))


@pytest.mark.parametrize("data,dim", [([3, 1, 3, 2, 1], None), ([[1, 2], [1, 2], [0, 5]], 0),
                                      ([[2.5, 1.0], [1.0, 2.5]], None)])
def test_unique_like_pytorch(data, dim):
    ours = cr.unique(cr.tensor(data), return_inverse=True, return_counts=True, dim=dim)
    theirs = torch.unique(torch.tensor(data), return_inverse=True, return_counts=True, dim=dim)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
    np.testing.assert_array_equal(cr.tensor(data).unique().numpy(), torch.tensor(data).unique().numpy())


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "ByteTensor", "BoolTensor"])
def test_legacy_constructors(name):
    ours, theirs = getattr(cr, name), getattr(torch, name)
    for args in [([1, 0, 1],), (np.array([[1, 0], [0, 1]]),), (2, 3), ()]:
        a, b = ours(*args), theirs(*args)
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        if args and not isinstance(args[0], int):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert isinstance(ours([1]), ours) and not isinstance([1], ours)
    with pytest.raises(TypeError, match=name):
        ours("abc", 2)


def test_legacy_constructor_isinstance_checks_dtype():
    assert isinstance(cr.zeros(2), cr.FloatTensor) and not isinstance(cr.zeros(2), cr.LongTensor)
    assert isinstance(cr.arange(3), cr.LongTensor)
    assert isinstance(torch.zeros(2), torch.FloatTensor) and not isinstance(torch.zeros(2), torch.LongTensor)


def test_accelerator_flags_answer_as_pytorch_on_the_cpu():
    for name in ("is_cuda", "is_xpu", "is_mps"):
        assert getattr(cr.zeros(1), name) is getattr(torch.zeros(1), name) is False
