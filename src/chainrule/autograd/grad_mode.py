"""Grad mode: whether operations record the graph. Separate from a Module's train/eval mode."""
import functools
import threading


class _GradState(threading.local):
    # Thread-local, as in PyTorch: one thread evaluating under no_grad must not switch
    # off recording for another thread that trains.
    enabled = True


state = _GradState()


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return state.enabled


class _ModeContext:
    """Sets the flag ``_state.enabled`` to ``mode`` for the duration of a ``with`` block, or of
    each call of a function it decorates, then restores the previous value.

    Base of no_grad / enable_grad / set_grad_enabled (grad mode's ``state``) and of
    ``detect_anomaly`` (anomaly mode's)."""

    _state = state
    mode = True

    def __enter__(self):
        self._prev = self._state.enabled
        self._state.enabled = self.mode

    def __exit__(self, *exc):
        self._state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        """A new context like this one, for one call of a decorated function."""
        return type(self)()


class no_grad(_ModeContext):
    """Context manager and decorator that stops recording the graph (inference, optimiser steps)."""

    mode = False


class enable_grad(_ModeContext):
    """Context manager and decorator that turns recording back on inside ``no_grad``."""

    mode = True


class set_grad_enabled(_ModeContext):
    """``set_grad_enabled(False)`` switches recording off at once; also usable with ``with``."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = state.enabled
        state.enabled = self.mode

    def __enter__(self):
        pass

    def _fresh(self):
        return set_grad_enabled(self.mode)


class inference_mode(no_grad):
    """Alias of ``no_grad`` (PyTorch's faster variant; here the two are the same)."""

    def __init__(self, mode=True):
        self.mode = not mode

    def _fresh(self):
        return inference_mode(not self.mode)
