"""tril/triu, meshgrid and the hyperbolic functions against PyTorch and finite differences."""
import numpy as np
import pytest

import chainrule as cr
from torch_compare import compare

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)

UNARY = [
    ("sinh", RNG.standard_normal((3, 4))),
    ("cosh", RNG.standard_normal((3, 4))),
    ("asinh", RNG.standard_normal((3, 4))),
    ("acosh", 1.5 + RNG.random((3, 4))),
    ("atanh", RNG.uniform(-0.9, 0.9, (3, 4))),
    ("arcsinh", RNG.standard_normal((2, 3))),
]


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_hyperbolic_functions_match_torch_and_finite_differences(name, x):
    compare(getattr(cr, name), getattr(torch, name), [x])
    compare(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x])
    assert cr.autograd.gradcheck(getattr(cr, name), cr.tensor(x, requires_grad=True))


def test_hyperbolic_of_integers_is_float32_as_torch():
    assert cr.sinh(cr.tensor([1, 2])).dtype == cr.float32
    assert torch.sinh(torch.tensor([1, 2])).dtype == torch.float32


TRIANGLES = [((4, 4), 0), ((3, 5), 1), ((5, 3), -1), ((2, 3, 4), 2), ((3, 3), -5), ((3, 3), 7)]


@pytest.mark.parametrize("shape,diagonal", TRIANGLES)
@pytest.mark.parametrize("name", ["tril", "triu"])
def test_tril_triu_match_torch(name, shape, diagonal):
    x = RNG.standard_normal(shape)
    compare(lambda t: getattr(cr, name)(t, diagonal), lambda t: getattr(torch, name)(t, diagonal),
            [x])
    compare(lambda t: getattr(t, name)(diagonal=diagonal),
            lambda t: getattr(t, name)(diagonal=diagonal), [x])
    assert cr.autograd.gradcheck(lambda t: getattr(t, name)(diagonal),
                                 cr.tensor(x, requires_grad=True))


def test_tril_builds_the_causal_mask_of_attention_lectures():
    mask = cr.tril(cr.ones(4, 4))
    scores = cr.zeros(4, 4).masked_fill(mask == 0, float("-inf")).softmax(-1)
    expected = torch.zeros(4, 4).masked_fill(torch.tril(torch.ones(4, 4)) == 0, float("-inf"))
    np.testing.assert_allclose(scores.array, expected.softmax(-1).numpy())


def test_tril_in_place_and_integer_tensors():
    x = cr.arange(9).reshape(3, 3)
    t = torch.arange(9).reshape(3, 3)
    assert cr.tril(x).tolist() == torch.tril(t).tolist()
    assert cr.tril(x).dtype == cr.int64
    x.triu_(1)
    t.triu_(1)
    assert x.tolist() == t.tolist()


def test_tril_needs_two_dimensions():
    with pytest.raises(RuntimeError, match="tril: .*at least 2 dimensions"):
        cr.tril(cr.ones(3))
    with pytest.raises(RuntimeError):
        torch.tril(torch.ones(3))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch_with_gradients(indexing):
    xs = [RNG.standard_normal(3), RNG.standard_normal(2), RNG.standard_normal(4)]
    compare(lambda *t: cr.meshgrid(*t, indexing=indexing),
            lambda *t: torch.meshgrid(*t, indexing=indexing), xs)
    compare(lambda *t: cr.meshgrid(list(t), indexing=indexing),
            lambda *t: torch.meshgrid(list(t), indexing=indexing), xs[:2])


def test_meshgrid_rejects_an_unknown_indexing():
    with pytest.raises(RuntimeError, match="meshgrid: indexing"):
        cr.meshgrid(cr.ones(2), indexing="yx")
