"""The Playground under load and faults (issue 21): scripts/playground_soak.py, sized down.

The soak runs tabs that train and acknowledge frames while sending hostile messages one at a
time, clients that vanish mid-frame, a slow reader, a client that never reads, and a worker
process killed halfway; it checks every answer, the memory bound and the clean end. CI=true
runs it for about a minute; locally it takes about 20 s; the note's run is 20 tabs for 10 min.
"""
import importlib.util
import os
import signal
import time
import warnings
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("websockets.asyncio.client")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from chainrule.playground.server import create_app  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "playground_soak.py"
CI = os.environ.get("CI") == "true"


def load_soak():
    spec = importlib.util.spec_from_file_location("playground_soak", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")
def test_soak_holds_load_hostile_messages_and_faults():
    soak = load_soak()
    sessions, duration, hostile = (4, 45, 2500) if CI else (3, 10, 600)
    report, failed = soak.run(sessions=sessions, duration=duration, hostile=hostile, workers=2,
                              out=print)
    assert not failed, report
    assert report["hostile_answered"] == hostile and report["slow_reader_frames"] == 1
    assert report["tabs_lost_to_the_kill"] >= 1 and report["other_disconnects"] == 0


def test_a_killed_worker_ends_its_tabs_with_a_message_and_spares_the_others():
    app = create_app(workers=2)
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        pool = app.state.playground["pool"]
        url = "ws://127.0.0.1:8765/ws"
        with client.websocket_connect(url) as a, client.websocket_connect(url) as b:
            frames = {}
            for ws, name in ((a, "a"), (b, "b")):
                for _ in range(3):
                    frames[name] = ws.receive_json()
            doomed = pool.workers[0].process
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.join(timeout=10)
            # Which tab lived in the killed process is the pool's choice: ask both.
            replies = {}
            for ws, name in ((a, "a"), (b, "b")):
                ws.send_json({"type": "step"})
                ws.send_json({"type": "ack", "seq": frames[name]["seq"]})
                replies[name] = ws.receive_json()
            lost = [n for n, r in replies.items() if r["type"] == "error"]
            kept = [n for n, r in replies.items() if r["type"] != "error"]
            assert len(lost) == 1 and len(kept) == 1, replies
            message = replies[lost[0]]["message"]
            assert "worker process" in message and "signal 9" in message
            assert "Reload the page" in message
            assert replies[kept[0]]["type"] == "frame" and replies[kept[0]]["epoch"] == 1
        with client.websocket_connect(url) as c:      # a reload gets a session in a new worker
            assert c.receive_json()["type"] == "hello"
        assert all(w.process.is_alive() for w in pool.workers)
        deadline = time.monotonic() + 10
        while app.state.playground["sessions"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert app.state.playground["sessions"] == 0
