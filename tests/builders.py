"""Domain values for tests, with overrides (as warehouse's tests/common/db/ factories).

``make_draft`` is a draft with every optional field filled, so that round trips through the store or
a snapshot prove every field survives; tests change what they need with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from domain.arenden import (
    Amne,
    Arende,
    ArendeStatus,
    Direction,
    IncomingMessage,
    Komplettering,
)
from domain.certificates import Answer, AnswerPart, Certificate
from domain.directory import Assignment, CareGiver, Person, Personnel, Unit
from domain.drafts import Extension
from domain.events import event_about
from domain.pdl import Activity, SystemIdentity
from domain.values import CertificateStatus, EventCode, HsaId, PersonId, PersonIdKind, RelationCode, RevokeReason
from usecases.create_draft import DraftCreated, NewDraft
from usecases.pdl_log import certificate_access_record

CARE_GIVER = CareGiver(HsaId("SE2321000016-0001"), "Region Demo")


def make_draft(certificate_id: str = "9f3c1c8e-6a3b-4c1e-9a57-2f9d3d3f0c11") -> Certificate:
    return Certificate(
        id=certificate_id,
        type_code="FK7804",
        type_code_system="b64ea353-e8f6-4832-b563-fc7d46f29548",
        received_type_code="FK7804",
        received_type_code_system="b64ea353-e8f6-4832-b563-fc7d46f29548",
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


CONTENT = (
    Answer("1", None, (AnswerPart("1.1", "Hosta sedan två veckor"),)),
    Answer(
        "6",
        2,
        (
            AnswerPart("6.1", "", xml="<cv xmlns='urn:example'><code>NEDSATT_HALFTEN</code></cv>"),
            AnswerPart("6.2", "", xml="<datePeriod xmlns='urn:example'><start>2026-11-20</start></datePeriod>"),
        ),
    ),
)


def make_revoked_certificate(certificate_id: str = "c0ffee00-0000-4000-8000-000000000001") -> Certificate:
    """A certificate that went through every step (ready, signed, sent, revoked): all fields set."""
    at = datetime(2026, 11, 21, 9, 0, 0, 123000, tzinfo=UTC)
    return replace(
        make_draft(certificate_id),
        status=CertificateStatus.REVOKED,
        content=CONTENT,
        version=6,
        updated_at=at,
        ready_at=at,
        ready_by=HsaId("SE2321000016-P002"),
        signed_at=at,
        signed_by=HsaId("SE2321000016-P001"),
        signed_by_name="Ann Läkare",
        sent_at=at,
        sent_to="FKASSA",
        locked_at=at,
        revoked_at=at,
        revoked_by=HsaId("SE2321000016-P001"),
        revoke_reason="Fel patient",
        relation_code=RelationCode.KOPIA,
        relation_parent="0ld-draft",
        revoke_reason_code=RevokeReason.FEL_PATIENT,
    )



def make_signed_certificate(certificate_id: str = "a3b5c6d7-0000-4000-8000-000000000001") -> Certificate:
    """A real (not test) certificate, signed and sent to FKASSA: what ärenden may be about."""
    draft = make_draft(certificate_id)
    at = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    return replace(
        draft,
        status=CertificateStatus.SENT,
        test_certificate=False,
        patient=replace(draft.patient, test_indicator=False),
        content=CONTENT,
        signed_at=at,
        signed_by=HsaId("SE2321000016-P001"),
        signed_by_name="Ann Läkare",
        sent_at=at,
        sent_to="FKASSA",
    )


def make_incoming_message(certificate: Certificate | None = None, **changes: Any) -> IncomingMessage:
    """A KOMPLT question from FKASSA about ``certificate`` (``make_signed_certificate`` by default)."""
    certificate = certificate or make_signed_certificate()
    message = IncomingMessage(
        message_id="fk-q-1",
        reference_id="fk-ref-1",
        sent_at=datetime(2026, 11, 22, 10, 15, tzinfo=UTC),
        certificate_id=certificate.id,
        person_id_root=certificate.patient.person_id.kind.value,
        person_id=certificate.patient.person_id.digits,
        recipient=certificate.unit.hsa_id.value,
        amne="KOMPLT",
        heading="Komplettering",
        text="Vi behöver veta mer.",
        reminder_of=None,
        answer_to=None,
        sender_part="FKASSA",
        contact_info=("Handläggare, 010-1234567",),
        kompletteringar=(Komplettering("1", None, "Beskriv arbetet."), Komplettering("6", 2, "Ange period.")),
        deadline=date(2026, 12, 15),
    )
    return replace(message, **changes)


def make_arende(certificate: Certificate | None = None, **changes: Any) -> Arende:
    """A stored open KOMPLT question from FKASSA about ``certificate``, with every field filled."""
    certificate = certificate or make_signed_certificate()
    arende = Arende(
        message_id="fk-q-1",
        certificate_id=certificate.id,
        direction=Direction.FROM_RECIPIENT,
        status=ArendeStatus.OPEN,
        amne=Amne.KOMPLT,
        text="Vi behöver veta mer.",
        sent_at=datetime(2026, 11, 22, 10, 15, tzinfo=UTC),
        received_at=datetime(2026, 11, 22, 10, 15, 2, tzinfo=UTC),
        sender_part="FKASSA",
        patient=certificate.patient.person_id,
        recipient=certificate.unit.hsa_id.value,
        reference_id="fk-ref-1",
        heading="Komplettering",
        contact_info=("Handläggare", "010-1234567"),
        kompletteringar=(Komplettering("1", None, "Beskriv arbetet."), Komplettering("6", 2, "Ange period.")),
        deadline=date(2026, 12, 15),
        content_hash="0" * 64,
    )
    return replace(arende, **changes)


def make_operable_draft(certificate_id: str, created_at: datetime, **changes: object) -> Certificate:
    """A LISJP draft with answers (so that it may be signed) for a real (non-test) patient at unit 1003,
    which the demo directory's users may act on."""
    draft = make_draft(certificate_id)
    fields: dict[str, object] = {
        "type_code": "LISJP", "received_type_code": "LISJP", "created_at": created_at, "test_certificate": False,
        "content": CONTENT,
        "patient": replace(draft.patient, test_indicator=False), **changes,
    }
    return replace(draft, **fields)  # type: ignore[arg-type]


def make_new_draft(
    certificate_id: str,
    unit: str = "SE2321000016-1003",
    at: datetime = datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    care_giver: CareGiver = CARE_GIVER,
    register_unit: bool = True,
    test_certificate: bool = False,
) -> NewDraft:
    """A checked draft as CreateDraftCertificate stores it: ``make_draft`` at ``unit`` of ``care_giver``,
    created ``at``, with its SKAPAT event (correlation id ``corr-<id>``) and PDL record (none for test data)."""
    base = make_draft(certificate_id)
    certificate = replace(
        base,
        unit=replace(base.unit, hsa_id=HsaId(unit), care_giver=care_giver.hsa_id),
        care_giver=care_giver,
        created_at=at,
        test_certificate=test_certificate,
        patient=replace(base.patient, test_indicator=False),
    )
    issuer = certificate.created_by.hsa_id
    return NewDraft(
        certificate=certificate,
        event=event_about(certificate.header, EventCode.SKAPAT, at, f"corr-{certificate_id}", issuer),
        record=certificate_access_record(SystemIdentity("SE0000000000-GW", "Gateway"), certificate, issuer,
                                         Activity.WRITE, at),
        register_unit=register_unit,
        answer=DraftCreated(certificate_id, unit, test_certificate),
    )


#: The demo directory's second vårdenhet of care giver Region Demo (Sjukhuset Demo, medicinkliniken),
#: where tandläkare P005 holds an assignment as well as at Vårdcentralen Demo (1000).
CLINIC = "SE2321000016-2000"
#: A unit of another care giver (``OTHER_REGION``).
OTHER_REGION_UNIT = "SE2321000032-5000"
#: A läkare with assignments at Vårdcentralen Demo (1000) and at another care giver's unit.
TWO_REGIONS_LAKARE = "SE2321000016-P007"
#: A läkare with an assignment at the medicine clinic (2000) only.
CLINIC_LAKARE = "SE2321000016-P008"
#: Directory data beyond the demo's, to import after it (``store.directory_import.import_directory``
#: of ``parse_directory_document(OTHER_REGION)``): a second care giver with one unit, and the two
#: users above. The demo directory itself is left as ``serve --demo`` shows it.
OTHER_REGION: dict[str, Any] = {
    "careGivers": [{"hsaId": "SE2321000032-0001", "name": "Region Annan"}],
    "units": [{"hsaId": OTHER_REGION_UNIT, "name": "Vårdcentralen Annan", "careGiver": "SE2321000032-0001",
               "parent": None, "arbetsplatskod": "5555555555", "postalAddress": "Annangatan 5",
               "postalCode": "54321", "city": "Annanstad", "phone": None, "email": None}],
    "personnel": [
        {"hsaId": TWO_REGIONS_LAKARE, "name": "Gun Läkare", "licensedProfessions": ["Läkare"],
         "assignments": [{"unit": "SE2321000016-1000", "purpose": "Vård och behandling"},
                         {"unit": OTHER_REGION_UNIT, "purpose": "Vård och behandling"}]},
        {"hsaId": CLINIC_LAKARE, "name": "Hans Läkare", "licensedProfessions": ["Läkare"],
         "assignments": [{"unit": CLINIC, "purpose": "Vård och behandling"}]},
    ],
}
