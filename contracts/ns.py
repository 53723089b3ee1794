"""Namespace constants of the contracts we speak (RIVTA BP 2.1, clinicalprocess:healthcond:certificate)."""

from __future__ import annotations

REGISTRY = "urn:riv:itintegration:registry:1"
CORE = "urn:riv:clinicalprocess:healthcond:certificate:3"
TYPES = "urn:riv:clinicalprocess:healthcond:certificate:types:3"
EXT32 = "urn:riv:clinicalprocess:healthcond:certificate:3.2"
EXT33 = "urn:riv:clinicalprocess:healthcond:certificate:3.3"
EXT34 = "urn:riv:clinicalprocess:healthcond:certificate:3.4"
CREATE_DRAFT_V3 = "urn:riv:clinicalprocess:healthcond:certificate:CreateDraftCertificateResponder:3"


def qname(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local`` as lxml uses it."""
    return f"{{{namespace}}}{local}"
