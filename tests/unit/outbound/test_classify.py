"""Tests for outbound.classify: a ResultType, a SOAP fault or our own routing code gives one outcome class."""

from __future__ import annotations

import pytest

from contracts.ns import SOAP11_ENV
from domain.delivery import Decision, OutcomeClass
from outbound.classify import PLATFORM_CODES, classify_fault, classify_result, platform_code, routing_outcome

CLIENT = f"{{{SOAP11_ENV}}}Client"
SERVER = f"{{{SOAP11_ENV}}}Server"


@pytest.mark.parametrize(
    ("code", "error_id", "outcome"),
    [
        ("OK", None, OutcomeClass.OK),
        ("INFO", None, OutcomeClass.INFO),
        ("ERROR", "VALIDATION_ERROR", OutcomeClass.VALIDATION_ERROR),
        ("ERROR", "APPLICATION_ERROR", OutcomeClass.APPLICATION_ERROR),
        ("ERROR", "REVOKED", OutcomeClass.REVOKED),
        ("ERROR", "TECHNICAL_ERROR", OutcomeClass.TECHNICAL_ERROR),
        ("ERROR", None, OutcomeClass.APPLICATION_ERROR),
    ],
)
def test_result_codes_map_to_classes(code: str, error_id: str | None, outcome: OutcomeClass) -> None:
    """ResultType codes decide the class; an ERROR without errorId is not retried."""
    assert classify_result(code, error_id) is outcome


def test_unknown_result_code_is_refused() -> None:
    """A code outside the schema's enumeration is an error, not a silent guess."""
    with pytest.raises(ValueError):
        classify_result("MAYBE", None)


@pytest.mark.parametrize(
    ("fault_string", "outcome", "decision"),
    [
        ("VP004 [vp-1] Det finns inget vägval", OutcomeClass.PLATFORM_NO_ROUTE, Decision.RETRY_ADDRESS),
        ("VP007 [vp-1] Behörighet saknas", OutcomeClass.PLATFORM_NO_ACCESS, Decision.RETRY_ADDRESS),
        ("VP006 [vp-1] Flera vägval", OutcomeClass.PLATFORM_NO_ROUTE, Decision.RETRY_ADDRESS),
        ("VP009 [vp-1] Fel vid kontakt med tjänsteproducenten", OutcomeClass.SOAP_FAULT, Decision.RETRY),
        ("VP015 [vp-1] Meddelandet kunde inte läsas", OutcomeClass.SOAP_FAULT, Decision.FAILED),
        ("VP099 [vp-1] a code VP does not have yet", OutcomeClass.SOAP_FAULT, Decision.RETRY),
    ],
)
def test_platform_faults_are_classified_by_their_code(
    fault_string: str, outcome: OutcomeClass, decision: Decision
) -> None:
    """VP's code, not its text, decides; a VP Client fault like VP004 is not "malformed"."""
    fault = classify_fault(CLIENT, fault_string)
    assert (fault.outcome, fault.decision) == (outcome, decision)


def test_client_fault_from_the_journal_system_fails() -> None:
    """faultcode Client (also a dotted refinement) says our message was at fault: no retry."""
    assert classify_fault(CLIENT, "Unmarshalling Error: unexpected element").decision is Decision.FAILED
    assert classify_fault(f"{CLIENT}.Schema", "whatever").decision is Decision.FAILED


def test_server_and_foreign_faults_retry() -> None:
    """A Server fault, a custom code or no code at all is technical."""
    assert classify_fault(SERVER, "NullPointerException").decision is Decision.RETRY
    assert classify_fault("{urn:example}Busy", None).decision is Decision.RETRY
    assert classify_fault(None, None).decision is Decision.RETRY
    assert classify_fault(f"{{{SOAP11_ENV}}}ClientSide", "x").decision is Decision.RETRY


def test_platform_code_is_read_from_the_first_word_only() -> None:
    """A VP code elsewhere in a producer's text does not make the fault a platform fault."""
    assert platform_code(" VP004 [x] text") == "VP004"
    assert platform_code("Producer says VP004") is None
    assert platform_code("VP0042 not a code") is None
    assert platform_code(None) is None


def test_our_own_routing_codes_wait_on_the_address_schedule() -> None:
    """No route or no access right in our own table is the platform's VP004/VP007 again."""
    assert routing_outcome("VP004") is OutcomeClass.PLATFORM_NO_ROUTE
    assert routing_outcome("VP007") is OutcomeClass.PLATFORM_NO_ACCESS
    with pytest.raises(ValueError):
        routing_outcome("VP015")
    with pytest.raises(ValueError):
        routing_outcome("VP009")


def test_platform_table_only_names_vp_codes() -> None:
    """Every key of the table has the VP code shape that platform_code() reads."""
    assert all(platform_code(f"{code} [i] t") == code for code in PLATFORM_CODES)
