"""Certificates are stored with every field, changed only at the version read, and locked once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain.certificates import COLUMN_NAMES, Certificate
from domain.directory import Person, Personnel, Unit
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind
from store.certificates import (
    CertificateRow,
    add_certificate,
    delete_certificate,
    get_certificate,
    lock_headers,
    lock_stale_drafts,
    save_certificate,
)
from store.errors import Conflict
from store.session import transaction
from tests.builders import (
    CARE_GIVER,
    CONTENT,
    make_draft,
    make_revoked_certificate,
    make_signed_certificate,
)


def test_the_table_has_a_column_for_each_flat_value() -> None:
    """The certificate table's columns are the mapping's names plus the store's own unit and signer keys."""
    assert set(CertificateRow.__table__.columns.keys()) == {*COLUMN_NAMES, "unit_key", "signed_by_key"}


def test_draft_round_trips_every_field(session_factory: sessionmaker[Session]) -> None:
    """get_certificate returns exactly the draft that add_certificate stored."""
    draft = make_draft()
    with transaction(session_factory) as session:
        add_certificate(session, draft)
    with transaction(session_factory) as session:
        assert get_certificate(session, draft.id) == draft


def test_every_lifecycle_field_round_trips(session_factory: sessionmaker[Session]) -> None:
    """Content and every transition field survive add_certificate and get_certificate."""
    certificate = make_revoked_certificate()
    with transaction(session_factory) as session:
        add_certificate(session, certificate)
    with transaction(session_factory) as session:
        assert get_certificate(session, certificate.id, for_update=True) == certificate


def test_minimal_draft_round_trips(session_factory: sessionmaker[Session]) -> None:
    """Optional fields left out stay None or empty."""
    full = make_draft()
    draft = Certificate(
        id="minimal", type_code="FK7804", type_code_system=full.type_code_system,
        received_type_code="fk7804", received_type_code_system=full.type_code_system,
        status=CertificateStatus.DRAFT,
        patient=Person(PersonId(PersonIdKind.PERSONNUMMER, "191212121212"), "Tolvan", "Tolvansson"),
        unit=Unit(HsaId("SE2321000016-1000"), "Vårdcentralen", CARE_GIVER.hsa_id),
        care_giver=CARE_GIVER,
        created_by=Personnel(HsaId("SE2321000016-P002"), "Bo Vårdadministratör"),
        created_at=full.created_at, test_certificate=False,
    )
    with transaction(session_factory) as session:
        add_certificate(session, draft)
    with transaction(session_factory) as session:
        assert get_certificate(session, "minimal") == draft


def test_unknown_certificate_is_none(session_factory: sessionmaker[Session]) -> None:
    """Asking for an id that was never stored gives None."""
    with transaction(session_factory) as session:
        assert get_certificate(session, "no-such-draft") is None


def test_duplicate_id_is_a_conflict(session_factory: sessionmaker[Session]) -> None:
    """A second certificate with a stored id is refused with Conflict and the first one is kept."""
    with transaction(session_factory) as session:
        add_certificate(session, make_draft())
    with pytest.raises(Conflict), transaction(session_factory) as session:
        add_certificate(session, make_draft())
    with transaction(session_factory) as session:
        assert get_certificate(session, make_draft().id) == make_draft()


def test_save_writes_the_change_at_the_expected_version(session_factory: sessionmaker[Session]) -> None:
    """A save at the stored version is read back, in the same session and in a new one."""
    draft = make_draft()
    changed = replace(draft, content=CONTENT, version=2, updated_at=draft.created_at)
    with transaction(session_factory) as session:
        add_certificate(session, draft)
    with transaction(session_factory) as session:
        assert get_certificate(session, draft.id, for_update=True) == draft
        save_certificate(session, changed, expected_version=1)
        assert get_certificate(session, draft.id) == changed
    with transaction(session_factory) as session:
        assert get_certificate(session, draft.id) == changed


def test_save_at_a_stale_version_is_a_conflict(session_factory: sessionmaker[Session]) -> None:
    """A save whose expected version is no longer stored changes nothing and raises Conflict."""
    draft = make_draft()
    with transaction(session_factory) as session:
        add_certificate(session, draft)
        save_certificate(session, replace(draft, version=2, content=CONTENT), expected_version=1)
    with pytest.raises(Conflict), transaction(session_factory) as session:
        save_certificate(session, replace(draft, version=2, status=CertificateStatus.READY), 1)
    with transaction(session_factory) as session:
        stored = get_certificate(session, draft.id)
    assert stored is not None and stored.status is CertificateStatus.DRAFT and stored.content == CONTENT


def test_save_of_a_removed_certificate_is_a_conflict(session_factory: sessionmaker[Session]) -> None:
    """Deleting removes the row; saving it afterwards is a Conflict, not a silent no-op."""
    draft = make_draft()
    with transaction(session_factory) as session:
        add_certificate(session, draft)
    with transaction(session_factory) as session:
        delete_certificate(session, draft.id)
    with transaction(session_factory) as session:
        assert get_certificate(session, draft.id) is None
    with pytest.raises(Conflict), transaction(session_factory) as session:
        save_certificate(session, replace(draft, version=2), expected_version=1)


NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=14)


def _store_ages(session_factory: sessionmaker[Session]) -> None:
    """Drafts and certificates on both sides of the cut-off, in every status."""
    old, young = CUTOFF - timedelta(seconds=1), CUTOFF + timedelta(seconds=1)
    rows = [
        ("old-draft", CertificateStatus.DRAFT, old),
        ("old-ready", CertificateStatus.READY, old),
        ("old-signed", CertificateStatus.SIGNED, old),
        ("old-revoked", CertificateStatus.REVOKED, old),
        ("young-draft", CertificateStatus.DRAFT, young),
        ("exact-draft", CertificateStatus.DRAFT, CUTOFF),
    ]
    with transaction(session_factory) as session:
        for certificate_id, status, created_at in rows:
            add_certificate(
                session, replace(make_draft(certificate_id), status=status, created_at=created_at)
            )


def test_lock_stale_drafts_locks_old_unsigned_drafts_once(session_factory: sessionmaker[Session]) -> None:
    """Only DRAFT/READY older than the cut-off are locked, with locked_at and a new version; again: none."""
    _store_ages(session_factory)
    with transaction(session_factory) as session:
        assert lock_stale_drafts(session, CUTOFF, NOW) == ["old-draft", "old-ready"]
    with transaction(session_factory) as session:
        assert lock_stale_drafts(session, CUTOFF, NOW + timedelta(minutes=1)) == []
        locked = get_certificate(session, "old-ready")
        untouched = {i: get_certificate(session, i) for i in ("old-signed", "young-draft", "exact-draft")}
    assert locked is not None
    assert (locked.status, locked.locked_at, locked.updated_at, locked.version) == (
        CertificateStatus.LOCKED, NOW, NOW, 2
    )
    assert {i: (c.status, c.version) for i, c in untouched.items() if c} == {
        "old-signed": (CertificateStatus.SIGNED, 1),
        "young-draft": (CertificateStatus.DRAFT, 1),
        "exact-draft": (CertificateStatus.DRAFT, 1),
    }


def test_lock_headers_reads_what_the_whole_certificate_says(session_factory: sessionmaker[Session]) -> None:
    """The narrow locking read agrees with Certificate.header, for a signed and an unsigned certificate."""
    signed = replace(make_signed_certificate(), id="signed-1")
    draft = replace(make_draft(), id="draft-1")
    with transaction(session_factory) as session:
        add_certificate(session, signed)
        add_certificate(session, draft)
    with transaction(session_factory) as session:
        headers = lock_headers(session, {"draft-1", "signed-1", "missing"})
        stored = {cid: get_certificate(session, cid) for cid in ("signed-1", "draft-1")}
    assert headers == {cid: certificate.header for cid, certificate in stored.items() if certificate is not None}
    assert headers["signed-1"].is_signed and not headers["draft-1"].is_signed
