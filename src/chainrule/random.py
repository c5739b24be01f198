"""Random numbers: one seed (``manual_seed``) makes every run repeatable.

chainrule draws from NumPy's PCG64. The streams differ from PyTorch's, so tests that compare the two
copy weights across instead of expecting equal random draws.
"""
import weakref

import numpy as np

from .backend import device_of, is_device_array, module_for

_DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers (``torch.Generator``): pass one to DataLoader or random_split."""

    def __init__(self, device="cpu"):
        self._seed = _DEFAULT_SEED
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        generators.add(self)

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
        if self is default_generator:
            _device_generators.clear()     # torch.manual_seed seeds every device too
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The generator's state as plain data (JSON-serialisable, for checkpoints)."""
        st = self.rng.bit_generator.state
        return {"bit_generator": st["bit_generator"], "state": {k: int(v) for k, v in st["state"].items()},
                "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"]),
                "seed": self._seed}

    def set_state(self, state):
        st = dict(state)
        self._seed = st.pop("seed", self._seed)
        self.rng.bit_generator.state = st
        return self


# every Generator alive: cr.compile's replay finds the one an op drew from (``g.rng`` is
# replaced by ``manual_seed``, so the replay asks the Generator, not the NumPy object)
generators = weakref.WeakSet()

default_generator = Generator()


def manual_seed(seed):
    """Seed chainrule's default generator (weights, dropout, shuffling, random tensors) and
    every device's."""
    _device_seeds.clear()
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def rng(generator=None, like=None):
    """The Generator to draw from: ``generator``'s, else the default one; for arrays ``like`` a
    device array, the generator of that array's device (CuPy's, drawing on the GPU)."""
    if generator is None and like is not None and is_device_array(like):
        return device_rng(*device_of(like))
    return (generator or default_generator).rng


# (device type, index) -> that device's Generator; made on first use from the default seed
_device_generators = {}


def device_rng(device_type, index=None):
    """The generator of a device (``cuda:0``): its array module's ``random.default_rng``,
    seeded by ``manual_seed`` (or ``cr.cuda.manual_seed``) as PyTorch seeds CUDA's."""
    key = (device_type, index or 0)
    g = _device_generators.get(key)
    if g is None:
        seed = _device_seeds.get(device_type, default_generator.initial_seed())
        g = _device_generators[key] = module_for(device_type).random.default_rng(seed)
    return g


_device_seeds = {}   # set by seed_device; otherwise a device follows manual_seed


def seed_device(device_type, seed):
    """Seed every generator of ``device_type`` (``cr.cuda.manual_seed_all``)."""
    _device_seeds[device_type] = int(seed)
    for key in [k for k in _device_generators if k[0] == device_type]:
        del _device_generators[key]
