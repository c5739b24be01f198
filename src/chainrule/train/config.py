"""Training configurations (TOML) for ``chainrule train``: read, check, and build the pieces.

Everything is checked before training starts (unknown or missing keys, unknown layer, loss,
optimizer and scheduler names, the type of every option, the metric early stopping monitors, and
the shapes, by a dry forward pass over two samples); a ``ConfigError`` names the offending key,
its value and the accepted values. See examples/configs/*.toml.

A string "@name" in a layer's arguments is replaced by a number read from the data:
"@n_features", "@n_classes", "@vocab_size", "@seq_len".
"""
import importlib
import inspect
import os
import tomllib
import warnings

import numpy as np

from .. import nn, optim
from ..utils.data import Subset, TensorDataset
from .config_values import (ConfigError, check_argument_types, check_bool, check_choice,
                            check_number, suggest)

TOP_KEYS = {"seed": 0, "epochs": 10, "batch_size": 32, "output": "runs/chainrule", "metrics": [],
            "clip_grad_norm": None, "data": None, "model": None, "loss": None, "optimizer": None,
            "scheduler": None, "early_stopping": None}
REQUIRED = ("data", "model", "loss", "optimizer")
DATA_KEYS = {
    "playground": {"name", "n", "noise", "seed", "k", "signed"},
    "mnist": {"root", "train", "flatten"},
    "csv": {"path", "target", "features", "scale"},
    "text": {"path", "seq_len", "stride", "target"},
}
COMMON_DATA_KEYS = {"source", "val_fraction", "val_split", "limit"}
# The [data] options that are numbers (True: whole numbers, with their least value) or booleans.
DATA_INTEGERS = {"n": 1, "seed": 0, "k": 1, "limit": 1, "seq_len": 1, "stride": 1}
DATA_BOOLEANS = ("signed", "train", "flatten")
EARLY_STOPPING_KEYS = {"monitor", "patience", "min_delta", "mode", "restore_best_weights"}
LOSS_NAMES = sorted(n for n in dir(nn) if n.endswith("Loss") and isinstance(getattr(nn, n), type))
ALIASES = {"in": "in_features", "out": "out_features"}


def _layer_names():
    losses = set(LOSS_NAMES)
    # containers and abstract bases are not layers a config can name
    skip = {"Module", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Sequential",
            "RNNBase", "RNNCellBase"}
    return sorted(n for n in dir(nn) if isinstance(getattr(nn, n), type)
                  and issubclass(getattr(nn, n), nn.Module) and n not in losses | skip)


def _class_names(module, base):
    return sorted(n for n in dir(module) if isinstance(getattr(module, n), type)
                  and issubclass(getattr(module, n), base) and getattr(module, n) is not base)


def _check_keys(table, allowed, where, required=()):
    if not isinstance(table, dict):
        raise ConfigError(where, f"expected a table, got {type(table).__name__} {table!r}")
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}" if where else key,
                              f"unknown key{suggest(key, allowed)}; accepted keys: {sorted(allowed)}")
    for key in required:
        if key not in table:
            raise ConfigError(f"{where}.{key}" if where else key, "this key is required")


def load_config(path):
    """Read and check the top level of a TOML config; returns the dict with defaults filled in."""
    try:
        with open(path, "rb") as f:
            cfg = tomllib.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file {str(path)!r} not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), f"not valid TOML: {e}") from None
    return check_config(cfg)


def check_config(cfg):
    _check_keys(cfg, TOP_KEYS, "", REQUIRED)
    out = {**{k: v for k, v in TOP_KEYS.items()}, **cfg}
    for key in ("epochs", "batch_size"):
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1:
            raise ConfigError(key, f"must be a positive integer, got {out[key]!r}")
    check_number(out["seed"], "seed", integer=True, minimum=0)
    if out["clip_grad_norm"] is not None:
        check_number(out["clip_grad_norm"], "clip_grad_norm", above=0)
    if out["early_stopping"] is not None:
        _check_early_stopping(out["early_stopping"])
    if not isinstance(out["metrics"], list):
        raise ConfigError("metrics", f"must be a list of names, got {out['metrics']!r}")
    from .metrics import METRICS
    for i, m in enumerate(out["metrics"]):
        if m not in METRICS:
            raise ConfigError(f"metrics[{i}]", f"unknown metric {m!r}{suggest(m, METRICS)}; "
                                               f"accepted: {sorted(METRICS)}")
    return out


# -- data ----------------------------------------------------------------------------------------
def build_data(data, base_dir=".", scaler=None):
    """``(train_dataset, val_dataset or None, info)`` from the ``[data]`` table."""
    _check_keys(data, set().union(*DATA_KEYS.values(), COMMON_DATA_KEYS), "data", ("source",))
    source = check_choice(data["source"], DATA_KEYS, "data.source", "source")
    _check_keys(data, DATA_KEYS[source] | COMMON_DATA_KEYS, "data")
    _check_data_values(data)
    path = lambda key: os.path.join(base_dir, os.path.expanduser(_need(data, key)))  # noqa: E731
    info = {"source": source}
    if source == "playground":
        from ..datasets import playground
        name = _need(data, "name")
        if name not in playground.PLAYGROUND:
            raise ConfigError("data.name", f"unknown dataset {name!r}{suggest(name, playground.PLAYGROUND)}; "
                                           f"accepted: {sorted(playground.PLAYGROUND)}")
        kwargs = {k: data[k] for k in ("n", "noise", "seed", "k", "signed") if k in data}
        try:
            X, y = playground.make(name, **kwargs)
        except TypeError as e:
            raise ConfigError("data", f"{name}: {e}") from None
        dataset = TensorDataset(X, y)
        info["features"] = ["x1", "x2"]
        info["task"] = "regression" if name in playground.REGRESSION or data.get("signed") else "classification"
    elif source == "mnist":
        from ..datasets import MNIST
        ds = MNIST(path("root"), train=data.get("train", True))
        X, y = ds.tensors(flatten=data.get("flatten", False))
        dataset, info["task"] = TensorDataset(X, y), "classification"
    elif source == "csv":
        from ..datasets import from_csv
        dataset = from_csv(path("path"), target=_need(data, "target"), features=data.get("features"),
                           scale=scaler or data.get("scale"))
        info["features"], info["scaler"] = dataset.feature_names, dataset.scaler
        info["classes"] = dataset.classes
        info["task"] = "regression" if dataset.tensors[1].array.dtype.kind == "f" else "classification"
    else:
        from ..datasets import TextCorpus
        corpus = TextCorpus(path("path"), seq_len=data.get("seq_len", 32), stride=data.get("stride", 1),
                            target=data.get("target", "next"))
        info.update(vocab_size=corpus.vocab_size, seq_len=corpus.seq_len, task="classification",
                    vocab="".join(corpus.vocab.itos))
        dataset = corpus
    return _split(dataset, data) + (_describe(dataset, info),)


def _check_data_values(data):
    for key, least in DATA_INTEGERS.items():
        if key in data:
            check_number(data[key], f"data.{key}", integer=True, minimum=least)
    for key in DATA_BOOLEANS:
        if key in data:
            check_bool(data[key], f"data.{key}")
    if "noise" in data:
        check_number(data["noise"], "data.noise", minimum=0)
    if "val_fraction" in data:
        check_number(data["val_fraction"], "data.val_fraction", minimum=0)
    if "val_split" in data:
        check_choice(data["val_split"], ("random", "last"), "data.val_split")
    if "scale" in data:
        check_choice(data["scale"], ("standard", "minmax"), "data.scale")
    for key in ("root", "path"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"data.{key}", f"must be a string (a file or folder), got {data[key]!r}")


def _need(table, key, where="data"):
    if key not in table:
        raise ConfigError(f"{where}.{key}", "this key is required for this source")
    return table[key]


def _split(dataset, data):
    n = len(dataset)
    limit = data.get("limit")
    order = np.arange(n)
    if limit is not None:
        order = order[:int(limit)]
    frac = data.get("val_fraction", 0.2)
    if not 0 <= frac < 1:
        raise ConfigError("data.val_fraction", f"must be in [0, 1), got {frac!r}")
    if data.get("val_split", "random") == "random":
        order = np.random.Generator(np.random.PCG64(int(data.get("seed", 0)))).permutation(order)
    cut = len(order) - int(round(frac * len(order)))
    train = Subset(dataset, order[:cut].tolist())
    return train, (Subset(dataset, order[cut:].tolist()) if cut < len(order) else None)


def _describe(dataset, info):
    x, y = dataset[0] if not isinstance(dataset, TensorDataset) else (t[0] for t in dataset.tensors)
    info["input_shape"] = list(x.shape)
    info["n_features"] = int(x.shape[-1]) if x.ndim else 1
    if "vocab_size" in info:
        info["n_classes"] = info["vocab_size"]
    elif info["task"] == "classification":
        targets = dataset.tensors[1].array if isinstance(dataset, TensorDataset) else None
        info["n_classes"] = int(targets.max()) + 1 if targets is not None else None
    return info


# -- model, loss, optimizer, scheduler -----------------------------------------------------------
def build_model(model_cfg, info):
    """An ``nn.Sequential`` from ``layers = [...]``, or the module a ``factory = "pkg.mod:fn"`` returns."""
    _check_keys(model_cfg, {"layers", "factory", "args"}, "model")
    if ("layers" in model_cfg) == ("factory" in model_cfg):
        raise ConfigError("model", "give either layers = [...] or factory = \"module:function\"")
    if "factory" in model_cfg:
        target = model_cfg["factory"]
        mod_name, _, fn_name = target.partition(":")
        try:
            fn = getattr(importlib.import_module(mod_name), fn_name)
        except (ImportError, AttributeError, ValueError) as e:
            raise ConfigError("model.factory", f"cannot import {target!r} ({e}); write it as "
                                               f"\"package.module:function\"") from None
        model = fn(**_resolve(model_cfg.get("args", {}), info, "model.args"))
        if not isinstance(model, nn.Module):
            raise ConfigError("model.factory", f"{target!r} returned {type(model).__name__}, not an nn.Module")
        return model
    layers = model_cfg["layers"]
    if not isinstance(layers, list) or not layers:
        raise ConfigError("model.layers", "must be a non-empty list of tables like {type = \"Linear\", in = 2, out = 8}")
    return nn.Sequential(*[_build_layer(spec, f"model.layers[{i}]", info) for i, spec in enumerate(layers)])


def _resolve(kwargs, info, where):
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, str) and v.startswith("@"):
            if info.get(v[1:]) is None:
                raise ConfigError(f"{where}.{k}", f"{v} is not known for this data; known: "
                                                  f"{sorted('@' + n for n in ('n_features', 'n_classes', 'vocab_size', 'seq_len') if info.get(n) is not None)}")
            v = info[v[1:]]
        out[k] = v
    return out


def _construct(cls, kwargs, where, kind):
    params = inspect.signature(cls.__init__).parameters
    accepted = [p for p in params if p not in ("self", "params", "optimizer") and params[p].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                                             inspect.Parameter.VAR_KEYWORD)]
    for k in kwargs:
        if k not in accepted:
            raise ConfigError(f"{where}.{k}", f"{cls.__name__} has no argument {k!r}{suggest(k, accepted)}; "
                                              f"accepted: {accepted}")
    missing = [p for p in accepted if params[p].default is inspect.Parameter.empty and p not in kwargs
               and p not in ("params", "optimizer")]
    if missing:
        raise ConfigError(where, f"{kind} {cls.__name__} needs {missing}")
    return kwargs


def _build_layer(spec, where, info):
    if not isinstance(spec, dict) or "type" not in spec:
        raise ConfigError(where, f"each layer is a table with a type, e.g. {{type = \"Tanh\"}}; got {spec!r}")
    names = _layer_names()
    kind = spec["type"]
    if kind not in names:
        raise ConfigError(f"{where}.type", f"unknown layer {kind!r}{suggest(kind, names)}; accepted: {names}")
    cls = getattr(nn, kind)
    kwargs = {ALIASES.get(k, k): v for k, v in spec.items() if k != "type"}
    kwargs = _resolve(_construct(cls, kwargs, where, "layer"), info, where)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ConfigError(where, f"{kind}({kwargs}) failed: {e}") from None


def build_loss(loss_cfg):
    loss_cfg = {"type": loss_cfg} if isinstance(loss_cfg, str) else dict(loss_cfg)
    kind = loss_cfg.pop("type", None)
    if kind not in LOSS_NAMES:
        raise ConfigError("loss.type", f"unknown loss {kind!r}{suggest(kind, LOSS_NAMES)}; accepted: {LOSS_NAMES}")
    cls = getattr(nn, kind)
    if "reduction" in loss_cfg:
        check_choice(loss_cfg["reduction"], ("mean", "sum", "none"), "loss.reduction")
    return cls(**_construct(cls, loss_cfg, "loss", "loss"))


def build_optimizer(opt_cfg, parameters):
    opt_cfg = dict(opt_cfg)
    names = _class_names(optim, optim.Optimizer)
    kind = opt_cfg.pop("type", None)
    if kind not in names:
        raise ConfigError("optimizer.type", f"unknown optimizer {kind!r}{suggest(kind, names)}; accepted: {names}")
    cls = getattr(optim, kind)
    kwargs = _construct(cls, opt_cfg, "optimizer", "optimizer")
    check_argument_types(cls, kwargs, "optimizer")
    try:
        return cls(parameters, **kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError("optimizer", str(e)) from None


def build_scheduler(sched_cfg, optimizer):
    if sched_cfg is None:
        return None
    sched_cfg = dict(sched_cfg)
    lrs = optim.lr_scheduler
    # schedulers whose arguments are other schedulers or Python functions cannot come from TOML
    names = [n for n in sorted(set(_class_names(lrs, lrs.LRScheduler)) | {"ReduceLROnPlateau"})
             if n not in ("SequentialLR", "ChainedScheduler", "LambdaLR", "MultiplicativeLR")]
    kind = sched_cfg.pop("type", None)
    if kind not in names:
        raise ConfigError("scheduler.type", f"unknown scheduler {kind!r}{suggest(kind, names)}; accepted: {names}")
    cls = getattr(lrs, kind)
    kwargs = _construct(cls, {**sched_cfg}, "scheduler", "scheduler")
    kwargs.pop("optimizer", None)
    check_argument_types(cls, kwargs, "scheduler")
    try:
        return cls(optimizer, **kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError("scheduler", str(e)) from None


def _check_early_stopping(table):
    from .callbacks import EarlyStopping
    _check_keys(table, EARLY_STOPPING_KEYS, "early_stopping")
    check_argument_types(EarlyStopping, table, "early_stopping")


def logged_names(metrics, has_val, optimizer):
    """The values ``fit`` logs each epoch of a ``chainrule train`` run (which watches the
    learning rate): loss, the metrics, their val_ twins with validation data, and lr."""
    names = ["loss", *metrics]
    names += ["val_" + n for n in names] if has_val else []
    groups = len(optimizer.param_groups)
    return names + (["lr"] if groups == 1 else [f"lr_{i}" for i in range(groups)])


def build_early_stopping(es_cfg, logged):
    """The ``EarlyStopping`` callback of the ``[early_stopping]`` table (None without one); its
    monitor must be one of the ``logged`` names."""
    if es_cfg is None:
        return None
    from .callbacks import EarlyStopping
    _check_early_stopping(es_cfg)
    monitor = es_cfg.get("monitor", "val_loss")
    if monitor not in logged:
        hint = ("; this data has no validation part (data.val_fraction = 0), so no val_ values"
                if monitor.startswith("val_") and not any(n.startswith("val_") for n in logged)
                else "")
        raise ConfigError("early_stopping.monitor",
                          f"{monitor!r} is not a value this run logs{suggest(monitor, logged)}; "
                          f"it logs: {logged}{hint}")
    return EarlyStopping(**es_cfg)


def dry_run(model, loss_fn, dataset):
    """Push two samples through every layer and the loss; a shape mistake becomes a ConfigError."""
    from ..autograd.grad_mode import no_grad
    from ..utils.data import DataLoader
    x, y = next(iter(DataLoader(dataset, batch_size=min(2, len(dataset)))))[:2]
    layers = list(model) if isinstance(model, nn.Sequential) else [model]
    with no_grad():
        for i, layer in enumerate(layers):
            where = f"model.layers[{i}]" if isinstance(model, nn.Sequential) else "model.factory"
            try:
                x_next = layer(x)
            except Exception as e:  # noqa: BLE001  (any failure here is a config mistake to report)
                raise ConfigError(where, f"{type(layer).__name__} cannot take input of shape "
                                         f"{tuple(x.shape)}: {e}") from None
            x = x_next
        try:
            with warnings.catch_warnings():
                # a loss that would silently broadcast (output (N, 1) against targets (N,)) is a mistake
                warnings.simplefilter("error", UserWarning)
                loss_fn(x, y)
        except Exception as e:  # noqa: BLE001
            raise ConfigError("loss", f"{type(loss_fn).__name__} cannot compare the model's output of "
                                      f"shape {tuple(x.shape)} with targets of shape {tuple(y.shape)} "
                                      f"({y.dtype}): {e}") from None
    return tuple(x.shape)


def build_all(cfg, base_dir=".", scaler=None):
    """Check and build everything; returns a dict with train/val data, model, loss, optimizer..."""
    from .. import random as _random
    train, val, info = build_data(cfg["data"], base_dir, scaler)
    _random.manual_seed(int(cfg["seed"]))
    model = build_model(cfg["model"], info)
    loss_fn = build_loss(cfg["loss"])
    out_shape = dry_run(model, loss_fn, train)
    optimizer = build_optimizer(cfg["optimizer"], model.parameters())
    scheduler = build_scheduler(cfg["scheduler"], optimizer)
    early_stopping = build_early_stopping(cfg["early_stopping"],
                                          logged_names(cfg["metrics"], val is not None, optimizer))
    return {"train": train, "val": val, "info": info, "model": model, "loss": loss_fn,
            "optimizer": optimizer, "scheduler": scheduler, "early_stopping": early_stopping,
            "output_shape": out_shape}
