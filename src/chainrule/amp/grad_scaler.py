"""``GradScaler``: dynamic loss scaling for low-precision training (``torch.amp.GradScaler``).

float16 gradients underflow to zero below ~6e-8. The scaler multiplies the loss by a large
factor S before ``backward()`` so that the gradients are S times larger, divides them by S
again before the optimiser steps (``unscale_``), and skips the step when a gradient came out
inf or NaN, halving S. After ``growth_interval`` clean steps in a row it doubles S::

    scaler = cr.amp.GradScaler("cpu")
    scaler.scale(loss).backward()    # grads = S dL/dw
    scaler.step(optimizer)           # grads /= S; step unless one is inf/NaN
    scaler.update()                  # S *= backoff_factor after an inf/NaN, *= growth_factor
                                     # after growth_interval clean steps

With ``enabled=False`` every method passes through (``scale(loss)`` is ``loss``), which is how
scripts written for a GPU run on a CPU. As in PyTorch, ``GradScaler("cuda")`` (the default
device) disables itself with a warning where CUDA is not available.
"""
import enum
import math
import warnings

from ..backend import xp
from ..creation import tensor
from ..device import AVAILABLE_TYPES, device as device_class
from ..tensor import Tensor


class _OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


class GradScaler:
    """Scale the loss, unscale and check the gradients, skip steps that overflowed."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = str(device)
        kind = device_class(self._device).type
        if enabled and kind not in AVAILABLE_TYPES:
            warnings.warn(f"cr.amp.GradScaler is enabled, but {kind!r} is not available "
                          f"(torch.{kind}.amp.GradScaler is enabled, but CUDA is not available). "
                          f"Disabling.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if not self._enabled:
            return
        if not growth_factor > 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
        if not backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be < 1.0, got {backoff_factor}")
        if not (isinstance(growth_interval, int) and growth_interval > 0):
            raise ValueError(f"GradScaler: growth_interval must be a positive int, got "
                             f"{growth_interval!r}")
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer = {}   # id(optimizer) -> {"stage": _OptState, "found_inf": bool}

    def is_enabled(self):
        return self._enabled

    # -- scaling -----------------------------------------------------------------------------
    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples of them) times the scale S."""
        if not self._enabled:
            return outputs
        factor = None

        def times_scale(value):
            nonlocal factor
            if isinstance(value, Tensor):
                if factor is None:
                    factor = tensor(self._scale, dtype="float32")
                return value * factor
            if isinstance(value, (list, tuple)):
                return type(value)(times_scale(v) for v in value)
            raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of "
                             f"Tensors, got {type(value).__name__}")

        return times_scale(outputs)

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer),
                                              {"stage": _OptState.READY, "found_inf": False})

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by S in place and record whether any is inf/NaN.

        Call it before clipping gradients, so the clip sees their true size.
        """
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] is _OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] is _OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = xp.float32(1.0 / self._scale)
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.array
                if g.dtype == xp.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                if not xp.isfinite(g).all():
                    found_inf = True
                xp.multiply(g, inv_scale, out=g, casting="unsafe")
        state["found_inf"] = found_inf
        state["stage"] = _OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless ``unscale_`` ran) and call ``optimizer.step()``, unless a gradient
        was inf/NaN; returns what the step returned, or None when it was skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] is _OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _OptState.READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _OptState.STEPPED
        return result

    def update(self, new_scale=None):
        """Adjust S for the next iteration: back off after an inf/NaN, grow after
        ``growth_interval`` clean steps (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
                self._scale = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            checked = [s for s in self._per_optimizer.values() if s["stage"] is not _OptState.READY]
            if not checked:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in checked):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = self._scale * self._growth_factor
                    if math.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
        # S is kept as float32, as PyTorch's scale tensor is.
        self._scale = float(xp.float32(self._scale))
        self._per_optimizer = {}

    # -- settings and state ------------------------------------------------------------------
    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = int(new_interval)

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
