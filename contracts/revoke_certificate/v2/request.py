"""Write the RevokeCertificate 2.1 request (onward-flows.md §4.1), and read one back.

The contract has no element for the revocation's reason: ``meddelande`` is free text for the
recipient's administrators. The gateway writes the description given with the revocation there (for
FEL_PATIENT, which needs none, the reason in words when no description was given), and carries the
reason code and description themselves in its ``gw:makulering`` extension at the request's
``##other`` position (``contracts.intyg.add_revocation_reason``), as it does in the status update's
CANCEL status: a receiver that does not know the namespace skips it (lax).

``skickatAv`` is the user who revoked, at the certificate's unit; ``skickatTidpunkt`` is when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from lxml import etree

from contracts.intyg import add_hos_personal, add_revocation_reason, identifier, local_time, person_id, sub
from contracts.ns import CORE, REVOKE_CERTIFICATE_V2, TYPES, qname
from contracts.xmlparse import required_at, text_at
from domain.certificates import Certificate
from domain.onward import Actor
from domain.values import RevokeReason

REQUEST_TAG = qname(REVOKE_CERTIFICATE_V2, "RevokeCertificate")
SOAP_ACTION = f"{REVOKE_CERTIFICATE_V2}:RevokeCertificate"
_NSMAP = {"rc": REVOKE_CERTIFICATE_V2, "core": CORE, "types": TYPES}
_R = REVOKE_CERTIFICATE_V2
#: ``meddelande`` for a revocation without a description, in Swedish as the recipient reads it.
REASON_TEXTS: dict[RevokeReason, str] = {
    RevokeReason.FEL_PATIENT: "Intyget är utfärdat på fel patient.",
    RevokeReason.ANNAT_ALLVARLIGT_FEL: "Intyget innehåller ett annat allvarligt fel.",
}


def build_revoke_certificate(certificate: Certificate, revoker: Actor, at: datetime) -> etree._Element:
    """The ``RevokeCertificate`` body for a revoked ``certificate``, by ``revoker`` at ``at``."""
    request = etree.Element(REQUEST_TAG, nsmap=_NSMAP)
    text = certificate.revoke_reason or (
        REASON_TEXTS[certificate.revoke_reason_code] if certificate.revoke_reason_code else None)
    if text:
        sub(request, _R, "meddelande", text)
    sub(request, _R, "skickatTidpunkt", local_time(at))
    identifier(request, "intygs-id", certificate.unit_id.value, certificate.id, _R)
    person_id(request, _R, "patientPerson-id", certificate.patient.person_id)
    add_hos_personal(sub(request, _R, "skickatAv"), revoker.hsa_id, revoker.name, certificate.unit,
                     certificate.care_giver)
    add_revocation_reason(request, certificate)
    return request


@dataclass(frozen=True, slots=True)
class ReceivedRevocation:
    """What a keeper reads of a revocation: which certificate, whose, and the words given."""

    certificate_id: str
    patient_root: str
    patient_id: str
    text: str | None


def read_revocation(body: etree._Element) -> ReceivedRevocation:
    """Read a schema-valid ``RevokeCertificate`` element."""
    r, t = partial(qname, _R), partial(qname, TYPES)
    return ReceivedRevocation(
        certificate_id=required_at(body, r("intygs-id"), t("extension")).strip(),
        patient_root=required_at(body, r("patientPerson-id"), t("root")).strip(),
        patient_id=required_at(body, r("patientPerson-id"), t("extension")).strip(),
        text=text_at(body, r("meddelande")),
    )
