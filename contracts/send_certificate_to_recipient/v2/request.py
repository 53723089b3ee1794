"""Write the SendCertificateToRecipient 2.1 request (onward-flows.md §3.1), and read one back.

The certificate is named, not carried: ``intygs-id`` (root: the issuing unit, as in every message the
gateway writes) and the patient. ``mottagare`` is the recipient's part code (KV_PART) with its name;
``skickatAv`` is the care professional who sent it (``hosPersonal``, at the certificate's unit);
``skickatTidpunkt`` is when they sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from lxml import etree

from contracts.intyg import add_hos_personal, code, identifier, local_time, person_id, sub
from contracts.ns import CORE, SEND_CERTIFICATE_V2, TYPES, qname
from contracts.xmlparse import required_at
from domain.arenden import KV_PART
from domain.certificates import Certificate
from domain.onward import Actor

REQUEST_TAG = qname(SEND_CERTIFICATE_V2, "SendCertificateToRecipient")
SOAP_ACTION = f"{SEND_CERTIFICATE_V2}:SendCertificateToRecipient"
_NSMAP = {"scr": SEND_CERTIFICATE_V2, "core": CORE, "types": TYPES}
_S = SEND_CERTIFICATE_V2


def build_send_certificate(
    certificate: Certificate, recipient_id: str, recipient_name: str | None, sender: Actor, at: datetime
) -> etree._Element:
    """The ``SendCertificateToRecipient`` body: send ``certificate`` to ``recipient_id``, by ``sender`` at ``at``."""
    request = etree.Element(REQUEST_TAG, nsmap=_NSMAP)
    sub(request, _S, "skickatTidpunkt", local_time(at))
    identifier(request, "intygs-id", certificate.unit_id.value, certificate.id, _S)
    person_id(request, _S, "patientPerson-id", certificate.patient.person_id)
    code(request, "mottagare", recipient_id, KV_PART, recipient_name, _S)
    add_hos_personal(sub(sub(request, _S, "skickatAv"), _S, "hosPersonal"), sender.hsa_id, sender.name,
                     certificate.unit, certificate.care_giver)
    return request


@dataclass(frozen=True, slots=True)
class ReceivedSend:
    """What the archive reads of a send: which certificate, whose, to whom."""

    certificate_id: str
    patient_root: str
    patient_id: str
    recipient: str


def read_send(body: etree._Element) -> ReceivedSend:
    """Read a schema-valid ``SendCertificateToRecipient`` element."""
    s, t = partial(qname, _S), partial(qname, TYPES)
    return ReceivedSend(
        certificate_id=required_at(body, s("intygs-id"), t("extension")).strip(),
        patient_root=required_at(body, s("patientPerson-id"), t("root")).strip(),
        patient_id=required_at(body, s("patientPerson-id"), t("extension")).strip(),
        recipient=required_at(body, s("mottagare"), t("code")).strip(),
    )
