"""The Optimizer base: param groups, defaults, zero_grad, skipping params without grad, in-place
updates (no new arrays per step, version bumps), state_dict validation, bad-input errors."""
import copy

import numpy as np
import pytest

import chainrule as cr

ALL = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "NAdam", "Adamax"]


def _leaf(*shape, dtype=cr.float64):
    return cr.tensor(np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape), dtype=dtype,
                     requires_grad=True)


def _loss(ps):
    return sum((p * p).sum() for p in ps)


def _opt(name, ps, **kw):
    kw = dict(kw)
    if name in ("SGD",):
        kw.setdefault("momentum", 0.9)
    return getattr(cr.optim, name)(ps, **kw)


def test_groups_merge_defaults_and_keep_their_own_options():
    a, b = _leaf(2), _leaf(3)
    opt = cr.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b


def test_named_parameters_are_accepted_and_their_names_kept():
    a, b = _leaf(2), _leaf(3)
    opt = cr.optim.Adam([("w", a), ("b", b)])
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.param_groups[0]["params"][0] is a
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


@pytest.mark.parametrize("name", ALL)
def test_step_is_in_place_allocates_no_state_after_the_first_and_bumps_version(name):
    ps = [_leaf(3, 4), _leaf(4)]
    opt = _opt(name, ps)
    arrays = [p.array for p in ps]
    _loss(ps).backward()
    opt.step()
    state_arrays = {k: v.array for k, v in opt.state[ps[0]].items()}
    scratch = dict(opt._scratch)
    versions = [p._version for p in ps]
    for _ in range(3):
        opt.zero_grad()
        _loss(ps).backward()
        opt.step()
    assert all(p.array is a for p, a in zip(ps, arrays))
    assert {k: v.array for k, v in opt.state[ps[0]].items()} == state_arrays  # same objects
    assert all(opt._scratch[k] is v for k, v in scratch.items()) and opt._scratch.keys() == \
        scratch.keys()
    assert all(p._version == v + 3 for p, v in zip(ps, versions))


@pytest.mark.parametrize("name", ALL)
def test_params_without_grad_are_skipped(name):
    a, b = _leaf(3), _leaf(2)
    opt = _opt(name, [a, b])
    before = b.array.copy()
    (a * a).sum().backward()
    opt.step()
    assert b.grad is None
    np.testing.assert_array_equal(b.array, before)
    assert b not in opt.state or name == "Adagrad"  # Adagrad builds its state eagerly, as PyTorch
    assert not np.array_equal(a.array, np.arange(1.0, 4.0))


@pytest.mark.parametrize("name", ALL)
def test_float32_params_keep_float32_state(name):
    p = _leaf(5, dtype=cr.float32)
    opt = _opt(name, [p])
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p.array.dtype == np.float32
    for key, value in opt.state[p].items():
        assert value.array.dtype == np.float32, key


def test_zero_grad_sets_to_none_or_zeroes_in_place():
    p = _leaf(3)
    opt = cr.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.all(g.array == 0)
    opt.zero_grad()
    assert p.grad is None


def test_a_stale_graph_is_detected_after_a_step():
    p = _leaf(3)
    opt = cr.optim.SGD([p], lr=0.1)
    y = (p * p).sum()
    (p * p).sum().backward()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_state_dict_is_json_like_and_load_copies_the_state():
    p = _leaf(3)
    opt = cr.optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert list(sd["state"]) == [0] and sd["param_groups"][0]["params"] == [0]
    q = _leaf(3)
    opt2 = cr.optim.Adam([q])
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["params"][0] is q
    assert opt2.state[q]["exp_avg"].array is not opt.state[p]["exp_avg"].array
    np.testing.assert_array_equal(opt2.state[q]["exp_avg"].array, opt.state[p]["exp_avg"].array)
    copy.deepcopy(sd)


def test_load_state_dict_rejects_a_mismatched_layout():
    a, b = _leaf(2), _leaf(3)
    sd = cr.optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        cr.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        cr.optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="state_dict"):
        cr.optim.SGD([a], lr=0.1).load_state_dict({"lr": 1})


def test_load_state_dict_casts_state_to_the_parameter_dtype_and_accepts_old_numeric_steps():
    p = _leaf(3, dtype=cr.float32)
    opt = cr.optim.Adam([p])
    sd = {"state": {0: {"step": 4, "exp_avg": np.ones(3), "exp_avg_sq": np.ones(3)}},
          "param_groups": [dict(opt.param_groups[0], params=[0])]}
    opt.load_state_dict(sd)
    st = opt.state[p]
    assert st["exp_avg"].array.dtype == np.float32 and st["step"].array.dtype == np.float32
    assert st["step"].item() == 4.0


# -- bad input: clear ValueErrors naming the argument ---------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_negative_lr_is_rejected(name):
    with pytest.raises(ValueError, match=rf"{name}: invalid learning rate lr=-0.1"):
        getattr(cr.optim, name)([_leaf(2)], lr=-0.1)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "Adamax"])
@pytest.mark.parametrize("betas,index", [((1.0, 0.9), 0), ((0.9, 1.0), 1), ((-0.1, 0.9), 0),
                                         ((0.9, 1.5), 1)])
def test_betas_outside_0_1_are_rejected(name, betas, index):
    with pytest.raises(ValueError, match=rf"betas\[{index}\]"):
        getattr(cr.optim, name)([_leaf(2)], betas=betas)


@pytest.mark.parametrize("name,arg,value", [
    ("SGD", "momentum", -0.5), ("SGD", "weight_decay", -1.0), ("Adam", "eps", -1e-8),
    ("Adam", "weight_decay", -0.1), ("RMSprop", "alpha", -0.9), ("RMSprop", "momentum", -0.1),
    ("Adagrad", "lr_decay", -1.0), ("Adagrad", "initial_accumulator_value", -1.0),
    ("NAdam", "momentum_decay", -1.0), ("Adadelta", "rho", 1.5)])
def test_other_out_of_range_options_name_the_argument(name, arg, value):
    with pytest.raises(ValueError, match=rf"{name}: invalid {arg}="):
        getattr(cr.optim, name)([_leaf(2)], **{arg: value})


def test_nesterov_needs_momentum_and_no_dampening():
    with pytest.raises(ValueError, match="Nesterov"):
        cr.optim.SGD([_leaf(2)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        cr.optim.SGD([_leaf(2)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


def test_params_must_be_a_non_empty_iterable_of_tensors():
    with pytest.raises(ValueError, match="params should be an iterable"):
        cr.optim.SGD(5, lr=0.1)
    with pytest.raises(TypeError, match="a single Tensor"):  # also a TypeError, as PyTorch's
        cr.optim.SGD(_leaf(2), lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        cr.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        cr.optim.Adam(iter([]))
    with pytest.raises(ValueError, match=r"params\[1\] is float"):
        cr.optim.SGD([_leaf(2), 3.0], lr=0.1)
    with pytest.raises(ValueError, match="ordered collections"):
        cr.optim.SGD({_leaf(2)}, lr=0.1)


def test_non_leaf_tensors_are_rejected():
    a = _leaf(2)
    with pytest.raises(ValueError, match=r"non-leaf Tensor: params\[1\]"):
        cr.optim.SGD([a, a * 2], lr=0.1)


def test_a_parameter_appearing_twice_is_rejected():
    a, b = _leaf(2), _leaf(3)
    with pytest.raises(ValueError, match=r"params\[2\].*more than once"):
        cr.optim.SGD([a, b, a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        cr.optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    opt = cr.optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_group_without_params_or_with_bad_options_is_rejected():
    a = _leaf(2)
    with pytest.raises(ValueError, match="no 'params' key"):
        cr.optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="invalid learning rate lr=-1"):
        cr.optim.SGD([{"params": [a], "lr": -1}], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        cr.optim.SGD([a], lr=0.1).add_param_group([_leaf(3)])


def test_required_options_must_be_given():
    class Plain(cr.optim.Optimizer):
        def __init__(self, params, lr=cr.optim.required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Plain([_leaf(2)])
    assert Plain([_leaf(2)], lr=0.3).param_groups[0]["lr"] == 0.3
    with pytest.raises(NotImplementedError):
        Plain([_leaf(2)], lr=0.3).step()


def test_differentiable_mode_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable"):
        cr.optim.Adam([_leaf(2)], differentiable=True)
