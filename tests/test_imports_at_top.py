"""Imports are at the top of modules: an import inside a function hides a dependency (often a
cycle dodged instead of fixed: the design card asks for the cycle to be fixed).

Allowed inside a function, each for its reason: an AppConfig's `ready()` (the app registry is
complete only then), and the few imports below, deferred because of what importing costs or
needs, not to dodge a cycle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tradedesk", "signals", "orders", "following", "executor", "desk", "ops", "portfolio")

# (module, imported module) -> why it waits for the call.
DEFERRED = {
    ("executor.services", "ccxt"): "importing ccxt takes about a second; only the venue list needs it",
    ("executor.connectors.ccxt_connector", "executor.connectors.ccxt_stream"): (
        "ccxt.pro (about 0.2 s and 34 MB per process); only the process watching the masters' streams needs it"
    ),
    ("executor.browser.chromium", "playwright.sync_api"): "only the process that owns the browsers starts Playwright",
    ("executor.browser.lock", "psycopg"): "the advisory lock's own connection, only on PostgreSQL",
    ("tradedesk.db", "django.db.backends.postgresql.base"): "the PostgreSQL backend, only on PostgreSQL",
    ("tradedesk.formatting", "django.contrib.admin"): "the admin's modules, patched once the registry is ready",
    ("tradedesk.formatting", "django.contrib.admin.templatetags"): "the same",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_inside_functions(module: str, source: str) -> list[tuple[int, str]]:
    """(line, imported module) for each import in a function body that is not allowed."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name == "ready" and module.endswith(".apps"):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            elif isinstance(inner, ast.ImportFrom) and inner.module:
                names = [inner.module if inner.level == 0 else f"{'.' * inner.level}{inner.module}"]
            else:
                continue
            found += [(inner.lineno, name) for name in names if (module, name) not in DEFERRED]
    return sorted(set(found))


def test_no_module_imports_inside_a_function():
    problems = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_name(path)
            problems += [
                f"{path.relative_to(ROOT)}:{line} imports {name} inside a function"
                for line, name in imports_inside_functions(module, path.read_text())
            ]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("orders.services", "def f():\n    from orders.tasks import place_order\n", [(2, "orders.tasks")]),
        ("orders.services", "class A:\n    def f(self):\n        import json\n", [(3, "json")]),
        ("orders.apps", "class C:\n    def ready(self):\n        from orders import hooks\n", []),
        ("executor.services", "def venues():\n    import ccxt\n", []),
        ("orders.services", "def venues():\n    import ccxt\n", [(2, "ccxt")]),
        ("orders.services", "from orders import tasks\n", []),
    ],
)
def test_it_finds_an_import_inside_a_function(module, source, expected):
    assert imports_inside_functions(module, source) == expected
