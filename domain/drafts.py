"""A new draft certificate as a journal system asks for it.

``NewDraftRequest`` is what ``contracts.create_draft_certificate.v3.request`` reads off the wire: raw
strings, unchecked, so that the rules in ``domain.draft_checks`` can report every problem with its
element path. The checked, enriched result is a ``domain.certificates.Certificate`` in status DRAFT.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CertificateTypeRef:
    """``typAvIntyg`` as sent: a code in a code system."""

    code: str
    code_system: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class PatientRef:
    """``intyg/patient`` as sent. The gateway keeps only the id: name and address come from PU."""

    person_id_root: str
    person_id: str
    given_name: str
    family_name: str
    middle_name: str | None = None
    postal_address: str = ""
    postal_code: str = ""
    city: str = ""


@dataclass(frozen=True, slots=True)
class IssuerRef:
    """``intyg/skapadAv`` as sent: the user and the unit they act for."""

    hsa_id: str
    full_name: str
    unit_hsa_id: str
    unit_name: str


@dataclass(frozen=True, slots=True)
class Extension:
    """Content found at an ``xs:any`` position, kept as serialised XML with the path it came from."""

    path: str
    xml: str


@dataclass(frozen=True, slots=True)
class NewDraftRequest:
    """A CreateDraftCertificate request, read but not yet checked."""

    logical_address: str
    certificate_type: CertificateTypeRef
    patient: PatientRef
    issuer: IssuerRef
    ref: str | None = None
    prefill_xml: str | None = None
    extensions: tuple[Extension, ...] = ()
