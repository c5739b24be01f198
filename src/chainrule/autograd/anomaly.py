"""Anomaly mode: stop at the first operation whose forward or backward makes NaN or Inf."""
import numpy as np

from .grad_mode import _ModeContext


class _AnomalyState:
    enabled = False


state = _AnomalyState()


class detect_anomaly(_ModeContext):
    """Context manager (and decorator) that makes the first NaN/Inf-producing operation raise.

    >>> with cr.autograd.detect_anomaly():
    ...     y = (x / 0).sum()   # raises: DivBackward0 forward produced Inf
    """

    _state = state

    def __init__(self, check_nan=True):
        self.check_nan = self.mode = check_nan

    def _fresh(self):
        return detect_anomaly(self.check_nan)


def set_detect_anomaly(mode):
    state.enabled = bool(mode)


def is_anomaly_enabled():
    return state.enabled


def check(op_name, phase, arrays):
    for a in arrays:
        # NumPy ufuncs on 0-d arrays return scalars (np.float64), which must be checked too.
        if not isinstance(a, (np.ndarray, np.generic)) or a.dtype.kind != "f":
            continue
        if not np.isfinite(a).all():
            what = "NaN" if np.isnan(a).any() else "Inf"
            raise RuntimeError(f"detect_anomaly: {op_name} {phase} produced {what} "
                               f"(shape {tuple(a.shape)})")
