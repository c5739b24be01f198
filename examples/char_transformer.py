"""A tiny causal character-level transformer (the "GPT" idea in miniature).

Token and position embeddings, a stack of pre-norm TransformerEncoderLayers with a causal mask
(each character attends only to the ones before it), a final LayerNorm and a linear read-out,
trained to predict the next character of ../shared/data/tinyshakespeare.txt (or --text). Reports
the validation loss in nats per character after a time budget and prints a sample.

Run:  python examples/char_transformer.py [--minutes 3] [--quick] [--text FILE]
      [--device cpu|cuda]
"""
import argparse
import os
import time

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.nn.attention import generate_square_subsequent_mask

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEXT = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data",
                                            "tinyshakespeare.txt"))
TEXT_SOURCE = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


class CharTransformer(nn.Module):
    def __init__(self, vocab, block, d_model=64, nhead=4, layers=2):
        super().__init__()
        self.block = block
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model,
                                           dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(cr.arange(T, device=idx.device))
        mask = generate_square_subsequent_mask(T).to(idx.device)
        x = self.encoder(x, mask=mask, is_causal=True)
        return self.head(self.norm(x))


def windows(data, seq, starts, device="cpu"):
    idx = starts[:, None] + np.arange(seq + 1)
    chunk = data[idx]
    return (cr.from_numpy(chunk[:, :-1].copy()).to(device),
            cr.from_numpy(chunk[:, 1:].copy()).to(device))


def validation_loss(model, data, seq, batch=64, device="cpu"):
    model.eval()
    starts = np.arange((len(data) - 1) // seq) * seq
    total, count = 0.0, 0
    with cr.no_grad():
        for i in range(0, len(starts), batch):
            x, y = windows(data, seq, starts[i:i + batch], device)
            logits = model(x)
            total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 y.reshape(-1), reduction="sum").item()
            count += y.numel()
    model.train()
    return total / count


def sample(model, prime, n, temperature, chars, index, seed=0, device="cpu"):
    g = cr.Generator().manual_seed(seed)
    model.eval()
    ids = [index[c] for c in prime]
    with cr.no_grad():
        for _ in range(n):
            x = cr.tensor([ids[-model.block:]], device=device)
            probs = (model(x)[0, -1] / temperature).softmax(-1).cpu()   # drawn on the CPU
            ids.append(cr.multinomial(probs, 1, generator=g).item())
    model.train()
    return "".join(chars[i] for i in ids)


def main(text_path=DEFAULT_TEXT, minutes=3.0, quick=False, seed=0, device="cpu"):
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    if quick:
        text = text[:100_000]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:split + (2000 if quick else 50_000)]
    seq, batch = (32, 16) if quick else (64, 32)
    cr.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = CharTransformer(len(chars), seq, d_model=32 if quick else 64,
                            layers=1 if quick else 2).to(device)
    optimizer = cr.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    # --quick trains a fixed number of steps (a time budget would make CI depend on load).
    budget, max_steps = (float("inf"), 40) if quick else (minutes * 60, None)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(text):,} characters, vocabulary {len(chars)}, {n_params:,} parameters; "
          f"training for {f'{max_steps} steps' if max_steps else f'{budget / 60:.1f} minutes'}")
    val_losses = [validation_loss(model, val, seq, device=device)]
    print(f"step     0  validation loss {val_losses[0]:.3f} nats/char")
    train_time, step, last = 0.0, 0, 0.0
    while train_time < budget and (max_steps is None or step < max_steps):
        t0 = time.perf_counter()
        x, y = windows(train, seq, rng.integers(0, len(train) - seq - 1, batch), device)
        loss = nn.functional.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        train_time += time.perf_counter() - t0
        if (train_time - last > budget / 5 or train_time >= budget
                or (max_steps and step % (max_steps // 5) == 0)):
            last = train_time
            val_losses.append(validation_loss(model, val, seq, device=device))
            print(f"step {step:5d}  train loss {loss.item():.3f}  validation loss "
                  f"{val_losses[-1]:.3f} nats/char  ({train_time:.0f} s of training)")
    print(f"after {train_time / 60:.1f} minutes ({step} steps): validation loss "
          f"{val_losses[-1]:.3f} nats/char")
    print("\n--- sample, temperature 0.8 ---")
    print(sample(model, "ROMEO:\n", 60 if quick else 300, 0.8, chars, index, device=device))
    return {"val_losses": val_losses, "steps": step, "train_time": train_time}


if __name__ == "__main__":
    from device_option import add_device_option

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default=DEFAULT_TEXT, help="a UTF-8 text file to learn")
    parser.add_argument("--minutes", type=float, default=3.0, help="training time budget")
    parser.add_argument("--quick", action="store_true", help="tiny run (also CHAINRULE_CI=1)")
    add_device_option(parser)
    args = parser.parse_args()
    if not os.path.isfile(args.text):   # the data is missing: say where to get it
        parser.exit(2, f"{parser.prog}: no text file at {args.text!r}. Download tiny Shakespeare "
                       f"(1.1 MB) from {TEXT_SOURCE} and save it as {DEFAULT_TEXT!r}, or name any "
                       f"UTF-8 text file with --text FILE.\n")
    main(args.text, args.minutes, quick=args.quick or os.environ.get("CHAINRULE_CI") == "1",
         device=args.device)
