"""The package's shape, checked from its source: layers, private names, node slots, file sizes, cycles.

docs/architecture.md explains the layers. Every import inside ``scalargrad``
(lazy ones in functions included) must point down the layers or stay in its
own layer; the only exceptions are the façades for optional extras, marked
with a comment containing "façade" on the import line. The modules' imports
at load time make no cycle. No module imports a private name from another
module or reaches another module's private attribute, and only the engine
touches a node's slots. An op holds its math only: its form in compiled code
is the compiler's.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "scalargrad"

# Lowest first. A module may import from its own layer and the layers below it.
LAYERS = [
    ("helpers", ["scalargrad._util", "scalargrad._floats", "scalargrad.op", "scalargrad.hooks",
                 "scalargrad.anomaly", "scalargrad.modes"]),
    ("engine", ["scalargrad.scalar"]),
    ("on the engine", ["scalargrad.functional", "scalargrad.list_ops", "scalargrad.neuron",
                       "scalargrad.softmax", "scalargrad.autograd", "scalargrad.replay", "scalargrad.compile",
                       "scalargrad.extend", "scalargrad.nested_ops", "scalargrad.walk",
                       "scalargrad.elementwise", "scalargrad.reductions", "scalargrad.shapes",
                       "scalargrad.losses", "scalargrad.dropout"]),
    ("nn", ["scalargrad.nn"]),
    ("data and interop", ["scalargrad.data", "scalargrad.nn.interop"]),
    ("train", ["scalargrad.train", "scalargrad.parallel"]),
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
                submodules = [
                    f"{target}.{n}" for n in names
                    if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).with_suffix(".py").exists()
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
    assert not upward, \
        "imports pointing up the layers (mark a façade for an optional extra):\n" + "\n".join(upward)
    assert len(facades) <= FACADE_SITES, f"{len(facades)} façade imports, at most {FACADE_SITES}: {facades}"


def test_no_private_name_crosses_a_module():
    crossing = []
    for path, module, is_package, _, tree in parsed():
        for lineno, target, names in imports(module, is_package, tree):
            shared = target.startswith(PRIVATE_PACKAGES)
            private_module = any(part.startswith("_") and not part.startswith("__")
                                 for part in target.split("."))
            if private_module and not shared:
                crossing.append(f"{path.name}:{lineno} imports the private module {target}")
            crossing += [f"{path.name}:{lineno} imports {n} from {target}" for n in names
                         if n.startswith("_") and n != "__version__"]
    assert not crossing, "\n".join(crossing)


def defined_names(tree: ast.AST) -> set[str]:
    """Every name a module defines for itself: functions, classes, attributes it assigns, slots,
    parameters."""
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
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                if module != ENGINE and node.attr in NODE_SLOTS:
                    reached.append(f"{path.name}:{node.lineno} touches the node slot {node.attr}")
                elif node.attr not in own and ast.unparse(node) not in STANDARD_PRIVATE:
                    reached.append(f"{path.name}:{node.lineno} reaches {ast.unparse(node)}")
    assert not reached, "\n".join(reached)


@pytest.mark.parametrize("module", ["scalargrad.list_ops", "scalargrad.neuron", "scalargrad.losses"])
def test_library_ops_are_declared_once(module):
    """No op keeps a second table of names or forwards: every op is an ``Op`` declaration."""
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    text = path.read_text(encoding="utf-8")
    for old in ("register_op_name", "register_replay", "_OP_NAMES", "_REPLAY"):
        assert old not in text
    assert "Op(" in text


def _runs_at_import(tree: ast.AST):
    """The statements of a module that run when it is imported: not those in functions (lazy imports)
    nor under ``if TYPE_CHECKING:`` (annotations only)."""
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one module (or a self-import)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's algorithm; the package is a few hundred modules deep at most
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    """The modules' imports at load time form no cycle (a module imported half-way through its own import
    sees half its names). Lazy imports in functions are left out, and so are the implicit imports of parent
    packages (a package's ``__init__`` gathers its own modules)."""
    graph = {}
    for _, module, is_package, _, tree in parsed():
        at_import = ast.Module(body=[node for node in _runs_at_import(tree)
                                     if isinstance(node, (ast.Import, ast.ImportFrom))], type_ignores=[])
        graph[module] = {target for _, target, _ in imports(module, is_package, at_import)}
    graph = {module: {t for t in targets if t in graph} for module, targets in graph.items()}
    assert not _cycles(graph), f"import cycles: {_cycles(graph)}"


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _every_op() -> list:
    """Every ``Op`` the library declares: module globals, class attributes, and the ops functions carry."""
    from scalargrad.op import Op

    ops = {}
    for path in SOURCES:
        module = importlib.import_module(module_name(path))
        for value in vars(module).values():
            candidates = [value, getattr(value, "op", None)]
            if isinstance(value, type):
                candidates += list(vars(value).values())
            ops.update({id(op): op for op in candidates if isinstance(op, Op)})
    return list(ops.values())


def test_an_op_carries_no_compile_template():
    """``Op`` holds the math (value, rule, arity, constant, label, what replay needs); the compiled form of
    an op lives in ``scalargrad.compile``'s table, so no slot of an op holds code."""
    from scalargrad.extend import SCALAR_OPS
    from scalargrad.op import Op

    assert not {"inline", "template", "templates", "source"} & set(Op.__slots__)
    ops = _every_op()
    assert set(map(id, SCALAR_OPS.values())) <= set(map(id, ops)) and len(ops) > len(SCALAR_OPS)
    for op in ops:
        for slot in Op.__slots__:
            value = getattr(op, slot)
            if slot in ("name", "arity"):  # a str, and 1, 2 or "n"
                continue
            assert not isinstance(value, str), f"{op!r}.{slot} holds a string"
            assert not (isinstance(value, (tuple, list)) and any(isinstance(v, str) for v in value)), \
                f"{op!r}.{slot} holds strings"
            assert not getattr(value, "__module__", "").startswith("scalargrad.compile"), \
                f"{op!r}.{slot} is compile's"
    op_source = (PACKAGE / "op.py").read_text(encoding="utf-8")
    assert "inline" not in op_source and "{0}" not in op_source
