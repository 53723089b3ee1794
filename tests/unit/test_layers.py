"""Imports follow the map: domain and routing know no framework, nothing imports cli, libraries stay home.

Each module's imports are read with ``ast`` and checked against the allowed arrows, the way httpx
guards its public surface: a wrong import fails here before it tangles the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "contracts", "domain", "routing", "store", "scheduler", "outbound", "simulator", "cli")

# package -> our packages it may import (domain.usecases is checked separately below)
ALLOWED = {
    "gateway": {"gateway", "contracts", "domain", "routing"},
    "contracts": {"contracts", "domain"},
    "domain": {"domain", "store"},
    "routing": {"routing", "domain"},
    "store": {"store", "domain", "routing"},  # routing's record types, like domain values
    "scheduler": {"scheduler", "store", "domain", "routing", "contracts", "outbound"},
    "outbound": {"outbound", "contracts", "domain", "routing"},
    # a stand-in journal system: the contract, and the gateway's own validation and WSDL serving
    "simulator": {"simulator", "contracts", "domain", "gateway"},
    "cli": set(PACKAGES),
}
# third-party libraries -> the only packages that may import them
HOMES = {
    "spyne": {"gateway"},
    "lxml": {"gateway", "contracts"},
    "zeep": {"outbound"},
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "apscheduler": {"scheduler"},
    "gunicorn": {"cli"},
}


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
    wrong = []
    for package, path in _modules():
        for name in _imports(path):
            top = name.split(".")[0]
            if top in PACKAGES and top not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_domain_rules_import_no_store_only_usecases_do() -> None:
    """Inside domain, only domain.usecases may reach the store."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package, path in _modules()
        if package == "domain" and "usecases" not in path.parts
        for name in _imports(path)
        if name.split(".")[0] == "store"
    ]
    assert wrong == []


def test_each_library_stays_in_its_home() -> None:
    """spyne only in gateway, SQLAlchemy only in store (and domain.usecases' Session type), and so on."""
    wrong = []
    for package, path in _modules():
        for name in _imports(path):
            library = name.split(".")[0]
            homes = HOMES.get(library)
            if homes is None or package in homes:
                continue
            if library == "sqlalchemy" and name == "sqlalchemy.orm" and "usecases" in path.parts:
                continue  # a use case names the Session type of the unit of work it is handed
            wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []
