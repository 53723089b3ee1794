"""The certificate lifecycle: which change is allowed in which state, for which role. Pure functions.

States and transitions (``docs/lifecycle.md`` has the table)::

    DRAFT --mark_ready--> READY --sign--> SIGNED --send--> SENT
      |  <--update_content--'  (a content change sends READY back to DRAFT)
      +--sign--> SIGNED
    DRAFT/READY --lock_if_stale (14 days after creation)--> LOCKED --copy_locked--> new DRAFT
    DRAFT/READY/LOCKED/SIGNED/SENT --revoke--> REVOKED        DRAFT/READY --check_delete--> (row removed)

Each function takes the certificate and what the decision needs (the acting user's role, the
certificate type, the time) and returns the changed certificate, with ``version`` one higher and
``updated_at`` set, or raises ``LifecycleRefused``. Nothing here reads the directory or the database:
``usecases.lifecycle`` fetches, calls these, and stores the result with its event in one
transaction.

Choices (Webcert does the same unless said otherwise):

* A READY certificate whose content changes goes back to DRAFT: "ready for signing" was said about
  the old content, and the signer must be told again (a new KFSIGN). Saving identical content
  changes nothing.
* Any role with an assignment may read, edit, mark ready, send and delete; signing and revoking are
  for läkare and tandläkare, and sjuksköterska/barnmorska for types with ``nurses_may_sign``. The
  role must also be one that may create the type. So a vårdadministratör never signs or revokes.
* A test certificate (validation person) may be signed but never sent.
* A LOCKED draft may only be revoked or copied; the copy is a new DRAFT by the acting user, with the
  same content, patient and unit and ``copied_from`` naming the original.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from domain.certificate_types import CertificateType
from domain.certificates import Answer, Certificate
from domain.directory import Personnel
from domain.values import CertificateStatus, HsaId, Role

LOCK_AGE = timedelta(days=14)
"""A draft not signed this long after creation is locked (``scheduler.locking`` and on access)."""

MAX_REASON_LENGTH = 2000

S = CertificateStatus
_EDITABLE = frozenset({S.DRAFT, S.READY})
_REVOCABLE = frozenset({S.DRAFT, S.READY, S.LOCKED, S.SIGNED, S.SENT})
_PHYSICIANS = frozenset({Role.LAKARE, Role.TANDLAKARE})
_NURSES = frozenset({Role.SJUKSKOTERSKA, Role.BARNMORSKA})


class Action(StrEnum):
    """What was asked of a certificate; named in every refusal."""

    READ = "READ"
    UPDATE_CONTENT = "UPDATE_CONTENT"
    MARK_READY = "MARK_READY"
    SIGN = "SIGN"
    SEND = "SEND"
    REVOKE = "REVOKE"
    DELETE = "DELETE"
    LOCK = "LOCK"
    COPY = "COPY"
    # Ärenden (usecases.questions): care answers, closes or asks.
    ANSWER_QUESTION = "ANSWER_QUESTION"
    HANDLE_QUESTION = "HANDLE_QUESTION"
    ASK_QUESTION = "ASK_QUESTION"


class RefusalReason(StrEnum):
    """Why an action was refused. Callers decide on these, never on a message text."""

    CERTIFICATE_NOT_FOUND = "CERTIFICATE_NOT_FOUND"  # no certificate with this id (or deleted)
    USER_UNKNOWN = "USER_UNKNOWN"  # the acting user is not in the directory
    NO_ASSIGNMENT = "NO_ASSIGNMENT"  # the acting user has no care assignment on the unit's tree
    WRONG_STATUS = "WRONG_STATUS"  # the action is not allowed in the certificate's status
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"  # the acting user's role may not do this
    TYPE_UNKNOWN = "TYPE_UNKNOWN"  # the certificate's type is no longer in the registry
    TEST_CERTIFICATE = "TEST_CERTIFICATE"  # a test certificate cannot be sent
    REASON_MISSING = "REASON_MISSING"  # a revocation needs a reason
    REASON_TOO_LONG = "REASON_TOO_LONG"  # the reason is longer than MAX_REASON_LENGTH
    CONFLICT = "CONFLICT"  # someone else changed the certificate meanwhile; read it again
    QUESTION_NOT_FOUND = "QUESTION_NOT_FOUND"  # the certificate has no question with this meddelande-id
    QUESTION_NOT_ANSWERABLE = "QUESTION_NOT_ANSWERABLE"  # care answers only the recipient's questions
    QUESTION_ANSWERED = "QUESTION_ANSWERED"  # the question already has an answer
    QUESTION_HANDLED = "QUESTION_HANDLED"  # the question is already handled
    AMNE_NOT_ALLOWED = "AMNE_NOT_ALLOWED"  # care may ask about KONTKT, AVSTMN or OVRIGT only
    TEXT_MISSING = "TEXT_MISSING"  # a question or answer needs a text


class LifecycleRefused(Exception):
    """Raised when an action on a certificate is not allowed; the fields say which rule and why."""

    def __init__(
        self,
        reason: RefusalReason,
        action: Action,
        certificate_id: str,
        *,
        status: CertificateStatus | None = None,
        role: Role | None = None,
    ) -> None:
        self.reason = reason
        self.action = action
        self.certificate_id = certificate_id
        self.status = status
        self.role = role
        details = ", ".join(
            f"{name}={value}" for name, value in (("status", status), ("role", role)) if value
        )
        super().__init__(f"{action} of {certificate_id} refused: {reason}" + (f" ({details})" if details else ""))


def _refuse(
    reason: RefusalReason, action: Action, certificate: Certificate, role: Role | None = None
) -> LifecycleRefused:
    return LifecycleRefused(reason, action, certificate.id, status=certificate.status, role=role)


def _require_status(certificate: Certificate, action: Action, allowed: frozenset[CertificateStatus]) -> None:
    if certificate.status not in allowed:
        raise _refuse(RefusalReason.WRONG_STATUS, action, certificate)


def _changed(certificate: Certificate, now: datetime, **changes: object) -> Certificate:
    return replace(certificate, version=certificate.version + 1, updated_at=now, **changes)  # type: ignore[arg-type]


def is_stale(certificate: Certificate, now: datetime) -> bool:
    """An unsigned draft (DRAFT or READY) created more than ``LOCK_AGE`` before ``now``."""
    return certificate.status in _EDITABLE and certificate.created_at < lock_cutoff(now)


def lock_cutoff(now: datetime) -> datetime:
    """Drafts created before this instant are due to be locked."""
    return now - LOCK_AGE


def lock_if_stale(certificate: Certificate, now: datetime) -> Certificate:
    """The certificate LOCKED if it is stale (see ``is_stale``), else unchanged.

    The locking job locks drafts in bulk; this applies the same rule when a certificate is used
    before the job has run, so a 15-day-old draft can never be signed.
    """
    if not is_stale(certificate, now):
        return certificate
    return _changed(certificate, now, status=S.LOCKED, locked_at=now)


def update_content(certificate: Certificate, content: tuple[Answer, ...], now: datetime) -> Certificate:
    """New content for a DRAFT or READY certificate; a READY one goes back to DRAFT if it changed.

    Identical content returns the certificate unchanged (no new version, no event).
    """
    _require_status(certificate, Action.UPDATE_CONTENT, _EDITABLE)
    if content == certificate.content:
        return certificate
    return _changed(
        certificate, now, content=content, status=S.DRAFT, ready_at=None, ready_by=None
    )


def mark_ready(certificate: Certificate, user: HsaId, now: datetime) -> Certificate:
    """DRAFT → READY (klar för signering). Every role may do it; it is how a vårdadministratör hands over."""
    _require_status(certificate, Action.MARK_READY, frozenset({S.DRAFT}))
    return _changed(certificate, now, status=S.READY, ready_at=now, ready_by=user)


def may_sign(role: Role, certificate_type: CertificateType) -> bool:
    """Whether ``role`` may sign certificates of ``certificate_type`` (see the module docstring)."""
    if role not in certificate_type.allowed_roles:
        return False
    return role in _PHYSICIANS or (role in _NURSES and certificate_type.nurses_may_sign)


def sign(
    certificate: Certificate,
    signer: Personnel,
    role: Role,
    certificate_type: CertificateType | None,
    now: datetime,
) -> Certificate:
    """DRAFT or READY → SIGNED by ``signer``, whose ``role`` must be allowed to sign the type."""
    _require_status(certificate, Action.SIGN, _EDITABLE)
    if certificate_type is None:
        raise _refuse(RefusalReason.TYPE_UNKNOWN, Action.SIGN, certificate, role)
    if not may_sign(role, certificate_type):
        raise _refuse(RefusalReason.ROLE_NOT_ALLOWED, Action.SIGN, certificate, role)
    return _changed(
        certificate, now, status=S.SIGNED, signed_at=now, signed_by=signer.hsa_id,
        signed_by_name=signer.name,
    )


def send(certificate: Certificate, certificate_type: CertificateType | None, now: datetime) -> Certificate:
    """SIGNED → SENT to the type's recipient. A test certificate is never sent."""
    _require_status(certificate, Action.SEND, frozenset({S.SIGNED}))
    if certificate.test_certificate or certificate.patient.test_indicator:
        raise _refuse(RefusalReason.TEST_CERTIFICATE, Action.SEND, certificate)
    if certificate_type is None:
        raise _refuse(RefusalReason.TYPE_UNKNOWN, Action.SEND, certificate)
    return _changed(certificate, now, status=S.SENT, sent_at=now, sent_to=certificate_type.recipient)


def revoke(
    certificate: Certificate,
    user: HsaId,
    role: Role,
    certificate_type: CertificateType | None,
    reason: str,
    now: datetime,
) -> Certificate:
    """Any state but REVOKED → REVOKED (makulera), by a role that may sign the type, with a reason.

    A type no longer in the registry can still be revoked, by läkare and tandläkare.
    """
    _require_status(certificate, Action.REVOKE, _REVOCABLE)
    allowed = role in _PHYSICIANS if certificate_type is None else may_sign(role, certificate_type)
    if not allowed:
        raise _refuse(RefusalReason.ROLE_NOT_ALLOWED, Action.REVOKE, certificate, role)
    text = reason.strip()
    if not text:
        raise _refuse(RefusalReason.REASON_MISSING, Action.REVOKE, certificate, role)
    if len(text) > MAX_REASON_LENGTH:
        raise _refuse(RefusalReason.REASON_TOO_LONG, Action.REVOKE, certificate, role)
    return _changed(
        certificate, now, status=S.REVOKED, revoked_at=now, revoked_by=user, revoke_reason=text
    )


def check_delete(certificate: Certificate) -> None:
    """Only a draft that is neither locked nor signed may be deleted (its row is then removed)."""
    _require_status(certificate, Action.DELETE, _EDITABLE)


def copy_locked(
    certificate: Certificate,
    new_id: str,
    creator: Personnel,
    role: Role,
    certificate_type: CertificateType | None,
    now: datetime,
) -> Certificate:
    """A new DRAFT from a LOCKED one: same type, content, patient and unit, made by ``creator`` now.

    The creator's role must be one that may create the type, as for any new draft.
    """
    _require_status(certificate, Action.COPY, frozenset({S.LOCKED}))
    if certificate_type is None:
        raise _refuse(RefusalReason.TYPE_UNKNOWN, Action.COPY, certificate, role)
    if role not in certificate_type.allowed_roles:
        raise _refuse(RefusalReason.ROLE_NOT_ALLOWED, Action.COPY, certificate, role)
    return Certificate(
        id=new_id,
        type_code=certificate.type_code,
        type_code_system=certificate.type_code_system,
        received_type_code=certificate.received_type_code,
        received_type_code_system=certificate.received_type_code_system,
        status=S.DRAFT,
        patient=certificate.patient,
        unit=certificate.unit,
        care_giver=certificate.care_giver,
        created_by=creator,
        created_at=now,
        test_certificate=certificate.test_certificate,
        ref=certificate.ref,
        prefill_xml=certificate.prefill_xml,
        extensions=certificate.extensions,
        content=certificate.content,
        copied_from=certificate.id,
    )
