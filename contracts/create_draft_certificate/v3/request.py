"""Read a schema-valid ``CreateDraftCertificate`` element into a ``NewDraftRequest``.

No rules and no I/O here: values are taken as sent (whitespace included) so that the domain checks
can report them with their element paths. Content at the ``xs:any`` positions of the request
(``CreateDraftCertificateType``, ``HosPersonal``, ``Enhet``) is kept as serialised XML instead of
being dropped, and ``forifyllnad`` is kept whole so typed ``delsvar`` survive exactly.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import CORE, CREATE_DRAFT_V3, EXT33, TYPES, qname
from contracts.xmlparse import children_by_tag, required_in, text_in
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
_OWN_PREFIX = f"{{{_C}}}"

# The tags ``read_request`` looks for, built once.
_INTYG, _TYPE, _PATIENT, _ISSUER, _UNIT, _REF = (
    qname(_C, name) for name in ("intyg", "typAvIntyg", "patient", "skapadAv", "enhet", "ref")
)
_ISSUER_ID, _ISSUER_NAME, _UNIT_ID, _UNIT_NAME = (
    qname(_C, name) for name in ("personal-id", "fullstandigtNamn", "enhets-id", "enhetsnamn")
)
_PERSON_ID, _GIVEN, _FAMILY, _MIDDLE, _ADDRESS, _POSTAL_CODE, _CITY = (
    qname(CORE, name)
    for name in ("person-id", "fornamn", "efternamn", "mellannamn", "postadress", "postnummer", "postort")
)
_CODE, _CODE_SYSTEM, _DISPLAY_NAME, _ROOT, _EXTENSION = (
    qname(TYPES, name) for name in ("code", "codeSystem", "displayName", "root", "extension")
)
_PREFILL = qname(EXT33, "forifyllnad")


def _foreign_children(parent: etree._Element | None, path: str) -> list[Extension]:
    """Elements outside the contract's namespace directly under ``parent``: the content of its ``xs:any``."""
    if parent is None:
        return []
    return [
        Extension(path, etree.tostring(child, encoding="unicode"))
        for child in parent
        if isinstance(child.tag, str) and not child.tag.startswith(_OWN_PREFIX)
    ]


def read_request(body: etree._Element, logical_address: str) -> NewDraftRequest:
    """Turn the request element into domain values (the fields of each element looked up in one pass)."""
    intyg = body.find(_INTYG)
    at = children_by_tag(intyg) if intyg is not None else {}
    typ, issuer = at.get(_TYPE), at.get(_ISSUER)
    patient = children_by_tag(at[_PATIENT]) if _PATIENT in at else {}
    person_id = patient.get(_PERSON_ID)
    unit = issuer.find(_UNIT) if issuer is not None else None
    prefill = at.get(_PREFILL)

    extensions = (
        _foreign_children(body, "CreateDraftCertificate")
        + _foreign_children(issuer, "intyg/skapadAv")
        + _foreign_children(unit, "intyg/skapadAv/enhet")
    )
    return NewDraftRequest(
        logical_address=logical_address,
        certificate_type=CertificateTypeRef(
            code=_required(typ, _CODE),
            code_system=_required(typ, _CODE_SYSTEM),
            display_name=_text(typ, _DISPLAY_NAME),
        ),
        patient=PatientRef(
            person_id_root=_required(person_id, _ROOT),
            person_id=_required(person_id, _EXTENSION),
            given_name=required_in(patient, _GIVEN),
            family_name=required_in(patient, _FAMILY),
            middle_name=text_in(patient, _MIDDLE),
            postal_address=required_in(patient, _ADDRESS),
            postal_code=required_in(patient, _POSTAL_CODE),
            city=required_in(patient, _CITY),
        ),
        issuer=IssuerRef(
            hsa_id=_required(issuer, _ISSUER_ID, _EXTENSION),
            full_name=_required(issuer, _ISSUER_NAME),
            unit_hsa_id=_required(unit, _UNIT_ID, _EXTENSION),
            unit_name=_required(unit, _UNIT_NAME),
        ),
        ref=text_in(at, _REF),
        prefill_xml=None if prefill is None else etree.tostring(prefill, encoding="unicode"),
        extensions=tuple(extensions),
    )
