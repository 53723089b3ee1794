"""ListCertificatesForCareWithQA v3 in the contract's decision order: read, list, answer.

The contract has no ResultType: every refusal, the front door's included (schema, hostile XML,
size), is a SOAP fault; ``answers_with_faults`` tells the gateway so, and that such an answer goes
out with HTTP 500 as SOAP 1.1 requires.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from contracts.call import SoapCall, WrittenAnswer
from contracts.list_certificates_for_care_with_qa.v3.request import read_request
from contracts.list_certificates_for_care_with_qa.v3.response import RESPONSE_TAG, Rendered, write_fault, write_list
from contracts.ns import LIST_CERTIFICATES_V3, qname
from domain.result_texts import INTERNAL_ERROR, Problem, result_for
from domain.values import ErrorId
from usecases.certificate_list import CertificateListDeps, CertificatesListed, ListRefused, list_certificates


class ListCertificatesResponder:
    """Answers ``ListCertificatesForCareWithQA`` by running the certificate-list use case."""

    operation = "ListCertificatesForCareWithQA"
    request_tag = qname(LIST_CERTIFICATES_V3, "ListCertificatesForCareWithQA")
    response_tag = RESPONSE_TAG
    answers_with_faults = True

    def __init__(self, deps: CertificateListDeps) -> None:
        self._deps = deps
        self._rendered = Rendered(deps.recent.size)  # as many certificates as the use case keeps

    def respond(self, body: etree._Element, call: SoapCall) -> etree._Element | WrittenAnswer:
        return self.answer(list_certificates(self._deps, read_request(body), call.consumer, call.correlation_id))

    def answer(self, outcome: CertificatesListed | ListRefused) -> etree._Element | WrittenAnswer:
        """The list, or the fault with every problem."""
        if isinstance(outcome, ListRefused):
            return self.refuse(outcome.problems)
        return write_list(outcome.items, self._deps.registry.lookup, self._rendered)

    def refuse(self, problems: Sequence[Problem]) -> etree._Element:
        """A ``Client`` fault for a request to fix, a ``Server`` fault for one to try again later."""
        error_id, text = result_for(problems)
        ours = error_id is ErrorId.TECHNICAL_ERROR or any(p.text_id == INTERNAL_ERROR.id for p in problems)
        return write_fault(text, client=not ours)
