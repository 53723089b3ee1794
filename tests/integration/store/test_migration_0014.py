"""0014 turns ``copied_from`` into relation KOPIA and back: copies keep their parent both ways, a
certificate copied from none gets no relation, and the downgrade drops the relations the older
release has no place for."""

from __future__ import annotations

from dataclasses import replace

from alembic import command
from sqlalchemy import MetaData, Table, insert, inspect, text

from domain.values import RelationCode
from store import certificates
from store.migrate import make_config, upgrade
from store.session import make_engine, make_session_factory, transaction
from tests.builders import make_draft, make_revoked_certificate
from tests.integration.store.older_rows import row_before_0014


def test_copies_become_kopia_and_the_downgrade_writes_them_back(blank_db_url: str) -> None:
    copy = make_revoked_certificate("copy-of-locked")  # copied_from "0ld-draft"
    plain = replace(make_draft("plain-draft"), relation_code=None, relation_parent=None)
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0013")
        with engine.begin() as connection:
            table = Table("certificate", MetaData(), autoload_with=connection)
            connection.execute(insert(table), [{**row_before_0014(c), "unit_key": c.unit.hsa_id.key}
                                               for c in (copy, plain)])
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            stored = [certificates.get_certificate(session, c.id) for c in (copy, plain)]
            # what this release also writes: a renewal, which the older release cannot hold
            renewal = replace(make_draft("renewal"), relation_code=RelationCode.FRLANG, relation_parent=copy.id)
            certificates.add_certificate(session, renewal)
        command.downgrade(make_config(engine), "0013")
        with engine.connect() as connection:
            query = text("SELECT certificate_id, copied_from FROM certificate")
            copied = dict(connection.execute(query).tuples().all())
            columns = {str(c["name"]) for c in inspect(connection).get_columns("certificate")}
    finally:
        engine.dispose()
    assert stored == [copy, plain]
    assert (copy.relation_code, copy.relation_parent) == (RelationCode.KOPIA, "0ld-draft")
    assert copied == {copy.id: "0ld-draft", plain.id: None, "renewal": None}
    assert not {"relation_code", "relation_parent_id"} & columns
