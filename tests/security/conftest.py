"""The security suite: every finding of the security review, written as the attack, which must fail.

The database fixtures are the integration suite's (``tests/integration/conftest.py``): each test that
touches storage runs on SQLite and on a throw-away PostgreSQL. Tests here are marked ``security``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import (  # noqa: F401  (fixtures, found by name; helpers)
    _create_pg_database,
    _drop_pg_database,
    _pg_template,
    _sqlite_template,
    _with_database,
    blank_db_url,
    db_backend,
    db_url,
    engine,
    pg_url,
    session_factory,
)

HERE = Path(__file__).resolve().parent


@pytest.fixture
def pg_db_url(pg_url: str, _pg_template: str) -> Iterator[str]:  # noqa: F811  (pytest passes the fixtures)
    """A migrated PostgreSQL database (the ``db_url`` fixture on PostgreSQL only), for the attacks that
    need PostgreSQL's roles and triggers."""
    name = _create_pg_database(pg_url, template=_pg_template)
    try:
        yield _with_database(pg_url, name)
    finally:
        _drop_pg_database(pg_url, name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.security)
