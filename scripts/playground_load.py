"""Load check for the Playground server (not a test): N tabs training at once against one server.

Starts ``python -m chainrule.playground`` on 127.0.0.1, opens ``--sessions`` WebSocket clients that
press play and acknowledge every frame at once (a page that draws instantly), and after
``--seconds`` reports frames per second and epochs per second for each session, and the server
process's resident memory (peak and at the end, from /proc).

    .venv/bin/python scripts/playground_load.py                      # 20 sessions, 30 s
    .venv/bin/python scripts/playground_load.py --sessions 1 --seconds 10   # one tab's frame rate
"""
import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import websockets


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid):
    """``pid`` and its descendants (the server's worker processes), from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [p for p, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def rss_mib(pid):
    """Resident memory of the server and its workers together, MiB."""
    total = 0.0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def cpu_seconds(pids):
    """User + system CPU time of processes so far (/proc/PID/stat), in seconds."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


async def tab(url, seconds, settings, start_gate, results, index):
    async with websockets.connect(url, max_size=1 << 24) as ws:
        frame = None
        while frame is None:
            message = json.loads(await ws.recv())
            if message["type"] == "frame":
                frame = message
        if settings:
            await ws.send(json.dumps({"type": "set", "settings": settings}))
        await start_gate.wait()
        await ws.send(json.dumps({"type": "play"}))
        await ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
        start = time.perf_counter()
        first_epoch, frames, nbytes, last = None, 0, 0, None
        while time.perf_counter() - start < seconds:
            raw = await ws.recv()
            message = json.loads(raw)
            if message["type"] != "frame":
                continue
            await ws.send(json.dumps({"type": "ack", "seq": message["seq"]}))
            if first_epoch is None:
                first_epoch = message["epoch"]
            frames += 1
            nbytes += len(raw)
            last = message
        elapsed = time.perf_counter() - start
        await ws.send(json.dumps({"type": "pause"}))
        results[index] = {"fps": frames / elapsed,
                          "epochs_per_s": (last["epoch"] - first_epoch) / elapsed if last else 0,
                          "kib_per_frame": nbytes / max(frames, 1) / 1024,
                          "test_loss": last["test_loss"] if last else None}


async def monitor(pid, stop, peak):
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mib(pid))
        await asyncio.sleep(0.25)


async def main(args):
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    server = subprocess.Popen([sys.executable, "-m", "chainrule.playground", "--port", str(port),
                               "--max-sessions", str(max(args.sessions, 32))]
                              + (["--workers", str(args.workers)] if args.workers is not None else []),
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline()
        print(line.strip())
        idle = rss_mib(server.pid)
        settings = json.loads(args.settings) if args.settings else None
        gate, results, peak, stop = asyncio.Event(), [None] * args.sessions, [idle], asyncio.Event()
        url = f"ws://127.0.0.1:{port}/ws"
        tabs = [asyncio.create_task(tab(url, args.seconds, settings, gate, results, i))
                for i in range(args.sessions)]
        watcher = asyncio.create_task(monitor(server.pid, stop, peak))
        await asyncio.sleep(3.0)       # every tab connected and has its first frame
        tree = process_tree(server.pid)
        cpu_start, wall_start = cpu_seconds(tree), time.perf_counter()
        gate.set()
        await asyncio.gather(*tabs)
        cpu = cpu_seconds(tree) - cpu_start
        wall = time.perf_counter() - wall_start
        end = rss_mib(server.pid)
        with open("/proc/loadavg") as f:
            load = f.read().split()[0]
        stop.set()
        await watcher
    finally:
        server.terminate()
        server.wait(timeout=10)
    fps = [r["fps"] for r in results]
    eps = [r["epochs_per_s"] for r in results]
    print(f"{args.sessions} session(s), {args.seconds:g} s, settings: {settings or 'defaults'}, "
          f"server --workers {args.workers if args.workers is not None else 'default'} "
          f"(cpu count {os.cpu_count()})")
    for i, r in enumerate(results):
        print(f"  session {i + 1:2d}: {r['fps']:6.1f} frames/s  {r['epochs_per_s']:7.1f} epochs/s  "
              f"{r['kib_per_frame']:5.1f} KiB/frame  test loss {r['test_loss']:.4f}")
    print(f"frames/s per session: min {min(fps):.1f}  median {statistics.median(fps):.1f}  "
          f"max {max(fps):.1f}  total {sum(fps):.1f}")
    print(f"epochs/s per session: min {min(eps):.1f}  median {statistics.median(eps):.1f}  "
          f"max {max(eps):.1f}")
    frames = sum(fps) * args.seconds
    print(f"server processes: {len(tree)} (the server and its workers)")
    print(f"server memory (RSS, all its processes): idle {idle:.0f} MiB, peak {peak[0]:.0f} MiB, end {end:.0f} MiB")
    print(f"server CPU: {cpu / wall:.2f} cores busy, {1000 * cpu / max(frames, 1):.1f} ms CPU per "
          f"frame (so {frames / max(cpu, 1e-9):.0f} frames per CPU-second); 1-min load average "
          f"at the end {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=None,
                        help="the server's --workers (default: one per core; 0: in-process)")
    parser.add_argument("--settings", default=None,
                        help='JSON settings patch for every tab, e.g. \'{"epochs_per_frame": 1}\'')
    asyncio.run(main(parser.parse_args()))
