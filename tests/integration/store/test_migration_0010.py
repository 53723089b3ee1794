"""0010: a revocation stored before reason codes keeps its text with no code; signers get their key;
the new tables come and go with the upgrade and the downgrade."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from alembic import command
from sqlalchemy import Table, inspect

from domain.values import HsaId
from store.certificates import CertificateRow, get_certificate, signed_by
from store.migrate import make_config, upgrade
from store.session import make_engine, make_session_factory, transaction
from tests.builders import make_revoked_certificate
from tests.integration.store.older_rows import row_before_0014

SIGNED_SINCE = datetime(2026, 11, 1, tzinfo=UTC)  # the built certificate was signed on 21 November 2026


def test_an_older_revocation_keeps_its_text_gets_no_code_and_is_found_by_its_signer(blank_db_url: str) -> None:
    revoked = make_revoked_certificate()
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0009")
        later = ("revoke_reason_code", "received_type_code", "received_type_code_system",  # 0010 and 0011
                 "send_requested_at", "send_failed_at", "send_failure_class", "send_failure_text")  # 0013
        row = row_before_0014(revoked, later)
        row["unit_key"] = revoked.unit.hsa_id.key
        row["signed_by_hsa_id"] = "se2321000016-P001"  # a spelling of its own: the key is case-folded
        with engine.begin() as connection:
            connection.execute(cast(Table, CertificateRow.__table__).insert(), row)
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            stored = get_certificate(session, revoked.id)
            total, found = signed_by(session, HsaId("SE2321000016-p001"), SIGNED_SINCE, 0, 10)
        assert stored is not None
        assert (stored.revoke_reason, stored.revoke_reason_code) == ("Fel patient", None)
        assert (total, [c.id for c in found]) == (1, [revoked.id])
        tables = set(inspect(engine).get_table_names())
        assert {"hsa_unit_fact", "caregiver_export"} <= tables
        command.downgrade(make_config(engine), "0009")
        inspector = inspect(engine)
        columns = {c["name"] for c in inspector.get_columns("certificate")}
        assert not {"revoke_reason_code", "signed_by_key"} & columns
        assert not {"hsa_unit_fact", "caregiver_export"} & set(inspector.get_table_names())
    finally:
        engine.dispose()
