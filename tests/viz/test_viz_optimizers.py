"""optimizer_race: the trajectories are exactly those of running the optimiser by hand."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")
import chainrule as cr  # noqa: E402
import chainrule.optim  # noqa: E402,F401
from chainrule import viz  # noqa: E402
from chainrule.viz.optimizers import SURFACES, get_surface  # noqa: E402


def hand_run(surface, make_opt, start, steps):
    p = cr.tensor(start, dtype=cr.float64, requires_grad=True)
    opt = make_opt([p])
    pts = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        surface(p[0], p[1]).backward()
        opt.step()
        pts.append(p.detach().numpy().copy())
    return np.array(pts)


def test_plain_sgd_on_the_bowl_follows_the_formula():
    k, lr = 10.0, 0.05
    race = viz.optimizer_race(viz.quadratic_bowl(k), {"sgd": (cr.optim.SGD, {"lr": lr})},
                              start=(-4.0, 2.0), steps=30)
    traj = race.trajectories["sgd"]
    # x_{t+1} = x_t - lr * (x_t, k y_t): each coordinate shrinks geometrically
    t = np.arange(31)
    np.testing.assert_allclose(traj[:, 0], -4.0 * (1 - lr) ** t, rtol=1e-12)
    np.testing.assert_allclose(traj[:, 1], 2.0 * (1 - lr * k) ** t, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(race.losses["sgd"], 0.5 * (traj[:, 0] ** 2 + k * traj[:, 1] ** 2),
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "himmelblau", "saddle"])
def test_trajectories_equal_hand_run_optimisers(name):
    surface = get_surface(name)
    specs = viz.lecture_optimizers(lr=1e-3)
    race = viz.optimizer_race(name, specs, steps=25)
    assert list(race.trajectories) == list(specs)
    for label, (cls, kwargs) in specs.items():
        want = hand_run(surface, lambda ps: cls(ps, **kwargs), surface.start, 25)
        np.testing.assert_array_equal(race.trajectories[label], want)
        assert race.trajectories[label].shape == (26, 2)


def test_trajectories_match_torch_optimisers():
    torch = pytest.importorskip("torch")
    race = viz.optimizer_race("rosenbrock", viz.lecture_optimizers(lr=1e-3), steps=40)
    classes = {"SGD": torch.optim.SGD, "Momentum": torch.optim.SGD, "Nesterov": torch.optim.SGD,
               "RMSprop": torch.optim.RMSprop, "Adam": torch.optim.Adam}
    for label, (_, kwargs) in viz.lecture_optimizers(lr=1e-3).items():
        p = torch.tensor(race.start, dtype=torch.float64, requires_grad=True)
        opt = classes[label]([p], **kwargs)
        pts = [p.detach().numpy().copy()]
        for _ in range(40):
            opt.zero_grad()
            ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
            opt.step()
            pts.append(p.detach().numpy().copy())
        np.testing.assert_allclose(race.trajectories[label], np.array(pts), rtol=1e-10,
                                   atol=1e-12)


def test_instances_classes_divergence_and_gif(tmp_path):
    p = cr.tensor([9.0, 9.0], dtype=cr.float64, requires_grad=True)
    inst = cr.optim.SGD([p], lr=0.01)
    race = viz.optimizer_race("quadratic", [inst, (cr.optim.SGD, {"lr": 0.5}), cr.optim.Adam],
                              start=(-4.0, 2.0), steps=20)
    labels = list(race.trajectories)
    assert labels == ["SGD(lr=0.01)", "SGD(lr=0.5)", "Adam"]
    np.testing.assert_array_equal(race.trajectories["SGD(lr=0.01)"][0], [-4.0, 2.0])
    np.testing.assert_array_equal(p.detach().numpy(), race.trajectories["SGD(lr=0.01)"][-1])
    # lr = 0.5 on the κ=10 direction multiplies y by (1 - 5) = -4 each step: it diverges
    y = race.trajectories["SGD(lr=0.5)"][:, 1]
    np.testing.assert_allclose(y[:6], 2.0 * (-4.0) ** np.arange(6))
    big = viz.optimizer_race("quadratic", {"lr=1.5": (cr.optim.SGD, {"lr": 1.5})}, steps=600)
    traj = big.trajectories["lr=1.5"]
    assert np.isnan(traj[-1]).all() and np.isfinite(traj[0]).all()   # stopped at overflow
    race.save(tmp_path / "race.png")
    race.save_gif(tmp_path / "race.gif", frames=5, dpi=40)
    assert (tmp_path / "race.png").stat().st_size > 20_000
    gif = (tmp_path / "race.gif").read_bytes()
    assert gif[:6] == b"GIF89a"
    from PIL import Image
    assert Image.open(tmp_path / "race.gif").n_frames == 5


def test_surfaces_have_their_minima_where_they_say():
    for name in SURFACES:
        s = get_surface(name)
        for mx, my in s.minima:
            x = cr.tensor(mx, dtype=cr.float64, requires_grad=True)
            y = cr.tensor(my, dtype=cr.float64, requires_grad=True)
            s(x, y).backward()
            assert abs(x.grad.item()) < 1e-4 and abs(y.grad.item()) < 1e-4, name


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown function 'booth'"):
        viz.optimizer_race("booth", [cr.optim.SGD])
    with pytest.raises(TypeError, match=r"its name, or a \(class, kwargs\)"):
        viz.optimizer_race("saddle", [0.01])
    with pytest.raises(ValueError, match="exactly one parameter with 2 elements"):
        viz.optimizer_race("saddle", [cr.optim.SGD([cr.zeros(3, requires_grad=True)], lr=1)])


def test_optimisers_given_by_name_are_cr_optims_defaults():
    race = viz.optimizer_race("beale", ["SGD", "Adam"], steps=15)
    assert list(race.trajectories) == ["SGD", "Adam"]
    surface = get_surface("beale")
    for name, cls in (("SGD", cr.optim.SGD), ("Adam", cr.optim.Adam)):
        np.testing.assert_array_equal(race.trajectories[name],
                                      hand_run(surface, cls, surface.start, 15))
    labelled = viz.optimizer_race("beale", {"adaptive": "RMSprop"}, steps=3)
    assert list(labelled.trajectories) == ["adaptive"]


def test_unknown_optimiser_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown optimiser 'Adamm'; cr.optim has SGD, .*Adam\b"):
        viz.optimizer_race("beale", ["SGD", "Adamm"], steps=2)
    with pytest.raises(ValueError, match="unknown optimiser 'Optimizer'"):
        viz.optimizer_race("beale", ["Optimizer"], steps=2)
    with pytest.raises(ValueError, match="unknown optimiser 'adam'"):   # as cr.optim spells it
        viz.optimizer_race("beale", ["adam"], steps=2)
