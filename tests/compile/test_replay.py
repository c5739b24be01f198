"""cr.compile's trace and replay: outputs, gradients and training runs bit-equal to eager ones,
guards that record again or stay eager, and the cases a replay must refuse."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

pytestmark = pytest.mark.usefixtures("replay_form")


def _pair(make, seed=0):
    cr.manual_seed(seed)
    eager = make()
    cr.manual_seed(seed)
    model = make()
    return eager, model, cr.compile(model)


def _grads(model):
    return [None if p.grad is None else p.grad.array.copy() for p in model.parameters()]


def _same(a, b):
    assert type(a) is type(b)
    if a is None:
        return
    np.testing.assert_array_equal(a, b)
    assert a.dtype == b.dtype


def _check_calls(make, make_input, calls=4, loss=lambda out: (out * out).sum(), seed=0):
    """Calls of the compiled model (recorded twice, then replayed) equal the eager model's:
    outputs, input gradients and parameter gradients, bit for bit."""
    eager, model, compiled = _pair(make, seed)
    for i in range(calls):
        cr.manual_seed(100 + i)
        x1 = make_input(i)
        x2 = cr.tensor(x1.array.copy(), requires_grad=x1.requires_grad)
        cr.manual_seed(1000 + i)
        out1 = eager(x1)
        cr.manual_seed(1000 + i)
        out2 = compiled(x2)
        o1 = out1 if isinstance(out1, cr.Tensor) else out1[0]
        o2 = out2 if isinstance(out2, cr.Tensor) else out2[0]
        _same(o1.array, o2.array)
        loss(o1).backward()
        loss(o2).backward()
        for g1, g2 in zip(_grads(eager), _grads(model)):
            _same(g1, g2)
        if x1.requires_grad:
            _same(x1.grad.array, x2.grad.array)
        eager.zero_grad()
        model.zero_grad()
    return compiled


def _replays(compiled):
    return compiled._compiled_call.replays


MLP_TANH = lambda: nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),  # noqa: E731
                                 nn.Linear(8, 1), nn.Tanh())


@pytest.mark.parametrize("make, shape", [
    (MLP_TANH, (10, 2)),
    (lambda: nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3)), (7, 5)),
    (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(4 * 4 * 4, 5)), (3, 1, 8, 8)),
    (lambda: nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 2)), (4, 6)),
])
def test_outputs_and_gradients_equal_eager(make, shape):
    compiled = _check_calls(make, lambda i: cr.randn(*shape, requires_grad=True))
    assert _replays(compiled) == 2


def test_lstm_outputs_state_and_gradients_equal_eager():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 5, batch_first=True)
            self.head = nn.Linear(5, 2)

        def forward(self, x):
            h, (hn, cn) = self.lstm(x)
            return self.head(h), (hn, cn)
    compiled = _check_calls(Net, lambda i: cr.randn(2, 4, 3, requires_grad=True),
                            loss=lambda out: (out * out).sum())
    assert _replays(compiled) == 2
    for _ in range(3):
        out, (hn, cn) = compiled(cr.randn(2, 4, 3))
    assert out.grad_fn.node_name() == "CompiledFunctionBackward"
    assert hn.grad_fn is out.grad_fn and hn._output_nr != out._output_nr


def test_dropout_under_a_seed_draws_the_eager_masks():
    make = lambda: nn.Sequential(nn.Linear(4, 32), nn.Dropout(0.5), nn.Linear(32, 2))  # noqa
    compiled = _check_calls(make, lambda i: cr.randn(6, 4, requires_grad=True), calls=5)
    assert _replays(compiled) == 3
    # fresh masks on every replay, not the recorded one
    a, b = compiled(cr.ones(6, 4)), compiled(cr.ones(6, 4))
    assert not np.array_equal(a.array, b.array)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_replays_in_training_and_eval_with_the_eager_running_statistics(momentum):
    make = lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=momentum),  # noqa
                                 nn.ReLU())
    eager, model, compiled = _pair(make)
    for i in range(5):
        x = cr.randn(8, 3)
        _same(eager(x).array, compiled(x).array)
        for (name, a), b in zip(eager.state_dict().items(), model.state_dict().values()):
            _same(a.array, b.array)
    assert _replays(compiled) == 3
    assert int(model[1].num_batches_tracked.array) == 5
    assert model[1].running_mean._version == eager[1].running_mean._version
    _check_calls(make, lambda i: cr.randn(8, 3, requires_grad=True))   # gradients too
    eager.eval()
    compiled.eval()
    assert not model[1].training
    for _ in range(3):
        x = cr.randn(8, 3)
        _same(eager(x).array, compiled(x).array)
    assert _replays(compiled) == 3 + 1   # eval: recorded twice, replayed once


def test_training_loop_equals_eager_for_twenty_steps():
    eager, model, compiled = _pair(MLP_TANH)
    x, y = cr.randn(10, 2), cr.randn(10, 1)
    loss_fn = nn.MSELoss()
    opts = [cr.optim.Adam(eager.parameters(), lr=0.01), cr.optim.Adam(model.parameters(), lr=0.01)]
    losses = [[], []]
    for _ in range(20):
        for k, (m, opt) in enumerate(zip((eager, compiled), opts)):
            loss = loss_fn(m(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses[k].append(loss.item())
    assert losses[0] == losses[1]
    for p, q in zip(eager.parameters(), model.parameters()):
        _same(p.array, q.array)
    assert _replays(compiled) == 18


def test_state_dict_keys_and_attributes_stay_pytorchs():
    model = MLP_TANH()
    compiled = cr.compile(model)
    assert list(compiled.state_dict()) == ["_orig_mod." + k for k in model.state_dict()]
    assert compiled._orig_mod is model and compiled.training
    linear = cr.compile(nn.Linear(2, 3))
    assert linear.weight is linear._orig_mod.weight and linear.in_features == 2


def test_new_batch_size_records_again_and_eval_and_no_grad_stay_correct():
    eager, model, compiled = _pair(MLP_TANH)
    for n in (10, 10, 10, 3, 3, 3, 10):
        x = cr.randn(n, 2)
        _same(eager(x).array, compiled(x).array)
    assert _replays(compiled) == 3
    with cr.no_grad():
        for _ in range(3):
            out = compiled(x)
            assert out.grad_fn is None and not out.requires_grad
            _same(out.array, eager(x).array)
    compiled.eval()
    eager.eval()
    _same(compiled(x).array, eager(x).array)


def test_changed_parameters_are_seen():
    eager, model, compiled = _pair(MLP_TANH)
    x = cr.randn(4, 2)
    for _ in range(3):
        compiled(x)
    with cr.no_grad():
        model[0].weight.mul_(2)          # in place: the replay reads the same array
        eager[0].weight.mul_(2)
    _same(compiled(x).array, eager(x).array)
    model[0].weight = nn.Parameter(cr.ones(8, 2))     # a new parameter: recorded again
    eager[0].weight = nn.Parameter(cr.ones(8, 2))
    for _ in range(3):
        _same(compiled(x).array, eager(x).array)
    model[2] = nn.Linear(8, 8)           # a new child module
    eager[2] = model[2]
    _same(compiled(x).array, eager(x).array)
    model[0].weight.requires_grad_(False)
    eager[0].weight.requires_grad_(False)
    out = compiled(x)
    out.sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is not None


def test_retain_graph_backward_twice_and_freed_graph_raises():
    _, model, compiled = _pair(MLP_TANH)
    x = cr.randn(4, 2)
    for _ in range(2):
        compiled(x)
    out = compiled(x).sum()
    out.backward(retain_graph=True)
    first = model[0].weight.grad.array.copy()
    out.backward()
    np.testing.assert_array_equal(model[0].weight.grad.array, 2 * first)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()
    with pytest.raises(RuntimeError, match="create_graph"):
        compiled(x).sum().backward(create_graph=True)


def test_autograd_grad_and_leaf_hooks_through_the_compiled_node():
    eager, model, compiled = _pair(MLP_TANH)
    x = cr.randn(4, 2, requires_grad=True)
    for _ in range(2):
        compiled(x)
    seen = []
    model[0].weight.register_hook(lambda g: seen.append(g.shape))
    model[0].bias.register_post_accumulate_grad_hook(lambda p: seen.append("acc"))
    gx, gw = cr.autograd.grad(compiled(x).sum(), (x, model[4].weight))
    ex, ew = cr.autograd.grad(eager(x).sum(), (x, eager[4].weight))
    _same(gx.array, ex.array)
    _same(gw.array, ew.array)
    compiled(x).sum().backward()
    assert seen[-2:] in ([(8, 2), "acc"], ["acc", (8, 2)]) or (8, 2) in seen and "acc" in seen
    assert _replays(compiled) == 2


def test_inplace_modification_after_forward_is_refused_as_in_eager():
    _, model, compiled = _pair(MLP_TANH)
    x = cr.randn(4, 2)
    for _ in range(3):
        out = compiled(x)
    with cr.no_grad():
        model[0].weight.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


class _ReadsValues(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        y = self.fc(x)
        if y.sum().item() > 0:           # data-dependent Python: must stay eager
            return y * 2
        return -y


class _RandomOutsideOps(nn.Module):
    def forward(self, x):
        return x * cr.randn(*x.shape)    # a draw outside an op: a constant would freeze it


class _InplaceOnInput(nn.Module):
    def forward(self, x):
        with cr.no_grad():
            x.add_(1)
        return x * 2


class _UserFunction(nn.Module):
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    def forward(self, x):
        return self.Square.apply(x) + 1


class _RetainsGrad(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        h = self.fc(x)
        h.retain_grad()
        self.h = h
        return h.sum()


@pytest.mark.parametrize("make", [_ReadsValues, _RandomOutsideOps, _InplaceOnInput,
                                  _UserFunction, _RetainsGrad])
def test_what_a_replay_cannot_repeat_stays_eager(make):
    cr.manual_seed(0)
    eager = make()
    cr.manual_seed(0)
    model = make()
    compiled = cr.compile(model)
    for i in range(4):
        x = cr.randn(2, 3) * (1 if i % 2 else -1)
        cr.manual_seed(i)
        a = eager(x.clone())
        cr.manual_seed(i)
        b = compiled(x.clone())
        _same(a.array, b.array)
    assert _replays(compiled) == 0
    assert compiled._compiled_call.reasons


def test_forward_hooks_and_anomaly_mode_run_eagerly():
    eager, model, compiled = _pair(MLP_TANH)
    x = cr.randn(4, 2)
    calls = []
    h = model[1].register_forward_hook(lambda m, a, o: calls.append(1))
    for _ in range(3):
        compiled(x)
    assert len(calls) == 3 and _replays(compiled) == 0
    h.remove()
    for _ in range(3):
        compiled(x)
    assert _replays(compiled) == 1
    with cr.autograd.detect_anomaly():
        assert compiled(x).grad_fn.node_name() == "TanhBackward0"


def test_is_compiling_only_while_recording():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(cr.compiler.is_compiling())
            return x * 2
    compiled = cr.compile(Probe())
    for _ in range(4):
        compiled(cr.ones(2))
    assert seen == [True, True]          # recorded twice, then replayed (no Python runs)
    assert not cr.compiler.is_compiling()


def test_recompile_limit_and_disable():
    compiled = cr.compile(MLP_TANH(), recompile_limit=2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in (1, 2, 3, 3, 3):
            compiled(cr.randn(n, 2))
    assert any("recompile_limit" in str(x.message) for x in w)
    assert _replays(compiled) == 0
    model = MLP_TANH()
    assert cr.compile(model, disable=True) is model
    assert cr.compiler.disable(cr.compile(model)) is model


def test_compiled_function_replays_pure_functions_and_refuses_captured_parameters():
    @cr.compile
    def f(a, b):
        return (a * b).tanh().sum(dim=1)
    a, b = cr.randn(3, 4, requires_grad=True), cr.randn(3, 4)
    outs = [f(a, b) for _ in range(3)]
    ref = (a * b).tanh().sum(dim=1)
    for o in outs:
        _same(o.array, ref.array)
    assert f._compiled_call.replays == 1
    outs[-1].sum().backward()
    g = a.grad.array.copy()
    a.grad = None
    ref.sum().backward()
    _same(g, a.grad.array)
    w = cr.randn(4, requires_grad=True)
    g2 = cr.compile(lambda x: x * w)     # w requires grad but is no argument: stays eager
    for _ in range(3):
        g2(a)
    assert g2._compiled_call.replays == 0


def test_a_changed_module_attribute_records_again():
    eager, model, compiled = _pair(lambda: nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.2),
                                                          nn.LeakyReLU(0.1)))
    x = cr.randn(5, 4)
    for p, slope in ((0.2, 0.1), (0.2, 0.1), (0.2, 0.1), (0.7, 0.1), (0.7, 0.3), (0.7, 0.3)):
        for m in (eager, model):
            m[1].p, m[2].negative_slope = p, slope
        cr.manual_seed(3)
        a = eager(x)
        cr.manual_seed(3)
        _same(a.array, compiled(x).array)


def test_embedding_replays_and_still_refuses_out_of_range_indices():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 4)

        def forward(self, idx):
            return self.embed(idx).sum(dim=1)
    eager, model, compiled = _pair(Net)
    for i in range(3):
        idx = cr.tensor(np.random.default_rng(i).integers(0, 10, (2, 5)), dtype=cr.int64)
        _same(eager(idx).array, compiled(idx).array)
    assert _replays(compiled) == 1
    with pytest.raises(IndexError, match="out of range for 10 embeddings"):
        compiled(cr.tensor([[1, 2, -1, 3, 4], [0, 0, 0, 0, 0]], dtype=cr.int64))


def test_a_raw_array_copied_from_an_input_keeps_the_call_eager():
    from chainrule.ops.elementwise import Mul

    class Scale(nn.Module):
        def forward(self, x):    # x's values leave the ops: a replay would keep the first ones
            return Mul.apply(x, x.detach().array.astype(np.float64).astype(np.float32))
    compiled = cr.compile(Scale())
    first = cr.randn(3)
    for x in (first, first, cr.randn(3), cr.randn(3)):   # two equal recordings, then new data
        _same(compiled(x).array, (x * x).array)
    assert _replays(compiled) == 0


def test_a_deep_copy_records_afresh_on_its_own_parameters():
    import copy
    _, model, compiled = _pair(MLP_TANH)
    x = cr.randn(4, 2)
    for _ in range(3):
        compiled(x)
    twin = copy.deepcopy(compiled)
    with cr.no_grad():
        twin._orig_mod[0].weight.mul_(0)
    for _ in range(3):
        _same(twin(x).array, twin._orig_mod(x).array)
    assert not np.array_equal(twin(x).array, compiled(x).array)


_step_model = None


def _loss_of(x, y):
    return nn.functional.mse_loss(_step_model(x), y)


def test_a_compiled_function_with_model_and_loss_replays_and_sees_a_rebound_model():
    global _step_model
    eager, model, _ = _pair(MLP_TANH)
    _step_model = model
    step = cr.compile(_loss_of)
    x, y = cr.randn(10, 2), cr.randn(10, 1)
    opts = [cr.optim.SGD(m.parameters(), lr=0.1) for m in (eager, model)]
    for _ in range(5):
        for m, opt, loss in ((eager, opts[0], lambda: nn.functional.mse_loss(eager(x), y)),
                             (model, opts[1], lambda: step(x, y))):
            value = loss()
            value.backward()
            opt.step()
            opt.zero_grad()
        for p, q in zip(eager.parameters(), model.parameters()):
            _same(p.array, q.array)
    assert step._compiled_call.replays == 3
    assert step(x, y).grad_fn.node_name() == "CompiledFunctionBackward"
    with cr.no_grad():
        eager[0].weight.mul_(2)
    _step_model = eager                     # the global now names another model
    _same(step(x, y).array, nn.functional.mse_loss(eager(x), y).array)
    model[0] = nn.Linear(2, 8)              # and the first one's structure changes
    _step_model = model
    _same(step(x, y).array, nn.functional.mse_loss(model(x), y).array)


def test_ops_of_another_thread_stay_out_of_a_recording():
    import threading
    stop = threading.Event()
    results = []

    def other():
        a = cr.randn(3, 3, requires_grad=True)
        while not stop.is_set():
            results.append(float((a * 2).sum().item()))

    eager, model, compiled = _pair(MLP_TANH)
    thread = threading.Thread(target=other)
    thread.start()
    try:
        for _ in range(4):
            x = cr.randn(5, 2)
            _same(eager(x).array, compiled(x).array)
    finally:
        stop.set()
        thread.join()
    assert _replays(compiled) == 2 and len(set(results)) == 1


def test_the_default_dtype_is_part_of_the_key():
    class AddsOnes(nn.Module):
        def forward(self, x):
            return x + cr.ones(3)        # made in Python: a constant of the default dtype
    compiled = cr.compile(AddsOnes())
    x = cr.randn(3)
    for _ in range(3):
        assert compiled(x).dtype == cr.float32
    cr.set_default_dtype(cr.float64)
    try:
        for _ in range(3):
            out = compiled(x)
        assert out.dtype == cr.float64 and _replays(compiled) == 2
    finally:
        cr.set_default_dtype(cr.float32)


def test_fullgraph_replays_a_whole_model_and_refuses_a_graph_break():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    whole = cr.compile(model, fullgraph=True)
    x = cr.randn(5, 3)
    for _ in range(3):
        whole(x).sum().backward()
    assert whole._compiled_call.replays == 1              # the third call replayed

    def reads_a_value(t):
        return t * float(t.sum().item())                  # Python reads a tensor: a graph break
    assert cr.compile(reads_a_value)(x).shape == x.shape  # without fullgraph: eager, no error
    strict = cr.compile(reads_a_value, fullgraph=True)
    for _ in range(2):                                    # and again: the entry stays refused
        with pytest.raises(cr.compiler.Unsupported, match="fullgraph=True.*item"):
            strict(x)


def test_fullgraph_refuses_hooks_anomaly_mode_and_the_recompile_limit():
    model = nn.Linear(3, 2)
    whole = cr.compile(model, fullgraph=True)
    handle = whole.register_forward_hook(lambda m, i, o: None)
    with pytest.raises(cr.compiler.Unsupported, match="hooks"):
        whole(cr.randn(2, 3))
    handle.remove()
    whole(cr.randn(2, 3))
    with cr.autograd.detect_anomaly(), pytest.raises(cr.compiler.Unsupported, match="anomaly"):
        whole(cr.randn(2, 3))
    limited = cr.compile(nn.Linear(3, 2), fullgraph=True, recompile_limit=1)
    limited(cr.randn(2, 3))
    with pytest.raises(cr.compiler.Unsupported, match="recompile_limit"):
        limited(cr.randn(4, 3))
    assert issubclass(cr.compiler.Unsupported, RuntimeError)
