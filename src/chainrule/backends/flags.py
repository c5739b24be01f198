"""A namespace of switches that refuses names it does not know, as ``torch.backends``' do.

A typo such as ``cr.backends.cuda.matmul.alow_tf32 = True`` raises instead of silently doing
nothing.
"""


class Flags:
    """Attributes fixed at construction; setting an unknown one raises AttributeError."""

    def __init__(self, name, **defaults):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_known", set(defaults))
        for key, value in defaults.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key, value):
        if key not in self._known:
            raise AttributeError(f"Unknown attribute {key} (cr.backends.{self._name} has "
                                 f"{sorted(self._known)})")
        object.__setattr__(self, key, value)

    def __repr__(self):
        return f"<cr.backends.{self._name} {dict((k, getattr(self, k)) for k in sorted(self._known))}>"
