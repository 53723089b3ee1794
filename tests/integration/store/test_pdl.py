"""PDL records are appended and read back per certificate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from domain.pdl import PURPOSE_CARE, RESOURCE_CERTIFICATE, Activity, PdlRecord
from store.errors import Conflict
from store.pdl import PdlRow, append, append_all, record_row, records_for_certificate, store_records
from store.session import UnitOfWork, transaction


def record(log_id: str, certificate_id: str, activity: Activity, **extra: object) -> PdlRecord:
    return PdlRecord(
        log_id=log_id,
        system_id="SE2321000016-GW01",
        activity=activity.value,
        start_date=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        purpose=PURPOSE_CARE,
        user_id="SE2321000016-P001",
        user_care_giver_id="SE2321000016-0001",
        user_care_unit_id="SE2321000016-1000",
        resource_type=RESOURCE_CERTIFICATE,
        resource_care_giver_id="SE2321000016-0001",
        activity_level=certificate_id,
        **extra,  # type: ignore[arg-type]
    )


def test_records_are_appended_and_listed_per_certificate(session_factory: sessionmaker[Session]) -> None:
    """Each certificate's records come back complete and in the order they were appended."""
    full = record(
        "log-1", "cert-1", Activity.WRITE, system_name="Intygsgateway", activity_args="utkast",
        user_name="Ann Läkare", user_assignment="Vård och behandling", user_title="Läkare",
        user_care_giver_name="Region Demo", user_care_unit_name="Vårdcentralen Demo",
        patient_id_root="1.2.752.129.2.1.3.1", patient_id="191212121212",
        patient_name="Tolvan Tolvansson", resource_care_giver_name="Region Demo",
        resource_care_unit_id="SE2321000016-1000", resource_care_unit_name="Vårdcentralen Demo",
    )
    minimal = record("log-2", "cert-1", Activity.READ)
    with transaction(session_factory) as session:
        append(session, full)
        append(session, record("log-3", "cert-2", Activity.READ))
        append(session, minimal)
    with transaction(session_factory) as session:
        assert records_for_certificate(session, "cert-1") == [full, minimal]
        assert records_for_certificate(session, "cert-9") == []


def test_a_batch_is_stored_as_the_insert_per_row_stores_it(session_factory: sessionmaker[Session]) -> None:
    """On PostgreSQL ``append_all`` sends a batch as one JSON parameter: every column of every row, and the
    rows' order (their ids, which the sealer chains in), are those of the plain INSERT of the same records."""
    def batch(prefix: str) -> list[PdlRecord]:
        return [replace(record(f"{prefix}-log-{n}", f"{prefix}-cert", Activity.READ if n % 2 else Activity.WRITE,
                               activity_args=f'args "{n}" \\ åäö <&>', user_name=None if n % 3 else "Ann Läkare"),
                        start_date=datetime(2026, 11, 20, 8, 0, n, 1000 * n, tzinfo=UTC)) for n in range(12)]

    with transaction(session_factory) as session:
        append_all(session, batch("json"))
        session.execute(insert(PdlRow), [record_row(r) for r in batch("rows")])
    with transaction(session_factory) as session:
        def stored(prefix: str) -> list[dict[str, object]]:
            found = session.execute(select(PdlRow.__table__).where(PdlRow.log_id.like(f"{prefix}-%"))
                                    .order_by(PdlRow.id)).mappings().all()
            return [{name: value.replace(prefix, "") if isinstance(value, str) else value
                     for name, value in row.items() if name not in ("id", "stored_at")} for row in found]

        assert stored("json") == stored("rows")
        assert [r.log_id for r in records_for_certificate(session, "json-cert")] == [
            r.log_id for r in batch("json")]


def test_stored_alone_a_batch_is_one_statement_and_all_or_nothing(session_factory: sessionmaker[Session]) -> None:
    """``store_records``: the batch in a transaction of its own (on PostgreSQL one statement in autocommit),
    the records as ``append_all`` leaves them; a logId already stored refuses the whole batch."""
    batch = [record(f"alone-log-{n}", "alone-cert", Activity.READ, activity_args=f'"{n}" åäö') for n in range(5)]
    run = UnitOfWork(session_factory)
    assert store_records(run, batch) == 5
    with transaction(session_factory) as session:
        assert records_for_certificate(session, "alone-cert") == batch
    again = [record("alone-log-new", "again-cert", Activity.READ), batch[2]]
    with pytest.raises(Conflict):
        store_records(run, again)
    with transaction(session_factory) as session:
        assert records_for_certificate(session, "again-cert") == []
    assert store_records(run, []) == 0
