"""CreateDraftCertificate v3 in the contract's decision order: read, create, answer."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from contracts.call import SoapCall
from contracts.create_draft_certificate.v3.request import read_request
from contracts.create_draft_certificate.v3.response import (
    RESPONSE_TAG,
    write_created,
    write_error,
)
from contracts.ns import CREATE_DRAFT_V3, qname
from domain.result_texts import Problem, result_for
from usecases.create_draft import CreateDraftDeps, DraftCreated, DraftRefused, create_draft


class CreateDraftResponder:
    """Answers ``CreateDraftCertificate`` by running the create-draft use case."""

    operation = "CreateDraftCertificate"
    request_tag = qname(CREATE_DRAFT_V3, "CreateDraftCertificate")
    response_tag = RESPONSE_TAG

    def __init__(self, deps: CreateDraftDeps) -> None:
        self._deps = deps

    def respond(self, body: etree._Element, call: SoapCall) -> etree._Element:
        return self.answer(create_draft(self._deps, read_request(body, call.logical_address), call.correlation_id))

    def answer(self, outcome: DraftCreated | DraftRefused) -> etree._Element:
        """OK with the new draft's ``intygs-id``, or ERROR with every problem."""
        if isinstance(outcome, DraftCreated):
            return write_created(outcome.unit_hsa_id, outcome.certificate_id)
        return self.refuse(outcome.problems)

    def refuse(self, problems: Sequence[Problem]) -> etree._Element:
        error_id, text = result_for(problems)
        return write_error(error_id, text)
