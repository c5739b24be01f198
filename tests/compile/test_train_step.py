"""cr.compile of a whole training step: forward, loss, backward() and the step calls (optimiser,
scheduler, clipping) replayed, bit-equal to the eager step; what it cannot repeat stays eager."""
import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

pytestmark = pytest.mark.usefixtures("replay_form")

MLP = lambda: nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),  # noqa: E731
                            nn.Linear(8, 2))


def _setup(make_opt, seed=0):
    cr.manual_seed(seed)
    model = MLP()
    return model, make_opt(model.parameters())


def _same(a, b):
    np.testing.assert_array_equal(a, b)
    assert a.dtype == b.dtype


def _run_pair(body, make_opt=lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9), calls=6,
              check=None):
    """``body(model, opt, x, y)`` run eagerly on one model and through cr.compile on a twin,
    ``calls`` times on the same batches: losses, parameters and gradients equal bit for bit.
    Returns the compiled step."""
    eager = _setup(make_opt)
    twin = _setup(make_opt)
    compiled = cr.compile(lambda x, y: body(twin[0], twin[1], x, y))
    for i in range(calls):
        g = np.random.default_rng(i)
        x = cr.tensor(g.standard_normal((5, 3)).astype(np.float32))
        y = cr.tensor(g.standard_normal((5, 2)).astype(np.float32))
        l1 = body(eager[0], eager[1], x, y)
        l2 = compiled(x, y)
        _same(l1.array, l2.array)
        for p, q in zip(eager[0].parameters(), twin[0].parameters()):
            _same(p.array, q.array)
            assert (p.grad is None) == (q.grad is None)
            if p.grad is not None:
                _same(p.grad.array, q.grad.array)
        if check:
            check(eager, twin)
    return compiled


def _train(model, opt, x, y):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _call(step):
    return step.__wrapped__ if hasattr(step, "__wrapped__") else step


@pytest.mark.parametrize("make_opt", [
    lambda p: cr.optim.SGD(p, lr=0.1),
    lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    lambda p: cr.optim.Adam(p, lr=1e-2),
    lambda p: cr.optim.AdamW(p, lr=1e-2, amsgrad=True),
    lambda p: cr.optim.RMSprop(p, lr=1e-2, momentum=0.5),
])
def test_a_training_step_replays_bit_equal_to_eager(make_opt):
    step = _run_pair(_train, make_opt)
    call = step._compiled_call
    assert call.replays == 4 and not call.reasons


def test_the_returned_loss_has_a_freed_graph_as_in_eager():
    step = _run_pair(_train)
    x, y = cr.randn(5, 3), cr.randn(5, 2)
    loss = step(x, y)
    assert loss.requires_grad and loss.grad_fn.node_name() == "CompiledFunctionBackward"
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_gradients_accumulate_across_calls_without_zero_grad_and_reach_inputs():
    def body(model, opt, x, y):
        x = x.detach().requires_grad_()
        loss = nn.functional.mse_loss(model(x * 2), y)
        loss.backward()
        return loss
    _run_pair(body)        # .grad grows call after call, in both

    cr.manual_seed(0)
    model = MLP()

    @cr.compile
    def input_grad(x):
        loss = (model(x) ** 2).sum()
        loss.backward()
        return loss
    for i in range(4):
        x1 = cr.randn(4, 3, requires_grad=True)
        x2 = cr.tensor(x1.array.copy(), requires_grad=True)
        model.zero_grad()
        (model(x1) ** 2).sum().backward()
        model.zero_grad()
        input_grad(x2)
        _same(x1.grad.array, x2.grad.array)
    assert input_grad._compiled_call.replays == 2


def test_clipping_and_a_scheduler_inside_the_step_replay():
    def body(model, opt, x, y):
        opt.zero_grad()
        loss = nn.functional.huber_loss(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.05)
        nn.utils.clip_grad_value_(model.parameters(), 0.01)
        opt.step()
        opt.sched.step()
        return loss

    def make_opt(params):
        opt = cr.optim.Adam(params, lr=1e-2)
        opt.sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return opt

    def same_lr(eager, twin):
        assert eager[1].param_groups[0]["lr"] == twin[1].param_groups[0]["lr"]
    step = _run_pair(body, make_opt, calls=7, check=same_lr)
    assert step._compiled_call.replays == 5 and not step._compiled_call.reasons


def _reasons(step):
    return list(step._compiled_call.reasons.values())


@pytest.mark.parametrize("body, reason", [
    (lambda m, o, x, y: _backward(nn.functional.mse_loss(m(x), y), retain_graph=True),
     "retain_graph"),
    (lambda m, o, x, y: _scaled_by_hand(m, o, nn.functional.mse_loss(m(x), y)),
     "gradients were changed"),
    (lambda m, o, x, y: _reads_grad(m, nn.functional.mse_loss(m(x), y)),
     "read a gradient"),
    (lambda m, o, x, y: _two_backwards(m, x, y), "backward() ran twice"),
    (lambda m, o, x, y: _after_backward(m, x, y), "made after its backward"),
    (lambda m, o, x, y: _with_closure(m, o, x, y), "closure"),
])
def test_what_a_step_replay_cannot_repeat_stays_eager_and_correct(body, reason):
    step = _run_pair(body, calls=4)
    assert step._compiled_call.replays == 0
    assert any(reason in r for r in _reasons(step)), _reasons(step)
    model, opt = _setup(lambda p: cr.optim.SGD(p, lr=0.1))
    fullgraph = cr.compile(lambda x, y: body(model, opt, x, y), fullgraph=True)
    with pytest.raises(cr.compiler.Unsupported, match=re.escape(reason)):
        fullgraph(cr.randn(5, 3), cr.randn(5, 2))


def _backward(loss, **kwargs):
    loss.backward(**kwargs)
    return loss


def _scaled_by_hand(model, opt, loss):
    loss.backward()
    for p in model.parameters():
        p.grad.array *= 0.5          # NumPy on .array: not an op, not a step call
    opt.step()
    opt.zero_grad()
    return loss


def _reads_grad(model, loss):
    loss.backward()
    norm = sum((p.grad * p.grad).sum() for p in model.parameters())
    return loss + 0 * norm.detach()


def _two_backwards(model, x, y):
    nn.functional.mse_loss(model(x), y).backward()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    return loss


def _after_backward(model, x, y):
    nn.functional.mse_loss(model(x), y).backward()
    return nn.functional.mse_loss(model(x), y)


def _with_closure(model, opt, x, y):
    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss
    return opt.step(closure)


def test_backward_inside_a_compiled_module_stays_eager():
    class SelfTraining(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 1)

        def forward(self, x):
            out = self.lin(x)
            (out * out).sum().backward()
            return out.detach()
    cr.manual_seed(0)
    model = cr.compile(SelfTraining())
    for _ in range(3):
        model(cr.randn(4, 3))
    assert model._compiled_call.replays == 0
    assert any("backward" in r for r in model._compiled_call.reasons.values())


def test_the_watched_methods_are_restored_after_recording():
    before = (cr.optim.SGD.step, cr.optim.Optimizer.zero_grad, nn.Module.zero_grad,
              cr.Tensor.backward, nn.utils.clip_grad_norm_)
    _run_pair(_train, calls=3)
    after = (cr.optim.SGD.step, cr.optim.Optimizer.zero_grad, nn.Module.zero_grad,
             cr.Tensor.backward, nn.utils.clip_grad_norm_)
    assert all(a is b for a, b in zip(before, after))


def test_a_global_named_like_an_attribute_the_step_reads_does_not_record_again():
    # ``opt.step()`` puts "step" in the code's names; a loop variable ``step`` is no guard
    namespace = {"cr": cr}
    exec("model = cr.nn.Linear(3, 1)\n"
         "opt = cr.optim.SGD(model.parameters(), lr=0.1)\n"
         "@cr.compile\n"
         "def train_step(x):\n"
         "    opt.zero_grad()\n"
         "    loss = (model(x) ** 2).mean()\n"
         "    loss.backward()\n"
         "    opt.step()\n"
         "    return loss\n"
         "for step in range(5):\n"
         "    train_step(cr.ones(2, 3))\n", namespace)
    assert namespace["train_step"]._compiled_call.replays == 3
    namespace["opt"] = cr.optim.SGD(namespace["model"].parameters(), lr=0.1)   # a real global
    namespace["train_step"](cr.ones(2, 3))
    assert namespace["train_step"]._compiled_call.replays == 3
