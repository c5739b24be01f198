"""``device``: where a tensor lives (``torch.device``)."""


class device:
    """Where a tensor lives. chainrule computes on the CPU (NumPy); CuPy could add 'cuda'."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if type != "cpu":
            raise RuntimeError(f"device: only 'cpu' is available in chainrule, got {type!r}")
        self.type, self.index = type, index

    def __repr__(self):
        return f"device(type='{self.type}')"

    def __str__(self):
        return self.type

    def __eq__(self, other):
        return str(self) == str(other)

    def __hash__(self):
        return hash(self.type)


CPU = device("cpu")   # the device of every tensor
