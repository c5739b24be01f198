"""Fixtures of the workflow tests: a local HTTP server for the dataset downloads (no test reaches
the internet)."""
import functools
import http.server
import threading

import pytest


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """``(folder served, base URL, names requested)`` of an HTTP server on 127.0.0.1."""
    served = tmp_path / "served"
    served.mkdir()
    requested = []

    class Handler(_Quiet):
        def do_GET(self):
            requested.append(self.path.lstrip("/"))
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/", requested
    httpd.shutdown()
    httpd.server_close()
    thread.join()
