"""What Jupyter shows: nn.summary as an HTML table, fit's progress bar inside a kernel, and the
``chainrule course`` command."""
import pathlib
import sys
import types

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train import loop

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_summary_renders_as_an_html_table():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    html = nn.summary(model, (1, 3))._repr_html_()
    assert html.startswith("<table>") and html.endswith("</table>")
    assert html.count("<tr>") == 3 + 1 + 4          # three layers, the header, four totals
    assert "0 (Linear)" in html and "[1, 4]" in html and ">26<" in html   # 3*4+4 + 4*2+2 = 26


def test_summary_html_escapes_names():
    summary = nn.summary(nn.Sequential(nn.Linear(1, 1)), (1, 1))
    summary.model_name = "<b>"
    assert "<b>" not in summary._repr_html_().split("</caption>")[0].split("<caption>")[1]


def test_progress_bar_in_a_kernel_but_not_in_a_pipe(monkeypatch):
    pytest.importorskip("tqdm")
    X, y = cr.datasets.xor(n=16, seed=0)
    loader = cr.train.as_loader((X, y), 8, False, "train_data")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert loop._progress_bar(loader, 0, 1, True) is loader       # a pipe: no bar
    # a Jupyter kernel's shell is a ZMQInteractiveShell; its stderr is no terminal either
    shell = type("ZMQInteractiveShell", (), {})()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert loop._in_notebook()
    bar = loop._progress_bar(loader, 0, 1, True)
    assert bar is not loader and len(list(bar)) == len(loader)
    bar.close()
    assert loop._progress_bar(loader, 0, 1, False) is loader      # progress=False wins


def test_course_command_lists_the_notebooks():
    click = pytest.importorskip("click.testing")
    from chainrule.cli import build_cli
    result = click.CliRunner().invoke(build_cli(), ["course"])
    assert result.exit_code == 0, result.output
    assert "12 notebooks" in result.output and "01_neuron_and_xor.ipynb" in result.output
    assert "jupyter lab" in result.output


def test_rendered_course_pages_are_not_doc_snippets():
    # docs/course/*.md hold notebook outputs (already run by tests/course), not hand-written examples
    sys.path.insert(0, str(REPO / "tests" / "docs"))
    try:
        import test_snippets
    finally:
        sys.path.pop(0)
    assert (REPO / "docs" / "course.md") in test_snippets.PAGES
    assert not [p for p in test_snippets.PAGES if p.parent == REPO / "docs" / "course"]
