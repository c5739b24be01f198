"""Who may use a Playground (issue 21): Origin, Host and token checks, paths outside static/,
exported scripts that embed only validated values, downloaded CSVs without formulas."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import warnings

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from chainrule.playground import data, handlers  # noqa: E402
from chainrule.playground.guard import COOKIE_PREFIX, is_loopback, unsafe_path  # noqa: E402
from chainrule.playground.protocol import ProtocolError, parse_message  # noqa: E402
from chainrule.playground.server import create_app  # noqa: E402
from chainrule.playground.session import Session  # noqa: E402

LOCAL = "http://127.0.0.1:8765"
WS = "ws://127.0.0.1:8765/ws"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url=LOCAL) as c:
        yield c


# -- Origin ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:9999", "null",
                                    "https://127.0.0.1:8765.evil.example", "file://"])
def test_a_request_from_another_origin_is_refused(client, origin):
    response = client.get("/health", headers={"Origin": origin})
    assert response.status_code == 403 and "only the Playground's own page" in response.text
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(WS, headers={"Origin": origin}):
            pass
    assert refused.value.code == 1008


def test_the_pages_own_origin_and_no_origin_are_served(client):
    assert client.get("/health", headers={"Origin": LOCAL}).status_code == 200
    assert client.get("/health").status_code == 200          # curl, a script: no Origin
    for headers in ({"Origin": LOCAL}, {}):
        with client.websocket_connect(WS, headers=headers) as ws:
            assert ws.receive_json()["type"] == "hello"


def test_a_loopback_playground_refuses_other_host_names_against_dns_rebinding(client):
    response = client.get("/health", headers={"Host": "rebound.evil.example:8765"})
    assert response.status_code == 403 and "DNS rebinding" in response.text
    for host in ("localhost:8765", "127.0.0.1:8765", "[::1]:8765"):
        assert client.get("/health", headers={"Host": host}).status_code == 200
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("10.0.0.1")


# -- token -----------------------------------------------------------------------------------------
def test_a_token_is_needed_and_the_url_with_it_sets_a_cookie_and_drops_it():
    app = create_app(token="s3cret-token", allowed_hosts=None)
    with TestClient(app, base_url="http://classroom.example:8765") as c:
        assert c.get("/health").status_code == 403
        assert c.get("/health?token=wrong").status_code == 403
        opened = c.get("/?token=s3cret-token&x=1", follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/?x=1"
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith(COOKIE_PREFIX) and "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert c.get("/health").status_code == 200            # the cookie now carries it
        c.cookies.clear()
        assert c.get("/health").status_code == 403
        assert c.get("/health", headers={"Authorization": "token s3cret-token"}).status_code == 200
        ws_url = "ws://classroom.example:8765/ws"
        with pytest.raises(WebSocketDisconnect):
            with c.websocket_connect(ws_url):
                pass
        with c.websocket_connect(ws_url + "?token=s3cret-token") as ws:
            assert ws.receive_json()["type"] == "hello"


# -- the real server: tokens on other hosts, paths outside static/ ---------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.playground", "--workers", "0",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r} {proc.stderr.read()}")
    return proc, line


def stop(proc):
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=10)[1]


def status_of(url, headers=None, opener=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def test_another_host_prints_a_url_with_a_token_and_refuses_requests_without_it():
    port = free_port()
    proc, line = start_server("--host", "127.0.0.2", "--port", str(port))
    try:
        url = re.search(r"http://\S+", line).group(0)
        assert re.fullmatch(rf"http://127\.0\.0\.2:{port}/\?token=[0-9a-f]{{48}}", url), line
        token = url.split("token=")[1]
        assert status_of(f"http://127.0.0.2:{port}/health") == 403
        assert status_of(f"http://127.0.0.2:{port}/health?token={token}") == 200
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        assert status_of(url, opener=browser) == 200        # redirected, with the cookie
        assert status_of(f"http://127.0.0.2:{port}/main.js", opener=browser) == 200
        websockets = pytest.importorskip("websockets.sync.client")
        exceptions = pytest.importorskip("websockets.exceptions")
        with pytest.raises(exceptions.InvalidStatus, match="403"):
            websockets.connect(f"ws://127.0.0.2:{port}/ws")
        with websockets.connect(f"ws://127.0.0.2:{port}/ws?token={token}") as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        with pytest.raises(exceptions.InvalidStatus, match="403"):    # cross-site, with token
            websockets.connect(f"ws://127.0.0.2:{port}/ws?token={token}",
                               origin="http://evil.example")
    finally:
        err = stop(proc)
    assert "warning" in err and "token" in err


def test_no_token_must_be_asked_for_explicitly():
    port = free_port()
    proc, line = start_server("--host", "127.0.0.2", "--port", str(port), "--no-token")
    try:
        assert "token" not in line
        assert status_of(f"http://127.0.0.2:{port}/health") == 200
    finally:
        err = stop(proc)
    assert "no authentication" in err


TRAVERSALS = ["/../server.py", "/%2e%2e/server.py", "/%2E%2E/server.py", "/..%2fserver.py",
              "/%2e%2e%2fserver.py", "/..\\server.py", "/..%5cserver.py", "/%5c..%5cserver.py",
              "/%252e%252e/server.py", "/%252e%252e%252fserver.py", "/./../server.py",
              "/static/../../server.py", "/..%00/server.py", "//../server.py",
              "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
              "/../../../../../../../../etc/passwd"]


def raw_get(port, path):
    """GET ``path`` exactly as written (no client normalises it); returns (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                  .encode("latin-1"))
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    text = b"".join(chunks).decode("latin-1")
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/") else None
    return status, text


def test_static_files_cannot_be_read_outside_their_folder():
    port = free_port()
    proc, _ = start_server("--port", str(port))
    try:
        status, page = raw_get(port, "/")
        assert status == 200 and "<html" in page.lower()
        for path in TRAVERSALS:
            status, text = raw_get(port, path)
            assert status in (400, 403, 404), (path, status)
            assert "def create_app" not in text and "root:" not in text, path
    finally:
        stop(proc)


@pytest.mark.parametrize("path", ["/a/../b", "/%2e%2e/x", "/%252e%252e/x", "/a\\b", "/a%5cb",
                                  "/a\x00", "/./a"])
def test_unsafe_paths_are_named(path):
    assert unsafe_path(path) is not None


def test_ordinary_paths_pass():
    for path in ("/", "/main.js", "/index.html", "/a.b/c..d", "/..."):
        assert unsafe_path(path) is None


# -- exported scripts embed only validated values --------------------------------------------------
INJECTION = '"""\nimport os\nos.system("echo pwned")\n"""'


@pytest.mark.parametrize("field, value", [
    ("features", ["x1", "x2" + INJECTION]), ("init", "he'); import os #"),
    ("seed", "1); import os; (0"), ("optimizer", "adam\nimport os"),
    ("learning_rate", "0.1)\nimport os\n(1"), ("layers", [{"units": 4, "activation": INJECTION,
                                                         "dropout": 0, "batchnorm": False}]),
    ("dataset", "circle" + INJECTION)])
def test_an_unvalidated_string_in_the_settings_is_never_exported(field, value):
    session = Session()
    session.settings[field] = value     # as if a bug had let it through the protocol
    reply, = handlers.handle(session, {"type": "export_script", "id": 3})
    assert reply["type"] == "error" and reply["id"] == 3
    assert "nothing exported" in reply["message"]
    with pytest.raises(ProtocolError):  # and the protocol never lets it through
        parse_message(json.dumps({"type": "set", "settings": {field: value}}))


def test_points_and_labels_must_be_numbers():
    for label in ("=1+1", "0\nimport os", None, [1]):
        with pytest.raises(ProtocolError):
            parse_message(json.dumps({"type": "add_point", "x1": 1, "x2": 1, "label": label}))
    session = Session()
    session.points.train_labels = session.points.train_labels.astype(object)
    reply, = handlers.handle(session, {"type": "export_script", "id": None})
    assert reply["type"] == "error" and "not finite numbers" in reply["message"]


# -- downloaded CSVs carry no formulas -------------------------------------------------------------
def test_csv_cells_that_a_spreadsheet_would_run_are_defused():
    assert data.csv_cell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\""
    for bad in ("+cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1", "-inf", "-nan"):
        cell = data.csv_cell(bad)
        assert cell.lstrip('"').startswith("'"), (bad, cell)
    for number in ("-1.5", "+2", "-1e-05", "0.25", "-3", "train"):
        assert data.csv_cell(number) == number     # data stays data: no quotes on numbers


def test_downloaded_csv_keeps_negative_numbers_and_has_no_formula_cells():
    session = Session()
    handlers.handle(session, {"type": "set", "id": None, "settings": {"problem": "regression"}})
    handlers.handle(session, {"type": "upload_csv", "id": None,
                              "text": "-1.5,2,-0.25\n-3,-0.5,0.75\n2,-2,-1\n"})
    reply, = handlers.handle(session, {"type": "get_data_csv", "id": 1})
    lines = reply["text"].splitlines()
    assert lines[0] == "x1,x2,label,split"
    cells = [cell for line in lines[1:] for cell in line.split(",")]
    assert "-1.5" in cells and "-0.25" in cells
    for cell in cells:
        if cell.startswith(data.FORMULA_STARTS):
            float(cell)      # every cell starting with - or + is a plain number


def test_an_uploaded_formula_is_refused():
    session = Session()
    reply, = handlers.handle(session, {"type": "upload_csv", "id": 2,
                                       "text": "1,2,0\n=cmd|' /C calc'!A0,1,1\n"})
    assert reply["type"] == "error" and "line 2" in reply["message"]
