"""The written-out replay (``tracing.codegen``): it takes over from the interpreter once a run
of the interpreter has walked every backward as the source was written, and its numbers are
the interpreter's bit for bit, gradient sums included."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.tracing import codegen
from torch_compare import replay_equals_eager


def _graph(step):
    (entry,) = [e for e in step._compiled_call.cache.values() if hasattr(e, "graph")]
    return entry.graph


def _shared_input_step(model, opt):
    """A value read by two ops (its gradient is a sum), a broadcast bias, a multi-output op
    (the LSTM) and an input that requires grad."""
    def step(x, h0):
        opt.zero_grad()
        out, (h, c) = model["lstm"](x, (h0, h0))
        z = model["head"](out) * out.sum() + 0.5
        loss = (z * z).mean() + (h * c).sum()
        loss.backward()
        opt.step()
        return loss
    return step


def _model(seed=0):
    cr.manual_seed(seed)
    model = nn.ModuleDict({"lstm": nn.LSTM(3, 4), "head": nn.Linear(4, 4)})
    return model, cr.optim.Adam(model.parameters(), lr=1e-2)


def test_the_written_replay_takes_over_after_one_checked_run_and_equals_the_interpreter():
    runs = {}
    for enabled in (True, False):
        codegen.ENABLED = enabled
        try:
            model, opt = _model()
            step = cr.compile(_shared_input_step(model, opt))
            losses, grads = [], []
            for i in range(6):
                g = np.random.default_rng(i)
                x = cr.tensor(g.standard_normal((5, 2, 3)).astype(np.float32))
                h0 = cr.tensor(g.standard_normal((1, 2, 4)).astype(np.float32),
                               requires_grad=True)
                losses.append(step(x, h0).item())
                grads.append(h0.grad.numpy().copy())
                if i == 2 and enabled:     # recorded twice, then one checked interpreted run
                    assert _graph(step)._replay is not None
            runs[enabled] = losses, grads, [p.detach().numpy().copy() for p in model.parameters()]
            assert step._compiled_call.replays == 4
        finally:
            codegen.ENABLED = True
    written, interpreted = runs[True], runs[False]
    assert written[0] == interpreted[0]
    for a, b in zip(written[1] + written[2], interpreted[1] + interpreted[2]):
        np.testing.assert_array_equal(a, b)


def test_a_walk_other_than_the_written_one_keeps_the_interpreter():
    model, opt = _model()
    step = cr.compile(_shared_input_step(model, opt))
    x, h0 = cr.randn(5, 2, 3), cr.randn(1, 2, 4, requires_grad=True)
    step(x, h0)
    step(x, h0)
    graph = _graph(step)
    assert graph._replay is None and graph._walks
    graph._walks = {n: list(reversed(order)) for n, order in graph._walks.items()}
    step(x, h0)                                 # the checked run: its walk differs
    assert graph._replay is None and graph._walks is None
    before = step._compiled_call.replays
    step(x, h0)
    assert step._compiled_call.replays == before + 1 and graph._replay is None


def test_the_written_source_calls_each_op_once_and_keeps_no_value_table():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    compiled = cr.compile(model)
    x = cr.randn(4, 2)
    for _ in range(3):
        compiled(x)
    source = _graph(compiled)._replay.source
    assert source.startswith("def replay(args, keep_ctxs):")
    assert source.count("o = F") == 2 and "vals" not in source


def test_one_gradient_array_reaching_two_leaves_gives_each_its_own_grad():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Parameter(cr.ones(3)), nn.Parameter(cr.ones(3))

        def forward(self, x):
            return ((self.a + self.b) * x).sum()   # the sum's backward hands one array to both
    pair = Pair()

    @cr.compile
    def step(x):
        pair.zero_grad()
        loss = pair(x)
        loss.backward()
        return loss
    x = cr.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    for _ in range(4):
        step(x)
    assert step._compiled_call.replays == 2 and _graph(step)._replay is not None
    assert not np.shares_memory(pair.a.grad.numpy(), pair.b.grad.numpy())
    pair.a.grad.numpy()[:] = 0
    np.testing.assert_array_equal(pair.b.grad.numpy(), [1, 2, 3])


@pytest.mark.parametrize("dtype, batch, bias", [
    (np.float32, 1, True), (np.float32, 300, True), (np.float64, 40, True),
    (np.float32, 40, False)])
def test_an_inference_replay_runs_its_linear_chain_as_one_call_bit_equal_to_eager(dtype, batch,
                                                                                  bias):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(30, 64, bias=bias), nn.ReLU(), nn.Linear(64, 64),
                          nn.ReLU(), nn.Linear(64, 3)).to(cr.float64 if dtype == np.float64
                                                          else cr.float32)
    x = np.random.default_rng(1).standard_normal((batch, 30)).astype(dtype)
    x[0, :3] = [np.nan, -0.0, 0.0]            # NaN and signed zeros take ReLU's path too
    got, compiled = replay_equals_eager(model, cr.from_numpy(x), replays=4)
    assert got.dtype == dtype
    source = _graph(compiled)._replay.source
    assert source.count("= LC") == 1           # the three layers (two with a ReLU), one call


def test_training_replays_and_shared_outputs_keep_linear_and_relu_apart():
    cr.manual_seed(0)
    lin, relu = nn.Linear(4, 5), nn.ReLU()

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.relu = lin, relu

        def forward(self, x):
            y = self.lin(x)
            return self.relu(y), y                # the Linear's output is returned as well
    for model, grad in ((nn.Sequential(lin, relu), True), (Both(), False)):
        compiled = cr.compile(model)
        x = cr.randn(3, 4)
        with cr.set_grad_enabled(grad):
            for _ in range(3):
                compiled(x)
        assert "LC" not in _graph(compiled)._replay.source


def test_chains_end_where_another_op_or_reader_comes_between():
    cr.manual_seed(0)

    class Split(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c, self.d = (nn.Linear(6, 6) for _ in range(4))

        def forward(self, x):
            h = cr.relu(self.b(cr.relu(self.a(x))))      # a chain of two
            k = self.c(cr.tanh(h))                         # a lone Linear: an op
            return self.d(k) + k                           # k is read twice: no chain
    model = Split()
    compiled = cr.compile(model)
    x = cr.randn(2, 6)
    with cr.no_grad():
        for _ in range(3):
            got = compiled(x)
        np.testing.assert_array_equal(got.numpy(), model(x).numpy())
    assert _graph(compiled)._replay.source.count("= LC") == 1


@pytest.mark.parametrize("change", ["weights updated in place", "weights replaced",
                                    "a strided input", "kernels off", "reference"])
def test_a_linear_chain_follows_its_weights_and_switches(change):
    from chainrule import kernels
    from chainrule.ops.linear import LinearChain
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 5))
    chain = LinearChain([True, False])
    params = [p.array for p in model.parameters()]
    x = np.random.default_rng(0).standard_normal((2, 80)).astype(np.float32)[:, :40]
    x = np.ascontiguousarray(x)

    def eager(x):
        with cr.no_grad():
            return model(cr.from_numpy(x)).numpy()
    np.testing.assert_array_equal(chain(x, *params), eager(x))
    if change == "weights updated in place":
        params[0] *= 2
    elif change == "weights replaced":
        model[0].weight.data = cr.from_numpy(params[0] * 3)
        params = [p.array for p in model.parameters()]
    elif change == "a strided input":
        x = np.random.default_rng(1).standard_normal((2, 80)).astype(np.float32)[:, ::2]
    if change == "kernels off":
        with kernels.disabled():
            got, expected = chain(x, *params), eager(x)
    elif change == "reference":
        with cr.backends.reference():
            got, expected = chain(x, *params), eager(x)
    else:
        got, expected = chain(x, *params), eager(x)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("case", ["empty batch", "column-major input", "float16", "no bias"])
def test_the_fused_linear_relu_equals_the_two_ops_on_every_input(case):
    from chainrule import kernels
    from chainrule.ops.activation import ReLU
    from chainrule.ops.linear import Linear, linear_relu
    kernels.available()        # loaded: small outputs take the fused pass too
    rng = np.random.default_rng(0)
    dtype = np.float16 if case == "float16" else np.float32
    x = rng.standard_normal((0 if case == "empty batch" else 9, 5)).astype(dtype)
    if case == "column-major input":
        x = np.asfortranarray(x)
    w = rng.standard_normal((6, 5)).astype(dtype)
    b = None if case == "no bias" else rng.standard_normal(6).astype(dtype)
    expected = ReLU.forward(ReLU.__new__(ReLU), Linear.forward(Linear.__new__(Linear), x, w, b))
    got = linear_relu(x, w, b)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_a_compiled_modules_backward_is_written_out_after_one_checked_walk():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    compiled = cr.compile(model)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    x, y = cr.randn(5, 3), cr.randn(5, 2)
    for step in range(5):
        loss = nn.functional.mse_loss(compiled(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if step == 2:       # the first replay's backward was the interpreter's, watched
            graph = _graph(compiled)
            assert graph._written_backward is not None and graph._backward_pending is None
    assert graph._written_backward.source.startswith("def backward(ctxs, grads):")

    twin = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    compiled = cr.compile(twin)
    for _ in range(2):
        compiled(x).sum().backward()
    out = compiled(x)                           # the first replay: its backward is checked
    graph = _graph(compiled)
    graph._backward_pending = (graph._backward_pending[0], ["another order"])
    out.sum().backward()
    assert graph._written_backward is None      # the walk differed: the interpreter stays
