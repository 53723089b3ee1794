"""Write the RegisterCertificate 3.1 request as the incumbent fills it (onward-flows.md §2.1), and read
one back (the recipient simulator's side).

The certificate is the core ``Intyg`` written by ``contracts.intyg`` without statuses: the issuing
unit as ``intygs-id/root``, the type's canonical code and text version, the signing time as both
``signeringstidpunkt`` and ``skickatTidpunkt``, the patient, the signer as ``skapadAv``, the relation
to the certificate it was copied from, and the answers (``svar``/``delsvar``). ``svarPa`` is written
only for a certificate that completes another at the recipient's request (KOMPLT): it names that
request's meddelande-id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from lxml import etree

from contracts.intyg import intyg_xml, message_reference_xml, scoped_start
from contracts.ns import CORE, REGISTER_CERTIFICATE_V3, TYPES, qname
from contracts.xmlparse import required_at, text_at
from domain.arenden import MessageReference
from domain.certificate_types import CertificateType
from domain.certificates import Certificate

REQUEST_TAG = qname(REGISTER_CERTIFICATE_V3, "RegisterCertificate")
#: The binding's soapAction in our WSDL (a conformance test keeps the two equal).
SOAP_ACTION = f"{REGISTER_CERTIFICATE_V3}:RegisterCertificate"
_START = scoped_start("reg:RegisterCertificate", reg=REGISTER_CERTIFICATE_V3)
_END = b"</reg:RegisterCertificate>"


def register_certificate_xml(
    certificate: Certificate, certificate_type: CertificateType | None, answers: MessageReference | None = None
) -> bytes:
    """The ``RegisterCertificate`` body for a signed ``certificate``, written as text (as it is sent);
    ``answers`` is the completion request it answers (``svarPa``), if any."""
    parts = [_START]
    if answers is not None:
        parts += [b"<reg:svarPa>", message_reference_xml(answers), b"</reg:svarPa>"]
    parts += [b"<reg:intyg>", intyg_xml(certificate, certificate_type, statuses=False), b"</reg:intyg>", _END]
    return b"".join(parts)


def build_register_certificate(
    certificate: Certificate, certificate_type: CertificateType | None, answers: MessageReference | None = None
) -> etree._Element:
    """``register_certificate_xml`` as an element (for whoever reads the message: tests, simulators)."""
    return etree.fromstring(register_certificate_xml(certificate, certificate_type, answers))


@dataclass(frozen=True, slots=True)
class ReceivedRegistration:
    """What a keeper of certificates reads of a registration: whose it is, and where it comes from."""

    certificate_id: str
    patient_root: str
    patient_id: str
    unit_id: str  # the issuing unit's HSA-id (skapadAv/enhet): care's logical address for its messages
    care_giver_id: str
    type_code: str


def read_registration(body: etree._Element) -> ReceivedRegistration:
    """Read a schema-valid ``RegisterCertificate`` element."""
    intyg = body.find(qname(REGISTER_CERTIFICATE_V3, "intyg"))
    c, t = partial(qname, CORE), partial(qname, TYPES)
    enhet = (c("skapadAv"), c("enhet"))
    return ReceivedRegistration(
        certificate_id=required_at(intyg, c("intygs-id"), t("extension")).strip(),
        patient_root=required_at(intyg, c("patient"), c("person-id"), t("root")).strip(),
        patient_id=required_at(intyg, c("patient"), c("person-id"), t("extension")).strip(),
        unit_id=required_at(intyg, *enhet, c("enhets-id"), t("extension")).strip(),
        care_giver_id=(text_at(intyg, *enhet, c("vardgivare"), c("vardgivare-id"), t("extension")) or "").strip(),
        type_code=required_at(intyg, c("typ"), t("code")).strip(),
    )
