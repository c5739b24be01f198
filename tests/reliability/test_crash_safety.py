"""Crash-safe files, proven by killing writers: a child process writes files in a loop and is
SIGKILLed at random moments; after every kill the file on disk must be a whole, loadable one
(the previous or the new), and a partial file must never load as a good one."""
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import CheckpointError, read_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

KILLS = 5 if os.environ.get("CI") == "true" else 8
SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")

# Every save fills all weights with the save's number n and stores epoch=n, so a loaded file
# is whole only if its weights all equal its epoch: a mix of two saves cannot pass.
CHECKPOINT_WRITER = """
import sys
import chainrule as cr
from chainrule.io import save_checkpoint
model = cr.nn.Sequential(cr.nn.Linear(1000, 1000))  # ~8 MB in float64
model = model.double()
opt = cr.optim.Adam(model.parameters())
print("ready", flush=True)
n = int(sys.argv[2])
while True:
    n += 1
    with cr.no_grad():
        for p in model.parameters():
            p.fill_(float(n))
    save_checkpoint(sys.argv[1], model, opt, epoch=n)
    print(n, flush=True)
"""


def _start(code, *args):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)


def _kill_after_ready(proc, rng, longest):
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0, longest))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _check_whole(path):
    state, _ = read_checkpoint(path)
    n = state["epoch"]
    for name, t in state["model"].items():
        assert np.all(t.numpy() == n), f"{name} mixes two saves (epoch {n})"
    return n


def test_checkpoint_survives_sigkill_mid_write(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    rng = random.Random(1234)
    proc = _start(CHECKPOINT_WRITER, path, 0)
    assert proc.stdout.readline().strip() == "ready"
    assert proc.stdout.readline().strip() == "1"       # one good file to start from
    proc.kill()
    proc.wait()
    last = _check_whole(path)
    interrupted = refused = 0
    for _ in range(KILLS):
        _kill_after_ready(_start(CHECKPOINT_WRITER, path, last), rng, 0.4)
        now = _check_whole(path)
        assert now >= last            # the previous file or a newer whole one, never older
        last = now
        for leftover in tmp_path.glob(".ckpt.safetensors.*.tmp"):
            # a temporary file the kill interrupted: it is refused as damaged, or it is one whole
            # save (killed between the last write and the rename); never a mix taken for good
            interrupted += 1
            try:
                assert _check_whole(leftover) >= last
            except CheckpointError:
                refused += 1
            leftover.unlink()
    print(f"{interrupted} of {KILLS} kills landed mid-write, {refused} of those refused as "
          f"damaged")  # shown with pytest -s


def test_partial_files_never_load(tmp_path):
    model = cr.nn.Linear(30, 20)
    path = tmp_path / "m.safetensors"
    cr.save(model.state_dict(), path)
    raw = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for size in sorted(set(np.linspace(0, len(raw) - 1, 40).astype(int))):
        cut.write_bytes(raw[:size])
        with pytest.raises(CheckpointError):
            cr.load(cut)


def test_playground_export_is_whole_or_rejected(tmp_path):
    """The Playground's model export is built in memory (a temporary file that is then read and
    removed) and sent as a download; what the user saves must load, and a cut download must not."""
    pytest.importorskip("starlette")
    from chainrule.playground.export import model_bytes
    from chainrule.playground.session import Session

    session = Session()
    data = model_bytes(session)
    whole = tmp_path / "model.safetensors"
    whole.write_bytes(data)
    state = cr.load(whole)
    assert set(state) == set(session.net.model.state_dict())
    for size in range(0, len(data), max(1, len(data) // 25)):
        whole.write_bytes(data[:size])
        with pytest.raises(CheckpointError):
            cr.load(whole)


TRAIN_CONFIG = """
seed = 0
epochs = 400
batch_size = 16
[data]
source = "playground"
name = "circle"
n = 120
seed = 1
val_fraction = 0.25
[model]
layers = [{type = "Linear", in = 2, out = 64}, {type = "Tanh"}, {type = "Linear", in = 64, out = 2}]
[loss]
type = "CrossEntropyLoss"
[optimizer]
type = "Adam"
lr = 0.01
"""

TRAIN_RUNNER = """
import sys
print("ready", flush=True)
from chainrule.cli import main
sys.argv = ["chainrule"] + sys.argv[1:]
main()
"""


def test_train_run_folder_survives_sigkill(tmp_path):
    pytest.importorskip("click")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(TRAIN_CONFIG)
    out = tmp_path / "run"
    rng = random.Random(99)
    last = 0
    for i in range(3):
        flags = ["--resume"] if i else []
        proc = _start(TRAIN_RUNNER, "train", cfg, "--output", out, "--quiet", *flags)
        _kill_after_ready(proc, rng, 1.5)
        ckpt = out / "checkpoint.safetensors"
        if ckpt.exists():
            state, _ = read_checkpoint(ckpt)
            assert state["epoch"] >= last
            last = state["epoch"]
            assert len(state["history"]["epoch"]) == last
        if (out / "config.toml").exists():
            assert (out / "config.toml").read_text() == TRAIN_CONFIG
    # the run resumes from the last whole checkpoint and finishes
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(TRAIN_RUNNER), "train", str(cfg),
                           "--output", str(out), "--quiet", "--resume", "--epochs", str(last + 2)],
                          env=dict(os.environ, PYTHONPATH=os.path.abspath(SRC)),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"][-1] == last + 2


def test_a_save_removes_the_stale_temporaries_of_killed_writers(tmp_path):
    """Only names of the writer's own pattern beside the same target, and only old ones."""
    from chainrule.io.serialization import atomic_write_bytes
    target = tmp_path / "model.pt"
    stale = tmp_path / ".model.pt.ab12cd_9.tmp"
    fresh = tmp_path / ".model.pt.zz99yy00.tmp"            # a writer still at work
    other = tmp_path / ".weights.pt.ab12cd_9.tmp"          # another target's
    mine = tmp_path / "model.pt.tmp"                       # not the writer's pattern
    for f in (stale, fresh, other, mine):
        f.write_bytes(b"partial")
    old = time.time() - 3600
    for f in (stale, other, mine):
        os.utime(f, (old, old))
    atomic_write_bytes(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert not stale.exists() and fresh.exists() and other.exists() and mine.exists()


def test_a_resumed_csv_log_drops_a_half_written_last_line(tmp_path):
    from chainrule.train.callbacks import CSVLogger
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss\n1,0.5\n2,0.4")               # killed in the middle of row 2
    logger = CSVLogger(log, append=True)
    logger.on_train_begin({})
    logger.on_epoch_end(1, {"loss": 0.25})
    logger.on_train_end({})
    assert log.read_text().splitlines() == ["epoch,loss", "1,0.5", "2,0.25"]
