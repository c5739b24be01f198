"""Layers, optimisers, schedulers, clipping, data loading, fit() and save/load on the fake CUDA
device give the CPU's numbers, and device errors read as PyTorch's."""
import copy
import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.backend import to_host
from fake_array_module import FakeDeviceArray, host_syncs

CI = os.environ.get("CI") == "true"


def _layers():
    cr.manual_seed(0)
    return [
        ("linear", lambda: nn.Linear(5, 3), (4, 5)),
        ("mlp", lambda: nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2), nn.Tanh()),
         (4, 5)),
        ("conv2d", lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 6, 6)),
        ("conv_stride", lambda: nn.Conv2d(2, 4, 3, stride=2, dilation=1, bias=False), (2, 2, 7, 7)),
        ("conv1d", lambda: nn.Conv1d(2, 3, 3), (2, 2, 9)),
        ("conv_transpose2d", lambda: nn.ConvTranspose2d(2, 3, 3, stride=2), (1, 2, 4, 4)),
        ("batchnorm2d", lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)),
        ("batchnorm1d", lambda: nn.BatchNorm1d(5), (6, 5)),
        ("layernorm", lambda: nn.LayerNorm(5), (3, 4, 5)),
        ("groupnorm", lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
        ("maxpool", lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2)), (2, 1, 8, 8)),
        ("avgpool", lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.AvgPool2d(2)), (2, 1, 8, 8)),
        ("adaptive", lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1),
                                           nn.Flatten()), (2, 1, 8, 8)),
        ("lstm", lambda: nn.LSTM(4, 6, num_layers=2, batch_first=True), (3, 5, 4)),
        ("gru", lambda: nn.GRU(4, 6, bidirectional=True), (5, 3, 4)),
        ("rnn", lambda: nn.RNN(4, 6), (5, 3, 4)),
        ("attention", lambda: nn.MultiheadAttention(8, 2, batch_first=True), (2, 5, 8)),
        ("transformer", lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                           batch_first=True), (2, 5, 8)),
        ("gelu_silu", lambda: nn.Sequential(nn.Linear(5, 6), nn.GELU(), nn.Linear(6, 6),
                                            nn.SiLU(), nn.Softmax(dim=-1)), (4, 5)),
    ]


def _first(out):
    while isinstance(out, tuple):
        out = out[0]
    return out


@pytest.mark.parametrize("name, make, shape", _layers(), ids=[c[0] for c in _layers()])
def test_layer_on_the_fake_device_matches_the_cpu(fake_cuda, name, make, shape):
    cr.manual_seed(1)
    cpu = make().double()
    dev = copy.deepcopy(cpu).to("cuda")
    x = cr.randn(*shape, dtype=cr.float64)
    args = (x, x, x) if name == "attention" else (x,)
    out_cpu = _first(cpu(*args))
    xd = x.to("cuda")
    out_dev = _first(dev(*((xd, xd, xd) if name == "attention" else (xd,))))
    assert out_dev.device == cr.device("cuda", 0)
    np.testing.assert_allclose(out_dev.cpu().numpy(force=True), out_cpu.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    w = cr.randn(*out_cpu.shape, dtype=cr.float64)
    (out_cpu * w).sum().backward()
    (out_dev * w.cuda()).sum().backward()
    for (n, p), q in zip(cpu.named_parameters(), dev.parameters()):
        assert type(q.array) is FakeDeviceArray and type(q.grad.array) is FakeDeviceArray, n
        np.testing.assert_allclose(to_host(q.grad.array), p.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (n, b), c in zip(cpu.named_buffers(), dev.buffers()):
        np.testing.assert_allclose(to_host(c.array), b.numpy(), rtol=1e-10, atol=1e-12)


OPTIMISERS = [
    ("SGD", lambda ps: cr.optim.SGD(ps, lr=0.1)),
    ("SGD_momentum", lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                             weight_decay=0.01)),
    ("Adam", lambda ps: cr.optim.Adam(ps, lr=0.01, amsgrad=True)),
    ("AdamW", lambda ps: cr.optim.AdamW(ps, lr=0.01)),
    ("RMSprop", lambda ps: cr.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", lambda ps: cr.optim.Adagrad(ps, lr=0.1)),
    ("Adadelta", lambda ps: cr.optim.Adadelta(ps)),
    ("Adamax", lambda ps: cr.optim.Adamax(ps, lr=0.01)),
    ("NAdam", lambda ps: cr.optim.NAdam(ps, lr=0.01)),
]


def _train(model, make_opt, x, y, steps, clip=None, sched=True):
    opt = make_opt(model.parameters())
    scheduler = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if sched else None
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if clip is not None:
            cr.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.detach())
    return losses


@pytest.mark.parametrize("name, make_opt", OPTIMISERS, ids=[o[0] for o in OPTIMISERS])
def test_optimiser_steps_on_the_fake_device_match_the_cpu(fake_cuda, name, make_opt):
    cr.manual_seed(2)
    cpu = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    dev = copy.deepcopy(cpu).cuda()
    x, y = cr.randn(16, 4, dtype=cr.float64), cr.randint(0, 3, (16,))
    cpu_losses = _train(cpu, make_opt, x, y, 4, clip=0.5)
    dev_losses = _train(dev, make_opt, x.cuda(), y.cuda(), 4, clip=0.5)
    np.testing.assert_allclose([l.cpu().item() for l in dev_losses],
                               [l.item() for l in cpu_losses], rtol=1e-10)
    for p, q in zip(cpu.parameters(), dev.parameters()):
        assert q.device.type == "cuda"
        np.testing.assert_allclose(to_host(q.array), p.numpy(force=True), rtol=1e-9, atol=1e-12)


def test_a_training_step_never_waits_for_the_device(fake_cuda):
    """No .item(), float() or host copy inside forward, backward, clipping and the step (the
    fast paths; the reference twins read as the lecture's formulas, checks included)."""
    with cr.backends.reference(False):
        _two_steps_without_host_syncs()


def _two_steps_without_host_syncs():
    cr.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 3 * 3, 10)).cuda()
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    x, y = cr.randn(8, 1, 8, 8, device="cuda"), cr.randint(0, 10, (8,)).cuda()
    _train(model, lambda ps: opt, x, y, 1, clip=1.0, sched=False)   # the first step makes state
    before = host_syncs["count"]
    _train(model, lambda ps: opt, x, y, 2, clip=1.0, sched=False)
    assert host_syncs["count"] == before


def test_fit_dataloader_and_save_load_on_the_fake_device(fake_cuda, tmp_path):
    cr.manual_seed(4)
    n = 64 if CI else 128
    X = cr.randn(n, 4)
    y = (X[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2)).cuda()
    opt = cr.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    loader = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(X, y), batch_size=32,
                                      shuffle=True)
    history = cr.train.fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=5,
                           metrics=["accuracy"], progress=False, clip_grad_norm=5.0,
                           scheduler=cr.optim.lr_scheduler.CosineAnnealingLR(opt, 5))
    assert history.last()["accuracy"] > 0.8
    for xb, yb in loader:                       # the PyTorch loop: batches .to(device)
        xb, yb = xb.to("cuda"), yb.to("cuda")
        assert model(xb).device.type == "cuda"
    path = tmp_path / "model.pt"
    cr.save(model.state_dict(), path)
    on_cpu = cr.load(path, map_location="cpu")
    assert all(t.device.type == "cpu" for t in on_cpu.values())
    on_gpu = cr.load(path, map_location="cuda")
    assert all(t.device.type == "cuda" for t in on_gpu.values())
    fresh = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))
    fresh.load_state_dict(on_cpu)
    fresh.eval(), model.eval()
    np.testing.assert_allclose(fresh(X).detach().numpy(), model(X.cuda()).detach().cpu().numpy(),
                               rtol=1e-6)


def test_device_reporting_and_errors_read_as_pytorch(fake_cuda):
    assert cr.cuda.is_available() and cr.cuda.device_count() == 1
    x = cr.ones(2, 3, device="cuda")
    assert x.device == cr.device("cuda", 0) and x.is_cuda and not x.cpu().is_cuda
    assert str(x.device) == "cuda:0" and x.get_device() == 0
    assert "device='cuda:0'" in repr(x)
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy. "
                                        "Use Tensor.cpu"):
        x.numpy()
    with pytest.raises(TypeError, match="can't convert cuda:0"):
        np.asarray(x)
    np.testing.assert_array_equal(x.cpu().numpy(), np.ones((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                                           "found at least two devices, cuda:0 and cpu!"):
        x + cr.ones(2, 3)
    with pytest.raises(RuntimeError, match="same device"):
        nn.Linear(3, 2)(x)
    assert (x * cr.tensor(2.0)).device.type == "cuda"    # a 0-d CPU tensor joins, as in PyTorch
    assert x.sum().item() == 6.0 and x.tolist() == [[1.0] * 3] * 2
    assert cr.zeros_like(x).device.type == "cuda" and x.new_zeros(4).device.type == "cuda"
    assert cr.tensor(x).device.type == "cuda" and cr.tensor([1, 2], device="cuda").is_cuda


def test_gradients_flow_through_device_moves(fake_cuda):
    a = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    b = a.to("cuda")
    assert b.grad_fn.name() == "ToCopyBackward0"
    (b * b).sum().backward()
    assert a.grad.device.type == "cpu"
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 4.0])


def test_device_random_numbers_follow_manual_seed(fake_cuda):
    cr.manual_seed(7)
    first = cr.randn(5, device="cuda").cpu().numpy()
    cr.manual_seed(7)
    again = cr.randn(5, device="cuda").cpu().numpy()
    np.testing.assert_array_equal(first, again)
    cr.cuda.manual_seed(8)
    other = cr.randn(5, device="cuda").cpu().numpy()
    assert not np.array_equal(first, other)
    x = cr.ones(1000, device="cuda")
    dropped = cr.nn.functional.dropout(x, 0.5)
    assert type(dropped.array) is FakeDeviceArray
    assert 0.35 < float((dropped == 0).float().mean()) < 0.65


def test_init_and_load_state_dict_into_a_model_on_the_device(fake_cuda):
    cr.manual_seed(5)
    cpu = nn.Linear(3, 2)
    dev = nn.Linear(3, 2).cuda()
    dev.load_state_dict(cpu.state_dict())              # CPU values into CUDA parameters
    assert dev.weight.is_cuda
    np.testing.assert_array_equal(dev.weight.cpu().numpy(force=True), cpu.weight.numpy(force=True))
    nn.init.xavier_uniform_(dev.weight)
    nn.init.zeros_(dev.bias)
    assert dev.weight.is_cuda and float(dev.bias.abs().sum()) == 0.0


class _CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.lstm = nn.Embedding(65, 16), nn.LSTM(16, 32, batch_first=True)
        self.head = nn.Linear(32, 65)

    def forward(self, x):
        return self.head(self.lstm(self.embed(x))[0]).reshape(-1, 65)


NO_SYNC_MODELS = [
    ("norms_gelu_dropout", lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Dropout(0.2), nn.Linear(36, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 10)),
     lambda: (cr.randn(8, 1, 8, 8), cr.randint(0, 10, (8,)))),
    ("char_lstm", _CharLSTM, lambda: (cr.randint(0, 65, (4, 12)), cr.randint(0, 65, (48,)))),
    ("transformer", lambda: nn.Sequential(
        nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), nn.Flatten(), nn.Linear(80, 10)),
     lambda: (cr.randn(4, 5, 16), cr.randint(0, 10, (4,)))),
]


@pytest.mark.parametrize("name, make, data", NO_SYNC_MODELS, ids=[m[0] for m in NO_SYNC_MODELS])
@pytest.mark.parametrize("optimiser", ["SGD", "Adam", "AdamW"])
def test_more_training_steps_never_wait_for_the_device(fake_cuda, name, make, data, optimiser):
    cr.manual_seed(6)
    model = make().cuda()
    x, y = (t.cuda() for t in data())
    opt = getattr(cr.optim, optimiser)(model.parameters(), lr=1e-3)
    with cr.backends.reference(False):
        _train(model, lambda ps: opt, x, y, 1, clip=1.0, sched=False)
        before = host_syncs["count"]
        _train(model, lambda ps: opt, x, y, 2, clip=1.0, sched=False)
    assert host_syncs["count"] == before


TENSOR_FUNCTIONS = {
    "one_hot": lambda x, y: cr.nn.functional.one_hot(y, 5),
    "bool_mask": lambda x, y: x[x > 0],
    "index_list": lambda x, y: x[[0, 2, 2]],
    "where_scalar": lambda x, y: cr.where(x > 0, x, 0.0),
    "cat_stack": lambda x, y: cr.stack([cr.cat([x, x]), cr.cat([x, x])]),
    "type_as": lambda x, y: cr.ones(2).type_as(x),
    "new_tensor": lambda x, y: x.new_tensor([1.0, 2.0]),
    "topk_values": lambda x, y: x.topk(2).values,
    "sort_indices": lambda x, y: x.sort(1).indices,
    "masked_fill": lambda x, y: x.masked_fill(x > 0, 0.0),
    "setitem_mask": lambda x, y: _set(x.clone(), x > 0.5, 7.0),
    "inplace": lambda x, y: x.clone().mul_(2).add_(x).clamp_(-1, 1),
    "losses": lambda x, y: cr.stack([
        cr.nn.functional.cross_entropy(x, y, label_smoothing=0.1),
        cr.nn.functional.cross_entropy(x, y, ignore_index=1),
        cr.nn.functional.nll_loss(cr.nn.functional.log_softmax(x, 1), y),
        cr.nn.functional.binary_cross_entropy_with_logits(x, (x > 0).float()),
        cr.nn.functional.kl_div(cr.nn.functional.log_softmax(x, 1),
                                cr.nn.functional.softmax(x, 1), reduction="batchmean")]),
    "interpolate": lambda x, y: cr.nn.functional.interpolate(x.reshape(1, 1, 4, 5),
                                                             scale_factor=2, mode="bilinear"),
    "eye_arange_full": lambda x, y: cr.eye(3, device=x.device) + cr.arange(3, device=x.device)
    + cr.full((3,), 2.0, device=x.device),
}


def _set(t, index, value):
    t[index] = value
    return t


@pytest.mark.parametrize("name", list(TENSOR_FUNCTIONS))
def test_tensor_functions_stay_on_the_device_with_the_cpus_values(fake_cuda, name):
    cr.manual_seed(8)
    x, y = cr.randn(4, 5), cr.randint(0, 5, (4,))
    on_cpu = TENSOR_FUNCTIONS[name](x, y)
    on_dev = TENSOR_FUNCTIONS[name](x.cuda(), y.cuda())
    assert on_dev.is_cuda
    np.testing.assert_allclose(on_dev.cpu().numpy(), on_cpu.numpy(), rtol=1e-6)


def test_pin_memory_is_accepted_where_cuda_is_available(fake_cuda):
    x = cr.ones(3)
    assert x.pin_memory() is x and x.pin_memory().to("cuda", non_blocking=True).is_cuda
