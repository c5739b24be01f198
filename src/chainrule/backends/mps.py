"""``cr.backends.mps``: Apple's Metal backend (``torch.backends.mps``): not available here."""


def is_available():
    return False


def is_built():
    return False
