"""How much of the PyTorch that introductory material uses does chainrule have?

The list of names lives in ``scripts/torch_coverage_names.txt``: one line per name, with its
namespace and how many times PyTorch's own tutorials and examples use it. This script checks each
name on the matching chainrule namespace (``hasattr``; a dotted name is followed attribute by
attribute) and prints a table and the coverage percentage::

    python scripts/torch_coverage.py                 # summary and the missing names
    python scripts/torch_coverage.py --all           # every name
    python scripts/torch_coverage.py --markdown docs/coverage.md

The list is rebuilt from source folders (needs PyTorch installed, to tell its names from others)::

    python scripts/torch_coverage.py --scan TUTORIALS_DIR EXAMPLES_DIR ... --write [--source TEXT ...]

Only names and counts are kept, never the scanned code.
"""
import argparse
import collections
import os
import pathlib
import re
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
NAMES_FILE = HERE / "torch_coverage_names.txt"

# namespace -> (dotted path of the PyTorch object, dotted path of the chainrule object)
NAMESPACES = {
    "torch": ("torch", "chainrule"),
    "Tensor": ("torch.Tensor", "chainrule.Tensor"),
    "nn": ("torch.nn", "chainrule.nn"),
    "nn.functional": ("torch.nn.functional", "chainrule.nn.functional"),
    "nn.Module": ("torch.nn.Module", "chainrule.nn.Module"),
    "optim": ("torch.optim", "chainrule.optim"),
    "optim.Optimizer": ("torch.optim.Optimizer", "chainrule.optim.Optimizer"),
    "optim.lr_scheduler": ("torch.optim.lr_scheduler", "chainrule.optim.lr_scheduler"),
    "utils.data": ("torch.utils.data", "chainrule.utils.data"),
}
# torch submodules whose names are listed under their own namespace rather than as torch.x.y
SUBMODULE_NAMESPACE = {"torch.nn.functional": "nn.functional", "torch.optim.lr_scheduler": "optim.lr_scheduler",
                       "torch.utils.data": "utils.data", "torch.nn": "nn", "torch.optim": "optim"}
# method names that plain Python objects share with tensors: `line.split()` is not Tensor.split
BUILTIN_METHODS = set().union(*(dir(t) for t in (str, bytes, list, dict, set, tuple, int, float)))
# `.name` and `.resize(` in the examples belong to argparse results and PIL images, not tensors
NOT_TENSOR = {"name", "resize"}


def resolve(path):
    """The object at a dotted path, importing modules on the way; None if absent."""
    import importlib
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[:i + 1]))
            except ImportError:
                return None
        except Exception:               # a lazy attribute that fails to build counts as missing
            return None
    return obj


def has_name(namespace, name):
    """Whether chainrule's object for ``namespace`` has ``name`` (dotted names followed along)."""
    base = NAMESPACES[namespace][1]
    try:
        return resolve(base + "." + name) is not None
    except ImportError:
        return False


# ---------------------------------------------------------------- building the list by scanning

IMPORT_FROM = re.compile(r"^[ \t]*from[ \t]+(torch(?:\.\w+)*)[ \t]+import[ \t]+(?:\(([\w\s,]+)\)|([\w \t,]+))", re.M)
IMPORT_AS = re.compile(r"^\s*import\s+(torch(?:\.\w+)*)\s+as\s+(\w+)", re.M)
DOTTED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)")
METHOD = re.compile(r"(\w*)\.([a-z_][a-z0-9_]*)\b(\s*\()?")
# `torch.exp(x)`, `np.unique(a)`: a call on a module, not a tensor method
MODULE_NAMES = {"np", "numpy", "math", "os", "sys", "random", "time", "json", "re", "plt"}


def classify(torch_path):
    """(namespace, name) of a resolved dotted PyTorch path such as torch.nn.functional.relu."""
    for prefix in sorted(SUBMODULE_NAMESPACE, key=len, reverse=True):
        if torch_path.startswith(prefix + "."):
            return SUBMODULE_NAMESPACE[prefix], torch_path[len(prefix) + 1:]
    return "torch", torch_path[len("torch."):]


def longest_valid(path):
    """The longest prefix of a dotted torch path that names something in PyTorch (at least torch.x)."""
    parts = path.split(".")
    while len(parts) >= 2:
        candidate = ".".join(parts)
        if resolve(candidate) is not None:
            return candidate
        parts.pop()
    return None


def public_path(path, obj):
    """torch.nn.modules.linear.Linear is listed as torch.nn.Linear, the name tutorials teach."""
    if ".modules." not in path:
        return path
    last = path.rsplit(".", 1)[1]
    return f"torch.nn.{last}" if getattr(resolve("torch.nn"), last, None) is obj else path


def public_names(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def scan_source(text, counts):
    """Add the PyTorch names one file uses to ``counts[(namespace, name)]``."""
    import torch
    aliases = {"torch": "torch"}
    for module, alias in IMPORT_AS.findall(text):
        aliases[alias] = module
    for module, parenthesised, names in IMPORT_FROM.findall(text):
        names = parenthesised or names
        for name in (n.strip() for n in names.replace("\n", " ").split(",")):
            if not name or name == "*":
                continue
            parts = name.split()
            full = f"{module}.{parts[0]}"
            alias = parts[-1] if len(parts) == 3 and parts[1] == "as" else parts[0]
            aliases[alias] = full
    for head, tail in DOTTED.findall(text):
        if head not in aliases:
            continue
        path = longest_valid(aliases[head] + tail)
        if path is None or path.count(".") < 1:
            continue
        obj = resolve(path)
        if isinstance(obj, type(torch)):
            continue                    # a module itself (torch.nn.init), not a name in it
        path = public_path(path, obj)
        if ".modules." in path:
            continue                    # an internal class with no public name (NonDynamicallyQuantizableLinear)
        namespace, name = classify(path)
        if name.split(".")[0].startswith("_"):
            continue
        counts[(namespace, name)] += 1
    # names imported bare (from torch.optim.lr_scheduler import StepLR) and used as StepLR(...)
    for alias, full in aliases.items():
        if alias == "torch" or full.count(".") < 1 or resolve(full) is None:
            continue
        if isinstance(resolve(full), type(torch)):
            continue
        full = public_path(full, resolve(full))
        uses = len(re.findall(rf"(?<![\w.]){re.escape(alias)}\b", text)) - 1    # minus the import
        if uses > 0:
            counts[classify(full)] += uses
    tensor = public_names(torch.Tensor) - BUILTIN_METHODS - NOT_TENSOR
    module = public_names(torch.nn.Module) - BUILTIN_METHODS
    optimizer = public_names(torch.optim.Optimizer) - BUILTIN_METHODS
    attributes = {n for n in tensor if not callable(getattr(torch.Tensor, n, None))}
    code = re.sub(r"^[ \t]*(?:import|from)[ \t].*$", "", text, flags=re.M)   # torch.utils.data is no .data
    for owner, name, call in METHOD.findall(code):
        if owner in aliases or owner in MODULE_NAMES:
            continue
        if name in tensor and (call or name in attributes):
            counts[("Tensor", name)] += 1
        if call and name in module:
            counts[("nn.Module", name)] += 1
        if call and name in optimizer:
            counts[("optim.Optimizer", name)] += 1


def scan(folders):
    counts = collections.Counter()
    files = 0
    for folder in folders:
        for path in sorted(pathlib.Path(folder).rglob("*.py")):
            scan_source(path.read_text(encoding="utf-8", errors="replace"), counts)
            files += 1
    return counts, files


def write_atomically(path, text):
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def names_file_text(counts, sources, files):
    lines = ["# PyTorch names that introductory material uses, with how often it uses them.",
             "# Built by `python scripts/torch_coverage.py --scan ... --write` from "
             f"{files} Python files of:"]
    lines += [f"#   {s}" for s in sources]
    lines += ["# Only names and counts are kept. Columns: namespace, name, uses.", ""]
    for (namespace, name), n in sorted(counts.items(), key=lambda kv: (list(NAMESPACES).index(kv[0][0]),
                                                                        -kv[1], kv[0][1])):
        lines.append(f"{namespace}\t{name}\t{n}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the report

def read_names(path=NAMES_FILE):
    """[(namespace, name, uses)] from the names file."""
    rows = []
    for number, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] not in NAMESPACES or not fields[2].isdigit():
            raise ValueError(f"torch_coverage: {path}:{number}: expected 'namespace<TAB>name<TAB>uses' "
                             f"with a namespace in {sorted(NAMESPACES)}, got {line!r}")
        rows.append((fields[0], fields[1], int(fields[2])))
    return rows


def coverage(rows):
    """[(namespace, name, uses, present)] and per-namespace totals."""
    checked = [(ns, name, uses, has_name(ns, name)) for ns, name, uses in rows]
    totals = {}
    for ns in NAMESPACES:
        mine = [r for r in checked if r[0] == ns]
        if mine:
            totals[ns] = (sum(r[3] for r in mine), len(mine),
                          sum(r[2] for r in mine if r[3]), sum(r[2] for r in mine))
    return checked, totals


def percent(part, whole):
    return 100.0 * part / whole if whole else 100.0


def summary_lines(totals):
    have = sum(t[0] for t in totals.values()); names = sum(t[1] for t in totals.values())
    used = sum(t[2] for t in totals.values()); uses = sum(t[3] for t in totals.values())
    rows = [(ns, f"{h}/{n}", f"{percent(h, n):.1f}%", f"{percent(u, w):.1f}%")
            for ns, (h, n, u, w) in totals.items()]
    rows.append(("all", f"{have}/{names}", f"{percent(have, names):.1f}%", f"{percent(used, uses):.1f}%"))
    return rows, percent(have, names), percent(used, uses)


def print_report(checked, totals, show_all):
    rows, by_name, by_use = summary_lines(totals)
    print(f"{'namespace':20} {'names':>9} {'by name':>8} {'by use':>8}")
    for ns, frac, p_name, p_use in rows:
        print(f"{ns:20} {frac:>9} {p_name:>8} {p_use:>8}")
    listed = checked if show_all else [r for r in checked if not r[3]]
    if listed:
        print("\n" + ("every name" if show_all else "missing in chainrule") + " (uses):")
        for ns, name, uses, present in listed:
            print(f"  {'yes' if present else 'NO ':3} {ns}.{name} ({uses})")
    print(f"\ncoverage: {by_name:.1f}% of {len(checked)} names, {by_use:.1f}% of their uses")


def markdown(checked, totals):
    rows, by_name, by_use = summary_lines(totals)
    out = ["# PyTorch coverage", "",
           "Which of the PyTorch functions, classes and methods that introductory material uses chainrule has.",
           "The list of names, `scripts/torch_coverage_names.txt`, was built from PyTorch's own tutorials",
           "(pytorch/tutorials `beginner_source`: the basics and the 60-minute blitz) and from the",
           "single-machine scripts of pytorch/examples, with how many times they use each name. Each name",
           "is looked up on the matching chainrule namespace (`cr.Tensor` for tensor methods).",
           "This page is written by the script:", "",
           "```bash", "source .venv/bin/activate", "python scripts/torch_coverage.py --markdown docs/coverage.md", "```", "",
           f"**Coverage: {by_name:.1f}% of {len(checked)} names, {by_use:.1f}% of their uses.**", "",
           "| namespace | names chainrule has | by name | by use |", "|---|---|---|---|"]
    out += [f"| {ns} | {frac} | {p_name} | {p_use} |" for ns, frac, p_name, p_use in rows]
    missing = [r for r in checked if not r[3]]
    out += ["", "## Missing", ""]
    if missing:
        out += ["Names the material uses that chainrule does not have yet, most used first.", "",
                "| namespace | name | uses |", "|---|---|---|"]
        out += [f"| {ns} | `{name}` | {uses} |" for ns, name, uses, _ in sorted(missing, key=lambda r: -r[2])]
    else:
        out.append("None.")
    out += ["", "## Every name", "", "| namespace | name | uses | in chainrule |", "|---|---|---|---|"]
    out += [f"| {ns} | `{name}` | {uses} | {'yes' if present else '**no**'} |"
            for ns, name, uses, present in checked]
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", default=str(NAMES_FILE), help="the names file to check")
    parser.add_argument("--all", action="store_true", help="list every name, not only the missing ones")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as Markdown to PATH")
    parser.add_argument("--scan", nargs="+", metavar="DIR", help="rebuild the list from these source folders")
    parser.add_argument("--write", action="store_true", help="with --scan: save the list to --names")
    parser.add_argument("--source", action="append", metavar="TEXT",
                        help="with --scan: how the list's header names the scanned material (repeatable)")
    args = parser.parse_args(argv)
    if args.scan:
        counts, files = scan(args.scan)
        text = names_file_text(counts, args.source or args.scan, files)
        if args.write:
            write_atomically(args.names, text)
            print(f"wrote {len(counts)} names from {files} files to {args.names}")
        else:
            sys.stdout.write(text)
        return 0
    sys.path.insert(0, str(HERE.parent / "src"))
    checked, totals = coverage(read_names(args.names))
    print_report(checked, totals, args.all)
    if args.markdown:
        write_atomically(args.markdown, markdown(checked, totals))
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
