"""The package's import graph: no circles, and every arrow points down the layers the README draws."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "workers_ai_mcp"
ROOT = "workers_ai_mcp"

# Lower numbers are lower layers; a module may import its own layer or any lower one.
LAYERS: tuple[tuple[str, int], ...] = (
    ("workers_ai_mcp.defaults", 0),  # the default-model table, beside settings
    ("workers_ai_mcp.jsonvalues", 0),
    ("workers_ai_mcp.redact", 0),
    ("workers_ai_mcp.settings", 0),
    ("workers_ai_mcp.emulator", 1),  # a test double: imports nothing of the server
    ("workers_ai_mcp.client", 1),
    ("workers_ai_mcp.catalog", 2),
    ("workers_ai_mcp.media", 2),
    ("workers_ai_mcp.spending", 3),
    ("workers_ai_mcp.inference", 4),
    ("workers_ai_mcp.state", 5),
    ("workers_ai_mcp.tools", 6),
    ("workers_ai_mcp.transports", 6),
    ("workers_ai_mcp.app", 7),
    ("workers_ai_mcp.selftest", 8),
    ("workers_ai_mcp.cli", 9),
    ("workers_ai_mcp.__main__", 10),
)
# Packages side by side in one layer that must not know each other.
APART = (
    ("workers_ai_mcp.media", "workers_ai_mcp.catalog"),
    ("workers_ai_mcp.tools", "workers_ai_mcp.transports"),
    ("workers_ai_mcp.emulator", "workers_ai_mcp.client"),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    if module == ROOT:
        return 0  # the package's __init__: its version only
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module} has no layer")


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in ast.unparse(node.test)


@cache
def imports() -> dict[str, set[str]]:
    """Module -> the package modules it imports (at any depth, except under TYPE_CHECKING)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        tree = ast.parse(path.read_text())  # one tree: the skipped nodes are known by identity
        skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and _type_checking_only(node) for n in ast.walk(node)}  # fmt: skip
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rsplit(".", 1)[0] if "." in target else ""
                if target and target.startswith(ROOT) and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def test_the_import_graph_is_read() -> None:
    graph = imports()
    assert "workers_ai_mcp.catalog.call" in graph["workers_ai_mcp.inference"]
    # state names WorkersAI for typing only, so that a start does not import the account's layers
    assert "workers_ai_mcp.inference" not in graph["workers_ai_mcp.state"]
    assert "workers_ai_mcp.client" in graph["workers_ai_mcp.catalog.cache"]


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{source} -> {target}"
        for source, targets in imports().items()
        for target in targets
        if layer_of(target) > layer_of(source)
    ]
    assert upward == []


@pytest.mark.parametrize(("one", "other"), APART)
def test_side_by_side_packages_do_not_import_each_other(one: str, other: str) -> None:
    crossing = [
        f"{source} -> {target}"
        for source, targets in imports().items()
        for target in targets
        for a, b in ((one, other), (other, one))
        if source.startswith(a + ".") and (target == b or target.startswith(b + "."))
    ]  # fmt: skip
    assert crossing == []


def test_the_import_graph_has_no_circle() -> None:
    graph = imports()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    circles: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)

    # A package's __init__ re-exporting its own modules is not a circle of meaning.
    def within_one_package(circle: str) -> bool:
        parts = circle.split(" -> ")
        package = parts[0].rsplit(".", 1)[0]
        return all(part.startswith(package) for part in parts)

    real = [circle for circle in circles if not within_one_package(circle)]
    assert real == []


def in_emulator(module: str) -> bool:
    return module == "workers_ai_mcp.emulator" or module.startswith("workers_ai_mcp.emulator.")


def test_server_code_reaches_the_emulator_only_to_mount_or_serve_it() -> None:
    users = sorted(
        source
        for source, targets in imports().items()
        if not in_emulator(source) and any(in_emulator(target) for target in targets)
    )
    assert users == ["workers_ai_mcp.app", "workers_ai_mcp.cli"]


def external_imports(path: Path) -> set[str]:
    """Top-level names of the packages outside ours that a module imports (relative imports are ours)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["media", "client"])
def test_media_and_client_do_not_speak_mcp(package: str) -> None:
    speaking = sorted(
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / package).rglob("*.py")
        if external_imports(path) & {"mcp", "mcp_types"}
    )
    assert speaking == []


def test_the_package_root_holds_at_most_ten_modules() -> None:
    root = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(root) <= 10, root


def test_a_module_over_300_lines_says_why_in_its_docstring() -> None:
    unexplained = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if len(path.read_text().splitlines()) > 300
        and "Over 300 lines" not in (ast.get_docstring(ast.parse(path.read_text())) or "")
    ]
    assert unexplained == []
