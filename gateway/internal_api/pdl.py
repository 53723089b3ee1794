"""Operations API routes for the PDL access log: search (a patient's extract) and the chain check.

``GET /pdl/records`` takes the same criteria as ``intygsgateway pdl search`` and needs the acting
user (``X-Acting-User``): reading who accessed a patient's data is itself an access worth knowing
about, so each search writes a ``pdl_search`` log line with the acting user, the criteria used and
the number of records, the patient's id masked (never in clear text). ``GET /pdl/chain`` runs the
verification of ``intygsgateway pdl verify`` (sealing pending records first), with the number of
records still waiting for their seal.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import structlog

from domain.pdl import PdlQuery, as_plain
from domain.pdl_checkpoint import SignedVerification
from domain.personnummer import InvalidPersonId, parse_person_id
from domain.values import utc_instant
from gateway.internal_api import ApiError, ApiRoute, Param, Request, Response
from gateway.internal_api.auth import Scope
from usecases.pdl_log import PdlLog

MAX_LIMIT = 10_000
log = structlog.get_logger("gateway.internal_api.pdl")
_ERRORS = {400: "a criterion is malformed or none was given", 401: "no or unknown credential"}


def _one(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1].strip() if values and values[-1].strip() else None


def _time(request: Request, name: str) -> datetime | None:
    text = _one(request, name)
    if text is None:
        return None
    try:
        return utc_instant(text)
    except ValueError:
        raise ApiError(400, "INVALID_TIME", f"{name} is not an ISO 8601 time", parameter=name) from None


def _masked(patient: str | None) -> str | None:
    if patient is None:
        return None
    try:
        return parse_person_id("1.2.752.129.2.1.3.1", patient).masked()
    except InvalidPersonId:
        return "(not a personnummer)"


def query_from(request: Request) -> PdlQuery:
    """The search criteria of a request; 400 when none is given or one is malformed."""
    limit_text = _one(request, "limit") or str(MAX_LIMIT)
    if not limit_text.isdigit() or not 0 < int(limit_text) <= MAX_LIMIT:
        raise ApiError(400, "INVALID_LIMIT", f"limit must be 1..{MAX_LIMIT}", parameter="limit")
    query = PdlQuery(
        patient_id=_one(request, "patient"), user_id=_one(request, "user"), care_unit_id=_one(request, "unit"),
        care_giver_id=_one(request, "care_giver"), consumer_id=_one(request, "consumer"),
        start=_time(request, "from"), end=_time(request, "to"),
        limit=int(limit_text),
    )  # fmt: skip
    if query == PdlQuery(limit=query.limit):
        raise ApiError(400, "NO_CRITERIA", "give at least one of patient, user, unit, care_giver, consumer, from, to")
    return query


def chain_json(verified: SignedVerification) -> dict[str, Any]:
    """The chain check as JSON (``GET /pdl/chain``, and the console's PDL page)."""
    result, good = verified.chain, verified.last_good
    return {
        "intact": result.broken is None,
        "checked": result.checked,
        "lastSeq": result.last.seq,
        "lastHash": result.last.hash,
        "pending": result.pending,
        "lastSignedCheckpoint": None if good is None else {
            "number": good.number, "seq": good.seq, "at": good.at.isoformat(), "keyId": good.key_id,
        },
        "unsigned": verified.unsigned,
        "broken": None if result.broken is None else {
            "kind": result.broken.kind.value, "seq": result.broken.seq, "logId": result.broken.log_id,
            "checkpoint": result.broken.checkpoint,
        },
    }


def routes(pdl: PdlLog) -> list[ApiRoute]:
    """The PDL routes, on the PDL log's use cases."""

    def records(request: Request) -> Response:
        user = request.acting_user()
        query = query_from(request)
        found = pdl.search(query)
        log.info(
            "pdl_search",
            acting_user=user.value,
            patient=_masked(query.patient_id),
            criteria=sorted(k for k, v in asdict(query).items() if v is not None and k != "limit"),
            records=len(found),
        )
        return Response(200, {"records": [as_plain(record) for record in found], "count": len(found)})

    def chain(request: Request) -> Response:
        return Response(200, chain_json(pdl.verify()))

    criteria = (
        Param("patient", "the patient's id (12 digits): a patient's extract"),
        Param("user", "HSA-id of the user who made the accesses"),
        Param("unit", "HSA-id of a care unit: accesses made there or to its records"),
        Param("care_giver", "HSA-id of a care giver, likewise"),
        Param("consumer", "HSA-id of the system that sent the records with StoreLog"),
        Param("from", "ISO 8601 time, inclusive (UTC without a zone)"),
        Param("to", "ISO 8601 time, exclusive"),
        Param("limit", f"at most this many records (1..{MAX_LIMIT}, default {MAX_LIMIT})"),
    )
    return [
        ApiRoute("GET", "/pdl/records", records, "Search the PDL access log (oldest first)", "pdl",
              operation_id="search_pdl_records", acting_user=True, scope=Scope.PDL_READ, query=criteria,
              responses={200: "the matching records", **_ERRORS}),
        ApiRoute("GET", "/pdl/chain", chain, "Verify the PDL log's hash chain", "pdl",
              operation_id="verify_pdl_chain", scope=Scope.PDL_READ,
              responses={200: "intact, or the first broken link", 401: _ERRORS[401]}),
    ]  # fmt: skip

