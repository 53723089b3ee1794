"""The security suite: every finding of the security review, written as the attack, which must fail.

The database fixtures are the integration suite's (``tests/integration/conftest.py``): each test that
touches storage runs on SQLite and on a throw-away PostgreSQL. Tests here are marked ``security``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import (  # noqa: F401  (fixtures, found by name)
    _pg_template,
    _sqlite_template,
    blank_db_url,
    db_backend,
    db_url,
    engine,
    pg_url,
    session_factory,
)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.security)
