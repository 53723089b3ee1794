"""StoreLog's responder: XML in, entries out; outcomes and refusals in this contract's own ResultType."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from contracts.call import SoapCall
from contracts.store_log.v2 import StoreLogResponder
from contracts.store_log.v2.request import read_entries
from contracts.xmlparse import parse_xml
from domain.result_texts import DEPENDENCY_UNAVAILABLE, INTERNAL_ERROR, SCHEMA_VIOLATION
from tests import store_log_envelopes as s
from tests.envelopes import LOG_NS
from tests.memory import ClosedUnitOfWork
from usecases.store_log import LogRefused, LogStored, StoreLogDeps

CALL = SoapCall("SE165565594230-1000", "cid-1")
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def answer(element: etree._Element) -> tuple[str | None, str | None]:
    return element.findtext(f".//{{{LOG_NS}}}resultCode"), element.findtext(f".//{{{LOG_NS}}}resultText")


def test_entries_are_read_field_by_field() -> None:
    """Every element lands in its field; absent optional elements are None; resources keep their order."""
    first, second = read_entries(
        s.store_log_body(s.entry("a", resources=2), s.entry("b", title=None, activity_args="x"))
    )
    assert (first.position, first.log_id, first.user_title, first.activity_args, len(first.resources)) == (
        1, "a", "Läkare", None, 2
    )
    assert first.resources[0].patient_id == "191212121212" and first.resources[0].care_unit_id == "SE2321000016-1000"
    assert first.start_date == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)
    assert (second.position, second.user_title, second.activity_args) == (2, None, "x")


def test_extension_content_and_empty_elements_read_as_the_contract_says() -> None:
    """Parsed from bytes as the gateway parses them: content at an extension point (another namespace,
    which the schema does not check) is not read, even a log-namespace element inside it named as a
    contract field, present (``userId``) or absent (``name``); an empty optional element reads as "",
    an absent one as None; the parts after the extension are read."""
    body = s.store_log_body(s.entry("a", title=""))
    user = body.find(f".//{{{LOG_NS}}}user")
    assert user is not None
    extension = etree.SubElement(user, "{urn:example:extension}extra")  # where the schema's lax wildcard is
    etree.SubElement(extension, f"{{{LOG_NS}}}userId").text = "forged"
    etree.SubElement(extension, f"{{{LOG_NS}}}name").text = "forged"
    (entry,) = read_entries(parse_xml(etree.tostring(body), 1_000_000))
    assert (entry.user_id, entry.user_title, entry.user_name) == ("SE2321000016-P001", "", None)
    assert entry.user_care_unit_id == "SE2321000016-1000" and entry.resources[0].resource_type == "Intyg"


def test_outcomes_become_ok_info_and_validation_error() -> None:
    """Stored → OK; resend → INFO naming it; refused → VALIDATION_ERROR with the texts."""
    outcomes: list[LogStored | LogRefused] = [
        LogStored(1),
        LogStored(0, ("a",)),
        LogRefused((SCHEMA_VIOLATION.problem(path="p", reason="r"),)),
    ]

    responder = StoreLogResponder(StoreLogDeps(ClosedUnitOfWork(), lambda: NOW))
    entries = read_entries(s.store_log_body(s.entry("a")))
    assert answer(responder.answer(outcomes[0], entries)) == ("OK", None)
    assert answer(responder.answer(outcomes[1], entries))[0] == "INFO"
    code, text = answer(responder.answer(outcomes[2], entries))
    assert code == "VALIDATION_ERROR" and text is not None and text.startswith("Meddelandet följer inte")


def test_other_refusals_are_error_and_access_denial_has_its_code() -> None:
    """A database outage or an internal error answer ERROR (no errorId exists); access denial ACCESSDENIED."""
    responder = StoreLogResponder(StoreLogDeps(ClosedUnitOfWork(), lambda: NOW))
    assert answer(responder.refuse([DEPENDENCY_UNAVAILABLE.problem(dependency="db")]))[0] == "ERROR"
    assert answer(responder.refuse([INTERNAL_ERROR.problem(correlation_id="c")]))[0] == "ERROR"
    assert answer(responder.access_denied("VP007 nej")) == ("ACCESSDENIED", "VP007 nej")
