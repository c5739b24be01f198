"""``device``: where a tensor lives (``torch.device``), and which device types can hold tensors.

``cr.device("cuda:1")`` parses, compares and prints as PyTorch's does for every device type
PyTorch names, but a tensor can only be made on a type in ``AVAILABLE_TYPES``. Today that is
``cpu`` alone (NumPy); a CUDA backend enables ``cuda`` with ``register_device_type("cuda")``, and
asking for a type that is not enabled raises the error PyTorch's CPU build raises.
"""
import builtins

# PyTorch's device types, in the order its parser lists them.
KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
               "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
               "privateuseone")

AVAILABLE_TYPES = {"cpu"}

# device type -> a function that tries to enable it on first request (cupy_backend.enable)
ENABLERS = {}


def register_device_type(type):
    """Enable tensors on ``type`` (a backend calls this once it can allocate there)."""
    if type not in KNOWN_TYPES:
        raise ValueError(f"register_device_type: {type!r} is not one of {KNOWN_TYPES}")
    AVAILABLE_TYPES.add(type)


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda:1")``, ``device("cuda", 0)``.

    Equal when type and index are equal (``device("cpu") != device("cpu", 0)``, and a device
    never equals a string), as in PyTorch.
    """

    __slots__ = ("type", "index")

    def __init__(self, type=None, index=None):
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: an index cannot be given with a device object")
            type, index = type.type, type.index
        elif isinstance(type, builtins.int) and not isinstance(type, builtins.bool):
            raise RuntimeError(f"device({type}): a bare index means an accelerator device, and "
                               f"none is available (cr.accelerator.is_available() is False)")
        elif not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got "
                            f"{builtins.type(type).__name__}")
        else:
            type, parsed = _parse(type)
            if parsed is not None:
                if index is not None:
                    raise RuntimeError(f"device: type {type + ':' + str(parsed)!r} already has "
                                       f"an index; got index={index} as well")
                index = parsed
        if index is not None:
            if not isinstance(index, builtins.int) or isinstance(index, builtins.bool):
                raise TypeError(f"device: index must be an int, got {builtins.type(index).__name__}")
            if index < 0:
                raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = type, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """``with cr.device("cpu"):`` makes this the default device inside the block."""
        previous = _default
        set_default_device(self)
        _entered.append(previous)
        return self

    def __exit__(self, *exc):
        global _default
        _default = _entered.pop()
        return False


def _parse(text):
    name, colon, number = text.partition(":")
    if name not in KNOWN_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(KNOWN_TYPES)} device type at start of "
                           f"device string: {text}")
    if not colon:
        return name, None
    if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
        raise RuntimeError(f"Invalid device string: {text!r}")
    return name, builtins.int(number)


def check_available(dev, op="tensor"):
    """The device ``dev`` names (a string, a device or None for the default), after checking
    tensors can live there; raise PyTorch's error for a device type that is not enabled."""
    d = default_device() if dev is None else (dev if isinstance(dev, device) else device(dev))
    if d.type in AVAILABLE_TYPES:
        return d
    if d.type == "cuda":
        enable = ENABLERS.get("cuda")   # cupy_backend.enable: imports CuPy now, if installed
        if enable is not None and enable():
            return d
        # PyTorch's CPU build raises exactly this (an AssertionError) for any CUDA tensor.
        raise AssertionError(f"Torch not compiled with CUDA enabled: {op} on {str(d)!r} needs a "
                             f"CUDA backend, and chainrule here computes on the CPU only "
                             f"(cr.cuda.is_available() is False); use device='cpu'")
    raise NotImplementedError(f"{op}: no backend for device {str(d)!r} in chainrule; tensors can "
                              f"live on {sorted(AVAILABLE_TYPES)}")


CPU = device("cpu")   # the device of every tensor today

_default = None   # set by set_default_device; None means the CPU
_entered = []     # the defaults that ``with device(...)`` blocks replaced, innermost last


def default_device():
    return _default or CPU


def get_default_device():
    """The device factories use when ``device=`` is not given (``torch.get_default_device``)."""
    return default_device()


def set_default_device(device_):
    """Make factories (``cr.zeros``, ``cr.tensor`` ...) put new tensors on ``device_``
    (``None`` restores the CPU), as ``torch.set_default_device``. Raises for a device that
    cannot hold tensors here, as PyTorch's CPU build does at the first factory call."""
    global _default
    if device_ is None:
        _default = None
        return
    _default = check_available(device_, "set_default_device")
