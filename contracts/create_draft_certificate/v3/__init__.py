"""CreateDraftCertificate interaction version 3 (schema 3.3)."""

from contracts.create_draft_certificate.v3.responder import CreateDraftResponder

__all__ = ["CreateDraftResponder"]
