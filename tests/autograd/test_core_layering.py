"""The core (tensor.py, autograd/, ops/ and what they import) is layered: its import graph has no
cycle, and no module hides a dependency in an import inside a function.

The graph is read from the source (ast), so a cycle that Python happens to tolerate at import
time (a partially initialised module) is caught too.
"""
import ast
import pathlib
import subprocess
import sys

import chainrule

PACKAGE = pathlib.Path(chainrule.__file__).parent
CORE_ROOTS = ["chainrule.tensor", "chainrule.autograd", "chainrule.ops"]


def _module_file(name):
    """The source file of module ``name`` (``chainrule.x.y``), or None outside the package."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    if (path / "__init__.py").exists():
        return path / "__init__.py"
    if path.with_suffix(".py").exists():
        return path.with_suffix(".py")
    return None


def _is_package(name):
    return PACKAGE.parent.joinpath(*name.split(".")).is_dir()


def _absolute(module, node):
    """The module a ``from ... import`` statement in ``module`` names, made absolute."""
    if node.level == 0:
        return node.module
    package = module if _module_file(module).name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _imports(module):
    """(imported chainrule module, line, at module level?) for each import in ``module``."""
    tree = ast.parse(_module_file(module).read_text())
    top_level = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` just mod
            targets = [f"{base}.{a.name}" if _module_file(f"{base}.{a.name}") else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "chainrule":
                found.append((target, node.lineno, id(node) in top_level))
    return found


def _edges(module):
    """The chainrule modules that importing ``module`` runs: each target and the packages
    above it, except ``module``'s own packages (Python imports those first anyway) and the
    top-level ``chainrule``."""
    own = {module.rsplit(".", i)[0] for i in range(1, module.count(".") + 1)}
    out = set()
    for target, _, _ in _imports(module):
        parts = target.split(".")
        for i in range(2, len(parts) + 1):
            name = ".".join(parts[:i])
            if name not in own and name != module and _module_file(name):
                out.add(name)
    return out


def _core_graph():
    graph = {}
    todo = []
    for root in CORE_ROOTS:
        if _is_package(root) and _module_file(root) is None:    # a namespace package (ops/)
            todo += [f"{root}.{p.stem}" for p in sorted(PACKAGE.joinpath(root.split(".")[1]).glob("*.py"))]
        elif _is_package(root):
            todo += [root] + [f"{root}.{p.stem}" for p in sorted(
                PACKAGE.joinpath(root.split(".")[1]).glob("*.py")) if p.stem != "__init__"]
        else:
            todo.append(root)
    while todo:
        name = todo.pop()
        if name in graph:
            continue
        graph[name] = _edges(name)
        todo += graph[name]
    return graph


def _find_cycle(graph):
    """One import cycle as a list of modules, or None (iterative depth-first search)."""
    done, on_path = set(), []
    for start in sorted(graph):
        if start in done:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        on_path.append(start)
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
                done.add(name)
            elif child in on_path:
                return on_path[on_path.index(child):] + [child]
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                on_path.append(child)
    return None


def test_the_core_graph_covers_tensor_autograd_and_ops():
    graph = _core_graph()
    assert {"chainrule.tensor", "chainrule.autograd.engine", "chainrule.autograd.function",
            "chainrule.autograd.tensor_base"} <= set(graph)
    assert any(name.startswith("chainrule.ops.") for name in graph)
    assert "chainrule.autograd.tensor_base" in graph["chainrule.autograd.engine"]
    assert "chainrule.autograd.engine" in graph["chainrule.tensor"]


def test_the_core_import_graph_has_no_cycle():
    graph = _core_graph()
    assert _find_cycle(graph) is None, " -> ".join(_find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]


def test_autograd_never_imports_the_tensor_module():
    graph = _core_graph()
    for name in graph:
        if name.startswith("chainrule.autograd"):
            assert "chainrule.tensor" not in graph[name], name


def test_no_core_module_imports_chainrule_inside_a_function():
    late = [f"{name}:{line} imports {target}" for name in _core_graph()
            for target, line, top in _imports(name) if not top]
    assert late == []


def test_each_core_module_imports_alone_in_a_fresh_interpreter():
    """Without running chainrule/__init__.py (which imports everything in a fixed order), each
    core module loads with only what it imports itself."""
    script = (
        "import sys, types, importlib\n"
        f"stub = types.ModuleType('chainrule'); stub.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['chainrule'] = stub\n"
        "importlib.import_module(sys.argv[1])\n"
        "assert 'chainrule.nn' not in sys.modules, 'the core imported chainrule.nn'\n")
    for name in sorted(_core_graph()):
        run = subprocess.run([sys.executable, "-c", script, name], capture_output=True, text=True)
        assert run.returncode == 0, f"{name}:\n{run.stderr}"
