"""Drafts are stored with every snapshot field and read back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain.directory import Assignment, CareGiver, Person, Personnel, Unit
from domain.drafts import Draft, Extension
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind
from store.drafts import add_draft, get_draft
from store.errors import Conflict
from store.session import transaction

CARE_GIVER = CareGiver(HsaId("SE2321000016-0001"), "Region Demo")


def make_draft(certificate_id: str = "9f3c1c8e-6a3b-4c1e-9a57-2f9d3d3f0c11") -> Draft:
    return Draft(
        id=certificate_id,
        type_code="FK7804",
        type_code_system="b64ea353-e8f6-4832-b563-fc7d46f29548",
        status=CertificateStatus.DRAFT,
        patient=Person(
            person_id=PersonId(PersonIdKind.SAMORDNINGSNUMMER, "197010632391"),
            given_name="Samuel",
            family_name="Samordning",
            middle_name="Mellan",
            postal_address="Hamngatan 3",
            postal_code="12347",
            city="Demostad",
            deceased=False,
            protected_identity=True,
            test_indicator=True,
        ),
        unit=Unit(
            hsa_id=HsaId("SE2321000016-1003"),
            name="Barnmottagningen",
            care_giver=CARE_GIVER.hsa_id,
            parent=HsaId("SE2321000016-1000"),
            arbetsplatskod="1234567890",
            postal_address="Vårdvägen 1",
            postal_code="12345",
            city="Demostad",
            phone="010-123 45 68",
            email="barn@demo.example",
        ),
        care_giver=CARE_GIVER,
        created_by=Personnel(
            hsa_id=HsaId("SE2321000016-P001"),
            name="Ann Läkare",
            licensed_professions=("Läkare",),
            position_codes=("204010", "201011"),
            group_prescriber_codes=("9300005",),
            prescriber_code="1234567",
            assignments=(Assignment(HsaId("SE2321000016-1003"), "Vård och behandling"),),
        ),
        created_at=datetime(2026, 11, 20, 8, 15, 30, 250000, tzinfo=UTC),
        test_certificate=True,
        ref="journal-ref-42",
        prefill_xml="<forifyllnad><svar id='1'/></forifyllnad>",
        extensions=(
            Extension("intyg/patient", "<x:extra xmlns:x='urn:example'>å</x:extra>"),
            Extension("intyg/skapadAv", "<x:more xmlns:x='urn:example'/>"),
        ),
    )


def test_draft_round_trips_every_field(session_factory: sessionmaker[Session]) -> None:
    """get_draft returns exactly the draft that add_draft stored."""
    draft = make_draft()
    with transaction(session_factory) as session:
        add_draft(session, draft)
    with transaction(session_factory) as session:
        assert get_draft(session, draft.id) == draft


def test_minimal_draft_round_trips(session_factory: sessionmaker[Session]) -> None:
    """Optional fields left out stay None or empty."""
    full = make_draft()
    draft = Draft(
        id="minimal", type_code="FK7804", type_code_system=full.type_code_system,
        status=CertificateStatus.DRAFT,
        patient=Person(PersonId(PersonIdKind.PERSONNUMMER, "191212121212"), "Tolvan", "Tolvansson"),
        unit=Unit(HsaId("SE2321000016-1000"), "Vårdcentralen", CARE_GIVER.hsa_id),
        care_giver=CARE_GIVER,
        created_by=Personnel(HsaId("SE2321000016-P002"), "Bo Vårdadministratör"),
        created_at=full.created_at, test_certificate=False,
    )
    with transaction(session_factory) as session:
        add_draft(session, draft)
    with transaction(session_factory) as session:
        assert get_draft(session, "minimal") == draft


def test_unknown_draft_is_none(session_factory: sessionmaker[Session]) -> None:
    """Asking for an id that was never stored gives None."""
    with transaction(session_factory) as session:
        assert get_draft(session, "no-such-draft") is None


def test_duplicate_draft_id_is_a_conflict(session_factory: sessionmaker[Session]) -> None:
    """A second draft with a stored id is refused with Conflict and the first one is kept."""
    with transaction(session_factory) as session:
        add_draft(session, make_draft())
    with pytest.raises(Conflict), transaction(session_factory) as session:
        add_draft(session, make_draft())
    with transaction(session_factory) as session:
        assert get_draft(session, make_draft().id) == make_draft()
