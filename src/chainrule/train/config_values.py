"""Checks of the values in a training config: numbers, enumerated choices, close-match suggestions.

Each failed check is a ``ConfigError`` naming the key, the value and what is allowed, raised
while the config is read, before any training.
"""
import difflib
import inspect
import numbers


class ConfigError(ValueError):
    """A problem in a training configuration; ``key`` is where ("model.layers[2].out")."""

    def __init__(self, key, message):
        self.key = key
        super().__init__(f"config error at {key!r}: {message}")


# -- close matches -------------------------------------------------------------------------------
def edit_distance(a, b):
    """Edits (insert, delete, substitute, swap two neighbours) turning ``a`` into ``b``: the
    optimal-string-alignment distance, so that a swapped pair ("Adma" -> "Adam") counts one."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def closest(word, choices):
    """The choice ``word`` most likely misspells, or None: fewest edits ignoring case (at most a
    third of the word's length, and at least one allowed), else difflib's closest match."""
    word, choices = str(word), [str(c) for c in choices]
    if not choices:
        return None
    best = min(choices, key=lambda c: (edit_distance(word.lower(), c.lower()),
                                       -difflib.SequenceMatcher(None, word, c).ratio()))
    if edit_distance(word.lower(), best.lower()) <= max(1, len(word) // 3):
        return best
    close = difflib.get_close_matches(word, choices, n=1)
    return close[0] if close else None


def suggest(word, choices):
    """" (did you mean 'Adam'?)" for a misspelt choice, else ""."""
    close = closest(word, choices)
    return f" (did you mean {close!r}?)" if close is not None else ""


def check_choice(value, choices, where, what="value"):
    if value not in choices:
        raise ConfigError(where, f"unknown {what} {value!r}{suggest(value, choices)}; accepted: "
                                 f"{sorted(choices)}")
    return value


# -- numbers -------------------------------------------------------------------------------------
def _described(value):
    return f"{value!r} (a {'string' if isinstance(value, str) else type(value).__name__})"


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(value, where, integer=False, minimum=None, above=None):
    """``value`` if it is a number (an integer with ``integer``) >= minimum / > above."""
    kind = "an integer" if integer else "a number"
    if not (isinstance(value, numbers.Integral) if integer else is_number(value)) \
            or isinstance(value, bool):
        raise ConfigError(where, f"must be {kind}, got {_described(value)}")
    if minimum is not None and value < minimum:
        raise ConfigError(where, f"must be {kind} >= {minimum}, got {value!r}")
    if above is not None and value <= above:
        raise ConfigError(where, f"must be {kind} > {above}, got {value!r}")
    return value


def check_bool(value, where):
    if not isinstance(value, bool):
        raise ConfigError(where, f"must be true or false, got {_described(value)}")
    return value


# -- the arguments of optimizers, schedulers and callbacks -----------------------------------------
# String options whose accepted values the signature cannot tell.
CHOICES = {"mode": {"ReduceLROnPlateau": ("min", "max"), "EarlyStopping": ("min", "max", "auto"),
                    "CyclicLR": ("triangular", "triangular2", "exp_range")},
           "threshold_mode": {"ReduceLROnPlateau": ("rel", "abs")},
           "scale_mode": {"CyclicLR": ("cycle", "iterations")},
           "anneal_strategy": {"OneCycleLR": ("cos", "linear")}}
# Counts (epochs, steps), whose values must be whole numbers.
INTEGER_ARGUMENTS = {"patience", "step_size", "total_iters", "T_max", "T_0", "T_mult", "cooldown",
                     "step_size_up", "step_size_down", "total_steps", "epochs", "steps_per_epoch",
                     "last_epoch", "milestones"}
# Arguments that take one number per parameter group as well as one for all.
PER_GROUP_ARGUMENTS = {"min_lr", "max_lr", "base_lr", "base_momentum", "max_momentum",
                       "milestones"}


def check_argument_types(cls, kwargs, where):
    """Check each of ``kwargs`` against ``cls``'s signature: a number where the default is one
    (or where there is no default), true/false where it is a bool, a list of numbers where it is
    a tuple, and one of the known choices where it is a string."""
    params = inspect.signature(cls.__init__).parameters
    for name, value in kwargs.items():
        default = params[name].default
        key, integer = f"{where}.{name}", name in INTEGER_ARGUMENTS
        if isinstance(default, bool):
            check_bool(value, key)
        elif isinstance(default, str):
            if not isinstance(value, str):
                raise ConfigError(key, f"must be a string, got {_described(value)}")
            choices = CHOICES.get(name, {}).get(cls.__name__)
            if choices is not None:
                check_choice(value, choices, key)
        elif isinstance(default, tuple):
            if not isinstance(value, list) or len(value) != len(default):
                raise ConfigError(key, f"must be a list of {len(default)} numbers like "
                                       f"{list(default)}, got {_described(value)}")
            for i, v in enumerate(value):
                check_number(v, f"{key}[{i}]")
        elif isinstance(value, list) and (name in PER_GROUP_ARGUMENTS):
            for i, v in enumerate(value):
                check_number(v, f"{key}[{i}]", integer)
        elif is_number(default) or default is inspect.Parameter.empty or default is None:
            if default is None and isinstance(value, bool):
                continue  # foreach = true, fused = false
            check_number(value, key, integer)
