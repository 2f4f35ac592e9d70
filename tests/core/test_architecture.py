"""The package's shape, checked from its source: layers, private names, node slots, file sizes.

docs/architecture.md explains the layers. Every import inside ``scalargrad``
(lazy ones in functions included) must point down the layers or stay in its
own layer; the only exceptions are the façades for optional extras, marked
with a comment containing "façade" on the import line. No module imports a
private name from another module or reaches another module's private
attribute, and only the engine touches a node's slots.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "scalargrad"

# Lowest first. A module may import from its own layer and the layers below it.
LAYERS = [
    ("helpers", ["scalargrad._util", "scalargrad._floats", "scalargrad.op", "scalargrad.hooks",
                 "scalargrad.anomaly"]),
    ("engine", ["scalargrad.scalar"]),
    ("on the engine", ["scalargrad.functional", "scalargrad.softmax", "scalargrad.autograd", "scalargrad.replay",
                       "scalargrad.compile",
                       "scalargrad.extend", "scalargrad.nested_ops"]),
    ("nn", ["scalargrad.nn"]),
    ("data and interop", ["scalargrad.data", "scalargrad.nn.interop"]),
    ("train", ["scalargrad.train"]),
    ("viz", ["scalargrad.viz"]),
    ("compat", ["scalargrad.compat"]),
    ("package", ["scalargrad"]),  # scalargrad/__init__.py gathers the public names
]
FACADE_SITES = 6  # Scalar.render, Module.plot, to_torch, from_torch, ...
NODE_SLOTS = {"_a", "_b", "_da", "_db", "_op", "_constant"}
ENGINE = "scalargrad.scalar"
PRIVATE_PACKAGES = ("scalargrad._util", "scalargrad._floats")  # private modules whose names are shared
MAX_LINES, MAX_ENGINE_LINES = 500, 650
STANDARD_PRIVATE = {"sys._getframe"}  # the standard library's documented underscore names


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = rank, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return best


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


SOURCES = sorted(PACKAGE.rglob("*.py"))


def parsed():
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        yield path, module_name(path), path.name == "__init__.py", text, ast.parse(text)


def imports(module: str, is_package: bool, tree: ast.AST):
    """(line, imported module, [names]) for every import of a scalargrad module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = resolve(module, is_package, node)
            if target == "scalargrad" or target.startswith("scalargrad."):
                names = [a.name for a in node.names]
                # "from . import functional": the names may be submodules
                submodules = [f"{target}.{n}" for n in names if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")
                                                                  ).with_suffix(".py").exists()
                              or (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).is_dir()]
                if submodules:
                    for sub in submodules:
                        yield node.lineno, sub, []
                else:
                    yield node.lineno, target, names
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("scalargrad"):
                    yield node.lineno, alias.name, []


def test_every_file_is_small():
    too_long = {}
    for path, module, _, text, _ in parsed():
        limit = MAX_ENGINE_LINES if module == ENGINE else MAX_LINES
        n = text.count("\n")
        if n > limit:
            too_long[str(path.relative_to(PACKAGE.parent))] = (n, limit)
    assert not too_long, f"files over their line limit (lines, limit): {too_long}"


def test_imports_point_down_the_layers():
    upward, facades = [], []
    for path, module, is_package, text, tree in parsed():
        lines = text.splitlines()
        for lineno, target, _ in imports(module, is_package, tree):
            if target.startswith(module + ".") and is_package:
                continue  # a package's __init__ gathering its own modules
            if layer_of(target) > layer_of(module):
                where = f"{path.relative_to(PACKAGE.parent)}:{lineno} imports {target}"
                marked = "façade" in lines[lineno - 1] or "facade" in lines[lineno - 1]
                (facades if marked else upward).append(where)
    assert not upward, "imports pointing up the layers (mark a façade for an optional extra):\n" + "\n".join(upward)
    assert len(facades) <= FACADE_SITES, f"{len(facades)} façade imports, at most {FACADE_SITES}: {facades}"


def test_no_private_name_crosses_a_module():
    crossing = []
    for path, module, is_package, _, tree in parsed():
        for lineno, target, names in imports(module, is_package, tree):
            shared = target.startswith(PRIVATE_PACKAGES)
            private_module = any(part.startswith("_") and not part.startswith("__") for part in target.split("."))
            if private_module and not shared:
                crossing.append(f"{path.name}:{lineno} imports the private module {target}")
            crossing += [f"{path.name}:{lineno} imports {n} from {target}" for n in names
                         if n.startswith("_") and n != "__version__"]
    assert not crossing, "\n".join(crossing)


def defined_names(tree: ast.AST) -> set[str]:
    """Every name a module defines for itself: functions, classes, attributes it assigns, slots, parameters."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            names.add(node.value)  # __slots__ entries, setattr/getattr names
    return names


def test_no_private_attribute_of_another_module_is_reached():
    reached = []
    for path, module, _, _, tree in parsed():
        own = defined_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if module != ENGINE and node.attr in NODE_SLOTS:
                    reached.append(f"{path.name}:{node.lineno} touches the node slot {node.attr}")
                elif node.attr not in own and ast.unparse(node) not in STANDARD_PRIVATE:
                    reached.append(f"{path.name}:{node.lineno} reaches {ast.unparse(node)}")
    assert not reached, "\n".join(reached)


@pytest.mark.parametrize("module", ["scalargrad.functional", "scalargrad.nn.losses"])
def test_library_ops_are_declared_once(module):
    """No op keeps a second table of names or forwards: every op is an ``Op`` declaration."""
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    text = path.read_text(encoding="utf-8")
    for old in ("register_op_name", "register_replay", "_OP_NAMES", "_REPLAY"):
        assert old not in text
    assert "Op(" in text
