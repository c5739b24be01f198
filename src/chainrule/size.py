"""``Size``: the shape of a tensor (``torch.Size``)."""


class Size(tuple):
    """The shape of a tensor: a tuple of ints (``torch.Size``)."""

    def __repr__(self):
        return f"chainrule.Size([{', '.join(map(str, self))}])"

    def numel(self):
        """The number of elements of a tensor of this shape: the product of the sizes."""
        n = 1
        for s in self:
            n *= s
        return n
