"""The same small models built in chainrule and in PyTorch (the two share an API): pass the
framework's ``nn`` module."""


def mlp(nn):
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 4))


def lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def lstm(nn):
    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 12, num_layers=2, batch_first=True)
            self.head = nn.Linear(12, 3)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])
    return LSTMClassifier()


def transformer(nn):
    class TinyTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 16)
            self.layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                                    batch_first=True)
            self.head = nn.Linear(16, 5)

        def forward(self, tokens):
            return self.head(self.layer(self.embed(tokens)))
    return TinyTransformer()


MODELS = {"mlp": (mlp, (5, 8)), "lenet": (lenet, (2, 1, 28, 28)), "lstm": (lstm, (3, 7, 6)),
          "transformer": (transformer, (2, 9))}


def example_input(name, rng, batch=None):
    """A random float32 input (int64 tokens for the transformer) of the model's shape."""
    shape = list(MODELS[name][1])
    if batch is not None:
        shape[0] = batch
    if name == "transformer":
        return rng.integers(0, 20, size=shape).astype("int64")
    return rng.standard_normal(shape).astype("float32")
