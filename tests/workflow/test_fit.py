import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import (CSVLogger, Callback, EarlyStopping, LearningRateMonitor,
                             ModelCheckpoint, evaluate, fit, predict)
from chainrule.utils.data import DataLoader, TensorDataset
from workflow_helpers import TinyMLP, cross_entropy, mse


def _circle():
    X, y = cr.datasets.circle(n=200, noise=0.0, seed=0)
    return cr.datasets.train_test_split(X, y, ratio=0.75, seed=0)


def test_fit_learns_circle_and_fills_history():
    Xtr, Xte, ytr, yte = _circle()
    cr.manual_seed(0)
    model = TinyMLP(hidden=8)
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    hist = fit(model, cross_entropy, opt, (Xtr, ytr), epochs=30, val_data=(Xte, yte),
               metrics=["accuracy"], batch_size=16, progress=False)
    assert len(hist) == 30 and hist.epoch == list(range(1, 31))
    assert set(hist.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "time"}
    assert hist["loss"][-1] < hist["loss"][0] / 3
    assert hist["val_accuracy"][-1] >= 0.95
    assert hist.wall_time > 0
    res = evaluate(model, (Xte, yte), cross_entropy, ["accuracy"])
    assert res["accuracy"] == hist["val_accuracy"][-1]
    assert res["loss"] == pytest.approx(hist["val_loss"][-1])
    out = predict(model, Xte)
    assert out.shape == (50, 2) and not out.requires_grad
    assert np.allclose(predict(model, (Xte, yte), batch_size=7).array, out.array, atol=1e-6)


def test_fit_source_shows_the_five_line_loop():
    import inspect

    from chainrule.train import loop
    src = inspect.getsource(loop.fit)
    lines = ["optimizer.zero_grad()", "output = model(*inputs)", "loss = loss_fn(output, y)",
             "loss.backward()", "optimizer.step()"]
    positions = [src.index(line) for line in lines]
    assert positions == sorted(positions)


def test_evaluate_and_predict_restore_mode_and_use_no_grad():
    seen = {}

    class Spy(TinyMLP):
        def forward(self, x):
            seen["training"], seen["grad"] = self.training, cr.is_grad_enabled()
            return super().forward(x)

    model = Spy()
    model.train()
    predict(model, cr.randn(3, 2))
    assert seen == {"training": False, "grad": False} and model.training


def test_loaders_and_datasets_are_accepted():
    Xtr, _, ytr, _ = _circle()
    model = TinyMLP()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=50, shuffle=True)
    calls = []
    cb = type("Count", (Callback,), {"on_batch_end": lambda self, b, logs: calls.append(logs["size"])})()
    fit(model, cross_entropy, opt, loader, epochs=2, callbacks=[cb], progress=False)
    assert calls == [50, 50, 50] * 2
    fit(model, cross_entropy, opt, TensorDataset(Xtr, ytr), epochs=1, progress=False)
    with pytest.raises(TypeError, match="train_data: expected a DataLoader"):
        fit(model, cross_entropy, opt, [1, 2, 3], epochs=1)


def test_clip_grad_norm_limits_the_update():
    Xtr, _, ytr, _ = _circle()
    cr.manual_seed(0)
    model = TinyMLP()
    before = model.out.bias.array.copy()
    opt = cr.optim.SGD(model.parameters(), lr=1.0)
    fit(model, cross_entropy, opt, (Xtr[:8], ytr[:8]), epochs=1, batch_size=8,
        clip_grad_norm=1e-3, progress=False)
    assert np.linalg.norm(model.out.bias.array - before) <= 1e-3 + 1e-7


def _run(epochs, tmp_path, checkpoint=None, resume_from=None, seed=0, generator=False):
    X, y = cr.datasets.spiral(n=120, noise=0.1, seed=3)
    cr.manual_seed(seed)
    model = TinyMLP(hidden=6)
    opt = cr.optim.Adam(model.parameters(), lr=0.02)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.7)
    gen = cr.Generator().manual_seed(11) if generator else None
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, generator=gen)
    hist = fit(model, cross_entropy, opt, loader, epochs=epochs, val_data=(X, y), scheduler=sched,
               checkpoint=checkpoint, resume_from=resume_from, progress=False)
    return model, opt, hist


@pytest.mark.parametrize("generator", [False, True])
def test_resume_is_bit_identical(tmp_path, generator):
    full, full_opt, full_hist = _run(7, tmp_path, generator=generator)
    ckpt = tmp_path / "run.safetensors"
    _run(3, tmp_path, checkpoint=ckpt, generator=generator)           # "interrupted" after epoch 3
    resumed, res_opt, res_hist = _run(7, tmp_path, resume_from=ckpt, seed=12345, generator=generator)
    for k, v in full.state_dict().items():
        assert np.array_equal(resumed.state_dict()[k].array, v.array), k
    assert res_opt.param_groups[0]["lr"] == full_opt.param_groups[0]["lr"]
    assert res_hist["loss"] == full_hist["loss"] and res_hist.epoch == list(range(1, 8))


def test_early_stopping_stops_at_the_right_epoch_and_restores_best():
    model = TinyMLP()
    opt = cr.optim.SGD(model.parameters(), lr=0.0)
    losses = iter([5.0, 4.0, 3.0, 3.5, 2.95, 3.2, 3.3, 9.0, 9.0])
    weights = []

    class Script(Callback):
        """Plays a fixed val_loss sequence and changes the weights each epoch."""

        def on_epoch_end(self, epoch, logs):
            logs["val_loss"] = next(losses)
            with cr.no_grad():
                self.model.out.bias.fill_(float(epoch))
            weights.append(epoch)

    stopper = EarlyStopping(monitor="val_loss", patience=2, min_delta=0.1, restore_best_weights=True)
    X, y = cr.randn(8, 2), cr.zeros(8, dtype=cr.int64)
    hist = fit(model, cross_entropy, opt, (X, y), epochs=9, callbacks=[Script(), stopper],
               progress=False)
    # 3.0 at epoch index 2 is the last improvement by more than 0.1 (2.95 is not enough);
    # two epochs without improvement after it -> stop after epoch index 4
    assert stopper.best_epoch == 2 and stopper.stopped_epoch == 4 and len(hist) == 5
    assert model.out.bias.tolist() == [2.0, 2.0]


def test_early_stopping_max_mode_and_missing_key():
    stopper = EarlyStopping(monitor="val_accuracy")
    assert stopper.mode == "max"
    model = TinyMLP()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(KeyError, match="'val_loss' is not among the logged values"):
        fit(model, cross_entropy, opt, (cr.randn(4, 2), cr.zeros(4, dtype=cr.int64)), epochs=1,
            callbacks=[EarlyStopping()], progress=False)


def test_model_checkpoint_lr_monitor_csv_logger(tmp_path):
    Xtr, Xte, ytr, yte = _circle()
    model = TinyMLP()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    ckpt = ModelCheckpoint(tmp_path / "best-{epoch}.safetensors", monitor="val_loss", save_best_only=True)
    hist = fit(model, cross_entropy, opt, (Xtr, ytr), epochs=3, val_data=(Xte, yte), scheduler=sched,
               callbacks=[LearningRateMonitor(), CSVLogger(tmp_path / "log.csv"), ckpt], progress=False)
    assert hist["lr"] == [0.1, 0.05, 0.025]
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].split(",")[0] == "epoch" and len(rows) == 4
    assert ckpt.best_path.endswith(".safetensors")
    state, _ = cr.io.read_checkpoint(ckpt.best_path)
    assert state["epoch"] == int(ckpt.best_path.rsplit("-", 1)[1].split(".")[0])


def test_history_csv_and_json(tmp_path):
    Xtr, _, ytr, _ = _circle()
    model = TinyMLP()
    hist = fit(model, cross_entropy, cr.optim.SGD(model.parameters(), lr=0.1), (Xtr, ytr),
               epochs=2, metrics=["accuracy"], progress=False)
    hist.to_csv(tmp_path / "h.csv")
    hist.to_json(tmp_path / "h.json")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,time" and len(lines) == 3
    data = json.loads((tmp_path / "h.json").read_text())
    assert data["history"]["loss"] == hist["loss"]
    assert hist.best("loss")[1] == min(hist["loss"])


def test_regression_fit_with_reduce_on_plateau():
    X, t = cr.datasets.plane(n=200, seed=0)
    cr.manual_seed(0)
    model = cr.nn.Linear(2, 1)
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    sched = cr.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    hist = fit(model, mse, opt, (X, t), epochs=20, metrics=["r2", "rmse"], scheduler=sched,
               progress=False)
    assert hist["r2"][-1] > 0.99
