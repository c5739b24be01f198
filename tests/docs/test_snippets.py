"""Every ```python block in README.md and docs/*.md runs.

The blocks of one file run in order in one namespace (later blocks use names from earlier ones),
in a fresh temporary working directory, so files the snippets write never land in the repository.
``CHAINRULE_REPO`` holds the repository root for snippets that read ``../shared/data``.

A block whose first line starts with ``# not run`` is skipped (it starts a server, say). A block
whose first line is ``# requires: torch`` (or another module) is skipped when that module is not installed,
and one whose first line is ``# needs data: ../shared/data/mnist`` (a path from the repository
root) is skipped where that path is absent, as on a clone with no course data beside it.
A ```toml block whose first line is ``# chainrule train NAME.toml`` is a training config: it is
checked as ``chainrule train`` checks it before training (keys, names, a dry forward pass).
"""
import importlib.util
import os
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))


def fenced_blocks(page, language):
    """(line number, source) of each ```language block of a Markdown page."""
    fence = re.compile(rf"^```{language}[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in fence.finditer(text)]


def python_blocks(page):
    return fenced_blocks(page, "python")


def skip_reason(source):
    first = source.lstrip().split("\n", 1)[0].strip()
    if first.startswith("# not run"):
        return "marked '# not run'"
    m = re.fullmatch(r"#\s*needs data:\s*(\S+)", first)
    if m and not (REPO / m.group(1)).exists():
        return f"no {m.group(1)} beside the repository"
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


CONFIGS = [(page, line, source) for page in PAGES for line, source in fenced_blocks(page, "toml")
           if source.startswith("# chainrule train")]


@pytest.mark.parametrize("page,line,source", CONFIGS,
                         ids=[f"{p.name}:{n}" for p, n, _ in CONFIGS])
def test_documented_training_configs_are_valid(page, line, source, tmp_path):
    from chainrule.train.config import build_all, load_config

    path = tmp_path / source.split("\n", 1)[0].split()[-1]
    path.write_text(source, encoding="utf-8")
    try:
        parts = build_all(load_config(path), str(tmp_path))
    except Exception as e:
        raise AssertionError(f"{page.relative_to(REPO)}: the TOML config at line {line} is "
                             f"rejected: {type(e).__name__}: {e}") from e
    assert parts["model"] is not None


SHELL_COMMAND = re.compile(r"^(chainrule|python)\s+(\S+)(?:\s+(\S+))?")


def shell_commands(page):
    """(line number, command, block source) of each command line in the page's ```bash blocks."""
    return [(line + i, text.strip(), source) for line, source in fenced_blocks(page, "bash")
            for i, text in enumerate(source.splitlines()) if SHELL_COMMAND.match(text.strip())]


def test_shell_blocks_run_in_the_quickstart_venv():
    # after `bash scripts/start.sh` a bare `chainrule` or `python examples/...` is not found
    # unless .venv is active: every block that shows one activates it first
    from chainrule.cli import COMMANDS
    found = 0
    for page in PAGES:
        for line, command, source in shell_commands(page):
            where = f"{page.relative_to(REPO)}:{line}: {command}"
            assert "source .venv/bin/activate" in source.split(command)[0], where
            program, first, second = SHELL_COMMAND.match(command).groups()
            if program == "chainrule" and not first.startswith("-"):
                assert first in COMMANDS, where
            elif program == "python" and first == "-m":
                assert (importlib.util.find_spec(second) is not None
                        or (REPO / second / "__main__.py").exists()), where
            elif program == "python":
                assert (REPO / first).is_file(), where
            found += 1
    assert found >= 20


def test_readme_quickstart_says_to_activate_the_venv():
    quickstart = (REPO / "README.md").read_text(encoding="utf-8").split("## Quickstart", 1)[1]
    quickstart = quickstart.split("\n## ", 1)[0]
    assert "bash scripts/start.sh" in quickstart and "bash scripts/test.sh" in quickstart
    assert "source .venv/bin/activate" in quickstart
