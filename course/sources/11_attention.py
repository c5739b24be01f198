# %% [markdown]
# # 11. Attention
#
# **Attention** lets every position of a sequence look at every other. Each position emits a
# **query** $q$, a **key** $k$ and a **value** $v$ (three linear maps of its vector). The output
# at a position is a weighted average of all values, weighted by how well its query matches
# each key:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V .$$
#
# The $\sqrt{d_k}$ keeps the scores' spread independent of the dimension (otherwise the softmax
# saturates). **Multi-head** attention runs several such maps in parallel on slices of the
# vector and concatenates them. A **causal mask** forbids looking ahead, which turns a stack
# of attention layers into a language model: the **transformer**.

# %%
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.nn.attention import generate_square_subsequent_mask
from course_helpers import pick, load_text
import matplotlib.pyplot as plt

cr.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## Scaled dot-product attention by hand

# %%
T, d = 5, 8
Q, K, V = (rng.normal(size=(T, d)).astype(np.float32) for _ in range(3))
scores = Q @ K.T / np.sqrt(d)
weights = np.exp(scores - scores.max(axis=1, keepdims=True))
weights /= weights.sum(axis=1, keepdims=True)
by_hand = weights @ V
chainrule_out = F.scaled_dot_product_attention(cr.from_numpy(Q)[None], cr.from_numpy(K)[None], cr.from_numpy(V)[None])
print("each row of the weights sums to 1:", np.allclose(weights.sum(axis=1), 1))
print("largest difference from F.scaled_dot_product_attention:",
      float(np.abs(chainrule_out.numpy()[0] - by_hand).max()))

# %% [markdown]
# ## Why divide by √d
# For random unit-variance vectors the dot product's standard deviation grows like $\sqrt{d}$;
# the scaled scores' stays near 1.

# %%
for dim in (4, 64, 1024):
    q, k = rng.normal(size=(2000, dim)), rng.normal(size=(2000, dim))
    dots = (q * k).sum(axis=1)
    print(f"d = {dim:>4}: std of q.k = {dots.std():7.2f}, of q.k / sqrt(d) = {(dots / np.sqrt(dim)).std():.2f}")

# %% [markdown]
# ## The causal mask
# Position $t$ may attend to positions $\le t$ only: the mask adds $-\infty$ above the diagonal.

# %%
mask = generate_square_subsequent_mask(T)
causal = F.scaled_dot_product_attention(cr.from_numpy(Q)[None], cr.from_numpy(K)[None],
                                        cr.from_numpy(V)[None], is_causal=True)
print("the first position sees only itself, so its output is its own value:",
      np.allclose(causal.numpy()[0, 0], V[0], atol=1e-6))
print(mask)

# %% [markdown]
# ## Multi-head attention
# `nn.MultiheadAttention(embed_dim, num_heads)` splits the vector into heads; each head has its
# own attention pattern.

# %%
mha = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
x = cr.randn(1, 6, 16)
out, attn = mha(x, x, x, average_attn_weights=False)
print("output shape", tuple(out.shape), " weights shape (batch, heads, query, key)", tuple(attn.shape))
fig, axes = plt.subplots(1, 4, figsize=(9, 2.4))
for h, ax in enumerate(axes):
    ax.imshow(attn.detach().numpy()[0, h], cmap="viridis", vmin=0)
    ax.set_title(f"head {h}", fontsize=9)
    ax.set_xlabel("key")
axes[0].set_ylabel("query")
plt.show()

# %% [markdown]
# ## A tiny character transformer
# Token and position embeddings, two pre-norm transformer layers with the causal mask, and a
# linear read-out predicting the next character.

# %%
text, source = load_text(pick(200_000, 20_000))
corpus = cr.datasets.TextCorpus(text=text, seq_len=32)
data, V_SIZE, BLOCK = corpus.ids, corpus.vocab_size, 32


class CharTransformer(nn.Module):
    def __init__(self, d_model=pick(64, 32)):
        super().__init__()
        self.tok = nn.Embedding(V_SIZE, d_model)
        self.pos = nn.Embedding(BLOCK, d_model)
        layer = nn.TransformerEncoderLayer(d_model, 4, dim_feedforward=4 * d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, V_SIZE)

    def forward(self, idx):
        n = idx.shape[1]
        h = self.tok(idx) + self.pos(cr.arange(n))
        h = self.encoder(h, mask=generate_square_subsequent_mask(n), is_causal=True)
        return self.head(self.norm(h))


model = CharTransformer()
opt = cr.optim.Adam(model.parameters(), lr=3e-3)
STEPS, losses = pick(200, 15), []
for step in range(STEPS):
    starts = rng.integers(0, len(data) - BLOCK - 1, 32)
    chunk = data[starts[:, None] + np.arange(BLOCK + 1)]
    x, t = cr.from_numpy(chunk[:, :-1].copy()), cr.from_numpy(chunk[:, 1:].copy())
    loss = F.cross_entropy(model(x).reshape(-1, V_SIZE), t.reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(f"{source}: loss {losses[0]:.3f} at the start (log vocabulary = {np.log(V_SIZE):.3f}), "
      f"{np.mean(losses[-10:]):.3f} after {STEPS} steps")

model.eval()
ids = list(corpus.encode("ROMEO:").tolist())
with cr.no_grad():
    for _ in range(pick(150, 30)):
        logits = model(cr.tensor([ids[-BLOCK:]]))[0, -1]
        p = F.softmax(logits / 0.8, dim=-1).numpy().astype(np.float64)
        ids.append(int(rng.choice(V_SIZE, p=p / p.sum())))
print(corpus.decode(ids))

# %% [markdown]
# ## Try this
# * Remove the `/ np.sqrt(d)` and raise `d` to 512: the weights become nearly one-hot.
# * Drop `is_causal=True` and the mask from the transformer: training loss falls suspiciously
#   fast — it can read the answer.
# * Change the number of heads to 1 and 8 (`embed_dim` must divide by it).
# * Train the transformer and notebook 10's LSTM for the same time: which loss is lower?
