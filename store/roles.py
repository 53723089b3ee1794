"""PostgreSQL roles under which the application may only append to the PDL log (``db upgrade --with-roles``).

Three group roles (NOLOGIN; an operator grants them to login users, ``GRANT intygsgateway_app TO gw``):

* ``intygsgateway_app``: what the gateway and the worker connect as. Full use of every business table,
  but on the PDL tables: read, INSERT, and UPDATE of only the three link columns of ``pdl_record``
  (which the sealer fills in once; the append-only trigger (revisions 0009 and 0016) refuses any other change
  and any change of a sealed row), INSERT of checkpoints, and the chain-head row the sealers lock and
  move. No DELETE on any PDL table.
* ``intygsgateway_pdl_purge``: the retention job and ``pdl purge`` (``pdl_purge_database_url``): read
  and DELETE of records, INSERT of anchors and checkpoints, the head lock.
* ``intygsgateway_pdl_audit``: read-only on the PDL tables, for auditors and ``pdl verify`` on the
  live database.

The owner that runs migrations keeps its rights (PostgreSQL cannot take them from a table's owner):
it is the database administrator of the threat model in docs/pdl-log.md, whom the signatures, not
the roles, hold in check. Running this again after each upgrade grants rights on new tables; it
changes nothing else.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from store.session import make_engine

APP_ROLE = "intygsgateway_app"
PURGE_ROLE = "intygsgateway_pdl_purge"
AUDIT_ROLE = "intygsgateway_pdl_audit"
PDL_TABLES = ("pdl_record", "pdl_checkpoint", "pdl_chain_head", "pdl_chain_anchor")
LINK_COLUMNS = "seq, prev_hash, hash"

_GRANTS = (
    # The application: everything outside the PDL log ...
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
    f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    # ... and only appending to it.
    f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(PDL_TABLES)} FROM {APP_ROLE}",
    f"GRANT UPDATE ({LINK_COLUMNS}) ON pdl_record TO {APP_ROLE}",
    f"REVOKE INSERT ON pdl_chain_anchor FROM {APP_ROLE}",
    f"GRANT UPDATE (seq, hash) ON pdl_chain_head TO {APP_ROLE}",
    # Retention.
    f"GRANT SELECT ON {', '.join(PDL_TABLES)} TO {PURGE_ROLE}",
    f"GRANT DELETE ON pdl_record TO {PURGE_ROLE}",
    f"GRANT INSERT ON pdl_chain_anchor, pdl_checkpoint TO {PURGE_ROLE}",
    f"GRANT UPDATE ({LINK_COLUMNS}) ON pdl_record TO {PURGE_ROLE}",
    f"GRANT UPDATE (seq, hash) ON pdl_chain_head TO {PURGE_ROLE}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {PURGE_ROLE}",
    # Auditors.
    f"GRANT SELECT ON {', '.join(PDL_TABLES)} TO {AUDIT_ROLE}",
)


def _create_role(connection: Connection, name: str) -> None:
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}).first()
    if exists is None:
        connection.execute(text(f"CREATE ROLE {name} NOLOGIN"))


def grant_roles(url: str) -> tuple[str, ...]:
    """Create the three roles if missing and grant their rights on the migrated schema; return their names.

    Raises ValueError on a database other than PostgreSQL (SQLite has no roles).
    """
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            raise ValueError("roles exist on PostgreSQL only; SQLite has none (see docs/pdl-log.md)")
        with engine.begin() as connection:
            for role in (APP_ROLE, PURGE_ROLE, AUDIT_ROLE):
                _create_role(connection, role)
            connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}, {PURGE_ROLE}, {AUDIT_ROLE}"))
            for statement in _GRANTS:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    return (APP_ROLE, PURGE_ROLE, AUDIT_ROLE)
