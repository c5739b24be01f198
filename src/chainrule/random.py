"""Random numbers: one seed (``manual_seed``) makes every run repeatable.

chainrule draws from NumPy's PCG64. The streams differ from PyTorch's, so tests that compare the two
copy weights across instead of expecting equal random draws.
"""
import numpy as np

_DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers (``torch.Generator``): pass one to DataLoader or random_split."""

    def __init__(self, device="cpu"):
        self._seed = _DEFAULT_SEED
        self.rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
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


default_generator = Generator()


def manual_seed(seed):
    """Seed chainrule's default generator (weights, dropout, shuffling, random tensors)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def rng(generator=None):
    """The NumPy Generator to draw from: ``generator``'s, or the default one."""
    return (generator or default_generator).rng
