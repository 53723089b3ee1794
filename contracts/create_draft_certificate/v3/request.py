"""Read a schema-valid ``CreateDraftCertificate`` element into a ``NewDraftRequest``.

No rules and no I/O here: values are taken as sent (whitespace included) so that the domain checks
can report them with their element paths. Content at the ``xs:any`` positions of the request
(``CreateDraftCertificateType``, ``HosPersonal``, ``Enhet``) is kept as serialised XML instead of
being dropped, and ``forifyllnad`` is kept whole so typed ``delsvar`` survive exactly.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import CORE, CREATE_DRAFT_V3, EXT33, TYPES, qname
from contracts.xmlparse import required_at as _required
from contracts.xmlparse import text_at as _text
from domain.drafts import (
    CertificateTypeRef,
    Extension,
    IssuerRef,
    NewDraftRequest,
    PatientRef,
)

_C = CREATE_DRAFT_V3


def _foreign_children(parent: etree._Element | None, own_ns: str, path: str) -> list[Extension]:
    """Elements outside ``own_ns`` directly under ``parent``: the content of its ``xs:any``."""
    if parent is None:
        return []
    return [
        Extension(path, etree.tostring(child, encoding="unicode"))
        for child in parent
        if isinstance(child.tag, str) and etree.QName(child).namespace != own_ns
    ]


def read_request(body: etree._Element, logical_address: str) -> NewDraftRequest:
    """Turn the request element into domain values."""
    intyg = body.find(qname(_C, "intyg"))
    typ = intyg.find(qname(_C, "typAvIntyg")) if intyg is not None else None
    patient = intyg.find(qname(_C, "patient")) if intyg is not None else None
    person_id = patient.find(qname(CORE, "person-id")) if patient is not None else None
    issuer = intyg.find(qname(_C, "skapadAv")) if intyg is not None else None
    unit = issuer.find(qname(_C, "enhet")) if issuer is not None else None
    prefill = intyg.find(qname(EXT33, "forifyllnad")) if intyg is not None else None

    extensions = (
        _foreign_children(body, _C, "CreateDraftCertificate")
        + _foreign_children(issuer, _C, "intyg/skapadAv")
        + _foreign_children(unit, _C, "intyg/skapadAv/enhet")
    )
    return NewDraftRequest(
        logical_address=logical_address,
        certificate_type=CertificateTypeRef(
            code=_required(typ, qname(TYPES, "code")),
            code_system=_required(typ, qname(TYPES, "codeSystem")),
            display_name=_text(typ, qname(TYPES, "displayName")),
        ),
        patient=PatientRef(
            person_id_root=_required(person_id, qname(TYPES, "root")),
            person_id=_required(person_id, qname(TYPES, "extension")),
            given_name=_required(patient, qname(CORE, "fornamn")),
            family_name=_required(patient, qname(CORE, "efternamn")),
            middle_name=_text(patient, qname(CORE, "mellannamn")),
            postal_address=_required(patient, qname(CORE, "postadress")),
            postal_code=_required(patient, qname(CORE, "postnummer")),
            city=_required(patient, qname(CORE, "postort")),
        ),
        issuer=IssuerRef(
            hsa_id=_required(issuer, qname(_C, "personal-id"), qname(TYPES, "extension")),
            full_name=_required(issuer, qname(_C, "fullstandigtNamn")),
            unit_hsa_id=_required(unit, qname(_C, "enhets-id"), qname(TYPES, "extension")),
            unit_name=_required(unit, qname(_C, "enhetsnamn")),
        ),
        ref=_text(intyg, qname(_C, "ref")),
        prefill_xml=None if prefill is None else etree.tostring(prefill, encoding="unicode"),
        extensions=tuple(extensions),
    )
