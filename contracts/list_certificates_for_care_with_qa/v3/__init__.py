"""ListCertificatesForCareWithQA interaction version 3 (schema 3.3)."""

from contracts.list_certificates_for_care_with_qa.v3.responder import ListCertificatesResponder

__all__ = ["ListCertificatesResponder"]
