"""Sessions in worker processes, so that tabs train on every core instead of sharing one GIL.

A ``WorkerPool`` starts ``n`` processes; each new tab's session lives in the least busy one.
``RemoteSession`` gives the connection the same calls as a local ``Session`` (``hello``,
``data_message``, ``handle``, ``advance``, ``frame_text``, ``close``), each a blocking round trip
over a pipe (the connection makes them from a worker thread), and mirrors the three flags the
connection's loop reads (``playing``, ``dirty``, ``diverged``) from every reply.
"""
import multiprocessing
import signal
import threading

from .session import Session


UNGUARDED_MAIN = (
    "chainrule Playground: serve() was called while a worker process was starting. Worker "
    "processes are spawned: each one imports your script again, and a script that calls serve() "
    "at its top level would start another server in every worker (address-in-use errors, "
    "multiprocessing tracebacks). Put the call under a main guard:\n\n"
    "    if __name__ == \"__main__\":\n"
    "        serve(...)\n\n"
    "or pass workers=0 to train in the server process.")


class WorkerLost(Exception):
    """The worker process that held a session is gone (killed, out of memory, crashed): the
    session's network is lost with it. The pool starts a replacement for new sessions."""


def refuse_unguarded_main():
    """Raise ``RuntimeError`` when called from a spawned child that is re-running ``__main__``.

    A spawned (or forkserver) child imports the parent's main script before it runs its target.
    During that import the child's process object is ``_inheriting`` (multiprocessing's own flag,
    the one behind its "bootstrapping phase" error); ``parent_process()`` is not yet set then, so
    it cannot tell that phase apart, and a ``serve`` that is itself a child's target must run.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(UNGUARDED_MAIN)


def _state(session):
    return session.playing, session.dirty, session.diverged


def _serve(conn):
    """A worker process: run requests ``(op, session id, args)`` until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    from .server import single_threaded_blas
    single_threaded_blas()
    conn.send(("ready", None, None))
    sessions = {}
    while True:
        try:
            op, sid, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if op == "open":
                sessions[sid] = Session()
                result = None
            elif op == "close":
                sessions.pop(sid, None)
                result = None
            else:
                session = sessions[sid]
                if op == "hello":
                    result = session.hello()
                elif op == "data":
                    result = session.data_message()
                elif op == "handle":
                    result = session.handle(*args)
                elif op == "advance":
                    result = session.advance(*args)
                elif op == "frame":
                    result = session.frame_text(*args)
                else:
                    raise ValueError(f"unknown worker request {op!r}")
            reply = ("ok", result, _state(sessions[sid]) if sid in sessions else None)
        except Exception as e:   # reported to the connection, which reports it to the page
            reply = ("error", f"{type(e).__name__}: {e}", None)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


class Worker:
    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True,
                                       name="chainrule-playground-worker")
        self.process.start()
        child.close()
        self.lock = threading.Lock()
        self.sessions = 0
        self.lost = False

    def wait_ready(self):
        """Block until the worker has started; raise if it died on the way (most often because
        the main script, which a spawned worker imports again, calls ``serve`` unguarded)."""
        try:
            self.conn.recv()
        except (EOFError, OSError):
            self.process.join(timeout=5)
            raise RuntimeError(
                f"chainrule Playground: a worker process exited while starting (exit code "
                f"{self.process.exitcode}); its error is printed above. {UNGUARDED_MAIN}") from None

    def call(self, op, sid, *args):
        with self.lock:
            if self.lost:
                raise WorkerLost(self.lost_message())
            try:
                self.conn.send((op, sid, args))
                status, result, state = self.conn.recv()
            except (EOFError, OSError) as e:    # the process died mid-request
                self.lost = True
                raise WorkerLost(self.lost_message()) from e
        if status != "ok":
            raise RuntimeError(f"playground worker: {result}")
        return result, state

    def alive(self):
        return not self.lost and self.process.is_alive()

    def lost_message(self):
        self.process.join(timeout=1)
        code = self.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else \
            f"exit code {code}"
        return (f"the worker process training this session stopped ({how}); its network is "
                f"lost. Reload the page for a new session (the other tabs are not affected)")

    def stop(self):
        try:
            self.conn.close()
        except OSError:
            pass
        self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.terminate()


class WorkerPool:
    """``n`` worker processes (spawned: no fork of a threaded server)."""

    def __init__(self, n):
        self.context = context = multiprocessing.get_context("spawn")
        self.workers = [Worker(context) for _ in range(n)]
        try:
            for worker in self.workers:     # they start in parallel; wait for each in turn
                worker.wait_ready()
        except RuntimeError:
            for worker in self.workers:
                worker.stop()
            raise
        self.lock = threading.Lock()
        self.next_id = 0

    def replace_lost(self):
        """Start a new process for every worker that died; their sessions stay lost."""
        with self.lock:      # held while the new one starts: no session may pick it earlier
            for i, worker in enumerate(self.workers):
                if not worker.alive():
                    worker.lost = True
                    fresh = Worker(self.context)
                    fresh.wait_ready()
                    self.workers[i] = fresh

    def session(self):
        self.replace_lost()
        with self.lock:
            worker = min(self.workers, key=lambda w: w.sessions)
            worker.sessions += 1
            self.next_id += 1
            sid = self.next_id
        return RemoteSession(self, worker, sid)

    def stop(self):
        for worker in self.workers:
            worker.stop()


class RemoteSession:
    """A session living in a worker process; same calls as ``Session`` for the connection."""

    def __init__(self, pool, worker, sid):
        self.pool, self.worker, self.sid = pool, worker, sid
        self.playing = self.dirty = self.diverged = False
        self.opened = False

    def _call(self, op, *args):
        result, state = self.worker.call(op, self.sid, *args)
        if state is not None:
            self.playing, self.dirty, self.diverged = state
        return result

    def open(self):
        self._call("open")
        self.opened = True
        return self

    def hello(self):
        return self._call("hello")

    def data_message(self):
        return self._call("data")

    def handle(self, message):
        return self._call("handle", message)

    def advance(self, epochs=None, budget=None):
        return self._call("advance", epochs, budget)

    def frame_text(self, seq):
        return self._call("frame", seq)

    def close(self):
        if self.opened:
            self.opened = False
            try:
                self._call("close")
            except (RuntimeError, OSError, EOFError, WorkerLost):
                pass
            with self.pool.lock:
                self.worker.sessions -= 1
