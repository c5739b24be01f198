"""The training loop: ``fit``, ``evaluate``, ``predict``.

At its heart ``fit`` is the five lines from the lectures, once per mini-batch:

    optimizer.zero_grad()          # forget the previous batch's gradients
    output = model(X)              # forward pass
    loss = loss_fn(output, y)      # how wrong are we?
    loss.backward()                # backward pass: d loss / d every parameter
    optimizer.step()               # move every parameter a little downhill

Everything else (validation, metrics, callbacks, the progress bar, checkpoints) is bookkeeping
around those lines.
"""
import sys
import time

import numpy as np

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..backend import to_host
from ..nn.utils import clip_grad_norm_
from ..tensor import Tensor
from ..utils.data import DataLoader, Dataset, TensorDataset
from .history import History
from .metrics import get_metric
from ..autograd.tensor_base import make_tensor


def fit(model, loss_fn, optimizer, train_data, epochs=1, val_data=None, scheduler=None,
        metrics=(), callbacks=(), clip_grad_norm=None, progress=True, resume_from=None,
        checkpoint=None, batch_size=32, shuffle=True, checkpoint_extra=None, stop_on_nan=True):
    """Train ``model`` for ``epochs`` passes over ``train_data``; returns a ``History``.

    ``train_data`` / ``val_data``: a DataLoader, a Dataset, or an ``(X, y)`` pair of tensors (then
    batched with ``batch_size``, the training set reshuffled every epoch when ``shuffle``).
    ``metrics``: names from ``chainrule.train.metrics.METRICS`` ("accuracy", "rmse"...) or
    functions ``f(output, target) -> float``, computed over each whole epoch, on the training
    batches as they were predicted and on the validation set after the epoch ("val_" prefix).
    ``scheduler``: stepped once per epoch (``ReduceLROnPlateau`` gets val_loss, or loss).
    ``clip_grad_norm``: rescale the gradients so their total L2 norm is at most this.
    ``checkpoint``: a path where a resumable checkpoint is written after every epoch.
    ``checkpoint_extra``: plain data stored in that checkpoint too (the CLI keeps its config there).
    ``resume_from``: such a checkpoint: training continues after its epoch up to ``epochs`` with
    the same weights, optimizer and scheduler state, history and random-number streams, so the
    result is bit-identical to a run that was never interrupted.
    ``stop_on_nan``: raise ``FloatingPointError`` at the first batch whose loss is NaN or
    infinite, before its backward pass and step, so the weights stay the last finite ones.

    Under ``mpirun`` (after ``chainrule.distributed.init_process_group()``) it trains
    data-parallel: see ``chainrule.distributed.training`` and docs/distributed.md.
    """
    from ..io import load_checkpoint, save_checkpoint
    from ..distributed import training as data_parallel

    train_loader = as_loader(train_data, batch_size, shuffle, "train_data")
    world = data_parallel.data_parallel_world()
    saved_model = given_model = model
    if world is not None:
        train_loader = data_parallel.shard_loader(train_loader, world)
        saved_model = data_parallel.unwrap(model)
        model = data_parallel.wrap_model(model)   # a new wrapper unless it is one already
        progress = progress and world.rank() == 0
        callbacks = data_parallel.rank_callbacks(callbacks, world)
    val_loader = as_loader(val_data, batch_size, False, "val_data") if val_data is not None else None
    metric_fns = [get_metric(m) for m in metrics]
    generators = _loader_generators(train_loader)
    history, start_epoch = History(), 0
    if resume_from is not None:
        state = load_checkpoint(resume_from, saved_model, optimizer, scheduler, generators=generators)
        start_epoch, history = int(state["epoch"]), History.from_dict(state["history"])
    device = _model_device(model)
    callbacks = list(callbacks)
    for cb in callbacks:
        cb.set_context(saved_model, optimizer, scheduler, history)
    _call(callbacks, "on_train_begin", {})

    for epoch in range(start_epoch, epochs):
        logs = {}
        _call(callbacks, "on_epoch_begin", epoch, logs)
        started = time.perf_counter()
        if world is not None:
            data_parallel.set_epoch(train_loader, epoch)
        model.train()
        total_loss, seen, outputs, targets = 0.0, 0, [], []
        bar = _progress_bar(train_loader, epoch, epochs, progress)
        for batch_index, batch in enumerate(bar):
            *inputs, y = _to_device(batch, device)

            optimizer.zero_grad()
            output = model(*inputs)
            loss = loss_fn(output, y)
            if stop_on_nan:
                _check_finite_loss(loss, epoch, batch_index)
            loss.backward()
            if clip_grad_norm is not None:
                clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()

            n = len(y)
            batch_loss = loss.item()
            total_loss, seen = total_loss + batch_loss * n, seen + n
            if metric_fns:
                outputs.append(to_host(output.array).copy())
                targets.append(to_host(y.array))
            if bar is not train_loader:
                bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
            _call(callbacks, "on_batch_end", batch_index, {"loss": batch_loss, "size": n})
        if world is not None:
            total_loss, seen = data_parallel.sum_over_ranks(world, total_loss, seen)
            if metric_fns:
                outputs = [data_parallel.gather_rows(world, np.concatenate(outputs))]
                targets = [data_parallel.gather_rows(world, np.concatenate(targets))]
        if seen == 0:
            raise ValueError("fit: the training loader gave no batches (is drop_last=True with a "
                             "batch_size larger than the dataset?)")
        logs["loss"] = total_loss / seen
        for name, fn in metric_fns:
            logs[name] = fn(make_tensor(np.concatenate(outputs)), make_tensor(np.concatenate(targets)))
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn, metrics)
            logs.update({"val_" + k: v for k, v in val.items()})
        _step_scheduler(scheduler, logs)
        logs["time"] = time.perf_counter() - started

        stop = _call(callbacks, "on_epoch_end", epoch, logs)
        history.append(epoch + 1, logs)
        _close_bar(bar, train_loader, logs)
        if checkpoint is not None and (world is None or world.rank() == 0):
            save_checkpoint(checkpoint, saved_model, optimizer, scheduler, epoch=epoch + 1,
                            history=history.to_dict(), generators=generators,
                            extra=checkpoint_extra)
        if checkpoint is not None and world is not None:
            data_parallel.barrier(world)   # the file is complete before any rank goes on
        if stop:
            break
    _call(callbacks, "on_train_end", history.last())
    if model is not given_model:
        model.remove_hooks()   # the wrapper fit made ends here; the model can be wrapped again
    return history


@no_grad()
def evaluate(model, data, loss_fn=None, metrics=(), batch_size=256):
    """Loss (mean over samples) and metrics of ``model`` on ``data``, in eval mode without a graph.

    Returns a dict such as ``{"loss": 0.12, "accuracy": 0.97}``.
    """
    loader = as_loader(data, batch_size, False, "data")
    metric_fns = [get_metric(m) for m in metrics]
    was_training = model.training
    model.eval()
    try:
        total_loss, seen, outputs, targets = 0.0, 0, [], []
        device = _model_device(model)
        for batch in loader:
            *inputs, y = _to_device(batch, device)
            output = model(*inputs)
            if loss_fn is not None:
                total_loss += loss_fn(output, y).item() * len(y)
            seen += len(y)
            outputs.append(to_host(output.array))
            targets.append(to_host(y.array))
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate: the data is empty")
    results = {"loss": total_loss / seen} if loss_fn is not None else {}
    out, tgt = make_tensor(np.concatenate(outputs)), make_tensor(np.concatenate(targets))
    for name, fn in metric_fns:
        results[name] = fn(out, tgt)
    return results


@no_grad()
def predict(model, data, batch_size=256):
    """The model's outputs for every sample of ``data`` (a tensor of inputs, an ``(X, y)`` pair,
    a Dataset or a DataLoader), concatenated in order, in eval mode without a graph."""
    if isinstance(data, (Tensor, np.ndarray)):
        data = (data,)
    loader = as_loader(data, batch_size, False, "data")
    was_training = model.training
    model.eval()
    try:
        outputs = []
        device = _model_device(model)
        for batch in loader:
            inputs = _to_device(batch[:1] if len(batch) > 1 else batch, device)
            outputs.append(model(*inputs).array)
    finally:
        model.train(was_training)
    return make_tensor(np.concatenate(outputs))


# -- helpers -------------------------------------------------------------------------------------
def _model_device(model):
    """The device of the model's first parameter (None for the CPU or a model without any)."""
    for p in model.parameters():
        return None if p.device.type == "cpu" else p.device
    return None


def _to_device(batch, device):
    """The batch's tensors on ``device`` (the model's), as a PyTorch loop's ``.to(device)``."""
    if device is None:
        return batch
    return [t.to(device) if isinstance(t, Tensor) else t for t in batch]


def as_loader(data, batch_size, shuffle, name):
    """A DataLoader for ``data``: a DataLoader (as is), a Dataset, or a tuple of tensors/arrays."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    if isinstance(data, (tuple, list)) and data and all(
            isinstance(t, (Tensor, np.ndarray)) for t in data):
        return DataLoader(TensorDataset(*data), batch_size=batch_size, shuffle=shuffle)
    raise TypeError(f"{name}: expected a DataLoader, a Dataset or an (X, y) pair of tensors, got "
                    f"{type(data).__name__}")


def _loader_generators(loader):
    """The generators whose state decides the batch order (saved in checkpoints for resuming)."""
    gens = {}
    for i, g in enumerate({id(g): g for g in (getattr(loader, "generator", None),
                                              getattr(loader.sampler, "generator", None))
                           if g is not None and g is not _random.default_generator}.values()):
        gens[f"loader{i}"] = g
    return gens


def _call(callbacks, hook, *args):
    stop = False
    for cb in callbacks:
        stop = bool(getattr(cb, hook)(*args)) or stop
    return stop


def _step_scheduler(scheduler, logs):
    if scheduler is None:
        return
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()


def _in_notebook():
    """True inside a Jupyter kernel, whose stderr is no terminal but shows a progress widget."""
    shell = sys.modules.get("IPython")
    shell = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _progress_bar(loader, epoch, epochs, progress):
    if not progress or not (sys.stderr.isatty() or _in_notebook()):
        return loader
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return loader
    options = dict(total=len(loader), desc=f"Epoch {epoch + 1}/{epochs}", unit="batch", leave=True)
    try:
        return tqdm(loader, dynamic_ncols=True, **options)
    except ImportError:
        # tqdm.auto picks the notebook widget, which raises without ipywidgets: fall back to text
        from tqdm import tqdm as text_tqdm
        return text_tqdm(loader, **options)


def _close_bar(bar, loader, logs):
    if bar is loader:
        return
    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if isinstance(v, float) and k != "time"})
    bar.close()


def _check_finite_loss(loss, epoch, batch_index):
    value = loss.item()
    if not np.isfinite(value):
        raise FloatingPointError(
            f"fit: the loss is {value} at epoch {epoch + 1}, batch {batch_index + 1}; training "
            f"stopped before this batch's step, so the weights are the last finite ones. Try a "
            f"smaller learning rate or clip_grad_norm=1.0, find the op that made it with "
            f"cr.autograd.detect_anomaly(), or pass stop_on_nan=False to train on regardless")
