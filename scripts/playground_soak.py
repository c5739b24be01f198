"""Soak the Playground server: many tabs training at once, hostile messages, faults.

    PYTHONPATH=src python scripts/playground_soak.py --sessions 20 --duration 600 --hostile 20000

starts ``python -m chainrule.playground`` (``--workers`` processes) and, for ``--duration``
seconds, runs ``--sessions`` clients that play and acknowledge every frame as a page does, while
each sends its share of ``--hostile`` malformed or hostile messages (invalid JSON, wrong types,
out-of-range values, injection strings, deep nesting, oversized and binary frames, impossible
weight addresses...), one at a time and interleaved with real requests (settings, CSV, script,
backprop). Each hostile message must be answered by exactly one ``error``; each real one by its
reply. Meanwhile: clients that vanish mid-frame (TCP reset while a frame is on the wire, or
half a frame sent), one slow reader that never acknowledges (it must get exactly one frame), one
client that never reads at all (the server must drop, not buffer), and, halfway, a worker
process killed with SIGKILL (its tabs get an error naming it and reconnect, as the page does;
the other tabs see nothing). The resident memory of the server and its workers is sampled every
second. Prints a report and exits 1 if any check failed; ``--json FILE`` also writes the figures.
"""
import argparse
import asyncio
import base64
import json
import os
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

MIB = 1 << 20
INJECTION = '"""\nimport os\nos.system("echo pwned")\n"""'


# -- hostile messages ----------------------------------------------------------------------------
def hostile_messages():
    """``(payload, takes_id)``: payload is text (or bytes for a binary frame), or a dict that
    gets an ``id`` and is sent as JSON. Every one must be answered with an ``error``."""
    deep = "[" * 100_000 + "]" * 100_000
    return [
        ("{nope", False), ("", False), ("null", False), ("[]", False), ("42", False),
        ('"just a string"', False), (deep, False), (b"\x00\xff binary", False),
        ('{"type": "set", "settings": {"learning_rate": NaN}}', False),
        ('{"type": "edit_weight", "layer": 1, "to": 0, "from": 0, "value": Infinity}', False),
        ('{"type": "add_point", "x1": 1e400, "x2": 0, "label": 0}', False),
        ({"type": "format_disk"}, True), ({"no_type": 1}, True), ({"type": 7}, True),
        ({"type": "set", "settings": {"layers": [{"units": 999, "activation": "tanh",
                                                 "dropout": 0, "batchnorm": False}]}}, True),
        ({"type": "set", "settings": {"features": ["x1", "x2" + INJECTION]}}, True),
        ({"type": "set", "settings": {"init": "he'); import os #"}}, True),
        ({"type": "set", "settings": {"seed": "1); import os; (0"}}, True),
        ({"type": "set", "settings": {"layers": [dict(units=1, activation="relu", dropout=0,
                                                      batchnorm=False)] * 11}}, True),
        ({"type": "set", "settings": {"batch_size": 0}}, True),
        ({"type": "set", "settings": {"__class__": "x"}}, True),
        ({"type": "set", "settings": "everything"}, True),
        ({"type": "preset", "name": "../../etc/passwd"}, True),
        ({"type": "edit_weight", "layer": 11, "to": 0, "from": 0, "value": 1}, True),
        ({"type": "edit_weight", "layer": 1, "to": 31, "from": 0, "value": 1}, True),   # semantic
        ({"type": "edit_bias", "layer": 1, "unit": 30, "value": 1}, True),              # semantic
        ({"type": "backprop", "layer": 3, "to": 20, "from": 0}, True),                  # semantic
        ({"type": "add_point", "x1": 7, "x2": 0, "label": 0}, True),
        ({"type": "add_point", "x1": 1, "x2": 0, "label": "=1+1"}, True),
        ({"type": "delete_point", "x1": 1e5, "x2": 1e5, "radius": 0.01}, True),          # semantic
        ({"type": "upload_csv", "text": "=cmd|' /C calc'!A0,1,0\n1,2,0\n"}, True),        # semantic
        ({"type": "upload_csv", "text": 12}, True),
        ({"type": "ack", "seq": -1}, True), ({"type": "ack", "seq": "1"}, True),
        ({"type": "play", "extra": True}, True),
        ({"type": "step", "id": "not an int"}, False),
    ]


OVERSIZED = json.dumps({"type": "upload_csv", "text": "1,2,0\n" * 50_000})   # 300 KB > limit


def real_requests(rng):
    """A real request and the reply type that answers it."""
    kind = rng.random()
    if kind < 0.5:
        rate = rng.choice([0.003, 0.01, 0.03, 0.1])
        return {"type": "set", "settings": {"learning_rate": rate}}, "settings"
    if kind < 0.8:
        return {"type": "get_data_csv"}, "data_csv"
    if kind < 0.9:
        return {"type": "backprop", "layer": 1, "to": 0, "from": 0}, "backprop"
    return {"type": "export_script"}, "script"


# -- the server and its memory -------------------------------------------------------------------
def rss_mib(pid):
    """Resident memory of ``pid`` and all its descendants, in MiB (Linux /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, ()))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def worker_pids(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read()
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid and b"multiprocessing" in cmd and b"resource_tracker" not in cmd:
                out.append(int(entry))
    return sorted(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port, workers, max_sessions):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([os.path.join(root, "src")] + sys.path))
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.playground", "--port", str(port),
                             "--workers", str(workers), "--max-sessions", str(max_sessions)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise RuntimeError(f"the server did not start: {line!r} {proc.stderr.read()}")
    return proc


# -- a raw WebSocket client, for the clients that misbehave below the protocol -----------------
def raw_frame(payload, opcode=1):
    """One masked client frame (RFC 6455)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def raw_connect(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    await writer.drain()
    response = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in response.split(b"\r\n")[0]:
        raise RuntimeError(f"handshake refused: {response[:80]!r}")
    return reader, writer


def reset(writer):
    """Vanish: close with a TCP reset, no WebSocket close, no FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# -- the clients ---------------------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.frames = {}            # session number -> frames drawn
        self.hostile_sent = 0
        self.hostile_answered = 0
        self.oversized = 0
        self.real_sent = 0
        self.real_answered = 0
        self.unexpected = []        # replies that were not what the message asked for
        self.lost_to_kill = 0       # tabs told their worker died
        self.other_disconnects = 0  # tabs that lost their socket otherwise (must be 0)
        self.reconnects = 0
        self.vanished = 0
        self.slow_reader_frames = None
        self.busy = 0               # "too busy" errors (the inbox was full)
        self.working_after = 0      # sessions that trained a step after all their messages


async def tab(number, port, stats, quota, stop_at, rng, connected):
    """A page that plays, acks every frame, and sends ``quota`` hostile messages one at a time
    between real requests. Reconnects (as the page does) when its worker is killed."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed
    hostile = hostile_messages()
    sent = 0
    next_id = 1
    pending = None
    stats.frames.setdefault(number, 0)
    while True:
        try:
            async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None,
                               open_timeout=60) as ws:
                replies = asyncio.Queue()

                async def read():
                    try:
                        async for text in ws:
                            message = json.loads(text)
                            if message["type"] == "frame":
                                stats.frames[number] += 1
                                await ws.send(json.dumps({"type": "ack",
                                                          "seq": message["seq"]}))
                            elif message["type"] in ("error", "settings", "data_csv",
                                                     "backprop", "script"):
                                await replies.put(message)
                    except ConnectionClosed:
                        pass
                    await replies.put(None)

                reader = asyncio.create_task(read())
                await ws.send(json.dumps({"type": "play"}))
                connected.set()

                async def answer():
                    reply = await asyncio.wait_for(replies.get(), 120)
                    if reply is None:
                        raise ConnectionClosed(None, None)
                    if reply["type"] == "error" and "worker process" in reply["message"]:
                        raise WorkerKilled()
                    if reply["type"] == "error" and reply["message"].startswith("too busy"):
                        stats.busy += 1
                        return await answer()
                    return reply

                while sent < quota or time.monotonic() < stop_at:
                    if sent < quota and rng.random() < 0.9:
                        if rng.random() < 0.002:
                            payload, takes_id = OVERSIZED, False
                            stats.oversized += 1
                        else:
                            payload, takes_id = rng.choice(hostile)
                        mid = None
                        if takes_id:
                            mid, next_id = next_id, next_id + 1
                            payload = dict(payload, id=mid)
                        if isinstance(payload, dict):
                            payload = json.dumps(payload)
                        await ws.send(payload)
                        stats.hostile_sent += 1
                        sent += 1
                        pending = "hostile"
                        reply = await answer()
                        pending = None
                        if reply["type"] == "error" and reply.get("id") == mid:
                            stats.hostile_answered += 1
                        else:
                            stats.unexpected.append((str(payload)[:80], reply["type"]))
                    else:
                        request, expected = real_requests(rng)
                        mid, next_id = next_id, next_id + 1
                        await ws.send(json.dumps(dict(request, id=mid)))
                        stats.real_sent += 1
                        pending = "real"
                        reply = await answer()
                        if reply["type"] == expected:
                            stats.real_answered += 1
                        else:
                            stats.unexpected.append((request["type"], reply.get("message")))
                        pending = None
                        if sent >= quota:
                            await asyncio.sleep(0.2)
                # Still working after everything: pause, step, and see the step's frame.
                await ws.send(json.dumps({"type": "pause"}))
                await ws.send(json.dumps({"type": "get_data_csv", "id": 0}))
                await answer()
                before = stats.frames[number]
                await ws.send(json.dumps({"type": "step"}))
                deadline = time.monotonic() + 60
                while stats.frames[number] == before and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                if stats.frames[number] > before:
                    stats.working_after += 1
                reader.cancel()
                return
        except WorkerKilled:     # the message waiting for its answer is sent again later
            if pending == "hostile":
                sent -= 1
                stats.hostile_sent -= 1
            elif pending == "real":
                stats.real_sent -= 1
            stats.lost_to_kill += 1
            stats.reconnects += 1
        except (ConnectionClosed, OSError, asyncio.TimeoutError) as e:
            stats.other_disconnects += 1
            stats.unexpected.append(("disconnect", repr(e)[:80]))
            return


class WorkerKilled(Exception):
    pass


async def vanishers(port, stats, stop_at):
    """Clients that leave mid-frame: a TCP reset while the server sends a frame, or after half
    of a frame of their own."""
    n = 0
    while time.monotonic() < stop_at:
        try:
            reader, writer = await raw_connect(port)
            if n % 2 == 0:
                await reader.readexactly(2)             # the hello's first bytes only
                writer.write(raw_frame(b'{"type":"play"}') + raw_frame(b'{"type":"ack","seq":1}'))
                await writer.drain()
                await asyncio.sleep(0.3)                # a frame is being trained and sent
                await reader.read(100)                  # part of what is on the wire
            else:
                whole = raw_frame(json.dumps({"type": "get_data_csv"}).encode() * 40)
                writer.write(whole[:len(whole) // 2])   # half a frame, then gone
                await writer.drain()
            reset(writer)
            stats.vanished += 1
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            pass
        n += 1
        await asyncio.sleep(0.5)


async def slow_reader(port, stats, stop_at):
    """Plays and never acknowledges: it must get exactly one frame, however long it waits."""
    from websockets.asyncio.client import connect
    frames = 0
    async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "play"}))
        while time.monotonic() < stop_at:
            try:
                text = await asyncio.wait_for(ws.recv(), max(0.1, stop_at - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if json.loads(text)["type"] == "frame":
                frames += 1
    stats.slow_reader_frames = frames


async def non_reader(port, stop_at):
    """Asks for large replies and never reads one: the server must drop, not buffer."""
    reader, writer = await raw_connect(port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = raw_frame(json.dumps({"type": "export_script"}).encode())
    while time.monotonic() < stop_at:
        writer.write(request * 50)
        try:
            await asyncio.wait_for(writer.drain(), 2)
        except asyncio.TimeoutError:
            pass                                  # the server stopped reading us: fine
        await asyncio.sleep(0.5)
    reset(writer)


async def sample_memory(pid, samples, stop):
    start = time.monotonic()
    while not stop.is_set():
        samples.append((time.monotonic() - start, rss_mib(pid)))
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass


async def soak(port, pid, sessions, duration, hostile, seed, kill_worker):
    stats = Stats()
    start = time.monotonic()
    stop_at = start + duration
    rng = random.Random(seed)
    stop = asyncio.Event()
    samples = []
    memory = asyncio.create_task(sample_memory(pid, samples, stop))
    quota = [hostile // sessions + (i < hostile % sessions) for i in range(sessions)]
    tabs = []
    for i in range(sessions):   # one after the other: the pool spreads them over its workers
        connected = asyncio.Event()
        tabs.append(asyncio.create_task(tab(i, port, stats, quota[i], stop_at,
                                            random.Random(rng.random()), connected)))
        await asyncio.wait_for(connected.wait(), 120)
    side = [asyncio.create_task(vanishers(port, stats, stop_at)),
            asyncio.create_task(slow_reader(port, stats, stop_at)),
            asyncio.create_task(non_reader(port, stop_at))]
    killed = None
    if kill_worker:
        await asyncio.sleep(duration / 2)
        pids = worker_pids(pid)
        if pids:
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
    await asyncio.gather(*tabs)
    elapsed = time.monotonic() - start
    await asyncio.gather(*side, return_exceptions=True)
    stop.set()
    await memory
    return stats, samples, elapsed, killed


def health(port):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
        return r.read().decode().strip()


def run(sessions=20, duration=600.0, hostile=10_000, workers=2, seed=0, kill_worker=True,
        out=print):
    """Run the soak; returns ``(report dict, list of failed checks)``."""
    port = free_port()
    proc = start_server(port, workers, sessions + 8)
    try:
        pid = proc.pid
        stats, samples, elapsed, killed = asyncio.run(
            soak(port, pid, sessions, duration, hostile, seed, kill_worker))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and health(port) != "ok sessions=0":
            time.sleep(0.2)
        left = health(port)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    fps = sorted(n / elapsed for n in stats.frames.values())
    warm = max(5.0, elapsed / 4)
    warm_rss = [m for t, m in samples if t <= warm] or [samples[0][1]]
    late_rss = [m for t, m in samples if t > warm] or warm_rss
    report = {
        "sessions": sessions, "workers": workers, "seconds": round(elapsed, 1),
        "fps_per_session": {"min": round(fps[0], 2), "median": round(statistics.median(fps), 2),
                            "max": round(fps[-1], 2)},
        "frames": sum(stats.frames.values()),
        "hostile_sent": stats.hostile_sent, "hostile_answered": stats.hostile_answered,
        "oversized": stats.oversized, "real_sent": stats.real_sent,
        "real_answered": stats.real_answered, "too_busy": stats.busy,
        "unexpected": stats.unexpected[:10], "unexpected_count": len(stats.unexpected),
        "vanished_mid_frame": stats.vanished, "slow_reader_frames": stats.slow_reader_frames,
        "worker_killed": killed, "tabs_lost_to_the_kill": stats.lost_to_kill,
        "other_disconnects": stats.other_disconnects,
        "sessions_working_at_the_end": stats.working_after,
        "rss_mib": {"after_warm_up": round(max(warm_rss), 1), "late_max": round(max(late_rss), 1),
                    "first_after_warm_up": round(late_rss[0], 1), "last": round(late_rss[-1], 1),
                    "samples": len(samples)},
        "health_after": left, "server_tracebacks": err.count("Traceback"),
    }
    growth_bound = max(warm_rss) * 1.10 + 64
    checks = {
        "every hostile message answered by an error": stats.hostile_answered == stats.hostile_sent
        == hostile,
        "every real request answered": stats.real_answered == stats.real_sent,
        "nothing unexpected": not stats.unexpected,
        "every tab trained frames": bool(fps) and fps[0] > 0,
        "every tab still works at the end": stats.working_after == sessions,
        "the slow reader got exactly one frame": stats.slow_reader_frames == 1,
        "the killed worker's tabs were told, the others untouched":
            (not kill_worker or (killed is not None and 0 < stats.lost_to_kill < sessions))
            and stats.other_disconnects == 0,
        f"memory after warm-up within {growth_bound:.0f} MiB": max(late_rss) <= growth_bound,
        "every session freed": left == "ok sessions=0",
        "no traceback from the server": "Traceback" not in err,
    }
    failed = [name for name, ok in checks.items() if not ok]
    report["checks_failed"] = failed
    out(json.dumps(report, indent=2))
    if "Traceback" in err:
        out(err[-3000:])
    return report, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--hostile", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-kill", action="store_true", help="do not kill a worker halfway")
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args(argv)
    report, failed = run(args.sessions, args.duration, args.hostile, args.workers, args.seed,
                         not args.no_kill)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    print("all checks passed" if not failed else f"FAILED: {'; '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
