"""The examples' ``--device`` option: where to train (default: cuda when available, else cpu)."""
import argparse

import chainrule as cr


def default_device():
    """``"cuda"`` where chainrule sees a GPU (CuPy installed), else ``"cpu"``."""
    return cr.accelerator.current_accelerator().type if cr.accelerator.is_available() else "cpu"


def checked_device(name):
    """``name`` as a device, or an argparse error saying why it cannot be used here."""
    try:
        device = cr.device(name)
    except (RuntimeError, ValueError, TypeError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if device.type == "cuda" and not cr.cuda.is_available():
        raise argparse.ArgumentTypeError(
            f"--device {name}: CUDA is not available here (needs a GPU and CuPy: "
            f"pip install 'chainrule[cuda]')")
    return device.type if device.index is None else str(device)


def add_device_option(parser):
    parser.add_argument("--device", type=checked_device, default=default_device(),
                        help="where to train: cpu or cuda (default: cuda when available)")
