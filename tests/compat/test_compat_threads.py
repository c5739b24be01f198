"""cr.set_num_threads and its relatives answer as torch's do, and the thread count reaches the
BLAS pools that run the products."""
import pytest
import torch

import chainrule as cr
from chainrule.backends import mkl


@pytest.fixture
def restore_threads():
    before = cr.get_num_threads()
    yield
    cr.set_num_threads(before)


def test_get_num_threads_is_a_positive_int():
    n = cr.get_num_threads()
    assert isinstance(n, int) and n >= 1
    assert isinstance(cr.get_num_interop_threads(), int)


def test_set_num_threads_reaches_the_pools(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    cr.set_num_threads(1)
    assert cr.get_num_threads() == 1
    if mkl.is_available():
        assert mkl.get_num_threads() == 1
    pools = threadpoolctl.threadpool_info()
    assert all(p["num_threads"] == 1 for p in pools if p["internal_api"] in ("openblas", "mkl"))
    if cr.backends.onednn.is_available():
        assert cr.backends.onednn.get_num_threads() == 1
        out, _ = cr.nn.LSTM(3, 4)(cr.randn(5, 2, 3))      # runs on its one thread
        assert out.shape == (5, 2, 4)
    cr.set_num_threads(2)
    assert cr.get_num_threads() == 2
    if cr.backends.onednn.is_available():
        assert cr.backends.onednn.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_counts_raise_as_torch(bad):
    with pytest.raises((RuntimeError, TypeError)) as theirs:
        torch.set_num_threads(bad)
    with pytest.raises(type(theirs.value)) as ours:
        cr.set_num_threads(bad)
    assert "set_num_threads" in str(ours.value)
