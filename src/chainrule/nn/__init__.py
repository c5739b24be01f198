"""``cr.nn``: modules, layers, activations, losses, initialisation (``torch.nn``)."""
from . import functional, init
from .parameter import Buffer, Parameter
from .module import Module
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Identity, Linear
