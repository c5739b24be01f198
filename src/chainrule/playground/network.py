"""The Playground's network: a ``cr.nn.Sequential`` built from the settings, its initialisation,
loss, and one batched forward pass that captures every layer.

The Sequential is exactly what the exported script builds (``Linear, [BatchNorm1d], activation,
[Dropout]`` per hidden layer, then ``Linear`` and the output activation the loss expects), so the
saved state dict's keys match the script's model. The modules are kept in ``HiddenLayer`` records
so an activation or dropout change recomposes the Sequential around the same weights.
"""
import numpy as np

from .. import nn
from ..autograd import no_grad
from ..backend import device_of, to_device, to_host
from ..compiler import compile as compile_module
from ..nn import functional as F
from ..random import Generator
from ..autograd.tensor_base import make_tensor
from ..ops.dropout import Dropout as DropoutOp

ACTIVATION_MODULES = {"relu": ("ReLU", ()), "tanh": ("Tanh", ()), "sigmoid": ("Sigmoid", ()),
                      "linear": ("Identity", ()), "leakyrelu": ("LeakyReLU", (0.01,)),
                      "elu": ("ELU", (1.0,))}


def activation_module(name):
    cls, args = ACTIVATION_MODULES[name]
    return getattr(nn, cls)(*args)


def activation_source(name):
    cls, args = ACTIVATION_MODULES[name]
    return f"nn.{cls}({', '.join(map(repr, args))})"


def activation_derivative(name, z, a):
    """f'(z) given the pre-activation z and the activation a = f(z) (arrays)."""
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - a * a
    if name == "sigmoid":
        return a * (1 - a)
    if name == "leakyrelu":
        return np.where(z > 0, 1.0, 0.01).astype(z.dtype)
    if name == "elu":
        return np.where(z > 0, 1.0, a + 1).astype(z.dtype)
    return np.ones_like(z)


def output_mode(problem, classes, loss):
    """How the output layer and the loss fit together (PROTOCOL.md, "Output unit and loss")."""
    if problem == "regression":
        return "regression"
    if classes <= 2:
        return "tanh_mse" if loss == "mse" else "sigmoid_bce"
    return "softmax_mse" if loss == "mse" else "softmax_ce"


def output_units(mode, classes):
    return classes if mode.startswith("softmax") else 1


def targets(mode, labels, classes):
    """The array the loss compares the model's output with, for the given labels."""
    if mode == "tanh_mse":
        return np.where(labels > 0, 1.0, -1.0).astype(np.float32)[:, None]
    if mode == "sigmoid_bce":
        return labels.astype(np.float32)[:, None]
    if mode == "softmax_ce":
        return labels.astype(np.int64)
    if mode == "softmax_mse":
        return np.eye(classes, dtype=np.float32)[labels.astype(np.int64)]
    return labels.astype(np.float32)[:, None]


def loss_function(mode):
    """``loss(output, target) -> scalar Tensor`` (mean over the batch) for the mode."""
    if mode == "sigmoid_bce":
        return F.binary_cross_entropy_with_logits
    if mode == "softmax_ce":
        return F.cross_entropy
    return F.mse_loss


def per_example_loss(mode, output, target):
    """The loss of each example (NumPy), whose mean is ``loss_function(mode)``'s value."""
    if mode == "sigmoid_bce":
        z = output[:, 0].astype(np.float64)
        t = target[:, 0]
        return np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    if mode == "softmax_ce":
        z = output.astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(z)), target]
    return ((output.astype(np.float64) - target) ** 2).mean(axis=1)


def probabilities(mode, output):
    """Model output (n, units) -> what the maps and metrics use: score in [-1, 1] for two classes,
    (n, k) class probabilities for k classes, the value for regression."""
    if mode == "tanh_mse":
        return output[:, 0]
    if mode == "sigmoid_bce":
        return 2 / (1 + np.exp(-output[:, 0].astype(np.float64))) - 1
    if mode == "softmax_ce":
        z = output - output.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    if mode == "softmax_mse":
        return output
    return output[:, 0]


def predicted_class(mode, probs):
    if mode in ("tanh_mse", "sigmoid_bce"):
        return (probs >= 0).astype(np.int64)
    return probs.argmax(axis=1)


class SessionDropout(nn.Dropout):
    """``nn.Dropout`` drawing its masks from the network's own generator instead of the global one,
    so a session's masks depend on its seed alone (not on other tabs in the same process) and the
    exported script, which seeds the global generator with the same seed, draws the same masks."""

    def __init__(self, p, generator):
        super().__init__(p)
        self.generator = generator

    def forward(self, input):
        if not self.training or self.p == 0:
            return input
        rng = self.generator.rng
        if device_of(input.array)[0] != "cpu":    # the same host draws as on the CPU, moved over
            rng = _PlacedDraws(rng, device_of(input.array))
        return DropoutOp.apply(input, self.p, input.shape, rng)


class _PlacedDraws:
    """A host generator whose ``random`` draws land on ``device`` (``(type, index)``)."""

    def __init__(self, rng, device):
        self.rng, self.device = rng, device

    def random(self, shape, dtype):
        return to_device(self.rng.random(shape, dtype=dtype), *self.device)


def dropout_seed(seed):
    """The seed of the dropout masks' stream (the initialisation uses ``seed``, the mini-batch
    order ``seed + 1``)."""
    return seed + 2


class Residual(nn.Module):
    """A skip connection around a block of modules: ``x + block(x)`` (the block keeps the width).
    The exported script defines the same class, so the state dict's keys (``1.block.0.weight``)
    match."""

    def __init__(self, *modules):
        super().__init__()
        self.block = nn.Sequential(*modules)

    def forward(self, x):
        return x + self.block(x)


def skip_layers(settings):
    """Which hidden layers add their input to their output: with ``residual`` on, every hidden
    layer after the first that is as wide as the layer before it."""
    layers = settings["layers"]
    return [bool(settings.get("residual")) and i > 0 and layer["units"] == layers[i - 1]["units"]
            for i, layer in enumerate(layers)]


class HiddenLayer:
    """One hidden layer's modules: ``linear``, ``batchnorm`` (or None), ``activation``, ``dropout``
    (or None) and the activation's name."""

    def __init__(self, linear, batchnorm, activation_name, dropout_p, generator):
        self.linear = linear
        self.batchnorm = batchnorm
        self.activation_name = activation_name
        self.activation = activation_module(activation_name)
        self.generator = generator
        self.dropout = SessionDropout(dropout_p, generator) if dropout_p > 0 else None
        self.skip = False           # a residual connection adds this layer's input to its output

    def modules(self):
        return [m for m in (self.linear, self.batchnorm, self.activation, self.dropout)
                if m is not None]


def initialise(linear, scheme, generator, activation="tanh"):
    """Initialise one Linear: ``uniform`` (the original playground: W ~ U(-0.5, 0.5), b = 0.1),
    ``xavier`` (Glorot uniform, b = 0), ``he`` (Kaiming normal for ReLU, b = 0), ``zeros``."""
    with no_grad():
        if scheme == "uniform":
            nn.init.uniform_(linear.weight, -0.5, 0.5, generator=generator)
            nn.init.constant_(linear.bias, 0.1)
        elif scheme == "xavier":
            nn.init.xavier_uniform_(linear.weight, generator=generator)
            nn.init.zeros_(linear.bias)
        elif scheme == "he":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu", generator=generator)
            nn.init.zeros_(linear.bias)
        else:
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)


class Network:
    """The model of one session plus what the Playground needs to see inside it. The model
    lives on ``device``; what ``capture`` returns is on the host."""

    def __init__(self, settings, classes, problem, device="cpu"):
        self.device = device
        self.feature_names = list(settings["features"])
        self.mode = output_mode(problem, classes, settings["loss"])
        self.classes = classes
        generator = Generator().manual_seed(settings["seed"])
        masks = Generator().manual_seed(dropout_seed(settings["seed"]))
        self.hidden = []
        width = len(self.feature_names)
        for spec in settings["layers"]:
            linear = nn.Linear(width, spec["units"])
            initialise(linear, settings["init"], generator)
            bn = nn.BatchNorm1d(spec["units"]) if spec["batchnorm"] else None
            self.hidden.append(HiddenLayer(linear, bn, spec["activation"], spec["dropout"],
                                           masks))
            width = spec["units"]
        for layer, skip in zip(self.hidden, skip_layers(settings)):
            layer.skip = skip
        self.output = nn.Linear(width, output_units(self.mode, classes))
        initialise(self.output, settings["init"], generator)
        self.compose()
        self.model.to(device)      # in place: the HiddenLayer records share these modules

    # -- structure -------------------------------------------------------------------------------
    def compose(self):
        """(Re)build the Sequential from the current modules (same weights)."""
        modules = []
        for layer in self.hidden:
            if layer.skip:
                modules.append(Residual(*layer.modules()))
            else:
                modules.extend(layer.modules())
        modules.append(self.output)
        if self.mode == "tanh_mse":
            modules.append(nn.Tanh())
        elif self.mode == "softmax_mse":
            modules.append(nn.Softmax(dim=1))
        self.model = nn.Sequential(*modules)
        # the training steps' forward, replayed (cr.compile): the same numbers, ~10% less time
        # per frame for the small networks here; capture() and exports use the model itself
        self.compiled = compile_module(self.model)
        self.loss = loss_function(self.mode)

    @property
    def has_batchnorm(self):
        return any(layer.batchnorm is not None for layer in self.hidden)

    def linears(self):
        return [layer.linear for layer in self.hidden] + [self.output]

    def set_activation(self, index, name):
        layer = self.hidden[index]
        if layer.activation_name != name:
            layer.activation_name = name
            layer.activation = activation_module(name)
            return True
        return False

    def set_dropout(self, index, p):
        layer = self.hidden[index]
        if p == 0:
            changed = layer.dropout is not None
            layer.dropout = None
        elif layer.dropout is None:
            layer.dropout, changed = SessionDropout(p, layer.generator), True
        else:
            changed = False
            layer.dropout.p = p
        return changed

    def set_loss(self, loss, problem):
        mode = output_mode(problem, self.classes, loss)
        if mode != self.mode:
            self.mode = mode
            self.compose()

    # -- evaluation ------------------------------------------------------------------------------
    def capture(self, inputs):
        """One eval-mode forward pass of ``inputs`` (n, features) float32, keeping every layer.

        Returns ``(activations, output)``: ``activations[l]`` is layer l's output (l = 0: the
        features, then each hidden layer after batch norm, activation and any skip
        connection), ``output`` the model's
        output (what the loss takes). Nothing is recorded for autograd.
        """
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                x = make_tensor(inputs).to(self.device)
                acts = [inputs]
                for layer in self.hidden:
                    skipped = x
                    x = layer.linear(x)
                    if layer.batchnorm is not None:
                        x = layer.batchnorm(x)
                    x = layer.activation(x)
                    if layer.skip:
                        x = x + skipped
                    acts.append(to_host(x.array))
                out = self.output(x)
                if self.mode == "tanh_mse":
                    out = out.tanh()
                elif self.mode == "softmax_mse":
                    out = F.softmax(out, dim=1)
                return acts, to_host(out.array)
        finally:
            self.model.train(was_training)

    def finite(self):
        return all(np.isfinite(to_host(p.array)).all() for p in self.model.parameters())
