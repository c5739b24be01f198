"""The kernels belong to the fast path, which ``CHAINRULE_REFERENCE=1`` (the test script's second
run) switches off: every test here turns the switch off again, to test them in either run."""
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def fast_path():
    with cr.backends.reference(False):
        yield
