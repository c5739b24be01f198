"""When the kernels' parallel builds run: one switch, ``on``, read by ``kernels.get``.

On the bench's 2-core machine SGD's momentum update over 1.86 M floats took 734 us on one thread
and 393 us on two, through Numba's OpenMP threading layer, also right after an MKL product; the
``workqueue`` layer, Numba's fallback where no OpenMP or TBB runtime loads, took 858 us. So:

- Numba is asked for its ``omp`` layer first (then ``tbb``); where neither loads, the parallel
  builds stay unused. A user's ``NUMBA_THREADING_LAYER`` is kept.
- The threads follow ``OMP_NUM_THREADS`` where it is set (the distributed launcher sets 1 per
  rank), and ``cr.set_num_threads``; with one thread the serial builds serve.
- A process forked after the threads started (a DataLoader worker) runs the serial builds: GNU
  OpenMP's threads do not survive a fork, and Numba ends a child that launches them.

A parallel build splits only loops whose iterations write disjoint elements, each computed as
in the serial build, so its results are bit-equal to it (``tests/kernels`` compares the two).
"""
import os

import numpy as np

on = None          # use the parallel builds now; None: not known before the threads start
_numba = None
_kernels = None
_usable = None     # whether a threading layer other than workqueue loaded (None: not tried)
_forked = False    # this process is a fork of one whose threads had started
_requested = None  # cr.set_num_threads's count, applied when the threads start


def prepare(numba, kernels):
    """Called once the kernels are compiled; the threads start only with the first call that
    wants a parallel build (a process of small arrays, the Playground's, never starts them)."""
    global _numba, _kernels, on
    _numba, _kernels = numba, kernels
    on = None if kernels else False


def start():
    """Choose the threading layer, check that it loads (a one-element launch), size the pool;
    returns ``on``."""
    global on, _usable
    on = _usable = False
    if _numba is None or not _kernels or _forked:
        return False
    if _numba.config.THREADING_LAYER == "default":
        _numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
    try:
        a = np.zeros(1, np.float64)
        _kernels["relu_forward"](a, a.copy())
        layer = _numba.threading_layer()
    except Exception:   # noqa: BLE001 -- no threading layer loads: the serial builds serve
        return False
    if layer == "workqueue":
        return False
    _usable = True
    os.register_at_fork(after_in_child=_serial_in_child)
    environment = os.environ.get("OMP_NUM_THREADS", "").strip()
    if _requested:
        _resize(_requested)
    elif environment.isdigit() and int(environment) > 0:
        _resize(int(environment))
    else:
        _resize(_numba.config.NUMBA_NUM_THREADS)
    return on


def set_num_threads(n):
    """Run the parallel builds on ``n`` threads (at most Numba's pool size); 1: serial builds.
    Recorded for later where the threads have not started."""
    global _requested
    _requested = n
    if _usable:
        _resize(n)


def _resize(n):
    global on
    _numba.set_num_threads(max(1, min(n, _numba.config.NUMBA_NUM_THREADS)))
    on = not _forked and _numba.get_num_threads() > 1


def _serial_in_child():
    global on, _forked
    on, _forked = False, True
