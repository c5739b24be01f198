"""``chainrule run --nproc N script args``: mpirun around the script, its arguments passed on."""
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"
SRC = Path(__file__).resolve().parents[2] / "src"


def test_chainrule_run_starts_the_ranks_with_the_scripts_arguments(mpirun):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop("OMP_NUM_THREADS", None)
    out = subprocess.run([sys.executable, "-m", "chainrule.cli", "run", "--nproc", "2",
                          str(SCRIPTS / "echo_args.py"), "data.csv", "--epochs", "3"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    lines = sorted(line for line in out.stdout.splitlines() if line.startswith("rank"))
    assert lines == [f"rank {r}/2 args ['data.csv', '--epochs', '3'] threads 1" for r in (0, 1)]


def test_chainrule_run_dry_run_shows_the_mpirun_command(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("node1 slots=4\nnode2 slots=4\n")
    out = subprocess.run([sys.executable, "-m", "chainrule.cli", "run", "--nproc", "8",
                          "--hostfile", str(hosts), "--mpirun", "mpirun", "--dry-run",
                          str(SCRIPTS / "echo_args.py"), "-x"],
                         capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(SRC)))
    assert out.returncode == 0, out.stderr
    cmd = out.stdout.split()
    assert cmd[:3] == ["mpirun", "-n", "8"] and ["--hostfile", str(hosts)] == \
        cmd[cmd.index("--hostfile"):cmd.index("--hostfile") + 2]
    assert cmd[-3:] == [sys.executable, str(SCRIPTS / "echo_args.py"), "-x"]
    assert "--oversubscribe" not in cmd
