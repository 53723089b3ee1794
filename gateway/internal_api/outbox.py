"""Operations API routes for the status-update outbox: the overview, one event's history, manual resend.

The same operations as ``intygsgateway outbox status``, ``outbox show`` and ``resend``, with the same
rules: a resend needs at least one criterion, a reason and who asks; it is refused (409
``OVER_CAP``) when it matches more events than ``max`` (default 1000; raise it explicitly); it never
queues an event that is already pending; ``dryRun`` answers the counts per unit and status without
changing anything. Both front ends call the same use cases (``usecases.outbox``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.resend_request import (
    DEFAULT_CAP,
    ResendRefusalReason,
    ResendRefused,
    ResendSelection,
)
from domain.values import HsaId, utc_instant
from gateway.internal_api import ApiError, ApiRoute, Request, Response
from gateway.internal_api.auth import Scope
from usecases.outbox import (
    OutboxOperations,
    counts_json,
    report_json,
    resend_json,
    summary_json,
)

RESEND_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["reason", "by"],
    "properties": {
        "eventIds": {"type": "array", "items": {"type": "integer"}},
        "certificateId": {"type": "string"},
        "unit": {"type": "string", "description": "care unit HSA-id (exact, case-insensitive)"},
        "careGiver": {"type": "string", "description": "care giver HSA-id (the events' care giver, not a prefix)"},
        "since": {"type": "string", "description": "ISO 8601, inclusive; UTC when without offset"},
        "until": {"type": "string", "description": "ISO 8601, exclusive"},
        "includeDelivered": {"type": "boolean"},
        "dryRun": {"type": "boolean"},
        "max": {"type": "integer", "minimum": 1, "default": DEFAULT_CAP},
        "reason": {"type": "string", "minLength": 1},
        "by": {"type": "string", "minLength": 1, "description": "who asks (kept in the resend log)"},
    },
    "additionalProperties": False,
}


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "INVALID_FIELD", f"{name} must be a non-empty string", field=name)
    return value.strip()


def _time(body: dict[str, Any], name: str) -> datetime | None:
    text = _string(body, name)
    if text is None:
        return None
    try:
        return utc_instant(text)
    except ValueError:
        raise ApiError(400, "INVALID_FIELD", f"{name} is not an ISO 8601 time", field=name) from None


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(400, "INVALID_FIELD", f"{name} must be true or false", field=name)
    return value


def selection_from(body: dict[str, Any]) -> ResendSelection:
    """The selection in a resend body; 400 for an unknown or malformed field."""
    unknown = sorted(set(body) - set(RESEND_BODY["properties"]))
    if unknown:
        raise ApiError(400, "UNKNOWN_FIELD", f"unknown field {unknown[0]}", field=unknown[0])
    ids = body.get("eventIds", [])
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ApiError(400, "INVALID_FIELD", "eventIds must be a list of integers", field="eventIds")
    unit, care_giver = _string(body, "unit"), _string(body, "careGiver")
    return ResendSelection(
        event_ids=tuple(ids),
        certificate_id=_string(body, "certificateId"),
        unit=HsaId(unit) if unit else None,
        care_giver=HsaId(care_giver) if care_giver else None,
        occurred_from=_time(body, "since"),
        occurred_to=_time(body, "until"),
        include_delivered=_flag(body, "includeDelivered"),
    )


def routes(outbox: OutboxOperations) -> list[ApiRoute]:
    """The outbox routes on the outbox use cases."""

    def get_status(request: Request) -> Response:
        return Response(200, summary_json(outbox.summary(), outbox.now()))

    def get_event(request: Request) -> Response:
        text = request.params["event_id"]
        if not text.isdigit():
            raise ApiError(400, "INVALID_EVENT_ID", "the event id is a number", field="event_id")
        found = outbox.event(int(text))
        if found is None:
            raise ApiError(404, "NO_SUCH_EVENT", f"no outbox event {text}", event_id=int(text))
        return Response(200, report_json(found))

    def post_resend(request: Request) -> Response:
        body = request.json()
        selection = selection_from(body)
        reason, by = _string(body, "reason"), _string(body, "by")
        if reason is None or by is None:
            raise ApiError(400, "REASON_AND_BY_REQUIRED", "a resend needs reason and by",
                           field="reason" if reason is None else "by")
        cap = body.get("max", DEFAULT_CAP)
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            raise ApiError(400, "INVALID_FIELD", "max must be a positive integer", field="max")
        try:
            if _flag(body, "dryRun"):
                counts = outbox.preview(selection)
                selected = sum(c.count for c in counts if c.status != "PENDING")
                return Response(200, {"dryRun": True, "counts": counts_json(counts), "selected": selected,
                                      "overCap": selected > cap})
            return Response(200, resend_json(outbox.resend(selection, by, reason, cap)))
        except ResendRefused as refused:
            if refused.reason is ResendRefusalReason.NO_CRITERIA:
                raise ApiError(400, "NO_CRITERIA", "give at least one of eventIds, certificateId, unit, careGiver, "
                               "since, until") from None
            raise ApiError(409, "OVER_CAP", f"{refused.selected} events match, more than max {refused.cap}",
                           selected=refused.selected, max=refused.cap) from None

    return [
        ApiRoute("GET", "/outbox/status", get_status, "Pending and failed status updates by unit and outcome class",
              "outbox", operation_id="outbox_status", responses={200: "the overview", 401: "no or unknown credential"}),
        ApiRoute("GET", "/outbox/events/{event_id}", get_event, "One outbox event with its whole attempt history",
              "outbox", operation_id="outbox_event",
              responses={200: "the event and its attempts", 400: "not a number", 401: "no or unknown credential",
                         404: "no such event"}),
        ApiRoute("POST", "/outbox/resend", post_resend, "Queue failed (or delivered) status updates again",
              "outbox", operation_id="outbox_resend", scope=Scope.RESEND, body=RESEND_BODY,
              responses={200: "re-armed (or, with dryRun, the counts)", 400: "malformed, or no criterion",
                         401: "no or unknown credential", 409: "more events match than max"}),
    ]
