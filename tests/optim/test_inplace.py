"""The in-place helpers evaluate ATen's expressions: equal to torch's in-place ops to an ulp
(ATen fuses some of them with FMA, NumPy rounds each operation)."""
import numpy as np
import pytest

from chainrule.optim import _inplace

torch = pytest.importorskip("torch")

rng = np.random.default_rng(7)
A, B, C = rng.standard_normal(257), rng.standard_normal(257), np.abs(rng.standard_normal(257)) + .1


def _close(ours, theirs):
    # a few ulps of the terms (|values| ~ 1), not of a result that may cancel to ~0
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=4e-15, atol=4e-15)


@pytest.mark.parametrize("weight", [0.001, 0.1, 0.49, 0.5, 0.7, 0.999])
def test_lerp_matches_both_of_torchs_branches(weight):
    start = A.copy()
    _inplace.lerp_(start, B, weight, np.empty_like(A))
    _close(start, torch.from_numpy(A.copy()).lerp_(torch.from_numpy(B), weight))


@pytest.mark.parametrize("value", [1, 0.37, -2.5])
def test_addcmul_and_addcdiv_match_torch(value):
    target = A.copy()
    _inplace.addcmul_(target, B, C, value, np.empty_like(A))
    _close(target, torch.from_numpy(A.copy()).addcmul_(torch.from_numpy(B), torch.from_numpy(C),
                                                        value=value))
    target = A.copy()
    _inplace.addcdiv_(target, B, C, value, np.empty_like(A))
    _close(target, torch.from_numpy(A.copy()).addcdiv_(torch.from_numpy(B), torch.from_numpy(C),
                                                        value=value))


@pytest.mark.parametrize("alpha", [1, -1, 0.3, -0.3])
def test_add_scaled_matches_torch_add_with_alpha(alpha):
    target = A.copy()
    _inplace.add_scaled_(target, B, alpha, np.empty_like(A))
    _close(target, torch.from_numpy(A.copy()).add_(torch.from_numpy(B), alpha=alpha))
