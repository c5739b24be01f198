"""The array module switch. Every op computes with ``xp``; today that is NumPy.

A CuPy backend would make ``array_module`` return ``cupy`` for device arrays, as Chainer does;
nothing else in the ops needs to change, because none of them names NumPy directly for maths.
"""
import numpy

xp = numpy


def array_module(array):
    """The array library that owns ``array`` (NumPy for every array chainrule makes today)."""
    return numpy
