"""Operations API routes for certificates and their questions (ärenden).

Each route reads the acting user from ``X-Acting-User`` and calls one use case from
``usecases.lifecycle`` or ``usecases.questions``; the use case checks the user
against the directory, writes the event and the PDL record. Content is checked before the use case
runs (``gateway.content``): XML that is not well-formed, hostile, or not a valid ``svar`` answers 400
``INVALID_CONTENT_XML`` with every problem, and nothing is stored. A ``LifecycleRefused`` becomes a JSON
error whose ``code`` is the refusal reason, with the action, status and role as fields; the HTTP
status follows ``STATUS_OF`` (400 bad input, 403 who you are, 404 what you named, 409 the
certificate's state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import structlog

from domain.arenden import Amne, arende_to_json
from domain.certificates import Certificate, certificate_to_json, content_from_json
from domain.directory import DirectoryUnavailable
from domain.lifecycle import MAX_REASON_LENGTH, MIN_DESCRIPTION_LENGTH, LifecycleRefused, RefusalReason
from domain.question_counts import question_counts, to_payload
from domain.relations import CompletionMode, review_after_revoking
from domain.values import TYPED_HSA_ID, HsaId, RevokeReason, typed_hsa_id
from gateway.content import ContentValidator
from gateway.internal_api import ApiError, ApiRoute, Param, Request, Response
from gateway.internal_api.auth import Scope
from usecases import lifecycle, questions, signed_list
from usecases import relations as related
from usecases.lifecycle import DependencyUnavailable, LifecycleDeps
from usecases.relations import Related
from usecases.signed_list import PAGE_SIZE, ListRefused, SignedPage

log = structlog.get_logger("gateway.internal_api.certificates")
R = RefusalReason
STATUS_OF: dict[RefusalReason, int] = {
    R.CERTIFICATE_NOT_FOUND: 404,
    R.QUESTION_NOT_FOUND: 404,
    R.USER_UNKNOWN: 403,
    R.NO_ASSIGNMENT: 403,
    R.ROLE_NOT_ALLOWED: 403,
    R.WRONG_STATUS: 409,
    R.TYPE_UNKNOWN: 409,
    R.TEST_CERTIFICATE: 409,
    R.RECIPIENT_UNKNOWN: 409,
    R.RECIPIENT_INACTIVE: 409,
    R.RECIPIENT_NOT_FOR_TYPE: 409,
    R.CONFLICT: 409,
    R.QUESTION_NOT_ANSWERABLE: 409,
    R.QUESTION_ANSWERED: 409,
    R.QUESTION_HANDLED: 409,
    R.REASON_MISSING: 400,
    R.REASON_UNKNOWN: 400,
    R.DESCRIPTION_MISSING: 400,
    R.DESCRIPTION_TOO_VAGUE: 400,
    R.REASON_TOO_LONG: 400,
    R.TEXT_MISSING: 400,
    R.AMNE_NOT_ALLOWED: 400,
    R.NO_ANSWERS: 409,
    R.ANSWERS_MISSING: 409,
    R.TYPE_INACTIVE: 409,
    R.TYPE_NOT_AVAILABLE: 409,
    R.NOT_RENEWABLE: 409,
    R.ALREADY_REPLACED: 409,
    R.ALREADY_COMPLETED: 409,
    R.PATIENT_DECEASED: 409,
    R.PATIENT_PROTECTED: 409,
    R.NO_OPEN_COMPLETION: 409,
    R.COMPLETION_REQUIRED: 409,
    R.QUESTION_IS_REMINDER: 409,
    R.NO_OTHER_INFORMATION: 409,
    R.UNIT_UNKNOWN: 400,  # the unit named in the body: bad input, not a missing certificate
    R.OTHER_CARE_GIVER: 403,
}

_ERRORS = {
    400: "bad input (code says which)", 403: "the acting user may not do this", 404: "no such certificate",
    409: "not allowed in the certificate's state", 503: "directory or database not answering",
}
_ACTION_RESPONSES = {200: "the certificate as it is now", **_ERRORS}

_CONTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["content"],
    "properties": {"content": {"type": "array", "items": {
        "type": "object",
        "required": ["id", "parts"],
        "properties": {
            "id": {"type": "string"},
            "instance": {"type": ["integer", "null"]},
            "parts": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "value"],
                "properties": {"id": {"type": "string"}, "value": {"type": "string"},
                               "xml": {"type": ["string", "null"]}},
            }},
        },
    }}},
}


_REVOKE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["reason"],
    "properties": {
        "reason": {"type": "string", "enum": [reason.value for reason in RevokeReason],
                   "description": "FEL_PATIENT (wrong patient) or ANNAT_ALLVARLIGT_FEL (another serious error)"},
        "description": {"type": "string", "maxLength": MAX_REASON_LENGTH,
                        "description": "what is wrong; required for ANNAT_ALLVARLIGT_FEL, at least "
                        f"{MIN_DESCRIPTION_LENGTH} characters with two different letters or digits"},
    },
}


def _text_schema(name: str, *extra: str) -> dict[str, Any]:
    properties = {name: {"type": "string"}, **{e: {"type": "string"} for e in extra}}
    return {"type": "object", "required": [name], "properties": properties}


def signed_summary(certificate: Certificate) -> dict[str, Any]:
    """A listed signed certificate: enough to recognise it (whose, what, where, when), no content."""
    patient = certificate.patient
    return {
        "id": certificate.id,
        "type": certificate.type_code,
        "status": certificate.status.value,
        "signedAt": certificate.signed_at.isoformat() if certificate.signed_at else None,
        "sentTo": certificate.sent_to,
        "revokedAt": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "unit": {"hsaId": certificate.unit.hsa_id.value, "name": certificate.unit.name},
        "patient": {
            "personId": {"kind": patient.person_id.kind.value, "digits": patient.person_id.digits},
            "givenName": patient.given_name, "familyName": patient.family_name,
            "protectedIdentity": patient.protected_identity,
        },
    }


def _signed_page(page: SignedPage) -> dict[str, Any]:
    return {
        "issuer": page.issuer.value, "signedSince": page.since.isoformat(), "page": page.page,
        "pageSize": PAGE_SIZE, "total": page.total, "pages": page.pages,
        "certificates": [signed_summary(c) for c in page.certificates],
    }


def _query(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1].strip() if values and values[-1].strip() else None


def _certificate(certificate: Certificate) -> dict[str, Any]:
    return {"certificate": certificate_to_json(certificate)}


def _guarded(call: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Map the use cases' refusals and outages to API errors."""

    def handler(request: Request) -> Response:
        try:
            return call(request)
        except LifecycleRefused as refused:
            raise ApiError(
                STATUS_OF.get(refused.reason, 409),
                refused.reason.value,
                str(refused),
                action=refused.action.value,
                certificateId=refused.certificate_id,
                certificateStatus=refused.status.value if refused.status else None,
                role=refused.role.value if refused.role else None,
                **({"missing": list(refused.missing)} if refused.missing else {}),
                **({"unit": refused.unit.value} if refused.unit else {}),
            ) from None
        except (DependencyUnavailable, DirectoryUnavailable):
            raise ApiError(503, "UNAVAILABLE", "the directory or the database is not answering; try again") from None

    return handler


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise ApiError(400, "INVALID_BODY", f"give {name!r} as a string")
    return value


def routes(deps: LifecycleDeps, content_check: ContentValidator | None = None) -> list[ApiRoute]:
    """The certificate routes and the question routes, all on the same use case dependencies.

    ``content_check`` checks content before it is stored (``gateway.content``; one is built if not given).
    """
    base = "/certificates/{certificate_id}"
    checker = content_check or ContentValidator()

    def show(request: Request) -> Response:
        view = lifecycle.show(deps, request.params["certificate_id"], request.acting_user(), request.correlation_id)
        return Response(200, {
            **_certificate(view.certificate),
            "questions": [arende_to_json(a) for a in view.arenden],
            "counts": to_payload(question_counts(view.arenden)),
            "deliveries": [{"eventId": e.id, "contract": e.contract.value, "recipient": e.recipient,
                            "logicalAddress": e.logical_address, "status": e.status.value,
                            "occurredAt": e.occurred_at.isoformat()} for e in view.deliveries],
        })

    def send(request: Request) -> Response:
        body = request.json()  # an empty body is {}
        recipient = body.get("recipient")
        if recipient is not None and (not isinstance(recipient, str) or not recipient.strip()):
            raise ApiError(400, "INVALID_BODY", "give 'recipient' as a recipient's id, such as FKASSA")
        sent = lifecycle.send(deps, request.params["certificate_id"], request.acting_user(), request.correlation_id,
                              recipient)
        return Response(200, _certificate(sent))

    def content(request: Request) -> Response:
        user, body = request.acting_user(), request.json()
        try:
            answers = content_from_json(body["content"])
        except (KeyError, TypeError, ValueError) as error:
            raise ApiError(400, "INVALID_CONTENT", f"content is not a list of answers: {error!r}") from None
        problems = checker.problems(answers)
        if problems:
            log.warning("certificate_content_refused", certificate_id=request.params["certificate_id"],
                        answers=sorted({p.answer_id for p in problems}),
                        faults=sorted({p.fault.value for p in problems}))
            raise ApiError(400, "INVALID_CONTENT_XML", "the content cannot be sent as the contract's svar",
                           problems=[{"answerId": p.answer_id, "partId": p.part_id, "fault": p.fault.value,
                                      "reason": p.reason} for p in problems])
        changed = lifecycle.update_content(deps, request.params["certificate_id"], user, answers,
                                           request.correlation_id)
        return Response(200, _certificate(changed))

    def simple(operation: Callable[[LifecycleDeps, str, Any, str], Certificate],
               status: int = 200) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            result = operation(deps, request.params["certificate_id"], request.acting_user(), request.correlation_id)
            return Response(status, _certificate(result))
        return handle

    def revoke(request: Request) -> Response:
        user, body = request.acting_user(), request.json()
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise ApiError(400, "INVALID_BODY", "give 'description' as a string")
        revoked = lifecycle.revoke(
            deps, request.params["certificate_id"], user, _field(body, "reason"), description,
            request.correlation_id,
        )
        return Response(200, {**_certificate(revoked), **_review(revoked)})

    def signed(request: Request) -> Response:
        user = request.acting_user()
        issuer = _query(request, "issuer")
        since_text, page_text = _query(request, "signedSince"), _query(request, "page") or "1"
        try:
            since = date.fromisoformat(since_text) if since_text else None
        except ValueError:
            raise ApiError(400, "INVALID_DATE", "signedSince must be a date, YYYY-MM-DD",
                           parameter="signedSince") from None
        if not page_text.isdigit() or int(page_text) < 1 or len(page_text) > 9:
            raise ApiError(400, "INVALID_PAGE", "page must be a whole number from 1", parameter="page")
        try:
            page = signed_list.list_signed(
                deps, user, HsaId(issuer) if issuer else None, since, int(page_text), request.correlation_id
            )
        except ListRefused as refused:
            raise ApiError(403, refused.reason, "only the issuer, found in the directory, may list their "
                           "signed certificates") from None
        return Response(200, _signed_page(page))

    table = [
        ApiRoute("GET", "/certificates", signed,
              f"An issuer's signed certificates, newest first, {PAGE_SIZE} a page (PDL: Läsa for each listed)",
              "certificates", operation_id="list_signed", acting_user=True,
              query=(Param("issuer", "HSA-id of the signer; default and only allowed value: the acting user"),
                     Param("signedSince", "first Swedish calendar day, YYYY-MM-DD; default three months back"),
                     Param("page", f"page number from 1; {PAGE_SIZE} certificates a page")),
              responses={200: "one page: issuer, signedSince, page, pageSize, total, pages, certificates",
                         400: "a malformed parameter (code says which)",
                         403: "USER_UNKNOWN or NOT_OWN_LIST", 503: _ERRORS[503]}),
        ApiRoute("GET", base, show, "Read a certificate with its questions (PDL: Läsa)", "certificates",
              operation_id="get_certificate", acting_user=True,
              responses={200: "the certificate, its questions and their counts", **_ERRORS}),
        ApiRoute("PUT", f"{base}/content", content, "Replace a draft's content (ANDRAT; PDL: Skriva)", "certificates",
              operation_id="update_content", acting_user=True, body=_CONTENT_SCHEMA, responses=_ACTION_RESPONSES),
        ApiRoute("POST", f"{base}/ready", simple(lifecycle.mark_ready), "Mark a draft ready for signing (KFSIGN)",
              "certificates", operation_id="mark_ready", acting_user=True, responses=_ACTION_RESPONSES),
        ApiRoute("POST", f"{base}/sign", simple(lifecycle.sign), "Sign (SIGNAT; PDL: Signera)", "certificates",
              operation_id="sign", acting_user=True, scope=Scope.SIGN, responses=_ACTION_RESPONSES),
        ApiRoute("POST", f"{base}/send", send,
              "Send to the recipient (optional body {\"recipient\": ID}, default the type's): SENDING until it "
              "accepts, then SENT and SKICKA (PDL: Utskrift)",
              "certificates", operation_id="send", acting_user=True, scope=Scope.SEND, responses=_ACTION_RESPONSES),
        ApiRoute("POST", f"{base}/revoke", revoke,
              "Revoke with a reason code and description (MAKULE; PDL: Radera)", "certificates",
              operation_id="revoke", acting_user=True, scope=Scope.REVOKE, body=_REVOKE_SCHEMA,
              responses=_ACTION_RESPONSES),
        ApiRoute("DELETE", base, simple(lifecycle.delete), "Delete a draft (RADERA; PDL: Radera)", "certificates",
              operation_id="delete_draft", acting_user=True, scope=Scope.DELETE,
              responses={200: "the draft as it was before deletion", **_ERRORS}),
        ApiRoute("POST", f"{base}/copy", simple(lifecycle.copy_locked, 201),
              "Copy a locked draft into a new draft (SKAPAT)", "certificates", operation_id="copy_locked",
              acting_user=True, responses={201: "the new draft", **_ERRORS}),
        *_related_routes(base, deps),
        *_question_routes(base, deps),
    ]
    return [replace(route, handler=_guarded(route.handler)) for route in table]


def _review(revoked: Certificate) -> dict[str, Any]:
    """Revoking a replacing certificate leaves the one it replaced valid: the user is told to review it."""
    replaced = review_after_revoking(revoked)
    if replaced is None:
        return {}
    return {"review": {"certificateId": replaced, "reason": "REPLACED_BY_REVOKED",
                       "message": f"Certificate {replaced}, which the revoked certificate replaced, is valid again: "
                                  "review it, and replace or revoke it if it is wrong."}}


def _related(result: Related) -> Response:
    """201 with a new draft, 200 with the replacing or completing draft that existed already."""
    return Response(201 if result.created else 200, {**_certificate(result.certificate), "created": result.created})


_UNIT_PROPERTY: dict[str, Any] = {
    "type": ["string", "null"], "pattern": f"^{TYPED_HSA_ID.pattern}$",
    "description": "HSA-id of the vårdenhet the user works at now (their logged-in unit): the new draft is issued "
                   "there. It must be in the directory (else 400 UNIT_UNKNOWN), covered by one of the user's care "
                   "assignments (else 403 NO_ASSIGNMENT) and a unit of the certificate's care giver (else 403 "
                   "OTHER_CARE_GIVER); these refusals name it in 'unit'. Absent or null: the certificate's own unit",
}
_RELATED_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"unit": _UNIT_PROPERTY}}
_COMPLETE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["mode"],
    "properties": {
        "unit": {**_UNIT_PROPERTY, "description": f"{_UNIT_PROPERTY['description']}. Not used by mode C"},
        "mode": {"type": "string", "enum": [m.value for m in CompletionMode],
                 "description": "A: a completing certificate; B: no further medical information can be given "
                                "(a copy with 'text' in the other-information answer; physicians only); C: nobody "
                                "at the unit can take responsibility (an answer to the recipient with 'text')"},
        "text": {"type": "string", "description": "the comment (B) or the answer (C); required for both"},
    },
}
_RELATED_RESPONSES = {201: "the new draft (created: true)",
                      200: "the replacing or completing draft that exists already (created: false)", **_ERRORS}


def _unit(body: dict[str, Any]) -> HsaId | None:
    """The body's optional ``unit`` (the user's unit now) as an HSA-id; absent or null: None.

    An empty string is refused rather than read as absent: a client that meant to name a unit must not
    have its draft issued somewhere else without a word.
    """
    value = body.get("unit")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return typed_hsa_id(value)
        except ValueError:
            pass
    raise ApiError(400, "INVALID_BODY", "give 'unit' as the HSA-id of a care unit, such as SE2321000016-1000",
                   parameter="unit")


def _related_routes(base: str, deps: LifecycleDeps) -> list[ApiRoute]:
    def renew(request: Request) -> Response:
        user, body = request.acting_user(), request.json()  # an empty body is {}
        return _related(related.renew(deps, request.params["certificate_id"], user, request.correlation_id,
                                      _unit(body)))

    def replace_(request: Request) -> Response:
        user, body = request.acting_user(), request.json()
        return _related(related.replace_certificate(deps, request.params["certificate_id"], user,
                                                    request.correlation_id, _unit(body)))

    def complete(request: Request) -> Response:
        user, body = request.acting_user(), request.json()
        try:
            mode = CompletionMode(_field(body, "mode"))
        except ValueError:
            raise ApiError(400, "INVALID_BODY", "mode must be A, B or C", parameter="mode") from None
        text = body.get("text")
        if text is not None and not isinstance(text, str):
            raise ApiError(400, "INVALID_BODY", "give 'text' as a string", parameter="text")
        unit = _unit(body)  # checked for its shape in every mode, used by A and B
        certificate_id = request.params["certificate_id"]
        if mode is CompletionMode.C:
            answer = questions.answer_completions(deps, certificate_id, user, text or "", request.correlation_id)
            return Response(201, {"answer": arende_to_json(answer)})
        return _related(related.complete(deps, certificate_id, user, mode, text, request.correlation_id, unit))

    return [
        ApiRoute("POST", f"{base}/renew", renew,
                 "Renew (förnya) a signed certificate: a new draft, relation FRLANG, without the answers its type "
                 "has made anew, at the user's unit (optional body {\"unit\": HSA-id}; default the certificate's) "
                 "(SKAPAT; PDL: Skriva)", "certificates", operation_id="renew", acting_user=True,
                 body=_RELATED_SCHEMA, body_required=False, responses=_RELATED_RESPONSES),
        ApiRoute("POST", f"{base}/replace", replace_,
                 "Replace (ersätta) a signed certificate: a corrected copy, relation ERSATT, at the user's unit "
                 "(optional body {\"unit\": HSA-id}; default the certificate's), or the replacing draft that exists "
                 "(SKAPAT; PDL: Skriva)", "certificates", operation_id="replace", acting_user=True,
                 body=_RELATED_SCHEMA, body_required=False, responses=_RELATED_RESPONSES),
        ApiRoute("POST", f"{base}/complete", complete,
                 "Complete (komplettera) at the recipient's request, answering every open KOMPLT question: mode A or "
                 "B a completing draft, relation KOMPLT, at the user's unit ('unit'; default the certificate's), "
                 "sent when signed (SKAPAT); mode C an answer to the recipient (HANFRFM for each question)",
                 "certificates", operation_id="complete", acting_user=True,
                 body=_COMPLETE_SCHEMA,
                 responses={**_RELATED_RESPONSES, 201: "the new draft (A, B) or the answer (C)"}),
    ]


def _question_routes(base: str, deps: LifecycleDeps) -> list[ApiRoute]:
    def ask(request: Request) -> Response:
        user, body = request.acting_user(), request.json()
        try:
            amne = Amne(_field(body, "amne"))
        except ValueError:
            raise ApiError(400, R.AMNE_NOT_ALLOWED.value, "amne must be KONTKT, AVSTMN or OVRIGT") from None
        heading = body.get("heading")
        if heading is not None and not isinstance(heading, str):
            raise ApiError(400, "INVALID_BODY", "give 'heading' as a string")
        asked = questions.ask_question(
            deps, request.params["certificate_id"], user, amne, heading, _field(body, "text"), request.correlation_id
        )
        return Response(201, {"question": arende_to_json(asked)})

    def answer(request: Request) -> Response:
        user, body = request.acting_user(), request.json()
        answered = questions.answer_question(
            deps, request.params["certificate_id"], request.params["question_id"], user, _field(body, "text"),
            request.correlation_id,
        )
        return Response(201, {"answer": arende_to_json(answered)})

    def handled(request: Request) -> Response:
        done = questions.mark_question_handled(
            deps, request.params["certificate_id"], request.params["question_id"], request.acting_user(),
            request.correlation_id,
        )
        return Response(200, {"question": arende_to_json(done)})

    question = f"{base}/questions/{{question_id}}"
    return [
        ApiRoute("POST", f"{base}/questions", ask, "Ask the recipient a question (NYFRFV)", "questions",
              operation_id="ask_question", acting_user=True, body=_text_schema("amne", "text", "heading"),
              responses={201: "the stored question", **_ERRORS}),
        ApiRoute("POST", f"{question}/answer", answer, "Answer the recipient's question (HANFRFM)", "questions",
              operation_id="answer_question", acting_user=True, body=_text_schema("text"),
              responses={201: "the stored answer", **_ERRORS}),
        ApiRoute("POST", f"{question}/handled", handled, "Mark a question handled (HANFRFM/HANFRFV)", "questions",
              operation_id="mark_question_handled", acting_user=True,
              responses={200: "the question as it is now", **_ERRORS}),
    ]
