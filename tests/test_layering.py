"""Imports point one way: apps -> tradedesk/ basics, ops alerting and counters below the apps,
observability (ops.metrics, ops.health) above them, and the apps in their order.

The rules read every module's imports with `ast` (at the top and inside functions alike: an
import hidden in a function still makes the cycle), so an upward import fails here.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("signals", "orders", "following", "executor", "desk", "ops", "portfolio")
# The project package's wiring modules put the apps together, so they import them all.
COMPOSITION = {"tradedesk.urls", "tradedesk.routing", "tradedesk.asgi", "tradedesk.wsgi", "tradedesk.celery"}
OPS_BELOW = {"ops.alerts", "ops.counters"}  # what anything may import from ops
OBSERVABILITY = ("ops.metrics", "ops.health")

# (importing package or module, imported package): never, at the top or inside a function.
FORBIDDEN = [
    ("orders", "following"),  # copy trading hooks into orders (orders/hooks.py), not the reverse
    ("orders", "desk"),
    ("portfolio", "desk"),
    ("portfolio", "following"),
    # Orders are made from signals: signals' models, services and API know no order (its admin,
    # an interface, may offer "order this signal").
    ("signals.models", "orders"),
    ("signals.services", "orders"),
    ("signals.api", "orders"),
    ("signals", "following"),
    ("signals", "portfolio"),
    ("signals", "desk"),
    ("signals", "executor"),
    ("executor", "orders"),  # the venue side knows no desk order: orders record its results
    ("executor", "signals"),
    ("executor", "following"),
    ("executor", "portfolio"),
    ("executor", "desk"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, imported module) for every absolute import in the source."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from ops import alerts` imports ops.alerts: name the submodule when it is one.
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists()
                found.append((node.lineno, candidate if is_module else node.module))
    return found


def _modules(*packages: str) -> dict[str, tuple[str, str]]:
    """module name -> (its path, its source) for every module of the packages."""
    modules = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = (str(path.relative_to(ROOT)), path.read_text())
    return modules


def _top(module: str) -> str:
    return module.split(".")[0]


def _is_basic(module: str) -> bool:
    return module not in COMPOSITION and not module.startswith("tradedesk.management")


def _under(module: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def upward_imports(modules: dict[str, tuple[str, str]]) -> list[str]:
    problems = []
    for name, (filename, source) in modules.items():
        package = _top(name)
        for line, imported in _imports(source, filename):
            target = _top(imported)
            where = f"{filename}:{line} imports {imported}"
            if package == "tradedesk" and _is_basic(name):
                if target in APPS and not _under(imported, OPS_BELOW):
                    problems.append(f"{where}: tradedesk's basics import no app")
            if _under(name, OPS_BELOW) and target in APPS and not _under(imported, OPS_BELOW):
                problems.append(f"{where}: ops alerting and counters are below the apps")
            if package not in ("ops", "tradedesk") and _under(imported, OBSERVABILITY):
                problems.append(f"{where}: observability is above the apps")
            if package == "tradedesk" and _is_basic(name) and _under(imported, OBSERVABILITY):
                problems.append(f"{where}: observability is above tradedesk's basics")
            for lower, upper in FORBIDDEN:
                if _under(name, (lower,)) and _under(imported, (upper,)):
                    problems.append(f"{where}: {lower} is below {upper}")
    return problems


def test_no_module_imports_upward():
    assert upward_imports(_modules("tradedesk", *APPS)) == []


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("tradedesk/extra.py", "from signals.models import Signal\n", "tradedesk's basics import no app"),
        ("ops/alerts.py", "def f():\n    from orders.models import Order\n", "ops alerting and counters are below"),
        ("orders/extra.py", "from ops import metrics\n", "observability is above the apps"),
        ("orders/extra.py", "def f():\n    from following import sync\n", "orders is below following"),
        ("executor/extra.py", "import signals.services\n", "executor is below signals"),
        ("signals/services.py", "from orders.models import Order\n", "signals.services is below orders"),
    ],
)
def test_it_fails_when_someone_adds_an_upward_import(module, source, rule):
    problems = upward_imports({_module_name(ROOT / module): (module, source)})
    assert any(rule in problem for problem in problems), problems


def test_the_project_wiring_may_import_the_apps():
    urls = _modules("tradedesk")["tradedesk.urls"]
    assert "from orders" in urls[1]
    assert upward_imports({"tradedesk.urls": urls}) == []
