"""Shared pieces of the four onward contracts' corpora: the root schema of one contract, a request
with its LogicalAddress header, and the answers every one of them has (``result``, then ``##other``).

Each onward contract has its own corpus module (``register_certificate_corpus`` and its siblings),
registered in ``test_create_draft_schemas.CORPORA`` like the others.
"""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance import core_corpus as core
from tests.conformance.corpus import Corpus
from tests.conformance.edits import foreign
from tests.conformance.schemas import RootSchema
from tests.envelopes import Element

FK_ADDRESS = "2021005521"
e = core.e


def root_schema(operation: str, namespace: str, schema_version: str) -> RootSchema:
    """The root schema of one onward contract: its responder schema and the LogicalAddress header."""
    return RootSchema(
        domain="clinicalprocess-healthcond-certificate",
        imports={
            namespace: f"interactions/{operation}Interaction/{operation}Responder_{schema_version}.xsd",
            m.ITR_NS: "core_components/itintegration_registry_1.0.xsd",
        },
    )


def request(body: Element, logical_address: str = FK_ADDRESS) -> bytes:
    return m.soap_envelope(body, headers=[m.logical_address_header(logical_address)])


def add_answer_cases(corpus: Corpus, prefix: str, operation: str) -> None:
    """The answers of ``operation``: OK; INFO with text; ERROR with errorId and an extension after;
    and two broken ones (no result; an unknown resultCode)."""

    def response(*children: Element) -> bytes:
        return m.soap_envelope(e(f"{prefix}:{operation}Response", *children))

    def ok_answer() -> bytes:
        """The keeper's OK: only resultCode."""
        return response(e(f"{prefix}:result", e("core:resultCode", "OK")))

    def repeat_answer() -> bytes:
        """INFO with the text that says the keeper had it already."""
        return response(e(f"{prefix}:result", e("core:resultCode", "INFO"),
                          e("core:resultText", "Certificate already exists")))

    def error_answer_with_extension() -> bytes:
        """ERROR with text and errorId, then an extension at the response's wildcard."""
        return response(e(f"{prefix}:result", e("core:resultCode", "ERROR"), e("core:resultText", "Försök igen"),
                          e("core:errorId", "TECHNICAL_ERROR")), foreign())

    def answer_without_result() -> bytes:
        """The response holds a result."""
        return response(foreign())

    def answer_with_unknown_error_id() -> bytes:
        """errorId is one of the four ErrorIdType values."""
        return response(e(f"{prefix}:result", e("core:resultCode", "ERROR"), e("core:errorId", "DUPLICATE")))

    for case in (ok_answer, repeat_answer, error_answer_with_extension):
        corpus.valid(case)
    for case in (answer_without_result, answer_with_unknown_error_id):
        corpus.invalid(case)
