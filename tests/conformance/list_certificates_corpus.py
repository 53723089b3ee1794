"""ListCertificatesForCareWithQA 3.3: the request (person, units or care giver, window) and the list answer."""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance import core_corpus as core
from tests.conformance.corpus import Corpus
from tests.conformance.edits import foreign, move_after, remove, set_text
from tests.conformance.onward_corpus import request, root_schema
from tests.envelopes import Element

SCHEMA = root_schema("ListCertificatesForCareWithQA", m.LCQ_NS, "3.3")
CORPUS = Corpus("ListCertificatesForCareWithQA 3.3")
valid = CORPUS.valid
invalid = CORPUS.invalid
e = core.e


def body(*, units: int = 1, care_giver: bool = False, window: bool = False) -> Element:
    children = [core.ident("lcq:person-id", m.PERSONNUMMER_ROOT, m.DEFAULT_PERSON_ID)]
    children += [core.ident("lcq:enhets-id", m.HSA_ID_ROOT, f"SE2321000016-100{n}") for n in range(units)]
    if care_giver:
        children.append(core.ident("lcq:vardgivar-id", m.HSA_ID_ROOT, "SE2321000016-0001"))
    if window:
        children += [e("lcq:fromTidpunkt", "2026-11-01T00:00:00"), e("lcq:tomTidpunkt", "2026-12-01T23:59:59")]
    return e("lcq:ListCertificatesForCareWithQA", *children)


def item(*, ref: bool = True, events: int = 1) -> Element:
    children = [
        e("lcq:intyg", *core.intyg()),
        e("lcq:handelser", *(e("lcq:handelse", *core.handelse()) for _ in range(events))),
        e("lcq:skickadeFragor", *core.arenden()),
        e("lcq:mottagnaFragor", *core.arenden()),
    ]
    if ref:
        children.append(e("lcq:ref", "journal-ref-1"))
    return e("lcq:item", *children)


def response(*children: Element) -> bytes:
    return m.soap_envelope(e("lcq:ListCertificatesForCareWithQAResponse", *children))


@valid
def request_by_unit() -> bytes:
    """A patient at one unit, no window."""
    return request(body())


@valid
def request_by_several_units_care_giver_and_window() -> bytes:
    """Three units, the care giver and both ends of the window, then an extension."""
    listing = body(units=3, care_giver=True, window=True)
    listing.append(foreign())
    return request(listing)


@valid
def request_with_only_the_person() -> bytes:
    """Neither unit nor care giver passes the schema: the rule that one is needed is the service's."""
    return request(body(units=0))


@invalid
def request_without_person() -> bytes:
    """person-id is required."""
    return request(remove(body(), "lcq:person-id"))


@invalid
def request_with_dashed_person_id() -> bytes:
    """person-id's extension is twelve digits, without a dash."""
    return request(set_text(body(), "lcq:person-id/types:extension", "19121212-1212"))


@invalid
def request_with_zoned_time() -> bytes:
    """fromTidpunkt is local time without a zone."""
    return request(set_text(body(window=True), "lcq:fromTidpunkt", "2026-11-01T00:00:00Z"))


@invalid
def request_with_care_giver_before_unit() -> bytes:
    """enhets-id comes before vardgivar-id."""
    return request(move_after(body(care_giver=True), "lcq:enhets-id", "lcq:vardgivar-id"))


@valid
def answer_with_two_items() -> bytes:
    """Two certificates with events, counts and ref (one without ref)."""
    return response(e("lcq:list", item(events=2), item(ref=False)))


@valid
def answer_with_empty_list() -> bytes:
    """Nothing listed: an empty list."""
    return response(e("lcq:list"))


@valid
def answer_without_list() -> bytes:
    """list itself is optional."""
    return response()


@valid
def item_without_events() -> bytes:
    """handelser may be empty."""
    return response(e("lcq:list", item(events=0)))


@invalid
def item_without_counts() -> bytes:
    """mottagnaFragor is required."""
    listed = item()
    return response(e("lcq:list", remove(listed, "lcq:mottagnaFragor")))


@invalid
def answer_with_result() -> bytes:
    """The contract has no ResultType: a result element is refused."""
    return response(e("lcq:result", e("core:resultCode", "OK")))
