"""plot_activations: the derivatives drawn are autograd's and equal the textbook formulas."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")
from chainrule.viz import plot_activations  # noqa: E402
from chainrule.viz.activations import DEFAULT_ACTIVATIONS, saturation_mask  # noqa: E402


def test_derivatives_match_formulas_and_saturation_regions():
    p = plot_activations(["sigmoid", "tanh", "relu"], x_range=(-6, 6), points=241, saturation=0.1)
    x = p.x
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(p.values["sigmoid"], s, rtol=1e-12)
    np.testing.assert_allclose(p.derivatives["sigmoid"], s * (1 - s), rtol=1e-10)
    np.testing.assert_allclose(p.derivatives["tanh"], 1 - np.tanh(x) ** 2, rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(p.derivatives["relu"][x > 0], 1.0)
    np.testing.assert_array_equal(p.derivatives["relu"][x < 0], 0.0)
    # relu is saturated (dead) exactly on the negative side; sigmoid only far out on both sides
    np.testing.assert_array_equal(p.saturated["relu"][x != 0], x[x != 0] < 0)
    sat = p.saturated["sigmoid"]
    assert sat[0] and sat[-1] and not sat[len(x) // 2]
    edge = np.abs(x[~sat]).max()   # |x| where sigmoid'(x) = 0.1 * 0.25
    assert 3.5 < edge < 3.8
    assert p.png()[:4] == b"\x89PNG" and len(p.png()) > 10_000


def test_callables_defaults_and_unknown_names(tmp_path):
    p = plot_activations([lambda t: t * t], points=11, x_range=(-1, 1))
    np.testing.assert_allclose(p.derivatives["<lambda>"], 2 * p.x)
    p = plot_activations(points=21)
    assert {"sigmoid", "tanh", "relu"} <= set(p.values) <= set(DEFAULT_ACTIVATIONS)
    p.save(tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        plot_activations(["swishy"])


def test_saturation_mask_of_a_constant_function_is_everywhere():
    assert saturation_mask(np.zeros(5), 0.1).all()
