"""0017 keeps room in the outbox's pages: a claim then updates its rows in place (HOT) on PostgreSQL.

Measured inside the claiming transaction (``pg_stat_get_xact_tuples_hot_updated``): with the
fillfactor, a good part of a claim of freshly written rows is HOT; without it (after the
downgrade, on freshly written pages filled to the brim) next to none is.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text

from domain.values import EventCode
from store.migrate import make_config, upgrade
from store.outbox import claim_due
from store.session import make_engine, make_session_factory, transaction
from tests.integration.outbox_env import T0, add_certificates

ROWS = 200


def _reloptions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            options = connection.execute(
                text("SELECT reloptions FROM pg_class WHERE relname = 'outbox_event'")).scalar()
    finally:
        engine.dispose()
    return list(options or [])


def _hot_share_of_a_claim(url: str) -> float:
    """Queue ``ROWS`` events on emptied pages, claim them all; the share of the claim's updates that were HOT."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE outbox_event, outbox_attempt, certificate_event, certificate CASCADE"))
        add_certificates(factory, [f"hot-{n}" for n in range(ROWS)], codes=(EventCode.SKAPAT,))
        with transaction(factory) as session:
            claimed = claim_due(session, "test:1", T0 + timedelta(hours=1), timedelta(minutes=5), ROWS)
            hot = session.execute(text(
                "SELECT pg_stat_get_xact_tuples_hot_updated('outbox_event'::regclass)")).scalar()
    finally:
        engine.dispose()
    assert len(claimed) == ROWS
    return int(hot or 0) / ROWS


@pytest.mark.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_claim_updates_the_outbox_in_place_with_the_fillfactor(db_url: str) -> None:
    assert "fillfactor=70" in _reloptions(db_url)
    with_room = _hot_share_of_a_claim(db_url)

    engine = make_engine(db_url)
    try:
        command.downgrade(make_config(engine), "0016")
    finally:
        engine.dispose()
    assert _reloptions(db_url) == []
    brim_full = _hot_share_of_a_claim(db_url)
    upgrade(db_url)
    assert "fillfactor=70" in _reloptions(db_url)

    assert with_room > 0.25, with_room
    assert brim_full < 0.1, brim_full
