"""``replay_form``: a test module that uses it (``pytestmark``) runs twice, with replays written
out as Python (``tracing.codegen``, the default) and with every replay interpreted
(``Graph.interpret``), so both forms are held to eager mode's results."""
import pytest

from chainrule.tracing import codegen


@pytest.fixture(params=["written", "interpreted"])
def replay_form(request, monkeypatch):
    monkeypatch.setattr(codegen, "ENABLED", request.param == "written")
    return request.param
