"""Every ```python block in README.md and docs/*.md runs.

The blocks of one file run in order in one namespace (later blocks use names from earlier ones),
in a fresh temporary working directory, so files the snippets write never land in the repository.
``CHAINRULE_REPO`` holds the repository root for snippets that read ``../shared/data``.

A block whose first line is ``# not run`` is skipped (it starts a server, say). A block whose first
line is ``# requires: torch`` (or another module) is skipped when that module is not installed.
"""
import importlib.util
import os
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(page):
    """(line number, source) of each ```python block of a Markdown page."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in FENCE.finditer(text)]


def skip_reason(source):
    first = source.lstrip().split("\n", 1)[0].strip()
    if first == "# not run":
        return "marked '# not run'"
    m = re.fullmatch(r"#\s*requires:\s*([\w., ]+)", first)
    if m:
        for name in (n.strip() for n in m.group(1).split(",")):
            if importlib.util.find_spec(name) is None:
                return f"needs {name}"
    return None


def test_blocks_are_found():
    # a broken fence pattern would make every page test pass vacuously
    assert len(python_blocks(REPO / "README.md")) >= 1
    assert sum(len(python_blocks(p)) for p in PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_snippets_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    if not blocks:
        pytest.skip(f"{page.name} has no python blocks")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAINRULE_REPO", str(REPO))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    ran = 0
    for line, source in blocks:
        if skip_reason(source):
            continue
        code = compile(source, f"{page.relative_to(REPO)}:{line}", "exec")
        try:
            exec(code, namespace)
        except Exception as e:
            raise AssertionError(f"{page.relative_to(REPO)}: the python block at line {line} "
                                 f"failed: {type(e).__name__}: {e}") from e
        ran += 1
    if ran == 0:
        pytest.skip(f"{page.name}: every block is skipped here")
