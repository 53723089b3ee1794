"""StoreLog 2.0 messages labelled valid or invalid: requests, responses and the core log types.

The valid cases reach every optional element and every ``##other`` wildcard of the request and the
response; each invalid case breaks one rule (a missing required element, order, namespace, a length
limit, an enumeration, the dateTime type, an own-namespace element at a wildcard, an empty batch).
"""

from __future__ import annotations

from lxml import etree

from tests import envelopes as m
from tests import store_log_envelopes as s
from tests.conformance.corpus import Corpus
from tests.conformance.edits import (
    append,
    at,
    duplicate,
    foreign,
    move_after,
    remove,
    rename,
    set_text,
)
from tests.conformance.schemas import RootSchema

SCHEMA = RootSchema(
    domain="informationsecurity-auditing-log",
    imports={
        m.SLR_NS: "interactions/StoreLogInteraction/StoreLogResponder_2.0.xsd",
        m.ITR_NS: "core_components/itintegration_registry_1.0.xsd",
    },
)

CORPUS = Corpus("StoreLog 2.0")
valid = CORPUS.valid
invalid = CORPUS.invalid

LOG = "slr:log"
ACTIVITY = f"{LOG}/log:activity"
USER = f"{LOG}/log:user"
RESOURCE = f"{LOG}/log:resources/log:resource"
PATIENT = f"{RESOURCE}/log:patient"


def request(*entries: m.Element) -> bytes:
    return s.store_log_envelope(*entries)


def edited(edit: object) -> bytes:
    """Wrap a body that an edit has already changed (the edit returns the body)."""
    assert isinstance(edit, etree._Element)
    return s.store_log_envelope(body=edit)


def body() -> m.Element:
    return s.store_log_body(s.entry("0b6f1c2e-4d5a-4e7b-9c8d-1a2b3c4d5e6f"))


def response(code: str, text: str | None = None, *extra: m.Element) -> bytes:
    return m.soap_envelope(s.store_log_response(code, text, *extra))


@valid
def webcert_style_entry() -> bytes:
    """One entry as logsender sends it: no user name, no patient name, one resource."""
    return request(s.entry())


@valid
def batch_of_ten_with_every_optional_element() -> bytes:
    """Ten entries, each with systemName, activityLevel/Args, user name/personId/assignment/title, names."""
    entries = [
        s.entry(activity_args="Intyg utskrivet", user_name="Ajla Doktor", patient_name="Tolvan") for _ in range(10)
    ]
    built = s.store_log_body(*entries)
    for index in range(1, 11):
        person = m.element(
            "log:personId", m.element("log:root", "1.2.752.129.2.1.3.1"), m.element("log:extension", "191212121212")
        )
        at(built, f"slr:log[{index}]/log:user/log:name").addnext(person)
    return edited(built)


@valid
def minimal_entry() -> bytes:
    """Only required elements: no names, no activityLevel, no patient, no resource careUnit."""
    return request(s.entry(system_name=None, activity_level=None, assignment=None, title=None,
                           user_care_provider_name=None, user_care_unit_name=None, patient_id=None,
                           patient_root=None, resource_care_provider_name=None, resource_care_unit_id=None))


@valid
def several_resources_in_one_entry() -> bytes:
    """resources holds one or more resource."""
    return request(s.entry(resources=3))


@valid
def patient_id_without_extension() -> bytes:
    """IIType's extension is optional."""
    return request(s.entry(patient_id=None))


@valid
def start_date_with_zone_and_fraction() -> bytes:
    """startDate is xs:dateTime: a zone and fractional seconds are allowed."""
    return request(s.entry(start_date="2026-11-20T08:15:00.123+01:00"))


@valid
def id_and_hsa_id_at_their_length_limits() -> bytes:
    """logId may be 36 characters and an HSA-id 32."""
    return request(s.entry("x" * 36, user_id="H" * 32))


@valid
def activity_args_at_8192() -> bytes:
    """activityArgs may be 8192 characters long."""
    return request(s.entry(activity_args="a" * 8192))


@valid
def extensions_at_every_wildcard() -> bytes:
    """StoreLog, log, system, activity, user, careProvider, careUnit, resources, resource, patient, IIType
    admit ##other."""
    built = body()
    for path in ("", LOG, f"{LOG}/log:system", ACTIVITY, USER, f"{USER}/log:careProvider", f"{USER}/log:careUnit",
                 f"{LOG}/log:resources", RESOURCE, PATIENT, f"{PATIENT}/log:patientId"):
        append(built, path or ".", foreign())
    return edited(built)


@valid
def empty_logical_address() -> bytes:
    """LogicalAddress is a plain string: empty is valid."""
    return s.store_log_envelope(s.entry(), logical_address="")


@valid
def response_ok() -> bytes:
    """OK needs no text."""
    return response("OK")


@valid
def response_validation_error_with_text() -> bytes:
    """VALIDATION_ERROR with a text."""
    return response("VALIDATION_ERROR", "post 1 ...")


@valid
def response_every_code() -> bytes:
    """ACCESSDENIED is one of the codes; the response's wildcard takes extensions."""
    return response("ACCESSDENIED", "nej", foreign())


@invalid
def empty_batch() -> bytes:
    """StoreLog needs at least one log."""
    return edited(remove(body(), LOG))


@invalid
def missing_log_id() -> bytes:
    """logId is required."""
    return edited(remove(body(), f"{LOG}/log:logId"))


@invalid
def log_id_too_long() -> bytes:
    """logId is at most 36 characters."""
    return request(s.entry("x" * 37))


@invalid
def hsa_id_too_long() -> bytes:
    """HSA-ids are at most 32 characters."""
    return request(s.entry(user_id="H" * 33))


@invalid
def activity_args_too_long() -> bytes:
    """activityArgs is at most 8192 characters."""
    return request(s.entry(activity_args="a" * 8193))


@invalid
def purpose_too_long() -> bytes:
    """purpose is at most 256 characters."""
    return request(s.entry(purpose="p" * 257))


@invalid
def start_date_not_a_date_time() -> bytes:
    """startDate must be an xs:dateTime."""
    return request(s.entry(start_date="2026-11-20 08:15"))


@invalid
def start_date_without_time() -> bytes:
    """A date alone is not an xs:dateTime."""
    return request(s.entry(start_date="2026-11-20"))


@invalid
def missing_user_care_unit() -> bytes:
    """user/careUnit is required."""
    return edited(remove(body(), f"{USER}/log:careUnit"))


@invalid
def missing_resource_care_provider() -> bytes:
    """resource/careProvider is required."""
    return edited(remove(body(), f"{RESOURCE}/log:careProvider"))


@invalid
def missing_patient_root() -> bytes:
    """patientId/root is required."""
    return edited(remove(body(), f"{PATIENT}/log:patientId/log:root"))


@invalid
def empty_resources() -> bytes:
    """resources needs at least one resource."""
    return edited(remove(body(), RESOURCE))


@invalid
def purpose_before_start_date() -> bytes:
    """The activity's children come in schema order."""
    return edited(move_after(body(), f"{ACTIVITY}/log:startDate", f"{ACTIVITY}/log:purpose"))


@invalid
def two_system_ids() -> bytes:
    """systemId occurs once."""
    return edited(duplicate(body(), f"{LOG}/log:system/log:systemId"))


@invalid
def log_children_in_responder_namespace() -> bytes:
    """logId belongs to the log namespace, not the responder's."""
    return edited(rename(body(), f"{LOG}/log:logId", "slr:logId"))


@invalid
def log_element_in_core_namespace() -> bytes:
    """StoreLog's log element is in the responder namespace."""
    return edited(rename(body(), LOG, "log:log"))


@invalid
def log_namespace_element_at_a_log_wildcard() -> bytes:
    """##other inside a log type excludes the log namespace itself."""
    return edited(append(body(), LOG, m.element("log:logId", "again")))


@invalid
def responder_element_at_the_request_wildcard() -> bytes:
    """##other on StoreLogType excludes the responder namespace."""
    return edited(append(body(), ".", m.element("slr:extra", "x")))


@invalid
def unqualified_element_at_a_wildcard() -> bytes:
    """##other excludes unqualified elements."""
    return edited(append(body(), USER, m.element("extra", "x")))


@invalid
def response_unknown_code() -> bytes:
    """resultCode is an enumeration."""
    return response("FAILED")


@invalid
def response_with_error_id() -> bytes:
    """This ResultType has no errorId: a log-namespace errorId is not allowed."""
    return edited_response(
        append(s.store_log_response("ERROR", "x"), "slr:result", m.element("log:errorId", "VALIDATION_ERROR"))
    )


@invalid
def response_without_result_code() -> bytes:
    """resultCode is required."""
    return edited_response(remove(s.store_log_response("OK"), "slr:result/log:resultCode"))


@invalid
def response_text_before_code() -> bytes:
    """resultCode comes before resultText."""
    return edited_response(
        move_after(s.store_log_response("INFO", "t"), "slr:result/log:resultCode", "slr:result/log:resultText")
    )


@invalid
def response_code_lower_case() -> bytes:
    """Codes are case-sensitive."""
    return edited_response(set_text(s.store_log_response("OK"), "slr:result/log:resultCode", "ok"))


def edited_response(edit: object) -> bytes:
    assert isinstance(edit, etree._Element)
    return m.soap_envelope(edit)
