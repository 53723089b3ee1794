"""Benchmark: the table-driven certificate mapping beside the hand-written one it replaced.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/certificate_mapping.py [--number 10000] [--repeat 5]

Maps a fully populated certificate (every optional field set, content with typed parts) with
``domain.certificates`` and, as the baseline in the same run, with the hand-written functions the
store and the snapshot used before ``CERTIFICATE_COLUMNS`` (copied below, unchanged but for their
names, under "The old mapping"). Each figure is the best of ``--repeat`` interleaved passes of
``--number`` calls, in microseconds of CPU time per call (the process's own time, which other
processes on a shared machine disturb less than the wall clock), with the ratio new/old (below 1.00:
the new is faster).

* insert row: the values ``store.certificates.add_certificate`` binds;
* lifecycle columns: what ``save_certificate`` writes;
* row read: a real SQLAlchemy ``Row`` read back from an in-memory SQLite table, mapped to a
  ``Certificate`` as ``get_certificate`` does (the old code read the row's attributes, the new its
  mapping);
* row read, mapping only: the same values as a plain dict for the new code and a plain object for
  the old, to show the mapping's own cost without SQLAlchemy's row access;
* snapshot both ways: ``to_snapshot`` and ``from_snapshot`` (the old format was version 1).

Then the store operations around them, on an in-memory SQLite database, as the hot path sees them:
``add_certificate``, ``get_certificate`` and ``save_certificate`` beside the old functions (their
bodies copied too: the old ones built ORM-enabled INSERT and UPDATE statements on every call, the new
ones execute Core statements built once), ``--db-number`` calls per pass.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Table, create_engine, insert, update
from sqlalchemy.orm import Session

from domain.certificates import (
    Certificate,
    certificate_from_columns,
    certificate_to_columns,
    content_from_json,
    content_to_json,
    from_snapshot,
    lifecycle_columns,
    to_snapshot,
)
from domain.directory import Assignment, CareGiver, Person, Personnel, Unit
from domain.drafts import Extension
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind, RelationCode
from store.certificates import (
    _SELECT,
    CertificateRow,
    add_certificate,
    get_certificate,
    save_certificate,
)
from store.errors import Conflict
from store.session import translate_errors
from tests.builders import make_revoked_certificate

# --- The old mapping (baseline): hand-written, as store/certificates.py and domain/certificates.py had it


def old_insert_row(certificate: Certificate) -> dict[str, Any]:
    """``add_certificate``'s care giver check and row before the table (its ``dict(...)`` call)."""
    if certificate.unit.care_giver != certificate.care_giver.hsa_id:
        raise ValueError("the certificate's unit belongs to another care giver than the certificate's")
    patient, unit, issuer = certificate.patient, certificate.unit, certificate.created_by
    return dict(
        certificate_id=certificate.id,
        type_code=certificate.type_code,
        type_code_system=certificate.type_code_system,
        received_type_code=certificate.received_type_code,
        received_type_code_system=certificate.received_type_code_system,
        created_at=certificate.created_at,
        test_certificate=certificate.test_certificate,
        ref=certificate.ref,
        prefill_xml=certificate.prefill_xml,
        extensions=[{"path": e.path, "xml": e.xml} for e in certificate.extensions],
        patient_id_kind=patient.person_id.kind,
        patient_id=patient.person_id.digits,
        patient_given_name=patient.given_name,
        patient_middle_name=patient.middle_name,
        patient_family_name=patient.family_name,
        patient_postal_address=patient.postal_address,
        patient_postal_code=patient.postal_code,
        patient_city=patient.city,
        patient_deceased=patient.deceased,
        patient_protected_identity=patient.protected_identity,
        patient_test_indicator=patient.test_indicator,
        unit_key=unit.hsa_id.key,
        unit_hsa_id=unit.hsa_id.value,
        unit_name=unit.name,
        unit_parent_hsa_id=unit.parent.value if unit.parent else None,
        unit_arbetsplatskod=unit.arbetsplatskod,
        unit_postal_address=unit.postal_address,
        unit_postal_code=unit.postal_code,
        unit_city=unit.city,
        unit_phone=unit.phone,
        unit_email=unit.email,
        care_giver_hsa_id=certificate.care_giver.hsa_id.value,
        care_giver_name=certificate.care_giver.name,
        created_by_hsa_id=issuer.hsa_id.value,
        created_by_name=issuer.name,
        created_by_detail={
            "licensedProfessions": list(issuer.licensed_professions),
            "positionCodes": list(issuer.position_codes),
            "groupPrescriberCodes": list(issuer.group_prescriber_codes),
            "prescriberCode": issuer.prescriber_code,
            "assignments": [{"unit": a.unit.value, "purpose": a.purpose} for a in issuer.assignments],
        },
        relation_code=certificate.relation_code,
        relation_parent_id=certificate.relation_parent,
        **old_lifecycle_columns(certificate),
    )


def old_lifecycle_columns(certificate: Certificate) -> dict[str, Any]:
    c = certificate
    return {
        "status": c.status,
        "content": content_to_json(c.content),
        "version": c.version,
        "updated_at": c.updated_at,
        "ready_at": c.ready_at,
        "ready_by_hsa_id": _old_hsa(c.ready_by),
        "signed_at": c.signed_at,
        "signed_by_hsa_id": _old_hsa(c.signed_by),
        "signed_by_name": c.signed_by_name,
        "sent_at": c.sent_at,
        "sent_to": c.sent_to,
        "locked_at": c.locked_at,
        "revoked_at": c.revoked_at,
        "revoked_by_hsa_id": _old_hsa(c.revoked_by),
        "revoke_reason": c.revoke_reason,
    }


def _old_hsa(value: HsaId | None) -> str | None:
    return value.value if value is not None else None


def old_to_certificate(row: Any) -> Certificate:
    """``store.certificates._to_certificate`` before the table."""
    care_giver = CareGiver(HsaId(row.care_giver_hsa_id), row.care_giver_name)
    detail = row.created_by_detail
    return Certificate(
        id=row.certificate_id,
        type_code=row.type_code,
        type_code_system=row.type_code_system,
        received_type_code=row.received_type_code,
        received_type_code_system=row.received_type_code_system,
        status=row.status,
        patient=Person(
            person_id=PersonId(row.patient_id_kind, row.patient_id),
            given_name=row.patient_given_name,
            family_name=row.patient_family_name,
            middle_name=row.patient_middle_name,
            postal_address=row.patient_postal_address,
            postal_code=row.patient_postal_code,
            city=row.patient_city,
            deceased=row.patient_deceased,
            protected_identity=row.patient_protected_identity,
            test_indicator=row.patient_test_indicator,
        ),
        unit=Unit(
            hsa_id=HsaId(row.unit_hsa_id),
            name=row.unit_name,
            care_giver=care_giver.hsa_id,
            parent=HsaId(row.unit_parent_hsa_id) if row.unit_parent_hsa_id else None,
            arbetsplatskod=row.unit_arbetsplatskod,
            postal_address=row.unit_postal_address,
            postal_code=row.unit_postal_code,
            city=row.unit_city,
            phone=row.unit_phone,
            email=row.unit_email,
        ),
        care_giver=care_giver,
        created_by=Personnel(
            hsa_id=HsaId(row.created_by_hsa_id),
            name=row.created_by_name,
            licensed_professions=tuple(detail.get("licensedProfessions", ())),
            position_codes=tuple(detail.get("positionCodes", ())),
            group_prescriber_codes=tuple(detail.get("groupPrescriberCodes", ())),
            prescriber_code=detail.get("prescriberCode"),
            assignments=tuple(
                Assignment(HsaId(a["unit"]), a["purpose"]) for a in detail.get("assignments", ())
            ),
        ),
        created_at=row.created_at,
        test_certificate=row.test_certificate,
        ref=row.ref,
        prefill_xml=row.prefill_xml,
        extensions=tuple(Extension(e["path"], e["xml"]) for e in row.extensions),
        content=content_from_json(row.content),
        version=row.version,
        updated_at=row.updated_at,
        ready_at=row.ready_at,
        ready_by=HsaId(row.ready_by_hsa_id) if row.ready_by_hsa_id else None,
        signed_at=row.signed_at,
        signed_by=HsaId(row.signed_by_hsa_id) if row.signed_by_hsa_id else None,
        signed_by_name=row.signed_by_name,
        sent_at=row.sent_at,
        sent_to=row.sent_to,
        locked_at=row.locked_at,
        revoked_at=row.revoked_at,
        revoked_by=HsaId(row.revoked_by_hsa_id) if row.revoked_by_hsa_id else None,
        revoke_reason=row.revoke_reason,
        relation_code=RelationCode(row.relation_code) if row.relation_code else None,
        relation_parent=row.relation_parent_id,
    )


def _old_time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _old_parse_time(value: str | None) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value) if value is not None else None


def _old_parse_hsa(value: str | None) -> HsaId | None:
    return HsaId(value) if value else None


def old_to_snapshot(certificate: Certificate) -> dict[str, Any]:
    """``domain.certificates.to_snapshot`` of snapshot version 1."""
    c, patient, unit, issuer = certificate, certificate.patient, certificate.unit, certificate.created_by
    return {
        "snapshot_version": 1,
        "id": c.id,
        "type_code": c.type_code,
        "type_code_system": c.type_code_system,
        "received_type_code": c.received_type_code,
        "received_type_code_system": c.received_type_code_system,
        "status": c.status.value,
        "patient": {
            "person_id_kind": patient.person_id.kind.value, "person_id": patient.person_id.digits,
            "given_name": patient.given_name, "family_name": patient.family_name,
            "middle_name": patient.middle_name, "postal_address": patient.postal_address,
            "postal_code": patient.postal_code, "city": patient.city, "deceased": patient.deceased,
            "protected_identity": patient.protected_identity, "test_indicator": patient.test_indicator,
        },
        "unit": {
            "hsa_id": unit.hsa_id.value, "name": unit.name, "care_giver": unit.care_giver.value,
            "parent": _old_hsa(unit.parent), "arbetsplatskod": unit.arbetsplatskod,
            "postal_address": unit.postal_address, "postal_code": unit.postal_code, "city": unit.city,
            "phone": unit.phone, "email": unit.email,
        },
        "care_giver": {"hsa_id": c.care_giver.hsa_id.value, "name": c.care_giver.name},
        "created_by": {
            "hsa_id": issuer.hsa_id.value, "name": issuer.name,
            "licensed_professions": list(issuer.licensed_professions),
            "position_codes": list(issuer.position_codes),
            "group_prescriber_codes": list(issuer.group_prescriber_codes),
            "prescriber_code": issuer.prescriber_code,
            "assignments": [{"unit": a.unit.value, "purpose": a.purpose} for a in issuer.assignments],
        },
        "created_at": _old_time(c.created_at),
        "test_certificate": c.test_certificate,
        "ref": c.ref,
        "prefill_xml": c.prefill_xml,
        "extensions": [{"path": e.path, "xml": e.xml} for e in c.extensions],
        "content": content_to_json(c.content),
        "version": c.version,
        "updated_at": _old_time(c.updated_at),
        "ready_at": _old_time(c.ready_at),
        "ready_by": _old_hsa(c.ready_by),
        "signed_at": _old_time(c.signed_at),
        "signed_by": _old_hsa(c.signed_by),
        "signed_by_name": c.signed_by_name,
        "sent_at": _old_time(c.sent_at),
        "sent_to": c.sent_to,
        "locked_at": _old_time(c.locked_at),
        "revoked_at": _old_time(c.revoked_at),
        "revoked_by": _old_hsa(c.revoked_by),
        "revoke_reason": c.revoke_reason,
        "relation_code": c.relation_code.value if c.relation_code else None,
        "relation_parent": c.relation_parent,
    }


def old_from_snapshot(data: dict[str, Any]) -> Certificate:
    """``domain.certificates.from_snapshot`` of snapshot version 1."""
    if data.get("snapshot_version") != 1:
        raise ValueError("unsupported certificate snapshot version")
    patient, unit, issuer = data["patient"], data["unit"], data["created_by"]
    created_at = _old_parse_time(data["created_at"])
    if created_at is None:
        raise ValueError("a certificate snapshot needs created_at")
    return Certificate(
        id=data["id"],
        type_code=data["type_code"],
        type_code_system=data["type_code_system"],
        received_type_code=data["received_type_code"],
        received_type_code_system=data["received_type_code_system"],
        status=CertificateStatus(data["status"]),
        patient=Person(
            person_id=PersonId(PersonIdKind(patient["person_id_kind"]), patient["person_id"]),
            given_name=patient["given_name"], family_name=patient["family_name"],
            middle_name=patient["middle_name"], postal_address=patient["postal_address"],
            postal_code=patient["postal_code"], city=patient["city"], deceased=patient["deceased"],
            protected_identity=patient["protected_identity"], test_indicator=patient["test_indicator"],
        ),
        unit=Unit(
            hsa_id=HsaId(unit["hsa_id"]), name=unit["name"], care_giver=HsaId(unit["care_giver"]),
            parent=_old_parse_hsa(unit["parent"]), arbetsplatskod=unit["arbetsplatskod"],
            postal_address=unit["postal_address"], postal_code=unit["postal_code"], city=unit["city"],
            phone=unit["phone"], email=unit["email"],
        ),
        care_giver=CareGiver(HsaId(data["care_giver"]["hsa_id"]), data["care_giver"]["name"]),
        created_by=Personnel(
            hsa_id=HsaId(issuer["hsa_id"]), name=issuer["name"],
            licensed_professions=tuple(issuer["licensed_professions"]),
            position_codes=tuple(issuer["position_codes"]),
            group_prescriber_codes=tuple(issuer["group_prescriber_codes"]),
            prescriber_code=issuer["prescriber_code"],
            assignments=tuple(Assignment(HsaId(a["unit"]), a["purpose"]) for a in issuer["assignments"]),
        ),
        created_at=created_at,
        test_certificate=data["test_certificate"],
        ref=data["ref"],
        prefill_xml=data["prefill_xml"],
        extensions=tuple(Extension(e["path"], e["xml"]) for e in data["extensions"]),
        content=content_from_json(data["content"]),
        version=data["version"],
        updated_at=_old_parse_time(data["updated_at"]),
        ready_at=_old_parse_time(data["ready_at"]),
        ready_by=_old_parse_hsa(data["ready_by"]),
        signed_at=_old_parse_time(data["signed_at"]),
        signed_by=_old_parse_hsa(data["signed_by"]),
        signed_by_name=data["signed_by_name"],
        sent_at=_old_parse_time(data["sent_at"]),
        sent_to=data["sent_to"],
        locked_at=_old_parse_time(data["locked_at"]),
        revoked_at=_old_parse_time(data["revoked_at"]),
        revoked_by=_old_parse_hsa(data["revoked_by"]),
        revoke_reason=data["revoke_reason"],
        relation_code=RelationCode(data["relation_code"]) if data["relation_code"] else None,
        relation_parent=data["relation_parent"],
    )


def old_add_certificate(session: Session, certificate: Certificate) -> None:
    row = old_insert_row(certificate)
    try:
        with translate_errors():
            session.execute(insert(CertificateRow), [row])
    except Conflict as error:
        raise Conflict("a certificate with this id is already stored") from error


def old_get_certificate(session: Session, certificate_id: str) -> Certificate | None:
    row = session.execute(_SELECT, {"certificate_id": certificate_id}).one_or_none()
    return old_to_certificate(row) if row is not None else None


def old_save_certificate(session: Session, certificate: Certificate, expected_version: int) -> None:
    with translate_errors():
        result = session.execute(
            update(CertificateRow)
            .where(
                CertificateRow.certificate_id == certificate.id,
                CertificateRow.version == expected_version,
            )
            .values(**old_lifecycle_columns(certificate))
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the certificate was changed or removed by someone else; read it again")


# --- The run ---------------------------------------------------------------------------------------


def new_insert_row(certificate: Certificate) -> dict[str, Any]:
    """What ``add_certificate`` binds now: the table's columns plus the store's ``unit_key``."""
    row = certificate_to_columns(certificate)
    row["unit_key"] = certificate.unit.hsa_id.key
    return row


def in_memory_session() -> Session:
    """A session on a new in-memory SQLite database holding only the certificate table."""
    engine = create_engine("sqlite://")
    table: Table = CertificateRow.__table__  # type: ignore[assignment]
    table.create(engine)
    return Session(engine)


def microseconds(call: Callable[[], object], number: int) -> float:
    """CPU time per call: this process's own time, so other processes on a shared machine count less."""
    start = time.process_time()
    for _ in range(number):
        call()
    return (time.process_time() - start) / number * 1e6


Pairs = dict[str, tuple[Callable[[], object], Callable[[], object]]]


def compare(title: str, pairs: Pairs, number: int, repeat: int) -> None:
    """Print the best time per call of each (old, new) pair and their ratio."""
    best = {name: [float("inf"), float("inf")] for name in pairs}
    # Interleaved passes: old and new go through the same moments of a shared, noisy machine.
    for _ in range(repeat):
        for name, (old, new) in pairs.items():
            best[name][0] = min(best[name][0], microseconds(old, number))
            best[name][1] = min(best[name][1], microseconds(new, number))
    print(f"{title}: {number:,} calls per pass, best of {repeat}; microseconds of CPU time per call")
    print(f"{'':<28}{'old':>10}{'new':>10}{'new/old':>9}")
    for name, (old_us, new_us) in best.items():
        print(f"{name:<28}{old_us:>10.2f}{new_us:>10.2f}{new_us / old_us:>9.2f}")


def bench_mapping(certificate: Certificate, number: int, repeat: int) -> None:
    with in_memory_session() as session:
        session.execute(insert(CertificateRow), [new_insert_row(certificate)])
        row = session.execute(_SELECT, {"certificate_id": certificate.id}).one()
    mapping = dict(row._mapping)
    plain = SimpleNamespace(**mapping)
    old_snapshot, new_snapshot = old_to_snapshot(certificate), to_snapshot(certificate)
    # Both sides must give the same answers, or the comparison means nothing.
    assert old_insert_row(certificate) == new_insert_row(certificate)
    assert old_lifecycle_columns(certificate) == lifecycle_columns(certificate)
    assert old_to_certificate(row) == certificate_from_columns(row._mapping) == certificate
    assert old_from_snapshot(old_snapshot) == from_snapshot(new_snapshot) == certificate
    compare("mapping", {
        "insert row": (lambda: old_insert_row(certificate), lambda: new_insert_row(certificate)),
        "lifecycle columns": (lambda: old_lifecycle_columns(certificate), lambda: lifecycle_columns(certificate)),
        "row read (SQLAlchemy Row)": (lambda: old_to_certificate(row),
                                      lambda: certificate_from_columns(row._mapping)),
        "row read, mapping only": (lambda: old_to_certificate(plain), lambda: certificate_from_columns(mapping)),
        "to_snapshot": (lambda: old_to_snapshot(certificate), lambda: to_snapshot(certificate)),
        "from_snapshot": (lambda: old_from_snapshot(old_snapshot), lambda: from_snapshot(new_snapshot)),
    }, number, repeat)


def bench_store(certificate: Certificate, number: int, repeat: int) -> None:
    # Each insert needs an id of its own; made beforehand so that making them is not measured.
    old_new = iter([replace(certificate, id=f"old-{i}") for i in range(number * repeat)])
    new_new = iter([replace(certificate, id=f"new-{i}") for i in range(number * repeat)])
    with in_memory_session() as session:
        add_certificate(session, certificate)
        assert old_get_certificate(session, certificate.id) == get_certificate(session, certificate.id) == certificate
        # Saving the certificate as it is, at its own version, matches every time.
        compare("store operations (in-memory SQLite)", {
            "add_certificate": (lambda: old_add_certificate(session, next(old_new)),
                                lambda: add_certificate(session, next(new_new))),
            "get_certificate": (lambda: old_get_certificate(session, certificate.id),
                                lambda: get_certificate(session, certificate.id)),
            "save_certificate": (lambda: old_save_certificate(session, certificate, certificate.version),
                                 lambda: save_certificate(session, certificate, certificate.version)),
        }, number, repeat)
        session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=10_000, help="mapping calls per pass")
    parser.add_argument("--db-number", type=int, default=1_000, help="store operations per pass")
    parser.add_argument("--repeat", type=int, default=5, help="passes; the best counts")
    args = parser.parse_args()
    certificate = make_revoked_certificate()
    bench_mapping(certificate, args.number, args.repeat)
    print()
    bench_store(certificate, args.db_number, args.repeat)


if __name__ == "__main__":
    main()
