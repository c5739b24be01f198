"""A Playground session: one browser tab's data, network, trainer and display state.

``Session.handle(message)`` applies one validated page message (``handlers.py``) and returns the
messages to send back (settings, data, notices, replies); ``advance()`` trains one frame's worth
of epochs (``training.py``); ``frame()`` builds the frame the page draws (``frames.py``). Flow
control and threading live in ``server.py``; this class is plain synchronous code, so the tests
drive it directly.
"""
import copy
import time

import numpy as np

from . import data
from .diagnosis import stall_message, stalled
from .frames import build_frame
from .handlers import handle
from .network import Network, targets
from .presets import preset_list
from .protocol import DEFAULT_SETTINGS, LIMITS, PROTOCOL_VERSION, choices, dumps, notice
from .training import Trainer

DIVERGED_MESSAGE = ("training diverged: a loss or weight became NaN or infinite; reset, or lower "
                    "the learning rate")


class Session:
    """Everything one tab trains and shows. Not thread-safe: one caller at a time.

    ``settings`` (the protocol's full settings), ``points`` with their feature matrices
    ``train_features`` / ``test_features``, the ``net`` and its ``trainer`` (optimiser, epoch,
    mini-batch order), the three flags the connection reads: ``playing``, ``dirty``
    (something changed that a frame should show) and ``diverged``, and ``stalled`` (the
    "training stalled" notice was sent, ``diagnosis.py``).
    """

    def __init__(self, settings=None):
        self.settings = copy.deepcopy(DEFAULT_SETTINGS)
        if settings:
            self.settings.update(copy.deepcopy(settings))
        self.playing = False
        self.diverged = False
        self.dirty = True
        self.regenerations = 0      # how often "regenerate" drew new points from the same seed
        self.points = None
        self.trainer = None         # reset_network makes it, once there are points to size it
        self._targets_cache = None
        self.generate_data()
        self.reset_network()

    @property
    def epoch(self):
        return self.trainer.epoch

    @property
    def iteration(self):
        return self.trainer.iteration

    # -- data and network ------------------------------------------------------------------------
    def generate_data(self):
        """New points from the settings (the user's own points are kept), and their features."""
        s = self.settings
        if s["dataset"] == "user":
            if self.points is None:
                self.points = data.empty(s["problem"])
        else:
            self.points = data.generate(s, data.data_seed(s["seed"], self.regenerations))
        self.prepare_data()

    def prepare_data(self):
        """Feature matrices for the current points and features; an epoch under way restarts."""
        names = self.settings["features"]
        self.train_features = data.features(self.points.train, names)
        self.test_features = data.features(self.points.test, names)
        if self.trainer is not None:
            self.trainer.restart_epoch()

    def reset_network(self):
        """A freshly initialised network from the settings, and a trainer at epoch 0."""
        self.net = Network(self.settings, self.points.classes, self.points.problem)
        self.trainer = Trainer(self.net, self.settings)
        self.diverged = False
        self.stalled = False        # a "stalled" notice was sent; cleared when gradients return
        self.dirty = True

    def targets(self):
        """``(train, test)``: what the loss compares the network's output with on each split."""
        mode, k = self.net.mode, self.points.classes
        return (targets(mode, self.points.train_labels, k),
                targets(mode, self.points.test_labels, k))

    def train_targets(self):
        """``targets()[0]``, kept until the network, its output mode or the points change."""
        cache = self._targets_cache
        if cache is None or cache[0] is not self.net or cache[1] != self.net.mode \
                or cache[2] is not self.points:
            self._targets_cache = cache = (self.net, self.net.mode, self.points, self.targets()[0])
        return cache[3]

    # -- training --------------------------------------------------------------------------------
    def advance(self, epochs=None, budget=None):
        """Train ``epochs`` (default: ``epochs_per_frame``) epochs, or for at most ``budget``
        seconds (the server's per-frame limit); returns the notices to send."""
        deadline = None if budget is None else time.perf_counter() + budget
        notices = []
        if not self.diverged:
            with np.errstate(all="ignore"):   # overflow is reported as divergence, not warnings
                finite = self.trainer.train(self.train_features, self.train_targets(),
                                            self.settings,
                                            epochs or self.settings["epochs_per_frame"], deadline)
            if not finite:
                self.diverged = True
                self.playing = False
                notices.append(notice("diverged", DIVERGED_MESSAGE))
            elif not stalled(self.trainer):
                self.stalled = False
            elif not self.stalled:
                message = stall_message(self)
                if message:
                    self.stalled = True
                    notices.append(notice("stalled", message))
        self.dirty = True
        return notices

    # -- messages --------------------------------------------------------------------------------
    def handle(self, message):
        """Apply one validated message (``protocol.validate_message``'s output); returns the
        messages to send. A ``ProtocolError`` from a semantic check becomes an ``error`` reply
        and leaves the session as it was."""
        return handle(self, message)

    def frame(self):
        """The frame message for the current state (without ``seq``; the connection adds it)."""
        frame = build_frame(self)
        self.dirty = False
        return frame

    def frame_text(self, seq):
        """The frame numbered ``seq`` as JSON text, ready to send."""
        frame = self.frame()
        frame["seq"] = seq
        return dumps(frame)

    def hello(self):
        return {"type": "hello", "protocol": PROTOCOL_VERSION, "settings": self.settings_copy(),
                "presets": preset_list(), "choices": choices(), "limits": dict(LIMITS)}

    def data_message(self):
        return self.points.message()

    def settings_copy(self):
        return copy.deepcopy(self.settings)

    def settings_message(self):
        return {"type": "settings", "settings": self.settings_copy()}

    def close(self):
        """Nothing to free beyond the object itself (a worker's session frees its slot)."""
