"""Imports follow the map in docs/architecture.md: each package sees only the layers below it.

Each module's imports are read with ``ast`` and checked against the allowed arrows, the way httpx
guards its public surface: a wrong import fails here before it tangles the layers. There is no
exemption list: a module that needs an arrow the table does not draw belongs in another package.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "gateway", "contracts", "usecases", "domain", "routing", "store", "scheduler", "outbound", "simulator", "cli",
)

# package -> our packages it may import
ALLOWED = {
    # the front door: contracts for SOAP, use cases for the operations API, routing for who may call
    "gateway": {"gateway", "contracts", "usecases", "domain", "routing"},
    "contracts": {"contracts", "usecases", "domain"},
    "usecases": {"usecases", "domain", "store", "routing"},
    "domain": {"domain"},
    "routing": {"routing", "domain"},
    "store": {"store", "domain", "routing"},  # their value types, to map rows
    "scheduler": {"scheduler", "usecases", "outbound", "store", "domain"},
    "outbound": {"outbound", "contracts", "routing", "domain"},
    # a stand-in journal system: the contract, and the gateway's own validation and WSDL serving
    "simulator": {"simulator", "contracts", "domain", "gateway"},
    "cli": set(PACKAGES),
}
# third-party libraries -> the only packages that may import them
HOMES = {
    "spyne": {"gateway"},
    "lxml": {"gateway", "contracts", "outbound", "simulator"},
    "zeep": {"outbound"},
    "requests": {"outbound"},
    "certifi": {"outbound"},
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "psycopg": {"store"},
    "orjson": {"store", "cli"},  # JSON columns and rows (store/session.py, store/base.py), log lines (cli/logs.py)
    "apscheduler": {"scheduler"},
    "gunicorn": {"cli"},
    "cryptography": {"gateway", "cli"},
    "httptools": {"cli"},  # the HTTP/1.1 parser of the serving worker (cli/http_worker.py)
    "jwt": {"gateway"},  # OIDC bearer tokens of the operations API (gateway/internal_api/auth.py)
    "prometheus_client": {"gateway"},  # every instrument and /metrics (gateway/metrics.py)
    "jinja2": {"gateway"},  # the operator console's templates (gateway/console)
    "ecs_logging": {"cli"},  # the ECS log renderer, configured with structlog (cli/logs.py)
}
# Process machinery the rules must not reach for: the domain is values and decisions only.
NOT_IN_DOMAIN = {"threading", "multiprocessing", "socket", "time", "os", "uuid", "structlog", "subprocess"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[tuple[str, Path]]:
    return [
        (package, path)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_packages_import_only_along_the_allowed_arrows() -> None:
    """No module imports a package its layer may not see."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package, path in _modules()
        for name in _imports(path)
        if name.split(".")[0] in PACKAGES and name.split(".")[0] not in ALLOWED[package]
    ]
    assert wrong == []


def test_each_library_stays_in_its_home() -> None:
    """spyne only in gateway, SQLAlchemy only in store, zeep and requests only in outbound, and so on."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package, path in _modules()
        for name in _imports(path)
        if package not in HOMES.get(name.split(".")[0], {package})
    ]
    assert wrong == []


def test_spyne_is_confined_to_the_soap_glue() -> None:
    """Spyne is the front door's SOAP dispatch and nothing else: only gateway/soap.py imports it."""
    users = [
        str(path.relative_to(ROOT))
        for _package, path in _modules()
        if any(name.split(".")[0] == "spyne" for name in _imports(path))
    ]
    assert users == ["gateway/soap.py"]


def test_domain_is_plain_python() -> None:
    """domain imports the standard library and itself, and none of the process machinery."""
    wrong = []
    for package, path in _modules():
        if package != "domain":
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in NOT_IN_DOMAIN or (top not in sys.stdlib_module_names and top not in ("domain", "__future__")):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_every_package_is_on_the_map() -> None:
    """A new top-level package must be given its arrows here (and in docs/architecture.md)."""
    found = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in ("tests", "bench", "xsd")
    }
    assert found == set(PACKAGES)
