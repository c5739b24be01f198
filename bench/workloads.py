"""The benchmark workloads, each built twice: in chainrule and in PyTorch, from the same weights.

A workload is a function ``build(framework, batch)`` returning a ``Step``: ``run()`` does one full
training step (forward, loss, backward, optimiser step, zero_grad) and returns the loss as a float
(only when asked, so that timing excludes the conversion). Weights are created once by chainrule
and copied into PyTorch through ``state_dict``, so both start from the same point.
"""
import os

import numpy as np

import chainrule as cr

from . import numpy_reference as ref

VOCAB, SEQ, EMB, HIDDEN = 65, 64, 64, 256

# ``python -m bench --compile``: chainrule's models run through ``cr.compile`` (trace and
# replay). An environment variable, so that the peak-memory probes (subprocesses) follow it.
COMPILE_ENV = "CHAINRULE_BENCH_COMPILE"


def compiling():
    return os.environ.get(COMPILE_ENV, "") == "1"


def set_compiling(on):
    """Turn ``--compile`` on or off (None: unset); returns the previous setting."""
    previous = os.environ.get(COMPILE_ENV)
    if on is None:
        os.environ.pop(COMPILE_ENV, None)
    else:
        os.environ[COMPILE_ENV] = "1" if on in (True, "1") else "0"
    return previous


# Where W2-W5 run (``python -m bench --device cuda``): both frameworks on that device.
DEVICE = {"name": "cpu"}
GPU_WORKLOADS = ("W2", "W3", "W4", "W5")


def _place(lib, model, *tensors):
    """The model (in place) and the tensors on ``DEVICE``."""
    device = DEVICE["name"]
    if device == "cpu":
        return tensors
    model.to(device)
    return tuple(t.to(device) for t in tensors)


def _synchronize(lib):
    """Wait for the GPU at the end of a step, so that a step's time is its whole work."""
    if DEVICE["name"] != "cpu":
        lib.cuda.synchronize()


class Step:
    def __init__(self, run, samples, flops=None):
        self.run = run
        self.samples = samples
        self.flops = flops


def _data(seed, shape, kind="normal", high=None):
    g = np.random.default_rng(seed)
    if kind == "int":
        return g.integers(0, high, shape).astype(np.int64)
    return g.standard_normal(shape).astype(np.float32)


def _copy_weights(cr_model, torch_model):
    import torch
    state = {k: torch.from_numpy(np.array(v.array)) for k, v in cr_model.state_dict().items()}
    torch_model.load_state_dict(state)


def _mlp(nn, sizes, act):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act(nn))
    return nn.Sequential(*layers)


def _mlp_flops(sizes, batch):
    # forward 2*B*in*out per layer; backward twice that (input and weight gradients)
    return sum(6 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _build_pair(framework, make_model, compile_model=True):
    """The chainrule model (always built, it owns the initial weights) and, for torch, a copy.
    For "numpy" (the hand-written reference of ``numpy_reference``) the chainrule model, whose
    weights the reference copies."""
    cr.manual_seed(0)
    model = make_model(cr.nn)
    if framework == "chainrule" and compiling() and compile_model:
        return cr.compile(model)
    if framework in ("chainrule", "numpy"):
        return model
    import torch
    tmodel = make_model(torch.nn)
    _copy_weights(model, tmodel)
    return tmodel


def _classifier_step(framework, model, x_np, y_np, make_opt, clip=None, reshape_logits=None):
    if framework == "chainrule":
        lib, F = cr, cr.nn.functional
        x, y = cr.from_numpy(x_np), cr.from_numpy(y_np)
        clip_fn = cr.nn.utils.clip_grad_norm_ if clip else None
    else:
        import torch
        lib, F = torch, torch.nn.functional
        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
        clip_fn = torch.nn.utils.clip_grad_norm_ if clip else None
    x, y = _place(lib, model, x, y)
    opt = make_opt(lib.optim, model.parameters())
    params = list(model.parameters())

    def run(want_loss=False):
        out = model(x)
        if reshape_logits:
            out = out.reshape(-1, out.shape[-1])
        loss = F.cross_entropy(out, y)
        loss.backward()
        if clip_fn:
            clip_fn(params, clip)
        opt.step()
        opt.zero_grad()
        _synchronize(lib)
        return loss.item() if want_loss else None
    return run


def w1_playground(framework, batch=10):
    """MLP 2-8-8-1, tanh hidden and output, MSE, SGD lr 0.03, batch 10. With ``--compile``
    chainrule's whole step (forward, loss, backward, optimiser) is one compiled function."""
    def make(nn):
        return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                             nn.Linear(8, 1), nn.Tanh())
    model = _build_pair(framework, make, compile_model=False)
    x_np, y_np = _data(1, (batch, 2)), np.sign(_data(2, (batch, 1)))
    if framework == "numpy":
        net = ref.NumpyMLP(model, "tanh", act_out=True)
        return Step(ref.training_step(net, x_np, y_np, ref.mse, ref.SGD(net.params(), 0.03)),
                    batch)
    if framework == "chainrule":
        x, y, lib = cr.from_numpy(x_np), cr.from_numpy(y_np), cr
    else:
        import torch
        x, y, lib = torch.from_numpy(x_np), torch.from_numpy(y_np), torch
    loss_fn = lib.nn.MSELoss()
    opt = lib.optim.SGD(model.parameters(), lr=0.03)

    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    if framework == "chainrule" and compiling():
        step = cr.compile(step)

    def run(want_loss=False):
        loss = step()
        return loss.item() if want_loss else None
    return Step(run, batch)


def w2_mlp_mnist(framework, batch=128):
    """MLP 784-256-256-10, ReLU, cross-entropy, Adam 1e-3, batch 128."""
    sizes = (784, 256, 256, 10)
    model = _build_pair(framework, lambda nn: _mlp(nn, sizes, lambda nn: nn.ReLU()))
    x_np, y_np = _data(3, (batch, 784)), _data(4, (batch,), "int", 10)
    if framework == "numpy":
        net = ref.NumpyMLP(model, "relu")
        run = ref.training_step(net, x_np, y_np, ref.cross_entropy,
                                ref.Adam(net.params(), lr=1e-3))
        return Step(run, batch, _mlp_flops(sizes, batch))
    run = _classifier_step(framework, model, x_np, y_np, lambda optim, p: optim.Adam(p, lr=1e-3))
    return Step(run, batch, _mlp_flops(sizes, batch))


def w3_mlp_large(framework, batch=512):
    """MLP 784-1024-1024-10, ReLU, cross-entropy, SGD momentum 0.9, batch 512."""
    sizes = (784, 1024, 1024, 10)
    model = _build_pair(framework, lambda nn: _mlp(nn, sizes, lambda nn: nn.ReLU()))
    x_np, y_np = _data(5, (batch, 784)), _data(6, (batch,), "int", 10)
    if framework == "numpy":
        net = ref.NumpyMLP(model, "relu")
        run = ref.training_step(net, x_np, y_np, ref.cross_entropy,
                                ref.SGD(net.params(), lr=0.01, momentum=0.9))
        return Step(run, batch, _mlp_flops(sizes, batch))
    run = _classifier_step(framework, model, x_np, y_np,
                           lambda optim, p: optim.SGD(p, lr=0.01, momentum=0.9))
    return Step(run, batch, _mlp_flops(sizes, batch))


def w4_cnn_lenet(framework, batch=64):
    """LeNet-5 on 1x28x28, cross-entropy, SGD momentum, batch 64."""
    def make(nn):
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    model = _build_pair(framework, make)
    run = _classifier_step(framework, model, _data(7, (batch, 1, 28, 28)),
                           _data(8, (batch,), "int", 10),
                           lambda optim, p: optim.SGD(p, lr=0.01, momentum=0.9))
    return Step(run, batch)


class _CharLSTM:
    """Embedding(65, 64) -> LSTM(64, 256) -> Linear(256, 65), for either framework."""

    @staticmethod
    def make(nn):
        class CharLSTM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(VOCAB, EMB)
                self.lstm = nn.LSTM(EMB, HIDDEN, batch_first=True)
                self.head = nn.Linear(HIDDEN, VOCAB)

            def forward(self, x):
                h, _ = self.lstm(self.embed(x))
                return self.head(h)
        return CharLSTM()


def w5_char_lstm(framework, batch=32):
    """Embedding(65,64), LSTM(64,256), Linear(256,65), sequence 64, Adam, clip norm 5, batch 32."""
    model = _build_pair(framework, _CharLSTM.make)
    run = _classifier_step(framework, model, _data(9, (batch, SEQ), "int", VOCAB),
                           _data(10, (batch * SEQ,), "int", VOCAB),
                           lambda optim, p: optim.Adam(p, lr=2e-3), clip=5.0, reshape_logits=True)
    return Step(run, batch * SEQ)


def _inference(framework, batch):
    sizes = (784, 256, 256, 10)
    model = _build_pair(framework, lambda nn: _mlp(nn, sizes, lambda nn: nn.ReLU()))
    model.eval()
    x_np = _data(11, (batch, 784))
    if framework == "numpy":
        return Step(ref.inference(ref.NumpyMLP(model, "relu"), x_np), batch)
    if framework == "chainrule":
        x, no_grad = cr.from_numpy(x_np), cr.no_grad
    else:
        import torch
        x, no_grad = torch.from_numpy(x_np), torch.no_grad

    def run(want_loss=False):
        with no_grad():
            out = model(x)
        return float(out.sum().item()) if want_loss else None
    return Step(run, batch)


def w6_inference_b1(framework):
    """W2's MLP forward under no_grad, batch 1."""
    return _inference(framework, 1)


def w6_inference_b1024(framework):
    """W2's MLP forward under no_grad, batch 1024."""
    return _inference(framework, 1024)


# Workloads with a hand-written NumPy reference (the MLPs), timed beside the two frameworks.
NUMPY_REFERENCE = {"W1", "W2", "W3", "W6-b1", "W6-b1024"}

WORKLOADS = {
    "W1": ("playground", w1_playground),
    "W2": ("mlp-mnist", w2_mlp_mnist),
    "W3": ("mlp-large", w3_mlp_large),
    "W4": ("cnn-lenet", w4_cnn_lenet),
    "W5": ("char-lstm", w5_char_lstm),
    "W6-b1": ("inference batch 1", w6_inference_b1),
    "W6-b1024": ("inference batch 1024", w6_inference_b1024),
}
