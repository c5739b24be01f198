"""chainrule.distributed and DistributedDataParallel on real MPI jobs (mpirun -n 2 or 3)."""
import time
from pathlib import Path

import pytest

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "ddp_mnist.py")
LOCAL = ("--oversubscribe",)   # more ranks than cores is fine for these small jobs


def passed(result):
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result.stdout


def test_ddp_on_two_ranks_equals_one_process_on_the_whole_batch(mpirun):
    out = passed(mpirun("equivalence.py", mpirun_args=LOCAL))
    assert "float64" in out and "float32" in out


@pytest.mark.parametrize("ranks", [2, 3])
def test_collectives_give_the_expected_values(mpirun, ranks):
    passed(mpirun("collectives.py", n=ranks, mpirun_args=LOCAL))


def test_ddp_broadcast_overlap_no_sync_unused_parameters_and_state_dict(mpirun):
    passed(mpirun("ddp_features.py", mpirun_args=LOCAL))


def test_open_mpi_gets_the_bandwidth_optimal_nonblocking_allreduce_unless_told_otherwise(mpirun):
    name = "OMPI_MCA_coll_libnbc_iallreduce_algorithm"
    assert f"{name}=3" in passed(mpirun("mpi_settings.py", mpirun_args=LOCAL))
    chosen = ("--mca", "coll_libnbc_iallreduce_algorithm", "2") + LOCAL   # the user's wins
    assert f"{name}=2" in passed(mpirun("mpi_settings.py", mpirun_args=chosen))


@pytest.mark.parametrize("fault", ["raise", "exit"])
def test_a_failing_rank_ends_the_job_with_an_error(mpirun, fault):
    started = time.monotonic()
    result = mpirun("fault.py", fault, mpirun_args=LOCAL, timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "the fault went unnoticed" not in text
    if fault == "raise":
        assert "ValueError: rank 1 cannot go on" in text
        assert "rank 1 of 2 failed with ValueError" in text
        assert "MPI_ABORT" in text
    else:
        assert "exited with non-zero status" in text


def test_fit_data_parallel_equals_one_process_and_resumes_from_rank_0s_checkpoint(mpirun, tmp_path):
    passed(mpirun("fit_data_parallel.py", str(tmp_path), mpirun_args=LOCAL))


def test_ddp_mnist_example_on_two_ranks_prints_the_one_process_losses(mpirun, tmp_path):
    import re
    import subprocess
    import sys
    absent = str(tmp_path / "absent")   # synthetic data, the same on every machine
    two = mpirun(EXAMPLE, "--quick", "--root", absent, mpirun_args=LOCAL, timeout=120)
    one = subprocess.run([sys.executable, EXAMPLE, "--quick", "--root", absent],
                         capture_output=True, text=True, timeout=120)
    assert two.returncode == 0 and one.returncode == 0, two.stderr + one.stderr
    assert "synthetic" in two.stdout and "2 rank(s)" in two.stdout
    losses = [[float(v) for v in re.findall(r"train loss ([0-9.]+)", r.stdout)] for r in (two, one)]
    assert len(losses[0]) == 2 and losses[0] == pytest.approx(losses[1], abs=2e-4)
