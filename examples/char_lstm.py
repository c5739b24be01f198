"""A character-level LSTM that learns to write like Shakespeare.

Reads ../shared/data/tinyshakespeare.txt (or any text file given with --text), trains
Embedding -> LSTM -> Linear to predict the next character for a fixed number of minutes, reports
the validation loss in nats per character (on the last 10% of the text, never trained on), prints
a sample at a few temperatures, saves the model with cr.save, loads it into a fresh model and
keeps sampling from where the first sample stopped.

Run:  python examples/char_lstm.py [--minutes 5] [--quick] [--text FILE] [--device cpu|cuda]
"""
import argparse
import os
import tempfile
import time

import numpy as np

import chainrule as cr
from chainrule import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEXT = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data",
                                            "tinyshakespeare.txt"))
TEXT_SOURCE = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


class CharLSTM(nn.Module):
    def __init__(self, vocab, emb=64, hidden=256, layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.head(h), state


def batches(data, seq, batch, rng, device="cpu"):
    """Random (input, next-character target) windows of ``seq`` characters, on ``device``."""
    starts = rng.integers(0, len(data) - seq - 1, batch)
    idx = starts[:, None] + np.arange(seq + 1)
    chunk = data[idx]
    return (cr.from_numpy(chunk[:, :-1].copy()).to(device),
            cr.from_numpy(chunk[:, 1:].copy()).to(device))


def validation_loss(model, data, seq=128, batch=64, device="cpu"):
    """Mean cross-entropy (nats per character) over consecutive windows of the held-out text."""
    model.eval()
    n = (len(data) - 1) // seq
    starts = np.arange(n) * seq
    total, count = 0.0, 0
    with cr.no_grad():
        for i in range(0, n, batch):
            idx = starts[i:i + batch, None] + np.arange(seq + 1)
            chunk = data[idx]
            logits, _ = model(cr.from_numpy(chunk[:, :-1].copy()).to(device))
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               cr.from_numpy(chunk[:, 1:].reshape(-1).copy()).to(device),
                                               reduction="sum")
            total += loss.item()
            count += chunk[:, 1:].size
    model.train()
    return total / count


def sample(model, prime, n, temperature, chars, index, state=None, seed=0, device="cpu"):
    """Generate ``n`` characters after ``prime``: softmax(logits / temperature), one at a time,
    carrying the LSTM state; drawn on the CPU so that every device gives the same text. Returns the text and the final state (to continue later)."""
    g = cr.Generator().manual_seed(seed)
    model.eval()
    out = []
    with cr.no_grad():
        x = cr.tensor([[index[c] for c in prime]], device=device)
        for _ in range(n):
            logits, state = model(x, state)
            probs = (logits[0, -1] / temperature).softmax(-1).cpu()
            nxt = cr.multinomial(probs, 1, generator=g).item()
            out.append(chars[nxt])
            x = cr.tensor([[nxt]], device=device)
    model.train()
    return "".join(out), state


def main(text_path=DEFAULT_TEXT, minutes=5.0, quick=False, seed=0, device="cpu"):
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    if quick:
        text = text[:200_000]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    if quick:
        val = val[:2000]
    seq, batch = (32, 16) if quick else (64, 32)
    hidden = 64 if quick else 256

    cr.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = CharLSTM(len(chars), emb=32 if quick else 64, hidden=hidden).to(device)
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    # --quick trains a fixed number of steps (a time budget would make CI depend on load).
    budget, max_steps = (float("inf"), 150) if quick else (minutes * 60, None)
    length = f"{max_steps} steps" if max_steps else f"{budget / 60:.1f} minutes"
    print(f"{len(text):,} characters, vocabulary {len(chars)}; training for {length} "
          f"(batch {batch}, sequence {seq}, hidden {hidden})")
    val_losses = [validation_loss(model, val, device=device)]
    print(f"step     0  validation loss {val_losses[0]:.3f} nats/char")
    # The budget counts training time only (validation passes are not charged to it).
    train_time, step, last_report = 0.0, 0, 0.0
    while train_time < budget and (max_steps is None or step < max_steps):
        t0 = time.perf_counter()
        x, y = batches(train, seq, batch, rng, device)
        logits, _ = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        step += 1
        train_time += time.perf_counter() - t0
        if (train_time - last_report > budget / 5 or train_time >= budget
                or (max_steps and step % (max_steps // 5) == 0)):
            last_report = train_time
            val_losses.append(validation_loss(model, val, device=device))
            print(f"step {step:5d}  train loss {loss.item():.3f}  validation loss "
                  f"{val_losses[-1]:.3f} nats/char  ({train_time:.0f} s of training)")
    print(f"after {train_time / 60:.1f} minutes ({step} steps): validation loss "
          f"{val_losses[-1]:.3f} nats/char")

    prime = "ROMEO:\n"
    for temperature in (0.5, 0.8):
        text_out, _ = sample(model, prime, 80 if quick else 300, temperature, chars, index,
                              device=device)
        print(f"\n--- sample, temperature {temperature} ---\n{prime}{text_out}")
    first, state = sample(model, prime, 40 if quick else 200, 0.8, chars, index, seed=1,
                          device=device)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "char_lstm.safetensors")
        cr.save(model.state_dict(), path)
        fresh = CharLSTM(len(chars), emb=32 if quick else 64, hidden=hidden).to(device)
        fresh.load_state_dict(cr.load(path))
    # The reloaded model continues the same text from the same state.
    more, _ = sample(fresh, first[-1], 40 if quick else 200, 0.8, chars, index, state=state,
                     seed=2, device=device)
    print(f"\n--- saved, reloaded, kept sampling ---\n{prime}{first}{more}")
    return {"val_losses": val_losses, "steps": step, "train_time": train_time}


if __name__ == "__main__":
    from device_option import add_device_option

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default=DEFAULT_TEXT, help="a UTF-8 text file to learn")
    parser.add_argument("--minutes", type=float, default=5.0, help="training time budget")
    parser.add_argument("--quick", action="store_true", help="tiny run (also CHAINRULE_CI=1)")
    add_device_option(parser)
    args = parser.parse_args()
    if not os.path.isfile(args.text):   # the data is missing: say where to get it
        parser.exit(2, f"{parser.prog}: no text file at {args.text!r}. Download tiny Shakespeare "
                       f"(1.1 MB) from {TEXT_SOURCE} and save it as {DEFAULT_TEXT!r}, or name any "
                       f"UTF-8 text file with --text FILE.\n")
    main(args.text, args.minutes, quick=args.quick or os.environ.get("CHAINRULE_CI") == "1",
         device=args.device)
