# %% [markdown]
# # 10. Recurrent networks
#
# A **recurrent** network reads a sequence one step at a time, carrying a **hidden state**:
# $h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b)$. Trained to predict the next character, it
# becomes a **language model**; **sampling** from its softmax one character at a time writes
# new text, and dividing the scores by a **temperature** $T$ before the softmax trades safety
# ($T < 1$) for variety ($T > 1$). Backpropagation **through time** multiplies by $W_{hh}$ and
# the tanh's derivative at every step back, so gradients from far in the past **vanish**; the
# **LSTM**'s additive cell state makes them fade more slowly.

# %%
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from course_helpers import pick, load_text
import matplotlib.pyplot as plt

cr.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The data: characters as integers

# %%
text, source = load_text(pick(300_000, 20_000))
corpus = cr.datasets.TextCorpus(text=text, seq_len=64)
data = corpus.ids
print(f"{source}: {len(text):,} characters, a vocabulary of {corpus.vocab_size} symbols")
print(repr(text[:80]))


class CharLSTM(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, 32)
        self.lstm = nn.LSTM(32, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.head(h), state


def batch(seq=64, size=32):
    starts = rng.integers(0, len(data) - seq - 1, size)
    chunk = data[starts[:, None] + np.arange(seq + 1)]
    return cr.from_numpy(chunk[:, :-1].copy()), cr.from_numpy(chunk[:, 1:].copy())

# %% [markdown]
# ## Training: the loss in nats per character
# Before training the model guesses uniformly, a loss of $\log(\text{vocabulary})$.

# %%
model = CharLSTM(corpus.vocab_size, hidden=pick(128, 32))
opt = cr.optim.Adam(model.parameters(), lr=5e-3)
STEPS = pick(250, 20)
losses = []
from tqdm.auto import tqdm
for step in tqdm(range(STEPS), desc="training"):
    x, t = batch()
    logits, _ = model(x)
    loss = F.cross_entropy(logits.reshape(-1, corpus.vocab_size), t.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    losses.append(loss.item())
print(f"log(vocabulary) = {np.log(corpus.vocab_size):.3f}; loss at the start {losses[0]:.3f}, "
      f"after {STEPS} steps {np.mean(losses[-10:]):.3f}")
plt.figure(figsize=(6, 3))
plt.plot(losses)
plt.xlabel("step")
plt.ylabel("cross-entropy (nats/char)")
plt.show()

# %% [markdown]
# ## Sampling with temperature

# %%
def sample(prompt, length, temperature):
    model.eval()
    ids = corpus.encode(prompt).reshape(1, -1)
    out = list(prompt)
    with cr.no_grad():
        logits, state = model(ids)
        for _ in range(length):
            probs = F.softmax(logits[0, -1] / temperature, dim=-1).numpy().astype(np.float64)
            nxt = int(rng.choice(len(probs), p=probs / probs.sum()))
            out.append(corpus.decode([nxt]))
            logits, state = model(cr.tensor([[nxt]]), state)
    model.train()
    return "".join(out)


for T in (0.5, 1.0, 1.5):
    print(f"--- temperature {T}\n{sample('ROMEO:', pick(200, 40), T)}\n")

# %% [markdown]
# The temperature's effect on the next-character distribution, measured by its entropy
# (averaged over 8 random windows of the text):

# %%
with cr.no_grad():
    logits, _ = model(batch(size=8)[0])
for T in (0.5, 1.0, 1.5):
    log_p = F.log_softmax(logits / T, dim=-1)
    entropy = -(log_p.exp() * log_p).sum(dim=-1).mean()
    print(f"T = {T}: mean entropy of the next-character distribution {entropy.item():.3f} nats")

# %% [markdown]
# ## Vanishing gradients through time
# How much does the last step's output depend on the input $k$ steps earlier? The norm of
# $\partial h_T / \partial x_{T-k}$, for a plain RNN and an LSTM at initialisation.

# %%
SEQ = pick(60, 30)


def gradient_by_lag(cell):
    cr.manual_seed(0)
    net = cell(16, 32, batch_first=True)
    x = cr.randn(1, SEQ, 16, requires_grad=True)
    out = net(x)[0]
    out[0, -1].sum().backward()
    return np.linalg.norm(x.grad.numpy()[0], axis=1)[::-1]      # index k = lag


lags = {name: gradient_by_lag(cell) for name, cell in (("RNN (tanh)", nn.RNN), ("LSTM", nn.LSTM))}
plt.figure(figsize=(6, 3.5))
for name, g in lags.items():
    plt.semilogy(g, label=name)
    per_step = (g[-1] / g[0]) ** (1 / (SEQ - 1))
    print(f"{name:<11} gradient norm at lag 0: {g[0]:.3g}, at lag {SEQ - 1}: {g[-1]:.3g}; "
          f"shrinks by a factor {per_step:.3f} per step")
plt.xlabel("lag k (steps back)")
plt.ylabel("||d h_T / d x_(T-k)||")
plt.legend()
plt.show()

# %% [markdown]
# ## Try this
# * Sample at `temperature=0.1`: the text repeats its most likely phrases.
# * Train longer (`STEPS`) and watch the samples grow words, then names and line breaks.
# * Replace `nn.LSTM` by `nn.RNN` in `CharLSTM` (its state is one tensor, not a pair): does it
#   learn as fast?
# * Add `nn.GRU` to the vanishing-gradient comparison.
