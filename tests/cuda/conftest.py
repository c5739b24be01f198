"""The ``fake_cuda`` fixture: device type ``cuda`` backed by the CPU stand-in for CuPy
(fake_array_module.py), for as long as a test runs; and the op-case table from tests/autograd."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "autograd"))

import chainrule as cr                                     # noqa: E402
from chainrule import cupy_backend                          # noqa: E402
from fake_array_module import FakeDeviceArray, fake_cupy    # noqa: E402


@pytest.fixture
def fake_cuda():
    """``cuda`` tensors hold FakeDeviceArrays while the test runs (skipped on a real GPU,
    where ``cuda`` already means CuPy)."""
    if cr.cuda.is_available():
        pytest.skip("a real CUDA device is enabled; tests/cuda/test_on_gpu.py covers it")
    cupy_backend.enable_device("cuda", FakeDeviceArray, fake_cupy)
    try:
        yield fake_cupy
    finally:
        cr.set_default_device(None)
        cupy_backend.disable_device("cuda", FakeDeviceArray)
