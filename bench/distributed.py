"""``python -m bench --distributed``: W3 (MLP 784-1024-1024-10, global batch 512) data-parallel.

chainrule's DistributedDataParallel on 2 ranks (mpirun, one BLAS thread each, 256 samples per
rank) against 1 rank (one thread, all 512), and PyTorch's DDP (gloo backend, 2 processes, one
thread each) against one PyTorch process with one thread, side by side in one run. A third
chainrule run on 2 ranks skips DDP (each rank steps alone on its 256 samples, no all-reduce):
the machine's own ceiling for the scaling, which DDP can approach but not pass. Each run
starts its own processes (``python -m bench.distributed --worker ...``) and prints samples/s
(median over timing rounds, from rank 0). On a shared machine the figures are noisy: the 2-rank
runs need two idle cores.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES, GLOBAL_BATCH = (784, 1024, 1024, 10), 512
ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _mlp(nn):
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                         nn.Linear(1024, 10))


def _data(rank, world):
    g = np.random.default_rng(5)
    X = g.standard_normal((GLOBAL_BATCH, 784)).astype(np.float32)
    y = g.integers(0, 10, GLOBAL_BATCH)
    share = slice(rank * GLOBAL_BATCH // world, (rank + 1) * GLOBAL_BATCH // world)
    return X[share], y[share]


def _time(step, rounds, per_round, barrier):
    for _ in range(3):
        step()
    times = []
    for _ in range(rounds):
        barrier()
        started = time.perf_counter()
        for _ in range(per_round):
            step()
        barrier()
        times.append((time.perf_counter() - started) / per_round)
    return GLOBAL_BATCH / float(np.median(times))


def chainrule_worker(rounds, per_round, ddp=True):
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    cr.manual_seed(0)
    model = _mlp(cr.nn)
    net = DDP(model) if world > 1 and ddp else model
    opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    X, y = (cr.tensor(a) for a in _data(rank, world))
    loss_fn = cr.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(X), y).backward()
        opt.step()
    rate = _time(step, rounds, per_round, dist.barrier)
    return rank, rate


def torch_worker(rounds, per_round):
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    torch.manual_seed(0)
    model = _mlp(torch.nn)
    if world > 1:
        dist.init_process_group("gloo")
        net = torch.nn.parallel.DistributedDataParallel(model)
        barrier = dist.barrier
    else:
        net, barrier = model, (lambda: None)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    X, y = (torch.from_numpy(a) for a in _data(rank, world))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(X), y).backward()
        opt.step()
    rate = _time(step, rounds, per_round, barrier)
    if world > 1:
        dist.destroy_process_group()
    return rank, rate


def _env():
    return dict(os.environ, **ONE_THREAD,
                PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT),
                                            os.environ.get("PYTHONPATH", "")]))


def _result(outputs):
    for out in outputs:
        for line in out.splitlines():
            if line.startswith("{"):
                return json.loads(line)["samples_per_s"]
    raise RuntimeError("bench --distributed: a worker printed no result:\n" + "\n".join(outputs))


def run_chainrule(ranks, rounds, per_round, ddp=True):
    from chainrule.distributed.launch import find_mpirun
    cmd = [find_mpirun(), "-n", str(ranks), "--bind-to", "none", "--oversubscribe"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    for name in ["PYTHONPATH", *ONE_THREAD]:
        cmd += ["-x", name]
    cmd += [sys.executable, "-m", "bench.distributed", "--worker", "chainrule",
            "--rounds", str(rounds), "--per-round", str(per_round)] + ([] if ddp else ["--no-ddp"])
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=600)
    if out.returncode:
        raise RuntimeError(f"bench --distributed: chainrule on {ranks} ranks failed:\n{out.stderr}")
    return _result([out.stdout])


def _without_ddp(ranks, rounds, per_round):
    return run_chainrule(ranks, rounds, per_round, ddp=False)


def run_torch(ranks, rounds, per_round):
    with socket.socket() as s:   # a free port on loopback for gloo's rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(ranks):
        env = dict(_env(), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                   WORLD_SIZE=str(ranks))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "bench.distributed", "--worker", "torch", "--rounds",
             str(rounds), "--per-round", str(per_round)], env=env, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=600) for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError("bench --distributed: PyTorch DDP failed:\n" +
                           "\n".join(err for _, err in outputs))
    return _result([out for out, _ in outputs])


def main(quick=False):
    rounds, per_round = (3, 2) if quick else (10, 5)
    print(f"W3 data-parallel: MLP 784-1024-1024-10, global batch {GLOBAL_BATCH}, one BLAS thread "
          f"per process, {os.cpu_count()} cores", flush=True)
    rates = {}
    for name, run, ranks in (("chainrule 1 rank", run_chainrule, 1),
                             ("chainrule 2 ranks (DDP)", run_chainrule, 2),
                             ("chainrule 2 ranks, no all-reduce", _without_ddp, 2),
                             ("torch 1 process", run_torch, 1),
                             ("torch 2 processes (DDP, gloo)", run_torch, 2)):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rates[name] = run(ranks, rounds, per_round)
    width = max(map(len, rates))
    print(f"{'':{width}}  samples/s")
    for name, rate in rates.items():
        print(f"{name:{width}}  {rate:9.0f}")
    cr1, cr2 = rates["chainrule 1 rank"], rates["chainrule 2 ranks (DDP)"]
    t1, t2 = rates["torch 1 process"], rates["torch 2 processes (DDP, gloo)"]
    print(f"scaling 2 ranks / 1: chainrule {cr2 / cr1:.2f}x, torch {t2 / t1:.2f}x")
    print(f"chainrule / torch on 2 ranks: {cr2 / t2:.2f}x")
    alone = rates["chainrule 2 ranks, no all-reduce"]
    print(f"ceiling (2 ranks without DDP / 1): {alone / cr1:.2f}x")
    return rates


def _worker_main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--worker", choices=["chainrule", "torch"], required=True)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--per-round", type=int, default=5)
    p.add_argument("--no-ddp", action="store_true", help="chainrule: every rank steps alone")
    a = p.parse_args(argv)
    if a.worker == "chainrule":
        rank, rate = chainrule_worker(a.rounds, a.per_round, ddp=not a.no_ddp)
    else:
        rank, rate = torch_worker(a.rounds, a.per_round)
    if rank == 0:
        print(json.dumps({"samples_per_s": rate}), flush=True)


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
