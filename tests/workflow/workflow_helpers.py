"""Small models and losses for the workflow tests, built only from Linear and tensor methods."""
import os

import chainrule as cr
from chainrule import nn

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
MNIST_DIR = os.path.join(SHARED, "mnist")
SHAKESPEARE = os.path.join(SHARED, "tinyshakespeare.txt")


class TinyMLP(nn.Module):
    def __init__(self, n_in=2, hidden=8, n_out=2):
        super().__init__()
        self.hidden = nn.Linear(n_in, hidden)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.out(self.hidden(x).tanh())


def cross_entropy(output, target):
    return -output.log_softmax(1).gather(1, target[:, None]).mean()


def mse(output, target):
    return ((output.reshape(target.shape) - target) ** 2).mean()
