"""Callbacks: code that ``fit`` runs at fixed points of training (Keras's protocol).

Write your own by subclassing ``Callback`` and overriding any of the hooks. Before training,
``fit`` sets ``callback.model``, ``callback.optimizer``, ``callback.scheduler`` and
``callback.history``. ``logs`` is a dict of the numbers so far ("loss", "val_loss",
"accuracy"...); a callback may add entries to it (they land in the history). Return True from
``on_epoch_end`` to stop training after that epoch.
"""
import csv
import io
import math
import os

import numpy as np
from ..autograd.tensor_base import make_tensor


class Callback:
    model = optimizer = scheduler = history = None

    def set_context(self, model, optimizer, scheduler, history):
        self.model, self.optimizer, self.scheduler, self.history = model, optimizer, scheduler, history

    def on_train_begin(self, logs):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_batch_end(self, batch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        """Return True to stop training."""
        return False

    def on_train_end(self, logs):
        pass


def _better(mode, monitor):
    if mode == "auto":
        mode = "max" if any(s in monitor for s in ("acc", "f1", "precision", "recall", "r2")) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _monitored(logs, monitor, who):
    if monitor not in logs:
        raise KeyError(f"{who}: monitor={monitor!r} is not among the logged values {sorted(logs)}; "
                       f"pass val_data to fit for 'val_...' values, or choose another key")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model gets back the weights of its best epoch when training
    ends (whether it stopped early or ran out of epochs). ``stopped_epoch`` and ``best_epoch``
    (0-based) tell what happened.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        self.monitor, self.patience, self.min_delta = monitor, int(patience), abs(float(min_delta))
        self.mode = _better(mode, monitor)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.best_epoch, self.stopped_epoch, self.best_weights = 0, None, None, None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.array.copy() for k, v in self.model.state_dict().items()}
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, logs):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict({k: make_tensor(v) for k, v in self.best_weights.items()})


class ModelCheckpoint(Callback):
    """Save a checkpoint (model, optimizer, scheduler, epoch, history, RNG) after each epoch.

    ``filepath`` may contain ``{epoch}`` and any logged key (``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``).
    ``save_best_only`` keeps only improvements of ``monitor``. ``best_path`` holds the last file saved.
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, save_best_only
        self.mode = _better(mode, monitor)
        self.best, self.best_path = None, None

    def on_epoch_end(self, epoch, logs):
        from ..io import save_checkpoint
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if self.best is not None and not (value < self.best if self.mode == "min" else value > self.best):
                return False
            self.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        save_checkpoint(path, self.model, self.optimizer, self.scheduler, epoch=epoch + 1,
                        history=self.history.to_dict() if self.history is not None else None)
        self.best_path = path
        return False


class LearningRateMonitor(Callback):
    """Log the learning rate each epoch trained with: ``"lr"`` (one group) or ``"lr_0"``, ``"lr_1"``..."""

    def on_epoch_begin(self, epoch, logs):
        self._lrs = [float(g["lr"]) for g in self.optimizer.param_groups]

    def on_epoch_end(self, epoch, logs):
        if len(self._lrs) == 1:
            logs["lr"] = self._lrs[0]
        else:
            logs.update({f"lr_{i}": lr for i, lr in enumerate(self._lrs)})
        return False


class CSVLogger(Callback):
    """Append one row per epoch (epoch and every logged value) to a CSV file, flushed each epoch."""

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = str(filename), separator, append
        self._keys = None

    def on_train_begin(self, logs):
        os.makedirs(os.path.dirname(os.path.abspath(self.filename)), exist_ok=True)
        if self.append:
            _drop_partial_last_line(self.filename)
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._header_written = bool(exists)

    def _write_row(self, row):
        # each row goes out in one write, so a killed run leaves whole lines (a cut one, from
        # an older writer, is dropped when the run resumes)
        line = io.StringIO()
        csv.writer(line, delimiter=self.separator).writerow(row)
        self._file.write(line.getvalue())
        self._file.flush()

    def on_epoch_end(self, epoch, logs):
        if self._keys is None:
            self._keys = sorted(logs)
        if not self._header_written:
            self._write_row(["epoch"] + self._keys)
            self._header_written = True
        self._write_row([epoch + 1] + [_cell(logs.get(k)) for k in self._keys])
        return False

    def on_train_end(self, logs):
        self._file.close()


def _drop_partial_last_line(filename):
    """Cut a file back to its last newline: the half-written row a killed writer may leave."""
    try:
        with open(filename, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        pass


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_train_begin=None, on_epoch_begin=None, on_batch_end=None,
                 on_epoch_end=None, on_train_end=None):
        for name, fn in dict(on_train_begin=on_train_begin, on_epoch_begin=on_epoch_begin,
                             on_batch_end=on_batch_end, on_epoch_end=on_epoch_end,
                             on_train_end=on_train_end).items():
            if fn is not None:
                setattr(self, name, fn)
