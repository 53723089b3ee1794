"""Migration 0002 keeps existing drafts when ``draft`` becomes ``certificate``, both ways."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, inspect, select

from store.migrate import make_config
from store.session import make_engine

DRAFT_ROW = {
    "certificate_id": "kept-draft", "type_code": "LISJP", "type_code_system": "kv", "status": "DRAFT",
    "created_at": datetime(2026, 11, 1, 8, 0, tzinfo=UTC), "test_certificate": False, "ref": "r-1",
    "prefill_xml": None, "extensions": [{"path": "intyg", "xml": "<x/>"}],
    "patient_id_kind": "1.2.752.129.2.1.3.1", "patient_id": "191212121212",
    "patient_given_name": "Tolvan", "patient_middle_name": None, "patient_family_name": "Tolvansson",
    "patient_postal_address": None, "patient_postal_code": None, "patient_city": None,
    "patient_deceased": False, "patient_protected_identity": False, "patient_test_indicator": False,
    "unit_key": "se2321000016-1000", "unit_hsa_id": "SE2321000016-1000", "unit_name": "VC",
    "unit_parent_hsa_id": None, "unit_arbetsplatskod": None, "unit_postal_address": None,
    "unit_postal_code": None, "unit_city": None, "unit_phone": None, "unit_email": None,
    "care_giver_hsa_id": "SE2321000016-0001", "care_giver_name": "Region",
    "created_by_hsa_id": "SE2321000016-P001", "created_by_name": "Ann",
    "created_by_detail": {"assignments": []},
}


def test_upgrade_moves_drafts_into_certificate_and_downgrade_moves_them_back(blank_db_url: str) -> None:
    """A draft stored at 0001 is a version-1 certificate with empty content at 0002, and back again."""
    engine = make_engine(blank_db_url)
    config = make_config(engine)
    try:
        command.upgrade(config, "0001")
        with engine.begin() as connection:
            draft = Table("draft", MetaData(), autoload_with=connection)
            connection.execute(draft.insert(), [DRAFT_ROW])
        command.upgrade(config, "0002")
        with engine.begin() as connection:
            inspector = inspect(connection)
            assert "draft" not in inspector.get_table_names()
            assert inspector.get_pk_constraint("certificate")["name"] == "pk_certificate"
            assert {index["name"] for index in inspector.get_indexes("certificate")} == {
                "ix_certificate_unit_key", "ix_certificate_status_created_at"
            }
            certificate = Table("certificate", MetaData(), autoload_with=connection)
            row = connection.execute(select(certificate)).mappings().one()
        assert (row["certificate_id"], row["content"], row["version"], row["signed_at"]) == (
            "kept-draft", [], 1, None
        )
        assert row["extensions"] == DRAFT_ROW["extensions"]
        command.downgrade(config, "0001")
        with engine.begin() as connection:
            assert "certificate" not in inspect(connection).get_table_names()
            draft = Table("draft", MetaData(), autoload_with=connection)
            back = connection.execute(select(draft)).mappings().one()
        assert (back["certificate_id"], back["ref"], back["created_by_detail"]) == (
            "kept-draft", "r-1", {"assignments": []}
        )
    finally:
        engine.dispose()
