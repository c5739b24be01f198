"""``chainrule train / eval / predict / info``: the training workflow's commands (click)."""
import csv
import json
import os
import sys

import click
import numpy as np

from ..io.serialization import atomic_write_bytes
from ..tensor import Tensor
from .config import ConfigError, build_all, build_data, build_model, check_config, load_config
from ..autograd.tensor_base import make_tensor

CHECKPOINT_NAME = "checkpoint.safetensors"
RUN_FILES = (CHECKPOINT_NAME, "config.toml", "log.csv", "history.csv", "history.json", "curves.png")


def _fail(error):
    raise click.ClickException(str(error))


def _jsonable_info(info):
    out = {k: v for k, v in info.items() if k != "scaler"}
    if info.get("scaler") is not None:
        out["scaler"] = info["scaler"].state_dict()
    return out


def _print_metrics(title, results):
    click.echo(title)
    for k, v in results.items():
        click.echo(f"  {k:<16} {v:.6g}" if isinstance(v, float) else f"  {k:<16} {v}")


@click.command(help="Train a model described by a TOML CONFIG file (see examples/configs/).")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", default=None, help="Output folder (default: the config's `output`).")
@click.option("--epochs", type=int, default=None, help="Override the config's epochs.")
@click.option("--resume", is_flag=True, help="Continue from the output folder's checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace the run already in the output folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def train(config, output, epochs, resume, overwrite, quiet):
    from . import CSVLogger, LearningRateMonitor, fit
    try:
        cfg = load_config(config)
        if epochs is not None:
            cfg["epochs"] = epochs
        base_dir = os.path.dirname(os.path.abspath(config))
        parts = build_all(cfg, base_dir)
        callbacks = [LearningRateMonitor()]
        if parts["early_stopping"] is not None:
            callbacks.append(parts["early_stopping"])
    except (ConfigError, FileNotFoundError, OSError, ValueError, KeyError) as e:
        _fail(e)
    out = output or cfg["output"]
    earlier = [name for name in RUN_FILES if os.path.exists(os.path.join(out, name))]
    if earlier and not (resume or overwrite):
        _fail(f"{out} already holds a run ({', '.join(earlier)}); training would replace it. "
              f"Pass --overwrite to replace it, --resume to continue it, or --output FOLDER to "
              f"write elsewhere")
    os.makedirs(out, exist_ok=True)
    with open(config, "rb") as f:  # atomically: a kill mid-copy leaves no half config
        atomic_write_bytes(os.path.join(out, "config.toml"), f.read())
    ckpt = os.path.join(out, CHECKPOINT_NAME)
    info = parts["info"]
    click.echo(f"data: {info['source']} ({len(parts['train'])} training, "
               f"{len(parts['val']) if parts['val'] is not None else 0} validation samples)")
    click.echo(f"model: {sum(p.numel() for p in parts['model'].parameters())} parameters, output "
               f"shape {parts['output_shape'][1:]} per sample")
    callbacks.append(CSVLogger(os.path.join(out, "log.csv"), append=resume))
    history = fit(parts["model"], parts["loss"], parts["optimizer"], parts["train"],
                  epochs=cfg["epochs"], val_data=parts["val"], scheduler=parts["scheduler"],
                  metrics=cfg["metrics"], callbacks=callbacks, clip_grad_norm=cfg["clip_grad_norm"],
                  progress=not quiet, batch_size=cfg["batch_size"], checkpoint=ckpt,
                  resume_from=ckpt if resume and os.path.exists(ckpt) else None,
                  checkpoint_extra={"config": cfg, "info": {**_jsonable_info(info), "base_dir": base_dir}})
    history.to_csv(os.path.join(out, "history.csv"))
    history.to_json(os.path.join(out, "history.json"))
    plot = _plot_history(history, os.path.join(out, "curves.png"))
    last = {k: v for k, v in history.last().items() if k not in ("time",)}
    _print_metrics(f"finished {len(history)} epochs in {history.wall_time:.1f} s:", last)
    click.echo(f"wrote {ckpt}, history.csv, history.json" + (", curves.png" if plot else ""))


def _plot_history(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        click.echo("note: matplotlib is not installed, so no training-curve plot was drawn "
                   "(pip install 'chainrule[viz]')")
        return False
    keys = [k for k in history.keys() if not k.startswith("val_") and k not in ("time",)
            and not k.startswith("lr")]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        ax.plot(history.epoch, history[key], label="train")
        if "val_" + key in history:
            ax.plot(history.epoch, history["val_" + key], label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _restore(checkpoint, data=None):
    """Rebuild the model of a CLI checkpoint and the dataset to use: ``(model, state, dataset, cfg)``."""
    from ..datasets.csv import Scaler
    from ..io import read_checkpoint
    try:
        state, _ = read_checkpoint(checkpoint)
    except (OSError, ValueError) as e:
        _fail(e)
    extra = state.get("extra") or {}
    if "config" not in extra:
        _fail(f"{checkpoint} was not written by 'chainrule train' (it has no config), so its "
              f"model cannot be rebuilt here; use Python: model.load_state_dict(...)")
    cfg = check_config(extra["config"])
    data_cfg = dict(cfg["data"])
    base_dir = "."
    if data is not None:
        if data.endswith(".toml"):
            data_cfg, base_dir = load_config(data)["data"], os.path.dirname(os.path.abspath(data))
        else:
            key = {"mnist": "root", "csv": "path", "text": "path"}.get(data_cfg["source"])
            if key is None:
                _fail(f"--data for a {data_cfg['source']} model must be a .toml config with a [data] table")
            data_cfg[key] = os.path.abspath(data)
            data_cfg["val_fraction"] = 0.0
            if data_cfg["source"] == "mnist" and os.path.isdir(data):
                data_cfg.setdefault("train", False)
    else:
        base_dir = extra["info"].get("base_dir", ".")
    saved_info = extra["info"]
    scaler = Scaler.from_state_dict(saved_info["scaler"]) if saved_info.get("scaler") else None
    try:
        train_ds, val_ds, info = build_data(data_cfg, base_dir, scaler)
        model = build_model(cfg["model"], {**saved_info, **{k: v for k, v in info.items() if v is not None}})
        model.load_state_dict(state["model"])
    except (ConfigError, OSError, ValueError, KeyError, RuntimeError) as e:
        _fail(e)
    return model, state, (train_ds, val_ds), cfg


@click.command(help="Evaluate a checkpoint written by 'chainrule train'.")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", default=None, help="A CSV file / MNIST folder / text file of the same kind "
                                           "as in training, or a .toml config's [data]; default: "
                                           "the training config's data.")
@click.option("--split", type=click.Choice(["val", "train", "all"]), default=None,
              help="Which part of the data (default: val if there is one, else all).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def evaluate(checkpoint, data, split, as_json):
    from ..utils.data import ConcatDataset
    from . import evaluate as run_evaluate
    from .config import build_loss
    model, state, (train_ds, val_ds), cfg = _restore(checkpoint, data)
    if split is None:
        split = "val" if val_ds is not None else "all"
    if split == "val" and val_ds is None:
        _fail("this data has no validation part; use --split all")
    dataset = {"val": val_ds, "train": train_ds}.get(split) or (
        ConcatDataset([train_ds, val_ds]) if val_ds is not None else train_ds)
    results = run_evaluate(model, dataset, build_loss(cfg["loss"]), cfg["metrics"])
    results["samples"] = len(dataset)
    if as_json:
        click.echo(json.dumps(results))
    else:
        _print_metrics(f"{checkpoint} (epoch {state['epoch']}) on {split} data:", results)


@click.command(help="Predict with a checkpoint: INPUT is a CSV of feature columns (as in training; "
                    "x1,x2 for playground data) or an MNIST folder.")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.argument("input", type=click.Path(exists=True))
@click.option("--output", "-o", default=None, help="CSV file to write (default: standard output).")
def predict(checkpoint, input, output):
    from ..datasets.csv import Scaler
    from . import predict as run_predict
    from ..io import read_checkpoint
    state, _ = read_checkpoint(checkpoint)
    info = (state.get("extra") or {}).get("info") or {}
    if os.path.isdir(input):
        model, _, (train_ds, _), cfg = _restore(checkpoint, input)
        X = train_ds
    else:
        model, _, _, cfg = _restore(checkpoint, None)
        X = _read_features(input, info.get("features"))
        if info.get("scaler"):
            X = Scaler.from_state_dict(info["scaler"]).transform(X)
    out = run_predict(model, X).array
    rows = _prediction_rows(out, info)
    stream = open(output, "w", newline="") if output else sys.stdout
    try:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerows(rows)
    finally:
        if output:
            stream.close()
    if output:
        click.echo(f"wrote {len(rows) - 1} predictions to {output}")


def _read_features(path, features):
    from ..datasets.csv import _parse_float
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        rows = [r for r in reader if r]
    features = features or header
    missing = [c for c in features if c not in header]
    if missing:
        _fail(f"{path} lacks the feature columns {missing} the model was trained on; it has {header}")
    cols = [header.index(c) for c in features]
    try:
        values = [[_parse_float(r[j], features[k], i + 2, path) for k, j in enumerate(cols)]
                  for i, r in enumerate(rows)]
    except ValueError as e:
        _fail(e)
    return make_tensor(np.array(values, dtype=np.float32).reshape(len(rows), len(cols)))


def _prediction_rows(out, info):
    if info.get("task") == "classification" and out.ndim == 2 and out.shape[1] > 1:
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        names = info.get("classes") or [str(i) for i in range(out.shape[1])]
        rows = [["prediction"] + [f"p_{n}" for n in names]]
        rows += [[names[int(p.argmax())]] + [f"{v:.6g}" for v in p] for p in probs]
        return rows
    flat = out.reshape(len(out), -1)
    header = ["prediction"] if flat.shape[1] == 1 else [f"prediction_{i}" for i in range(flat.shape[1])]
    return [header] + [[f"{v:.6g}" for v in r] for r in flat]


@click.command(help="Show a checkpoint's architecture, parameter counts and training state.")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
def info(checkpoint):
    from ..io import load_with_metadata
    try:
        obj, meta = load_with_metadata(checkpoint)
    except (OSError, ValueError) as e:
        _fail(e)
    weights = obj.get("model", obj) if isinstance(obj, dict) else {}
    if meta.get("model"):
        click.echo(meta["model"])
    click.echo(f"{'parameter':<32} {'shape':<16} {'count':>10}")
    total = 0
    for name, t in weights.items():
        if isinstance(t, Tensor):
            total += t.numel()
            click.echo(f"{name:<32} {str(tuple(t.shape)):<16} {t.numel():>10,}")
    click.echo(f"{'total':<32} {'':<16} {total:>10,}")
    if isinstance(obj, dict) and obj.get("kind") == "chainrule.checkpoint":
        click.echo(f"epoch: {obj.get('epoch')}")
        hist = (obj.get("history") or {}).get("history", {})
        last = {k: v[-1] for k, v in hist.items() if v and k != "time"}
        if last:
            click.echo("last epoch: " + ", ".join(f"{k}={v:.4g}" for k, v in last.items()
                                                  if isinstance(v, float)))
        cfg = (obj.get("extra") or {}).get("config")
        if cfg:
            opt = cfg.get("optimizer", {})
            click.echo(f"data: {cfg['data'].get('source')} {cfg['data'].get('name', cfg['data'].get('path', cfg['data'].get('root', '')))}"
                       f"; optimizer: {opt.get('type')} lr={opt.get('lr')}")
