"""What every course notebook shares: the quick-mode switch, the course data (with fallbacks for a
clone that has no ../shared/data beside it) and links into the Playground.

Set CHAINRULE_COURSE_QUICK=1 to shrink every experiment to seconds (CI does); set
CHAINRULE_DATA to a folder holding ``mnist/`` and ``tinyshakespeare.txt`` to use your own copy.
"""
import os
import pathlib
import urllib.parse

import numpy as np

QUICK = os.environ.get("CHAINRULE_COURSE_QUICK", "") not in ("", "0")
HERE = pathlib.Path(__file__).resolve().parent


def pick(full, quick):
    """``full`` normally, ``quick`` under CHAINRULE_COURSE_QUICK=1."""
    return quick if QUICK else full


def data_folder():
    """CHAINRULE_DATA, else ``../shared/data`` beside the repository or beside a folder above it
    (a git worktree's checkout sits deeper); None when there is none."""
    candidates = [os.environ.get("CHAINRULE_DATA")]
    candidates += [parent / "shared" / "data" for parent in HERE.parent.parents]
    for folder in candidates:
        if folder and pathlib.Path(folder).is_dir():
            return pathlib.Path(folder)
    return None


# -- digits ------------------------------------------------------------------------------------
# seven-segment strokes (row0, col0, row1, col1) on a 28 x 28 canvas, for the synthetic fallback
_SEGMENTS = {"a": (5, 9, 5, 19), "b": (5, 19, 14, 19), "c": (14, 19, 23, 19), "d": (23, 9, 23, 19),
             "e": (14, 9, 23, 9), "f": (5, 9, 14, 9), "g": (14, 9, 14, 19)}
_DIGITS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]


def synthetic_digits(n, seed=0):
    """``n`` seven-segment digits, randomly shifted, thickened and noised: (N, 1, 28, 28) float32
    in [0, 1] and int64 labels. A stand-in for MNIST where the real files are absent."""
    g = np.random.default_rng(seed)
    labels = g.integers(0, 10, n)
    images = np.zeros((n, 28, 28), np.float32)
    for i, digit in enumerate(labels):
        dr, dc = g.integers(-3, 4, 2)
        width = g.integers(1, 3)
        for seg in _DIGITS[digit]:
            r0, c0, r1, c1 = _SEGMENTS[seg]
            images[i, r0 + dr:r1 + dr + width, c0 + dc:c1 + dc + width] = 1.0
    images = np.clip(images + g.normal(0, 0.15, images.shape), 0, 1).astype(np.float32)
    return images[:, None], labels.astype(np.int64)


def load_digits(n_train, n_test):
    """``(X_train, y_train, X_test, y_test, source)``: MNIST's test set split into its first
    ``n_train`` and last ``n_test`` images, or synthetic digits (with a printed note)."""
    import chainrule as cr
    folder = data_folder()
    if folder is not None and (folder / "mnist").is_dir():
        X, y = cr.datasets.load_mnist(folder / "mnist", train=False)
        return X[:n_train], y[:n_train], X[-n_test:], y[-n_test:], "MNIST"
    print("note: no MNIST files found (../shared/data/mnist or CHAINRULE_DATA); "
          "using synthetic seven-segment digits instead")
    images, labels = synthetic_digits(n_train + n_test)
    X, y = cr.from_numpy(images), cr.from_numpy(labels)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:], "synthetic digits"


# -- text --------------------------------------------------------------------------------------
_FALLBACK_TEXT = """First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?

All:
Resolved. resolved.

First Citizen:
First, you know Caius Marcius is chief enemy to the people.

ROMEO:
But, soft! what light through yonder window breaks?
It is the east, and Juliet is the sun.
"""


def load_text(max_chars=None):
    """``(text, source)``: tiny Shakespeare (its first ``max_chars`` characters), or a few lines
    of it repeated (with a printed note) where the corpus is absent."""
    folder = data_folder()
    path = folder / "tinyshakespeare.txt" if folder is not None else None
    if path is not None and path.exists():
        text = path.read_text(encoding="utf-8")
        return (text[:max_chars] if max_chars else text), "tiny Shakespeare"
    print("note: no tinyshakespeare.txt found (../shared/data or CHAINRULE_DATA); "
          "using a few of its lines, repeated, instead")
    text = _FALLBACK_TEXT * (1 + (max_chars or 20000) // len(_FALLBACK_TEXT))
    return text[:max_chars] if max_chars else text, "the opening lines, repeated"


# -- the Playground ----------------------------------------------------------------------------
def _layer_text(layer):
    # the page's own format (playground/static/state-url.js): units-activation[-dP][-bn]
    text = f"{layer['units']}-{layer['activation']}"
    if layer.get("dropout"):
        text += f"-d{layer['dropout']}"
    if layer.get("batchnorm"):
        text += "-bn"
    return text


def _value_text(key, value):
    if key == "layers":
        return ",".join(_layer_text(layer) for layer in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def playground_link(preset=None, base="http://127.0.0.1:8765/", **changes):
    """The Playground URL whose hash holds a preset's settings (``PRESETS`` in
    chainrule/playground/presets.py), or the defaults, with ``changes`` applied."""
    from chainrule.playground.presets import PRESETS
    from chainrule.playground.protocol import DEFAULT_SETTINGS, full_settings
    settings = dict(PRESETS[preset]["settings"] if preset else DEFAULT_SETTINGS)
    settings.update(changes)
    settings = full_settings(settings)   # a link the page would reject raises here instead
    pairs = [f"{key}={urllib.parse.quote(_value_text(key, v), safe=',-_.!~*()')}"
             for key, v in settings.items()]
    return base + "#" + "&".join(pairs)
