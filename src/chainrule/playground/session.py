"""A Playground session: one browser tab's data, network, optimiser and training state.

``Session.handle(message)`` applies one validated page message and returns the messages to send
back (settings, data, notices, replies); ``advance()`` trains one frame's worth of epochs;
``frame()`` builds the frame the page draws. Flow control and threading live in ``server.py``;
this class is plain synchronous code, so the tests drive it directly.
"""
import base64
import copy
import os
import tempfile
import time

import numpy as np

from .. import optim
from ..creation import randperm
from ..random import Generator
from ..tensor import Tensor
from . import data as D
from .export import export_script
from .network import Network, per_example_loss, predicted_class, probabilities, targets
from .presets import PRESETS
from .protocol import DEFAULT_SETTINGS, ProtocolError, dumps, error, notice

OUTPUT_SIZE = 50
NODE_SIZE = 20
RADIUS = 6.0

RESET_MESSAGE = "architecture changed: network reset"


def grid_points(n):
    """Cell centres of an n x n map over [-6, 6]², row 0 at the top (x2 = +6), row-major."""
    centres = -RADIUS + (np.arange(n) + 0.5) * (2 * RADIUS / n)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


OUTPUT_GRID = grid_points(OUTPUT_SIZE)
NODE_GRID = grid_points(NODE_SIZE)


def quantise(values, lo=None, hi=None):
    """A map as ``{"lo", "hi", "q"}``: uint8 bytes, base64 (PROTOCOL.md, "quantised maps")."""
    values = np.asarray(values, dtype=np.float64)
    if lo is None:
        finite = values[np.isfinite(values)]
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 0.0
    if hi > lo:
        scaled = np.nan_to_num((values - lo) * (255 / (hi - lo)), nan=0.0)
        q = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    else:
        q = np.zeros(values.shape, np.uint8)
    return {"lo": lo, "hi": hi, "q": base64.b64encode(q.tobytes()).decode("ascii")}


def quantise_columns(values):
    """``quantise`` for every column of ``values`` (points, units) at once: one map per unit."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    lo = np.where(finite, values, np.inf).min(axis=0)
    hi = np.where(finite, values, -np.inf).max(axis=0)
    empty = ~np.isfinite(lo)
    lo[empty] = hi[empty] = 0.0
    span = hi - lo
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    scaled = (values - lo) * scale
    scaled[~finite] = 0.0
    q = np.clip(np.rint(scaled), 0, 255).astype(np.uint8).T.copy()
    return [{"lo": float(a), "hi": float(b), "q": base64.b64encode(row.tobytes()).decode("ascii")}
            for a, b, row in zip(lo, hi, q)]


def finite_or_none(x):
    x = float(x)
    return x if np.isfinite(x) else None


def _rounded(array):
    arr = np.round(array.astype(np.float64), 5)
    if np.isfinite(arr).all():
        return arr.tolist()
    return [finite_or_none(v) if arr.ndim == 1 else [finite_or_none(u) for u in v]
            for v in arr] if arr.ndim else finite_or_none(arr)


class Session:
    """Everything one tab trains and shows. Not thread-safe: one caller at a time."""

    def __init__(self, settings=None):
        self.settings = copy.deepcopy(DEFAULT_SETTINGS)
        if settings:
            self.settings.update(copy.deepcopy(settings))
        self.playing = False
        self.diverged = False
        self.dirty = True           # something changed that a frame should show
        self.regenerations = 0
        self.points = None
        self._generate_data()
        self._reset_network()

    # -- setup -----------------------------------------------------------------------------------
    def _generate_data(self):
        s = self.settings
        if s["dataset"] == "user":
            if self.points is None:
                self.points = D.empty(s["problem"])
        else:
            self.points = D.generate(s, D.data_seed(s["seed"], self.regenerations))
        self._prepare_data()

    def _prepare_data(self):
        """Feature matrices and targets for the current points and network mode."""
        pts = self.points
        names = self.settings["features"]
        self.train_features = D.features(pts.train, names)
        self.test_features = D.features(pts.test, names)
        self._order = None          # an epoch under way restarts on new data

    def _targets(self):
        mode, k = self.net.mode, self.points.classes
        return targets(mode, self.points.train_labels, k), targets(mode, self.points.test_labels, k)

    def _reset_network(self):
        s = self.settings
        self.net = Network(s, self.points.classes, self.points.problem)
        self.optimizer = self._make_optimizer()
        self.shuffle_generator = Generator().manual_seed(s["seed"] + 1)
        self.epoch = 0
        self.iteration = 0
        self._order = None
        self.grad_norms = [0.0] * len(self.net.linears())
        self.diverged = False
        self.dirty = True

    def _make_optimizer(self):
        s = self.settings
        params = list(self.net.model.parameters())
        name, lr = s["optimizer"], s["learning_rate"]
        if name == "sgd" or (name == "nesterov" and s["momentum"] == 0):
            return optim.SGD(params, lr=lr)
        if name == "momentum":
            return optim.SGD(params, lr=lr, momentum=s["momentum"])
        if name == "nesterov":
            return optim.SGD(params, lr=lr, momentum=s["momentum"], nesterov=True)
        if name == "adagrad":
            return optim.Adagrad(params, lr=lr, eps=s["eps"])
        if name == "rmsprop":
            return optim.RMSprop(params, lr=lr, alpha=s["alpha"], eps=s["eps"])
        return optim.Adam(params, lr=lr, betas=(s["beta1"], s["beta2"]), eps=s["eps"])

    def _update_hyperparameters(self):
        s = self.settings
        for group in self.optimizer.param_groups:
            group["lr"] = s["learning_rate"]
            if "betas" in group:
                group["betas"] = (s["beta1"], s["beta2"])
            if "alpha" in group:
                group["alpha"] = s["alpha"]
            if "eps" in group:
                group["eps"] = s["eps"]
            if s["optimizer"] in ("momentum", "nesterov") and "momentum" in group:
                group["momentum"] = s["momentum"]

    # -- training --------------------------------------------------------------------------------
    def train(self, epochs, deadline=None):
        """Train until ``epochs`` more epochs are complete, or past ``deadline`` (a
        ``time.perf_counter()`` value, checked after every mini-batch) with the epoch left
        unfinished: the next call goes on where this one stopped, so a large network cannot hold
        a frame (or a worker thread) for long. An epoch is one pass over the training points in
        shuffled mini-batches, as in the exported script. Returns False once diverged.
        """
        n = len(self.train_features)
        net, opt, s = self.net, self.optimizer, self.settings
        batchnorm = net.has_batchnorm
        if n == 0 or self.diverged or (batchnorm and n < 2):
            return not self.diverged
        model, loss_fn = net.model, net.loss
        model.train()
        batch = max(s["batch_size"], 2) if batchnorm else s["batch_size"]  # BN needs two samples
        train_targets = self._train_targets
        reg, rate = s["regularization"], s["regularization_rate"]
        weights = [lin.weight for lin in net.linears()]
        features = self.train_features
        target = self.epoch + epochs
        try:
            while self.epoch < target:
                if self._order is None:
                    self._order = randperm(n, generator=self.shuffle_generator).array
                    self._cursor = 0
                start = self._cursor
                stop = min(start + batch, n)
                if batchnorm and n - stop == 1:
                    stop = n            # fold a last batch of one into this one
                idx = self._order[start:stop]
                out = model(Tensor._make(features[idx]))
                loss = loss_fn(out, Tensor._make(train_targets[idx]))
                opt.zero_grad()
                loss.backward()
                if rate and reg != "none":
                    for w in weights:
                        g = w.grad.array
                        g += rate * (np.sign(w.array) if reg == "L1" else w.array)
                opt.step()
                self.iteration += 1
                self._cursor = stop
                if not np.isfinite(loss.array):
                    return self._diverge()
                if stop >= n:
                    self.epoch += 1
                    self._order = None
                if deadline is not None and time.perf_counter() > deadline:
                    break
        finally:
            self.grad_norms = [float(np.sqrt(np.sum(np.square(w.grad.array, dtype=np.float64))))
                               if w.grad is not None else 0.0 for w in weights]
        if not net.finite():
            return self._diverge()
        return True

    def train_epoch(self):
        """Finish the current epoch (one whole epoch when none is under way)."""
        return self.train(1)

    def _diverge(self):
        self.diverged = True
        self.playing = False
        self.dirty = True
        self._pending.append(notice("diverged", "training diverged: a loss or weight became NaN "
                                                "or infinite; reset, or lower the learning rate"))
        return False

    @property
    def _train_targets(self):
        if self._targets_cache is None or self._targets_cache[0] is not self.net \
                or self._targets_cache[1] != self.net.mode or self._targets_cache[2] is not self.points:
            self._targets_cache = (self.net, self.net.mode, self.points, *self._targets())
        return self._targets_cache[3]

    _targets_cache = None
    _pending = ()

    def advance(self, epochs=None, budget=None):
        """Train ``epochs`` (default: ``epochs_per_frame``) epochs, or for at most ``budget``
        seconds (the server's per-frame limit); returns the notices to send."""
        self._pending = []
        deadline = None if budget is None else time.perf_counter() + budget
        with np.errstate(all="ignore"):   # overflow is reported as divergence, not warnings
            self.train(epochs or self.settings["epochs_per_frame"], deadline)
        self.dirty = True
        return self._pending

    # -- frames ----------------------------------------------------------------------------------
    def frame(self):
        """The frame message for the current state (without ``seq``; the connection adds it)."""
        net, pts = self.net, self.points
        n_out, n_node = len(OUTPUT_GRID), len(NODE_GRID)
        names = self.settings["features"]
        inputs = np.concatenate([D.features(OUTPUT_GRID, names), D.features(NODE_GRID, names),
                                 self.train_features, self.test_features])
        layer_count = len(net.hidden) + 2
        frame = {"type": "frame", "epoch": self.epoch, "iteration": self.iteration,
                 "playing": self.playing, "output_size": OUTPUT_SIZE, "node_size": NODE_SIZE,
                 "diverged": self.diverged}
        if self.diverged:
            flat_out = quantise(np.zeros(n_out))
            nodes = [[quantise(np.zeros(n_node)) for _ in range(len(names))]] + \
                    [[quantise(np.zeros(n_node)) for _ in range(lin.out_features)]
                     for lin in net.linears()]
            output = dict(flat_out, kind=self._output_kind())
            if output["kind"] == "class":
                output["confidence"] = flat_out
            frame.update(train_loss=None, test_loss=None, metrics=self._empty_metrics(),
                         output=output, nodes=nodes)
        else:
            with np.errstate(all="ignore"):
                acts, out = net.capture(inputs)
            probs = probabilities(net.mode, out)
            segments = np.cumsum([0, n_out, n_node, len(pts.train), len(pts.test)])
            part = lambda a, i: a[segments[i]:segments[i + 1]]  # noqa: E731
            frame["output"] = self._output_map(part(probs, 0))
            nodes = [quantise_columns(part(a, 1)) for a in acts]
            node_probs = part(probs, 1)
            nodes.append(quantise_columns(node_probs if node_probs.ndim == 2 else
                                          node_probs[:, None]))
            frame["nodes"] = nodes
            train_t, test_t = self._targets()
            frame["train_loss"] = self._loss(part(out, 2), train_t)
            frame["test_loss"] = self._loss(part(out, 3), test_t)
            frame["metrics"] = self._metrics(part(probs, 2), part(probs, 3))
        assert len(frame["nodes"]) == layer_count
        frame["weights"] = [_rounded(lin.weight.array) for lin in net.linears()]
        frame["biases"] = [_rounded(lin.bias.array) for lin in net.linears()]
        frame["grad_norms"] = [finite_or_none(g) for g in self.grad_norms]
        self.dirty = False
        return frame

    def frame_text(self, seq):
        """The frame numbered ``seq`` as JSON text, ready to send."""
        frame = self.frame()
        frame["seq"] = seq
        return dumps(frame)

    def data_message(self):
        return self.points.message()

    def close(self):
        """Nothing to free beyond the object itself (a worker's session frees its slot)."""

    def _output_kind(self):
        if self.points.problem == "regression":
            return "value"
        return "class" if self.net.mode.startswith("softmax") else "score"

    def _output_map(self, probs):
        kind = self._output_kind()
        discretize = self.settings["discretize"]
        if kind == "score":
            values = np.where(probs >= 0, 1.0, -1.0) if discretize else probs
            return dict(quantise(values, -1.0, 1.0), kind=kind)
        if kind == "class":
            cls = probs.argmax(axis=1)
            conf = np.ones(len(probs)) if discretize else probs.max(axis=1)
            return {"kind": kind, "lo": 0.0, "hi": 255.0,
                    "q": base64.b64encode(cls.astype(np.uint8).tobytes()).decode("ascii"),
                    "confidence": quantise(conf, 0.0, 1.0)}
        labels = np.concatenate([self.points.train_labels, self.points.test_labels])
        lo = min(-1.0, float(labels.min())) if labels.size else -1.0
        hi = max(1.0, float(labels.max())) if labels.size else 1.0
        values = np.where(probs >= 0, 1.0, -1.0) if discretize else np.clip(probs, lo, hi)
        return dict(quantise(values, lo, hi), kind=kind)

    def _loss(self, out, target):
        if len(out) == 0:
            return None
        return finite_or_none(per_example_loss(self.net.mode, out, target).mean())

    def _empty_metrics(self):
        if self.points.problem == "regression":
            return {"train_r2": None, "test_r2": None}
        k = self.points.classes
        return {"train_accuracy": None, "test_accuracy": None,
                "confusion": [[0] * k for _ in range(k)]}

    def _metrics(self, train_probs, test_probs):
        pts, mode = self.points, self.net.mode
        if pts.problem == "regression":
            return {"train_r2": _r2(train_probs, pts.train_labels),
                    "test_r2": _r2(test_probs, pts.test_labels)}
        k = pts.classes
        acc = lambda p, y: finite_or_none(np.mean(predicted_class(mode, p) == y)) \
            if len(y) else None  # noqa: E731
        probs, labels = (test_probs, pts.test_labels) if len(pts.test) else \
            (train_probs, pts.train_labels)
        confusion = np.zeros((k, k), np.int64)
        if len(labels):
            np.add.at(confusion, (labels, np.clip(predicted_class(mode, probs), 0, k - 1)), 1)
        return {"train_accuracy": acc(train_probs, pts.train_labels),
                "test_accuracy": acc(test_probs, pts.test_labels),
                "confusion": confusion.tolist()}

    # -- messages --------------------------------------------------------------------------------
    def hello(self):
        from .presets import preset_list
        from .protocol import LIMITS, PROTOCOL_VERSION, choices
        return {"type": "hello", "protocol": PROTOCOL_VERSION, "settings": self.settings_copy(),
                "presets": preset_list(), "choices": choices(), "limits": dict(LIMITS)}

    def settings_copy(self):
        return copy.deepcopy(self.settings)

    def settings_message(self):
        return {"type": "settings", "settings": self.settings_copy()}

    def handle(self, message):
        """Apply one validated message (``protocol.validate_message``'s output); returns the
        messages to send. A ``ProtocolError`` from a semantic check becomes an ``error`` reply
        and leaves the session as it was."""
        kind, mid = message["type"], message.get("id")
        self._pending = []
        try:
            handler = getattr(self, "_on_" + kind)
            replies = handler(message) or []
        except ProtocolError as e:
            return [error(f"{kind}: {e.message}", e.field, mid)]
        out = []
        for reply in list(self._pending) + replies:
            if reply.get("type") in ("error", "notice", "script", "data_csv", "model",
                                     "backprop"):
                reply["id"] = mid
            out.append(reply)
        return out

    def _on_ack(self, message):
        return []

    def _on_play(self, message):
        if self.diverged:
            raise ProtocolError("the session diverged; reset it first (or lower the learning rate)")
        self.playing = True
        self.dirty = True

    def _on_pause(self, message):
        self.playing = False
        self.dirty = True

    def _on_step(self, message):
        self.playing = False
        self.advance(1)

    def _on_reset(self, message):
        self._reset_network()
        self.playing = False
        return [notice("reset", "network reset")]

    def _on_regenerate(self, message):
        if self.settings["dataset"] == "user":
            raise ProtocolError("your own points cannot be regenerated; pick a generated data set")
        self.regenerations += 1
        self._generate_data()
        self.dirty = True
        return [self.points.message(), notice("data_regenerated", "new data generated")]

    def _on_preset(self, message):
        preset = PRESETS[message["name"]]
        self.settings = copy.deepcopy(preset["settings"])
        self.regenerations = 0
        self.points = None
        self._generate_data()
        self._reset_network()
        self.playing = False
        return [self.settings_message(), self.points.message(),
                notice("preset", f"preset: {preset['title']}")]

    def _on_set(self, message):
        return self.apply_settings(message["settings"])

    # -- settings ------------------------------------------------------------------------------
    def apply_settings(self, patch):
        """Apply a validated partial settings object (PROTOCOL.md, "What a set does mid-run")."""
        old = self.settings
        new = copy.deepcopy(old)
        new.update(copy.deepcopy(patch))
        notes = []
        self._reconcile(old, new, patch, notes)
        data_changed = _data_changed(old, new)
        old_points = self.points
        self.settings = new
        if data_changed:
            if new["seed"] != old["seed"]:
                self.regenerations = 0
            self._generate_data()
        elif new["features"] != old["features"]:
            self._prepare_data()

        net = self.net
        layers_old, layers_new = old["layers"], new["layers"]
        shape_changed = (len(layers_old) != len(layers_new) or any(
            a["units"] != b["units"] or a["batchnorm"] != b["batchnorm"]
            for a, b in zip(layers_old, layers_new)))
        out_changed = _output_units(self.points) != _output_units(old_points) or \
            self.points.problem != old_points.problem
        reset = (shape_changed or out_changed or new["features"] != old["features"]
                 or new["problem"] != old["problem"] or new["init"] != old["init"]
                 or new["seed"] != old["seed"])
        if reset:
            self._reset_network()
            notes.append(notice("reset", RESET_MESSAGE))
        else:
            changed = False
            for i, (a, b) in enumerate(zip(layers_old, layers_new)):
                changed |= net.set_activation(i, b["activation"])
                changed |= net.set_dropout(i, b["dropout"])
            if new["loss"] != old["loss"] or data_changed:
                net.classes = self.points.classes
                net.set_loss(new["loss"], self.points.problem)
            if changed:
                net.compose()
            if new["optimizer"] != old["optimizer"]:
                self.optimizer = self._make_optimizer()
            else:
                self._update_hyperparameters()
        self.dirty = True
        replies = [self.settings_message()]
        if data_changed:
            replies.append(self.points.message())
            if not reset:
                notes.append(notice("data_regenerated", "data changed; the network keeps training"))
        return replies + notes

    def _reconcile(self, old, new, patch, notes):
        """Make problem, dataset and loss agree (PROTOCOL.md, "Consistency rules")."""
        from .protocol import CLASSIFICATION_DATASETS, REGRESSION_DATASETS
        fits = {"classification": CLASSIFICATION_DATASETS, "regression": REGRESSION_DATASETS}
        if "dataset" in patch and "problem" in patch:
            if new["dataset"] not in fits[new["problem"]]:
                raise ProtocolError(f"dataset {new['dataset']!r} is not a {new['problem']} data "
                                    f"set", "settings.dataset")
        elif "problem" in patch and new["problem"] != old["problem"]:
            if new["dataset"] not in fits[new["problem"]] or new["dataset"] == "user":
                new["dataset"] = "circle" if new["problem"] == "classification" else "plane"
                notes.append(notice("dataset_switched", f"data set switched to {new['dataset']} "
                                                        f"for {new['problem']}"))
        elif "dataset" in patch and new["dataset"] not in fits[new["problem"]]:
            new["problem"] = "regression" if new["problem"] == "classification" else \
                "classification"
            notes.append(notice("dataset_switched", f"problem switched to {new['problem']} for "
                                                    f"the {new['dataset']} data set"))
        if new["problem"] == "regression" and new["loss"] == "cross_entropy":
            if patch.get("loss") == "cross_entropy":
                raise ProtocolError("cross_entropy needs a classification problem; use mse for "
                                    "regression", "settings.loss")
            new["loss"] = "mse"
            notes.append(notice("loss_switched", "loss switched to mse for regression"))

    # -- weights ---------------------------------------------------------------------------------
    def _layer(self, layer, path="layer"):
        linears = self.net.linears()
        if not 1 <= layer <= len(linears):
            raise ProtocolError(f"layer must be in 1..{len(linears)} for this network, got {layer}",
                                path)
        return linears[layer - 1]

    def _on_edit_weight(self, message):
        lin = self._layer(message["layer"])
        j, i = message["to"], message["from"]
        if j >= lin.out_features:
            raise ProtocolError(f"to must be < {lin.out_features} in layer {message['layer']}, "
                                f"got {j}", "to")
        if i >= lin.in_features:
            raise ProtocolError(f"from must be < {lin.in_features} in layer {message['layer']}, "
                                f"got {i}", "from")
        lin.weight.array[j, i] = message["value"]
        lin.weight._version += 1
        self.dirty = True

    def _on_edit_bias(self, message):
        lin = self._layer(message["layer"])
        j = message["unit"]
        if j >= lin.out_features:
            raise ProtocolError(f"unit must be < {lin.out_features} in layer {message['layer']}, "
                                f"got {j}", "unit")
        lin.bias.array[j] = message["value"]
        lin.bias._version += 1
        self.dirty = True

    # -- points ----------------------------------------------------------------------------------
    def _become_user_data(self, notes):
        if self.settings["dataset"] != "user":
            self.settings["dataset"] = "user"
            notes.append(notice("dataset_switched", "your own points: the data set is now 'user'"))

    def _points_changed(self, points, notes):
        """Install new points; reset the network when their output size changed."""
        old = self.points
        self.points = points
        self._prepare_data()
        out_changed = points.problem != old.problem or _output_units(points) != _output_units(old)
        if points.problem != self.settings["problem"]:
            self.settings["problem"] = points.problem
            if points.problem == "regression":
                self.settings["loss"] = "mse"
        if out_changed:
            self._reset_network()
            notes.append(notice("reset", RESET_MESSAGE))
        self.dirty = True
        return [self.settings_message(), points.message()] + notes

    def _on_add_point(self, message):
        pts, label = self.points, message["label"]
        if pts.problem == "classification":
            if type(label) is float and label.is_integer():
                label = int(label)
            limit = min(pts.classes, 7)
            if type(label) is not int or not 0 <= label <= limit:
                raise ProtocolError(f"label must be a class 0..{limit} (an int), got {label!r}",
                                    "label")
        elif not -1 <= label <= 1:
            raise ProtocolError(f"label must be a number in -1..1 for regression, got {label!r}",
                                "label")
        notes = []
        self._become_user_data(notes)
        new = pts.copy()
        new.add(message["x1"], message["x2"], label, message.get("split", "train"))
        return self._points_changed(new, notes)

    def _on_delete_point(self, message):
        new = self.points.copy()
        radius = message.get("radius", 0.5)
        if not new.delete_nearest(message["x1"], message["x2"], radius):
            raise ProtocolError(f"no point within {radius:g} of ({message['x1']:g}, "
                                f"{message['x2']:g})")
        notes = []
        self._become_user_data(notes)
        return self._points_changed(new, notes)

    def _on_clear_points(self, message):
        notes = []
        self._become_user_data(notes)
        new = D.empty(self.points.problem)
        new.classes = self.points.classes
        return self._points_changed(new, notes)

    def _on_upload_csv(self, message):
        s = self.settings
        new = D.parse_csv(message["text"], s["problem"], s["train_ratio"], s["seed"])
        notes = []
        self._become_user_data(notes)
        notes.append(notice("points_changed", f"loaded {new.size} points "
                                              f"({len(new.train)} train, {len(new.test)} test)"))
        return self._points_changed(new, notes)

    def _on_get_data_csv(self, message):
        return [{"type": "data_csv", "filename": "playground_data.csv",
                 "text": self.points.to_csv()}]

    # -- exports ---------------------------------------------------------------------------------
    def _on_export_script(self, message):
        return [{"type": "script", "filename": "playground_experiment.py",
                 "text": export_script(self)}]

    def model_bytes(self):
        """The network's state dict as the bytes of a safetensors file (via ``cr.save``)."""
        import json
        from ..io import save
        fd, path = tempfile.mkstemp(suffix=".safetensors")
        os.close(fd)
        try:
            save(self.net.model.state_dict(), path,
                 metadata={"settings": json.dumps(self.settings), "epoch": str(self.epoch)})
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    def _on_save_model(self, message):
        return [{"type": "model", "filename": "playground_model.safetensors",
                 "base64": base64.b64encode(self.model_bytes()).decode("ascii")}]

    # -- backprop --------------------------------------------------------------------------------
    def _on_backprop(self, message):
        from .backprop import backprop_factors
        lin = self._layer(message["layer"])
        j, i = message["to"], message["from"]
        if j >= lin.out_features or i >= lin.in_features:
            raise ProtocolError(f"layer {message['layer']} has weights [{lin.out_features}]"
                                f"[{lin.in_features}], got to={j}, from={i}", "to")
        if len(self.train_features) == 0:
            raise ProtocolError("there are no training points to take the gradient over")
        if self.diverged:
            raise ProtocolError("the session diverged; reset it first")
        reply = backprop_factors(self, message["layer"], j, i)
        return [reply]


def _output_units(points):
    return points.classes if points.problem == "classification" and points.classes > 2 else 1


def _data_changed(old, new):
    """Whether a settings change needs new points (switching to "user" keeps the current ones)."""
    if new["dataset"] == "user":
        return False
    keys = ["dataset", "samples", "noise", "train_ratio", "seed"]
    if new["dataset"] in ("blobs", "spirals"):
        keys.append("classes")
    return any(new[k] != old[k] for k in keys)


def _r2(pred, labels):
    if len(labels) == 0:
        return None
    total = float(np.sum((labels - labels.mean()) ** 2))
    if total == 0:
        return None
    return finite_or_none(1 - float(np.sum((pred - labels) ** 2)) / total)
