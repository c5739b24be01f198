"""``History``: what ``fit`` measured, epoch by epoch (Keras's ``History``)."""
import csv
import io
import json
import math

from ..io.serialization import atomic_write_text


class History:
    """Per-epoch values: ``history["loss"]``, ``history["val_accuracy"]``... (lists, one entry per
    epoch; ``None`` where an epoch did not log that key) and ``history.epoch`` (1-based numbers).
    ``wall_time`` is the total training time in seconds."""

    def __init__(self):
        self.epoch, self.history = [], {}

    def append(self, epoch, logs):
        n = len(self.epoch)
        for key in logs:
            self.history.setdefault(key, [None] * n)
        for key, values in self.history.items():
            value = logs.get(key)
            values.append(float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value)
        self.epoch.append(int(epoch))

    def __getitem__(self, key):
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it logged {sorted(self.history)}") from None

    def __contains__(self, key):
        return key in self.history

    def __len__(self):
        return len(self.epoch)

    def keys(self):
        return self.history.keys()

    @property
    def wall_time(self):
        return float(sum(t for t in self.history.get("time", []) if t is not None))

    def last(self):
        """The values of the last epoch as a dict."""
        return {k: v[-1] for k, v in self.history.items()} if self.epoch else {}

    def best(self, key, mode="min"):
        """``(epoch, value)`` of the best value of ``key``."""
        pairs = [(e, v) for e, v in zip(self.epoch, self[key]) if v is not None and not math.isnan(v)]
        if not pairs:
            raise ValueError(f"History.best: no values logged for {key!r}")
        return (min if mode == "min" else max)(pairs, key=lambda p: p[1])

    def to_dict(self):
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, state):
        h = cls()
        if state:
            h.epoch = [int(e) for e in state["epoch"]]
            h.history = {k: list(v) for k, v in state["history"].items()}
        return h

    def to_json(self, path=None):
        """The history as JSON text; also written (atomically) to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            atomic_write_text(path, text + "\n")
        return text

    def to_csv(self, path=None):
        """One row per epoch (``epoch`` then the logged keys); also written to ``path`` if given."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        keys = list(self.history)
        writer.writerow(["epoch"] + keys)
        for i, e in enumerate(self.epoch):
            writer.writerow([e] + ["" if self.history[k][i] is None else repr(self.history[k][i])
                                   for k in keys])
        if path is not None:
            atomic_write_text(path, buf.getvalue())
        return buf.getvalue()

    def __repr__(self):
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items() if isinstance(v, float))
        return f"History({len(self)} epochs{': ' + last if last else ''})"
