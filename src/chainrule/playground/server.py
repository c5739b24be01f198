"""The Playground's web server: the page from ``static/`` and one WebSocket per tab at ``/ws``.

Each connection owns a ``Session``: by default in one of a pool of worker processes (one per core,
``workers.py``), so tabs train in parallel instead of sharing one GIL. The connection's loop makes
its session calls from a thread (so the event loop, and every other tab, stays responsive) and
sends a frame only after the page acknowledged the previous one (PROTOCOL.md, "Flow control"). A
tab that closes ends its loop and frees its session. Needs the ``playground`` extra (Starlette,
uvicorn, websockets, threadpoolctl).
"""
import asyncio
import contextlib
import os
import sys
import time
import traceback
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .. import threads
from .guard import LOOPBACK_NAMES, Guard, new_token
from .protocol import MAX_FPS, ProtocolError, dumps, error, message_id, parse_message
from .session import Session
from .workers import WorkerLost

STATIC_DIR = Path(__file__).with_name("static")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_SESSIONS = 32
TRAIN_BUDGET_S = 0.2     # the most training time between two frames, however large the network
INBOX_MESSAGES = 64      # page messages waiting per tab; more are dropped with a "too busy" error
INBOX_BYTES = 4 << 20    # and at most this many characters of them
WS_MAX_SIZE = 16 << 20   # frames up to this size reach the protocol's own limit and its clear error


class Connection:
    """One tab: its session, its inbox of page messages and the frame flow control."""

    def __init__(self, websocket, session, max_fps=MAX_FPS, train_budget=TRAIN_BUDGET_S):
        self.websocket = websocket
        self.train_budget = train_budget
        self.session = session
        self.inbox = asyncio.Queue()
        self.inbox_chars = 0         # characters waiting in the inbox (INBOX_BYTES bounds them)
        self.dropped = 0             # messages dropped since the last "too busy" error
        self.seq = 0                 # last frame sent
        self.awaiting_ack = False
        self.trained_ahead = False   # one frame's epochs trained while waiting for an ack
        self.min_interval = 1.0 / max_fps
        self.last_frame = 0.0
        self.frames_sent = 0

    async def send(self, message):
        await self.websocket.send_text(dumps(message))

    async def receive(self):
        """Move the page's messages into the inbox; None marks the end of the connection."""
        try:
            while True:
                event = await self.websocket.receive()
                if event["type"] == "websocket.disconnect":
                    break
                raw = event.get("text")
                if raw is None:
                    raw = event.get("bytes") or b""
                if (self.inbox.qsize() >= INBOX_MESSAGES
                        or self.inbox_chars + len(raw) > INBOX_BYTES):
                    self.dropped += 1       # bounded: a flood costs messages, not memory
                    continue
                self.inbox_chars += len(raw)
                self.inbox.put_nowait(raw)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await self.inbox.put(None)

    async def take(self, raw):
        """Handle one message taken from the inbox, first reporting any that were dropped."""
        if raw is None:
            return False
        self.inbox_chars -= len(raw)
        if self.dropped:
            count, self.dropped = self.dropped, 0
            await self.send(error(f"too busy: {count} message(s) dropped because "
                                  f"{INBOX_MESSAGES} messages or {INBOX_BYTES >> 20} MiB were "
                                  f"already waiting; send them again more slowly"))
        await self.handle(raw)
        return True

    async def handle(self, raw):
        try:
            message = parse_message(raw)
        except ProtocolError as e:
            await self.send(error(e.message, e.field, message_id(raw) if isinstance(raw, str)
                                  else None))
            return
        if message["type"] == "ack":
            if self.awaiting_ack and message["seq"] == self.seq:
                self.awaiting_ack = False
            return
        try:
            replies = await asyncio.to_thread(self.session.handle, message)
        except WorkerLost:
            raise
        except Exception as e:   # a bug must not take the tab down: report it and go on
            traceback.print_exc()
            replies = [error(f"{message['type']}: internal error ({type(e).__name__}: {e}); the "
                             f"session goes on", None, message.get("id"))]
        for reply in replies:
            await self.send(reply)

    async def run(self):
        session = self.session
        receiver = None
        loop = asyncio.get_running_loop()
        try:     # a page may leave at any moment, even before its hello is sent
            await self.send(await asyncio.to_thread(session.hello))
            await self.send(await asyncio.to_thread(session.data_message))
            receiver = asyncio.create_task(self.receive())
            while True:
                while not self.inbox.empty():
                    if not await self.take(self.inbox.get_nowait()):
                        return
                timeout = None
                if session.playing and not self.trained_ahead:
                    for note in await asyncio.to_thread(session.advance, None,
                                                             self.train_budget):
                        await self.send(note)
                    self.trained_ahead = True
                    continue
                if session.dirty and not self.awaiting_ack:
                    wait = self.last_frame + self.min_interval - loop.time()
                    if wait <= 0:
                        text = await asyncio.to_thread(self._frame_text)
                        await self.websocket.send_text(text)
                        self.awaiting_ack, self.trained_ahead = True, False
                        self.last_frame = loop.time()
                        self.frames_sent += 1
                        continue
                    timeout = wait
                try:
                    raw = await asyncio.wait_for(self.inbox.get(), timeout)
                except asyncio.TimeoutError:
                    continue
                if not await self.take(raw):
                    return
        except WorkerLost as e:    # its process died: say so, and end this tab's session
            with contextlib.suppress(Exception):
                await self.send(error(str(e)))
                await self.websocket.close(code=1011)
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            return   # the page went away mid-send
        finally:
            if receiver is not None:
                receiver.cancel()

    def _frame_text(self):
        self.seq += 1
        return self.session.frame_text(self.seq)


def _close_later(loop, opening):
    """Close the session that ``opening`` (a finished future) made, in a worker thread."""
    if opening.cancelled() or opening.exception() is not None:
        return
    try:
        loop.run_in_executor(None, opening.result().close)
    except RuntimeError:     # the loop is closing: the worker processes go with it
        pass


def create_app(max_sessions=DEFAULT_MAX_SESSIONS, max_fps=MAX_FPS, static_dir=STATIC_DIR,
               workers=0, token=None, allowed_hosts=LOOPBACK_NAMES, train_budget=TRAIN_BUDGET_S):
    """The Starlette app: ``/ws`` (one session per connection) and the page from ``static_dir``.

    ``workers`` > 0 runs the sessions in that many worker processes (so tabs use every core);
    0 keeps them in this process (one core for all, as in the tests). Every request passes
    ``guard.Guard`` first: ``token`` (None: none needed) and ``allowed_hosts`` (the names the
    ``Host`` header may give; None: any, for a server reachable from other machines).
    ``train_budget`` is the most training time in seconds between two frames.
    """
    state = {"sessions": 0, "max_sessions": max_sessions, "started": time.time(), "pool": None}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if workers:
            from .workers import WorkerPool
            state["pool"] = WorkerPool(workers)
        try:
            yield
        finally:
            if state["pool"] is not None:
                await asyncio.to_thread(state["pool"].stop)
                state["pool"] = None

    def new_session():
        pool = state["pool"]
        return pool.session().open() if pool is not None else Session()

    async def websocket_endpoint(websocket: WebSocket):
        await websocket.accept()
        if state["sessions"] >= state["max_sessions"]:
            await websocket.send_text(dumps(error(
                f"too many sessions: this server allows {state['max_sessions']} at once; close a "
                f"tab and reload")))
            await websocket.close(code=1013)
            return
        state["sessions"] += 1
        loop = asyncio.get_running_loop()
        opening = loop.run_in_executor(None, new_session)
        try:
            try:
                session = await opening
            except WorkerLost as e:    # its worker died as it opened: a reload gets another
                await websocket.send_text(dumps(error(str(e))))
                return
            await Connection(websocket, session, max_fps=max_fps,
                             train_budget=train_budget).run()
        finally:
            state["sessions"] -= 1
            # Free the session without awaiting: a cancelled task (server shutdown) could not.
            opening.add_done_callback(lambda f: _close_later(loop, f))
            try:
                await websocket.close()
            except Exception:   # already closed by the page or the server's shutdown
                pass

    async def health(request):
        return PlainTextResponse(f"ok sessions={state['sessions']}\n")

    routes = [WebSocketRoute("/ws", websocket_endpoint), Route("/health", health)]
    routes.append(Mount("/", StaticFiles(directory=str(static_dir), html=True, check_dir=False)))
    guard = Middleware(Guard, token=token, allowed_hosts=allowed_hosts)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[guard])
    app.state.playground = state
    return app


def single_threaded_blas():
    """One thread per matrix product and kernel: the sessions' worker threads already share the cores,
    and OpenBLAS's own threads spinning against them made a 5,000 x 32 x 32 product 10x slower on
    a busy 2-core machine."""
    threads.set_num_threads(1)   # OpenBLAS (through threadpoolctl), MKL and the kernels


def serve(host=DEFAULT_HOST, port=DEFAULT_PORT, open_browser=False, max_sessions=None,
          workers=None, log_level="warning", token=None, no_token=False):
    """Run the Playground until Ctrl-C (which stops it within about two seconds).

    On loopback (the default) no token is needed, and only requests addressed to a loopback name
    are served. On any other ``host`` every request needs a token: ``token``, or a random one,
    printed in the URL (``?token=...``), unless ``no_token=True`` says so explicitly.

    A script that calls ``serve`` must do so under ``if __name__ == "__main__":``: the worker
    processes import the script again, and ``serve`` refuses to run during that import.
    """
    from .workers import refuse_unguarded_main
    refuse_unguarded_main()
    import uvicorn
    local = host in LOOPBACK_NAMES
    if local or no_token:
        token = token if not no_token else None
    else:
        token = token or os.environ.get("CHAINRULE_PLAYGROUND_TOKEN") or new_token()
    if not local:
        who = ("anyone who can reach this address can use it (and its CPU); there is no "
               "authentication (--no-token)" if token is None else
               "anyone with the address and its token can use it (and its CPU)")
        print(f"warning: serving the Playground on {host}: {who}", file=sys.stderr)
    single_threaded_blas()
    max_sessions = max_sessions or int(os.environ.get("CHAINRULE_PLAYGROUND_MAX_SESSIONS",
                                                      DEFAULT_MAX_SESSIONS))
    if workers is None:
        workers = int(os.environ.get("CHAINRULE_PLAYGROUND_WORKERS", os.cpu_count() or 1))
    app = create_app(max_sessions=max_sessions, workers=max(0, workers), token=token,
                     allowed_hosts=LOOPBACK_NAMES if local else None)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                            timeout_graceful_shutdown=1, ws_max_size=WS_MAX_SIZE)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")

    async def main():
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            print(f"chainrule Playground: {url}  (Ctrl-C to stop)", flush=True)
            if open_browser:
                import webbrowser
                webbrowser.open(url)
        await task

    asyncio.run(main())
