"""The training loops of PyTorch's beginner tutorials and examples, written here in our own words,
run in chainrule and PyTorch from the same weights (copied with load_state_dict) on the same data:
the losses and the final weights agree step for step."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def copy_weights(ours, theirs):
    theirs.double()
    ours.double()
    result = ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


def lenet(nn, channels):
    class Net(nn.Module):                          # the blitz tutorials' network
        def __init__(self):
            super().__init__()
            self.conv1, self.pool = nn.Conv2d(channels, 6, 5), nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            f = cr.nn.functional if nn is cr.nn else TF
            x = self.pool(f.relu(self.conv1(x)))
            x = self.pool(f.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            return self.fc3(f.relu(self.fc2(f.relu(self.fc1(x)))))
    return Net()


def run_steps(model, optimizer, batches, loss_fn, scheduler=None):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def check_same(ours, theirs, losses_ours, losses_theirs, rtol=1e-9):
    np.testing.assert_allclose(losses_ours, losses_theirs, rtol=rtol)
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-10, err_msg=k)


def batches_of(shape, classes, count, seed=0):
    rng = np.random.default_rng(seed)
    data = [(rng.standard_normal(shape), rng.integers(0, classes, shape[0])) for _ in range(count)]
    return ([(cr.tensor(x), cr.tensor(y)) for x, y in data],
            [(torch.tensor(x), torch.tensor(y)) for x, y in data])


def test_cifar10_tutorial_loop_sgd_momentum():
    ours, theirs = lenet(cr.nn, 3), lenet(torch.nn, 3)
    copy_weights(ours, theirs)
    ob, tb = batches_of((4, 3, 32, 32), 10, 4)
    lo = run_steps(ours, cr.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9), ob, cr.nn.CrossEntropyLoss())
    lt = run_steps(theirs, torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9), tb, torch.nn.CrossEntropyLoss())
    check_same(ours, theirs, lo, lt)


def test_quickstart_mlp_loop_sgd():
    def mlp(nn):
        return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 64),
                             nn.ReLU(), nn.Linear(64, 10))
    ours, theirs = mlp(cr.nn), mlp(torch.nn)
    copy_weights(ours, theirs)
    ob, tb = batches_of((8, 1, 28, 28), 10, 5, seed=1)
    lo = run_steps(ours, cr.optim.SGD(ours.parameters(), lr=1e-1), ob, cr.nn.CrossEntropyLoss())
    lt = run_steps(theirs, torch.optim.SGD(theirs.parameters(), lr=1e-1), tb, torch.nn.CrossEntropyLoss())
    check_same(ours, theirs, lo, lt)


def test_mnist_example_loop_adadelta_steplr_dropout_off():
    def net(nn):                                   # pytorch/examples mnist, dropout at p=0 so no randomness
        return nn.Sequential(nn.Conv2d(1, 4, 3, 1), nn.ReLU(), nn.Conv2d(4, 8, 3, 1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Dropout(0.0), nn.Flatten(1), nn.Linear(8 * 5 * 5, 16),
                             nn.ReLU(), nn.Linear(16, 10), nn.LogSoftmax(dim=1))
    ours, theirs = net(cr.nn), net(torch.nn)
    copy_weights(ours, theirs)
    ob, tb = batches_of((6, 1, 14, 14), 10, 4, seed=2)
    opt_o, opt_t = cr.optim.Adadelta(ours.parameters(), lr=1.0), torch.optim.Adadelta(theirs.parameters(), lr=1.0)
    sched_o = cr.optim.lr_scheduler.StepLR(opt_o, step_size=1, gamma=0.7)
    sched_t = torch.optim.lr_scheduler.StepLR(opt_t, step_size=1, gamma=0.7)
    lo = run_steps(ours, opt_o, ob, F.nll_loss, sched_o)
    lt = run_steps(theirs, opt_t, tb, TF.nll_loss, sched_t)
    check_same(ours, theirs, lo, lt)
    assert opt_o.param_groups[0]["lr"] == pytest.approx(opt_t.param_groups[0]["lr"])


def test_regression_example_manual_update_with_smooth_l1():
    ours, theirs = cr.nn.Linear(4, 1), torch.nn.Linear(4, 1)
    copy_weights(ours, theirs)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.standard_normal((32, 4))
        y = x @ np.array([[0.5], [-1.0], [2.0], [0.1]]) + 3.0
        for model, lib, f in [(ours, cr, F), (theirs, torch, TF)]:
            model.zero_grad()
            loss = f.smooth_l1_loss(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            for param in model.parameters():
                param.data.add_(-0.1 * param.grad)
    check_same(ours, theirs, [], [])


def test_word_language_model_loop_lstm_clip_and_manual_sgd():
    def rnn_model(nn):
        class RNNModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder, self.rnn = nn.Embedding(30, 8), nn.LSTM(8, 12, 2)
                self.decoder = nn.Linear(12, 30)

            def forward(self, x, hidden):
                out, hidden = self.rnn(self.encoder(x), hidden)
                f = F if nn is cr.nn else TF
                return f.log_softmax(self.decoder(out), dim=-1), hidden
        return RNNModel()

    ours, theirs = rnn_model(cr.nn), rnn_model(torch.nn)
    copy_weights(ours, theirs)
    rng = np.random.default_rng(4)
    tokens = rng.integers(0, 30, (5 * 3 + 1, 2))
    results = []
    for model, lib, nn, f in [(ours, cr, cr.nn, F), (theirs, torch, torch.nn, TF)]:
        weight = next(model.parameters())
        hidden = (weight.new_zeros(2, 2, 12), weight.new_zeros(2, 2, 12))
        losses = []
        for i in range(0, 15, 5):
            data, targets = lib.tensor(tokens[i:i + 5]), lib.tensor(tokens[i + 1:i + 6]).reshape(-1)
            hidden = tuple(h.detach() for h in hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = f.nll_loss(output.view(-1, 30), targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-20.0)
            losses.append(loss.item())
        results.append(losses)
    check_same(ours, theirs, *results)
