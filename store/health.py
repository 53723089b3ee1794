"""Is the database there? For ``/readyz`` and ``intygsgateway db check``.

A real round trip (``SELECT 1``), not just a pool checkout: with ``pool_pre_ping`` a checkout already
pings, but an engine with an empty pool would otherwise report on connecting only.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from store.session import translate_errors


def ping(engine: Engine) -> None:
    """Run ``SELECT 1`` on a pooled connection.

    Raises:
        DatabaseUnavailable: the database did not answer (within the engine's connect timeout).
    """
    with translate_errors(), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
