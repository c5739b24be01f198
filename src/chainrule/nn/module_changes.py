"""A count of the changes made to any module's structure: its attributes, children,
parameters, buffers and forward hooks.

``cr.compile`` replays a recording only while the modules it ran are as they were. Comparing
every module's attributes and tables before each replay took a fifth of a small model's
replayed training step (W1: 8 of 62 us); so ``Module.__setattr__``/``__delattr__`` and the
tables themselves (``WatchedDict``, which containers and hook handles edit directly) add one
to this count, and a guard compares the whole state only when the count has moved since it
last held. A change made behind them (``module.__dict__[name] = value``) is not counted.
"""

_count = [0]


def changes():
    """How many structural changes any module has seen in this process."""
    return _count[0]


def _changed():
    _count[0] += 1


class WatchedDict(dict):
    """A module's table of parameters, buffers, children or hooks: a dict whose every edit is
    counted (reads are the plain dict's)."""

    __slots__ = ()

    def __setitem__(self, key, value):
        _count[0] += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        _count[0] += 1
        dict.__delitem__(self, key)

    def __ior__(self, other):
        _count[0] += 1
        return dict.__ior__(self, other)

    def pop(self, *args):
        _count[0] += 1
        return dict.pop(self, *args)

    def popitem(self):
        _count[0] += 1
        return dict.popitem(self)

    def clear(self):
        _count[0] += 1
        dict.clear(self)

    def update(self, *args, **kwargs):
        _count[0] += 1
        dict.update(self, *args, **kwargs)

    def setdefault(self, key, default=None):
        _count[0] += 1
        return dict.setdefault(self, key, default)

    def __reduce__(self):      # pickled and copied as a plain dict's items
        return (type(self), (), None, None, iter(self.items()))
