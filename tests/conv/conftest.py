"""``cpu_path``: a test module that uses it (``pytestmark = pytest.mark.usefixtures("cpu_path")``)
runs each test on both CPU paths, the compiled kernels' (where Numba is installed) and the
NumPy passes they replace."""
import pytest

from chainrule import kernels


@pytest.fixture(params=["kernels", "numpy"])
def cpu_path(request):
    if request.param == "numpy":
        with kernels.disabled():
            yield
    else:
        yield
