"""The Playground server without a browser: WebSocket round trips, flow control, limits, shutdown."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():   # Starlette 1.x nudges towards httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from chainrule.playground.server import create_app  # noqa: E402

LOCAL = "http://127.0.0.1:8765"   # the Playground answers only to loopback names by default
WS = "ws://127.0.0.1:8765/ws"


def receive_until(ws, kind, limit=50):
    """Messages up to and including the first of type ``kind``."""
    seen = []
    for _ in range(limit):
        message = ws.receive_json()
        seen.append(message)
        if message["type"] == kind:
            return seen
    raise AssertionError(f"no {kind!r} among {[m['type'] for m in seen]}")


def opening(ws):
    hello, data, frame = ws.receive_json(), ws.receive_json(), ws.receive_json()
    assert (hello["type"], data["type"], frame["type"]) == ("hello", "data", "frame")
    assert frame["seq"] == 1 and frame["playing"] is False
    return hello, data, frame


@pytest.fixture
def client():
    with TestClient(create_app(train_budget=60), base_url=LOCAL) as c:
        yield c


def test_round_trip_trains_the_circle_with_acks(client):
    with client.websocket_connect(WS) as ws:
        hello, data, frame = opening(ws)
        assert hello["protocol"] == 1 and len(data["train"]) == 250
        ws.send_json({"type": "play"})
        ws.send_json({"type": "ack", "seq": frame["seq"]})
        seqs = []
        for _ in range(60):
            frame = receive_until(ws, "frame")[-1]
            seqs.append(frame["seq"])
            ws.send_json({"type": "ack", "seq": frame["seq"]})
            if frame["test_loss"] < 0.1:
                break
        assert frame["test_loss"] < 0.1 and frame["playing"]
        assert seqs == list(range(2, 2 + len(seqs)))
        assert frame["epoch"] == 5 * len(seqs)       # epochs_per_frame = 5, no frame skipped
        ws.send_json({"type": "pause"})


def test_no_new_frame_before_the_ack(client):
    with client.websocket_connect(WS) as ws:
        _, _, frame = opening(ws)
        ws.send_json({"type": "play"})
        time.sleep(0.3)              # the server trains one frame ahead, then must wait
        ws.send_json({"type": "get_data_csv", "id": 1})
        reply = ws.receive_json()
        assert reply["type"] == "data_csv" and reply["id"] == 1   # no frame queued before it
        ws.send_json({"type": "ack", "seq": 7})                   # wrong seq: ignored
        ws.send_json({"type": "get_data_csv", "id": 2})
        assert ws.receive_json()["type"] == "data_csv"
        ws.send_json({"type": "ack", "seq": frame["seq"]})
        nxt = ws.receive_json()
        assert nxt["type"] == "frame" and nxt["seq"] == 2 and nxt["epoch"] == 5


def test_bad_messages_get_errors_and_the_session_survives(client):
    with client.websocket_connect(WS) as ws:
        _, _, frame = opening(ws)
        ws.send_text("{nope")
        err = ws.receive_json()
        assert err["type"] == "error" and "not valid JSON" in err["message"]
        ws.send_json({"type": "set", "id": 8, "settings": {"batch_size": 31}})
        err = ws.receive_json()
        assert err == {"type": "error", "id": 8, "field": "settings.batch_size",
                       "message": "settings.batch_size must be an int in 1..30, got 31"}
        ws.send_bytes(b"\x00")
        assert "binary" in ws.receive_json()["message"]
        ws.send_json({"type": "step"})
        ws.send_json({"type": "ack", "seq": frame["seq"]})
        frame = receive_until(ws, "frame")[-1]
        assert frame["epoch"] == 1 and frame["seq"] == 2


def test_architecture_change_resets_with_a_notice_mid_run(client):
    with client.websocket_connect(WS) as ws:
        _, _, frame = opening(ws)
        ws.send_json({"type": "play"})
        ws.send_json({"type": "ack", "seq": frame["seq"]})
        frame = receive_until(ws, "frame")[-1]
        ws.send_json({"type": "set", "id": 3, "settings": {"layers": [
            {"units": 6, "activation": "relu", "dropout": 0, "batchnorm": False}]}})
        got = receive_until(ws, "notice")
        assert got[-1]["code"] == "reset" and got[-1]["id"] == 3
        assert got[-2]["type"] == "settings" and got[-2]["settings"]["layers"][0]["units"] == 6
        ws.send_json({"type": "ack", "seq": frame["seq"]})
        frame = receive_until(ws, "frame")[-1]
        assert len(frame["weights"]) == 2 and len(frame["weights"][0]) == 6
        ws.send_json({"type": "set", "settings": {"learning_rate": 0.1}})
        got = receive_until(ws, "settings")
        ws.send_json({"type": "ack", "seq": frame["seq"]})
        later = receive_until(ws, "frame")
        assert not any(m["type"] == "notice" for m in later)
        assert later[-1]["epoch"] >= frame["epoch"]
        ws.send_json({"type": "pause"})


def test_replies_carry_files(client):
    with client.websocket_connect(WS) as ws:
        opening(ws)
        ws.send_json({"type": "export_script", "id": 4})
        script = ws.receive_json()
        assert script["type"] == "script" and script["id"] == 4
        compile(script["text"], "script.py", "exec")
        ws.send_json({"type": "save_model", "id": 5})
        model = ws.receive_json()
        assert model["type"] == "model" and model["base64"]
        ws.send_json({"type": "backprop", "id": 6, "layer": 1, "to": 0, "from": 0})
        assert ws.receive_json()["type"] == "backprop"


def test_session_limit_and_sessions_are_freed():
    app = create_app(max_sessions=1)
    state = app.state.playground
    with TestClient(app, base_url=LOCAL) as client:
        with client.websocket_connect(WS) as ws:
            opening(ws)
            assert state["sessions"] == 1
            with client.websocket_connect(WS) as second:
                err = second.receive_json()
                assert err["type"] == "error" and "too many sessions" in err["message"]
        deadline = time.monotonic() + 10
        while state["sessions"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state["sessions"] == 0
        with client.websocket_connect(WS) as ws:   # the slot is free again
            opening(ws)


def test_two_tabs_are_independent(client):
    with client.websocket_connect(WS) as a, client.websocket_connect(WS) as b:
        _, _, fa = opening(a)
        _, _, fb = opening(b)
        a.send_json({"type": "set", "settings": {"layers": []}})
        receive_until(a, "notice")
        a.send_json({"type": "ack", "seq": fa["seq"]})
        fa = receive_until(a, "frame")[-1]
        b.send_json({"type": "step"})
        b.send_json({"type": "ack", "seq": fb["seq"]})
        fb = receive_until(b, "frame")[-1]
        assert len(fa["weights"]) == 1 and len(fb["weights"]) == 3
        assert fa["epoch"] == 0 and fb["epoch"] == 1


def test_static_page_is_served(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>Playground</title>")
    (tmp_path / "app.js").write_text("export const x = 1;")
    with TestClient(create_app(static_dir=tmp_path), base_url=LOCAL) as client:
        page = client.get("/")
        assert page.status_code == 200 and "Playground" in page.text
        js = client.get("/app.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert client.get("/health").text.startswith("ok")


def test_sessions_in_worker_processes():
    app = create_app(workers=2, train_budget=60)   # whole frames of epochs, however loaded
    with TestClient(app, base_url=LOCAL) as client:
        pool = app.state.playground["pool"]
        with client.websocket_connect(WS) as a, client.websocket_connect(WS) as b:
            _, _, fa = opening(a)
            _, _, fb = opening(b)
            assert sorted(w.sessions for w in pool.workers) == [1, 1]   # one tab per process
            a.send_json({"type": "play"})
            a.send_json({"type": "ack", "seq": fa["seq"]})
            for _ in range(8):
                fa = receive_until(a, "frame")[-1]
                a.send_json({"type": "ack", "seq": fa["seq"]})
            assert fa["epoch"] >= 30 and fa["playing"]
            b.send_json({"type": "set", "id": 1, "settings": {"noise": 99}})
            assert b.receive_json()["field"] == "settings.noise"
            b.send_json({"type": "step"})
            b.send_json({"type": "ack", "seq": fb["seq"]})
            fb = receive_until(b, "frame")[-1]
            assert fb["epoch"] == 1 and not fb["playing"]
            a.send_json({"type": "pause"})
        deadline = time.monotonic() + 10
        while sum(w.sessions for w in pool.workers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [w.sessions for w in pool.workers] == [0, 0]
        processes = [w.process for w in pool.workers]
    for p in processes:    # the pool stops with the app
        p.join(timeout=5)
        assert not p.is_alive()


# -- the real server: uvicorn, the command, Ctrl-C -------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.playground", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r} {proc.stderr.read()}")
    return proc, line


def test_command_serves_and_stops_on_ctrl_c_within_two_seconds():
    websockets = pytest.importorskip("websockets.sync.client")
    port = free_port()
    proc, line = start_server("--port", str(port))
    try:
        assert f"http://127.0.0.1:{port}/" in line
        with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            hello = json.loads(ws.recv(timeout=10))
            assert hello["type"] == "hello"
            json.loads(ws.recv(timeout=10))
            frame = json.loads(ws.recv(timeout=10))
            ws.send(json.dumps({"type": "play"}))
            ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
            frame = json.loads(ws.recv(timeout=10))
            assert frame["type"] == "frame" and frame["epoch"] == 5
            ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))   # keep it training
            time.sleep(0.2)
            start = time.monotonic()
            proc.send_signal(signal.SIGINT)   # Ctrl-C with a tab connected and training
            proc.wait(timeout=5)
            assert time.monotonic() - start < 2.0
            assert proc.returncode in (0, -signal.SIGINT)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_other_hosts_print_a_warning():
    port = free_port()
    proc, line = start_server("--host", "127.0.0.2", "--port", str(port), "--workers", "0")
    try:
        assert f"http://127.0.0.2:{port}/" in line
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=5)
    assert "warning" in err and "127.0.0.2" in err


UNGUARDED_SCRIPT = """
from chainrule.playground.server import serve
serve(host="127.0.0.1", port={port}, workers=1)
"""


def test_serve_refuses_to_run_while_a_spawned_worker_imports_the_script(monkeypatch):
    import multiprocessing
    from chainrule.playground.server import serve
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with pytest.raises(RuntimeError, match=r'if __name__ == "__main__":'):
        serve(port=free_port(), workers=1)


def test_an_unguarded_script_gets_the_guard_explained_not_a_second_server(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED_SCRIPT.format(port=free_port()))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=90)    # the server itself stops: its worker died starting
    except subprocess.TimeoutExpired:
        proc.kill()
        code = None
    reader.join(timeout=5)
    err = "".join(lines)
    assert code not in (None, 0), err
    assert "main guard" in err and 'if __name__ == "__main__":' in err, err
    assert "a worker process exited while starting" in err, err
    assert "address already in use" not in err.lower() and "bootstrapping phase" not in err, err


def test_click_command_is_registered():
    click_testing = pytest.importorskip("click.testing")
    cli = pytest.importorskip("chainrule.cli")
    from chainrule.playground.cli import playground
    result = click_testing.CliRunner().invoke(playground, ["--help"])
    assert result.exit_code == 0 and "--open" in result.output and "127.0.0.1" in result.output
    assert cli.COMMANDS.get("playground") == "chainrule.playground.cli:playground"
    result = click_testing.CliRunner().invoke(cli.build_cli(), ["playground", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


# -- issue 19, bug 5: a page that leaves at once, oversized messages, a flooded inbox -----------------
def stop(proc):
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    return err


def test_a_client_leaving_right_after_hello_prints_no_traceback():
    websockets = pytest.importorskip("websockets.sync.client")
    port = free_port()
    proc, _ = start_server("--port", str(port), "--workers", "0")
    try:
        for _ in range(5):
            with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
                assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:   # the server still serves
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        time.sleep(0.5)
    finally:
        err = stop(proc)
    assert "Traceback" not in err and "Exception in ASGI application" not in err, err


def test_a_message_over_one_mebibyte_gets_an_error_not_a_closed_socket():
    websockets = pytest.importorskip("websockets.sync.client")
    port = free_port()
    proc, _ = start_server("--port", str(port), "--workers", "0")
    try:
        with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
            for _ in range(3):
                frame = json.loads(ws.recv(timeout=10))
            ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
            ws.send(json.dumps({"type": "upload_csv", "id": 4, "text": "1,2,0\n" * 200_000}))
            reply = json.loads(ws.recv(timeout=20))
            assert reply["type"] == "error" and reply["id"] == 4
            assert "the limit is 262144" in reply["message"]
            ws.send(json.dumps({"type": "step"}))      # the socket is still open
            assert receive_ws_until(ws, "frame")["epoch"] == 1
    finally:
        stop(proc)


def receive_ws_until(ws, kind, limit=50):
    for _ in range(limit):
        message = json.loads(ws.recv(timeout=20))
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r}")


def test_a_flooded_inbox_answers_too_busy_instead_of_growing():
    websockets = pytest.importorskip("websockets.sync.client")
    port = free_port()
    proc, _ = start_server("--port", str(port), "--workers", "0")
    rows = "".join(f"{(i % 97) / 20 - 2:.3f},{(i % 89) / 20 - 2:.3f},{i % 2}\n" for i in range(4000))
    message = json.dumps({"type": "upload_csv", "text": rows[:199_000].rsplit("\n", 1)[0]})
    try:
        with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
            for _ in range(3):
                ws.recv(timeout=10)
            for _ in range(150):
                ws.send(message)
            busy = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                reply = json.loads(ws.recv(timeout=30))
                if reply["type"] == "error" and "too busy" in reply["message"]:
                    busy.append(reply)
                    break
            assert busy, "no 'too busy' error after 150 uploads of 199 KB"
            assert "dropped" in busy[0]["message"]
    finally:
        stop(proc)
