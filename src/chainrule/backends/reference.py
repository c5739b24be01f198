"""The reference switch.

Ops with a fast path (a reshaped layout, a fused kernel, a cheaper formula) keep beside it a
reference twin whose forward and backward are the lecture's formula written out literally, as
PyTorch keeps ``_single_tensor_adam`` beside its fused Adam. Both are tested equal; this switch
says which one the ops take.
"""
import contextlib
import os


class ReferenceState:
    """Whether ops take their reference path (one process-wide flag, like ``no_grad``'s).

    The ops do not read it on every call: they register with ``on_change`` and are told when
    it flips (``chainrule.ops.base`` then points each op's ``apply`` at one path or the other).
    """

    def __init__(self):
        self.enabled = os.environ.get("CHAINRULE_REFERENCE", "0").strip().lower() not in (
            "", "0", "false", "no", "off")
        self._listeners = []

    def on_change(self, listener):
        """Call ``listener(enabled)`` now and whenever the switch changes."""
        self._listeners.append(listener)
        listener(self.enabled)

    def set(self, enabled):
        self.enabled = bool(enabled)
        for listener in self._listeners:
            listener(self.enabled)


state = ReferenceState()


def is_reference_enabled():
    """True while ops take their reference paths."""
    return state.enabled


@contextlib.contextmanager
def reference(enabled=True):
    """Within the block, every op with a fast path takes its reference path instead::

        with cr.backends.reference():
            loss = model(x).sum()     # im2col convolution, the LSTM's gate equations ...
            loss.backward()           # ... and their backward as written in the lecture

    A graph built under the switch also runs its backward on the reference path (the node is
    the reference op), wherever ``backward()`` is called. ``reference(False)`` forces the fast
    paths inside a reference block or under ``CHAINRULE_REFERENCE=1``.
    """
    previous = state.enabled
    state.set(enabled)
    try:
        yield
    finally:
        state.set(previous)
