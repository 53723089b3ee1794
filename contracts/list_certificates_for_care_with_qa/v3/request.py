"""Read a ``ListCertificatesForCareWithQA`` request (schema 3.3) into ``domain.certificate_list.ListRequest``.

The schema has already checked the shape: ``person-id`` with twelve digits and a known root,
``enhets-id`` and ``vardgivar-id`` as HSA-ids, the times as ``YYYY-MM-DDThh:mm:ss``. Those times are
Swedish local time without a zone, as every timestamp of these contracts. An HSA-id of only
whitespace passes the schema's non-empty rule; it reads as absent, so a request with nothing else
is refused for naming no unit and no care giver rather than answered with nothing.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from contracts.ns import LIST_CERTIFICATES_V3, TYPES, qname
from contracts.xmlparse import required_at, text_at
from domain.certificate_list import ListRequest
from domain.values import SWEDISH_TIME, HsaId

_ROOT = qname(TYPES, "root")
_EXTENSION = qname(TYPES, "extension")


def _own(name: str) -> str:
    return qname(LIST_CERTIFICATES_V3, name)


def read_request(body: etree._Element) -> ListRequest:
    """Turn the request element into domain values (no rules: ``domain.certificate_list`` checks them)."""
    units = tuple(
        HsaId(text) for text in (element.findtext(_EXTENSION) or "" for element in body.iterfind(_own("enhets-id")))
        if text.strip()
    )
    care_giver = (text_at(body, _own("vardgivar-id"), _EXTENSION) or "").strip()
    return ListRequest(
        person_id_root=required_at(body, _own("person-id"), _ROOT),
        person_id=required_at(body, _own("person-id"), _EXTENSION),
        units=units,
        care_giver=HsaId(care_giver) if care_giver else None,
        from_time=_local_time(text_at(body, _own("fromTidpunkt"))),
        to_time=_local_time(text_at(body, _own("tomTidpunkt"))),
    )


def _local_time(text: str | None) -> datetime | None:
    """A wire timestamp (Swedish local time, no zone) as an aware time; None when absent."""
    if text is None:
        return None
    return datetime.fromisoformat(text.strip()).replace(tzinfo=SWEDISH_TIME)
