"""Database fixtures for integration tests: a throw-away PostgreSQL, SQLite files, migrated schemas.

Fixtures (all reusable by end-to-end tests that start the gateway on ``db_url``):

* ``pg_url`` (session): the admin URL of a PostgreSQL server. ``TEST_DATABASE_URL`` if set,
  otherwise a cluster started for this test run in a temporary directory (``initdb``/``pg_ctl`` run
  as the ``postgres`` user when pytest runs as root, since PostgreSQL refuses to run as root) and
  stopped at the end (``TEST_DATABASE_URL`` must name a PostgreSQL 13 or newer server and a role
  that may create databases). Without PostgreSQL binaries the test is skipped, or fails when ``CI`` is set:
  CI must run the PostgreSQL half of the suite.
* ``db_backend``: ``"sqlite"`` or ``"postgresql"``; every test that uses a database runs on both.
* ``blank_db_url``: a new, empty database (no tables) on that backend, for migration tests.
* ``db_url``: a new database already migrated to head, empty of rows. On PostgreSQL it is cloned from
  a template database migrated once per run (``CREATE DATABASE ... TEMPLATE``); on SQLite the file is
  copied from a migrated template file. Each test therefore starts empty and may commit freely,
  which end-to-end tests need (the gateway's own connections must see the test's data).
* ``engine`` and ``session_factory``: ``store.session`` objects on ``db_url``.

Every test under ``tests/integration`` is marked ``integration``; PostgreSQL parameters are also
marked ``postgres``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from store.migrate import upgrade
from store.session import make_engine, make_session_factory
from tests.pgcluster import PostgresUnavailable, postgres_cluster

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this directory ``integration`` (a conftest's ``pytestmark`` would not)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The admin URL of a PostgreSQL server for this test run (see the module docstring)."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_cluster())
        except PostgresUnavailable as missing:
            if os.environ.get("CI"):
                pytest.fail(f"{missing}: CI must run the PostgreSQL tests")
            pytest.skip(str(missing))
        except subprocess.CalledProcessError as failed:
            pytest.fail(f"PostgreSQL did not start: {failed.stderr!r}")
        yield url


def _admin_engine(pg_url: str) -> Engine:
    return make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT")


def _with_database(pg_url: str, name: str) -> str:
    return make_url(pg_url).set(database=name).render_as_string(hide_password=False)


def _create_pg_database(pg_url: str, template: str | None = None) -> str:
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine(pg_url)
    try:
        with admin.connect() as connection:
            clause = f" TEMPLATE {template}" if template else ""
            connection.execute(text(f"CREATE DATABASE {name}{clause}"))
    finally:
        admin.dispose()
    return name


def _drop_pg_database(pg_url: str, name: str) -> None:
    admin = _admin_engine(pg_url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_template(pg_url: str) -> Iterator[str]:
    """A database migrated to head once per run; ``db_url`` clones it (no connection may stay open)."""
    name = _create_pg_database(pg_url)
    upgrade(_with_database(pg_url, name))
    try:
        yield name
    finally:
        _drop_pg_database(pg_url, name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; ``db_url`` copies it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")  # the engine is disposed, so the WAL is checkpointed into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on; each database test runs once per backend."""
    return str(request.param)


@pytest.fixture
def blank_db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database without any tables."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server = request.getfixturevalue("pg_url")
    name = _create_pg_database(server)
    try:
        yield _with_database(server, name)
    finally:
        _drop_pg_database(server, name)


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database migrated to head and holding no rows; dropped after the test."""
    if db_backend == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "gateway.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_url")
    name = _create_pg_database(server, template=request.getfixturevalue("_pg_template"))
    try:
        yield _with_database(server, name)
    finally:
        _drop_pg_database(server, name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url``, disposed after the test so the database can be dropped."""
    built = make_engine(db_url)
    try:
        yield built
    finally:
        built.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory on the migrated ``db_url``, for ``store.session.transaction``."""
    return make_session_factory(engine)
