"""In-place array updates in PyTorch's order of operations.

Each helper writes into its first argument with NumPy ``out=`` arguments, evaluating the same
expression tree as ATen's CPU kernel so float64 trajectories agree with PyTorch's to rounding
(ATen fuses some of these with FMA instructions; NumPy rounds each operation, a difference of
an ulp per step).
"""
import numpy as np


def lerp_(start, end, weight, tmp):
    """``start.lerp_(end, weight)``: ``start + w (end - start)`` for ``w < 0.5``, else
    ``end - (end - start)(1 - w)`` (the form ATen picks for accuracy near each end)."""
    np.subtract(end, start, out=tmp)
    if weight < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        np.subtract(end, tmp, out=start)


def addcmul_(target, a, b, value, tmp):
    """``target.addcmul_(a, b, value)``: ``target + (value a) b``."""
    if value == 1:
        np.multiply(a, b, out=tmp)
    else:
        np.multiply(a, value, out=tmp)
        tmp *= b
    target += tmp


def decay_addcmul_(target, decay, a, value, tmp):
    """``target.mul_(decay).addcmul_(a, a, value)``: the exponential average of squares."""
    target *= decay
    addcmul_(target, a, a, value, tmp)


def addcdiv_(target, a, b, value, tmp):
    """``target.addcdiv_(a, b, value)``: ``target + (value a) / b``."""
    if value == 1:
        np.divide(a, b, out=tmp)
    else:
        np.multiply(a, value, out=tmp)
        tmp /= b
    target += tmp


def add_scaled_(target, a, alpha, tmp):
    """``target.add_(a, alpha=alpha)``: ``target + alpha a`` (``target - |alpha| a`` when
    alpha < 0, which rounds identically)."""
    if alpha == 1:
        target += a
    elif alpha == -1:
        target -= a
    elif alpha < 0:
        np.multiply(a, -alpha, out=tmp)
        target -= tmp
    else:
        np.multiply(a, alpha, out=tmp)
        target += tmp
