"""chainrule.distributed without MPI: importing works, is_available() says False, and
init_process_group names the extra to install. Post-accumulate-grad hooks against PyTorch."""
import subprocess
import sys

import pytest
import torch

import chainrule as cr

WITHOUT_MPI4PY = """
import sys
sys.modules["mpi4py"] = None   # as if it were not installed
import chainrule as cr
import chainrule.distributed as dist
assert not dist.is_available() and not dist.is_initialized()
try:
    dist.init_process_group("mpi")
except RuntimeError as e:
    assert "pip install 'chainrule[distributed]'" in str(e), e
    print("clear error")
assert "mpi4py.MPI" not in sys.modules
"""


def test_import_without_mpi4py_and_a_clear_error_on_init():
    out = subprocess.run([sys.executable, "-c", WITHOUT_MPI4PY], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "clear error" in out.stdout, out.stderr


def test_import_chainrule_does_not_start_mpi():
    out = subprocess.run([sys.executable, "-c", "import sys, chainrule; "
                          "print('mpi4py' in sys.modules)"], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_backend_other_than_mpi_is_refused():
    with pytest.raises(ValueError, match="backend='mpi' only"):
        cr.distributed.init_process_group("nccl")
    with pytest.raises(ValueError, match="has not been initialized"):
        cr.distributed.get_rank()


def _hook_order(lib):
    order = []
    w1 = lib.tensor([1.0, 2.0], requires_grad=True)
    w2 = lib.tensor([3.0, 4.0], requires_grad=True)
    for name, w in (("w1", w1), ("w2", w2)):
        w.register_post_accumulate_grad_hook(
            lambda t, name=name: order.append((name, t.grad.tolist())))
    w1.grad = lib.tensor([10.0, 10.0])   # accumulated into: the hook sees the sum
    ((w1 * 2).sum() + (w2 * w1).sum() + (w2 ** 2).sum()).backward()
    return order


def test_post_accumulate_grad_hooks_run_in_torchs_order_with_the_accumulated_grad():
    assert _hook_order(cr) == _hook_order(torch)


def test_post_accumulate_grad_hook_errors_and_removal():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.ones(2).register_post_accumulate_grad_hook(print)
    calls = []
    handle = x.register_post_accumulate_grad_hook(calls.append)
    (x * 3).sum().backward()
    handle.remove()
    (x * 3).sum().backward()
    assert len(calls) == 1 and x.grad.tolist() == [6.0, 6.0]
