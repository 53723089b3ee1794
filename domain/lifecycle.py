"""The certificate lifecycle: which change is allowed in which state, for which role. Pure functions.

States and transitions (``docs/lifecycle.md`` has the table)::

    DRAFT --mark_ready--> READY --sign--> SIGNED --send--> SENDING --recipient accepted--> SENT
      |  <--update_content--'  (a content change sends READY back to DRAFT)    |
      +--sign--> SIGNED          SIGNED <--the send failed for good (with why)--'
    DRAFT/READY --lock_if_stale (draft_lock_days after creation)--> LOCKED --copy_locked--> new DRAFT
    DRAFT/READY/LOCKED/SIGNED/SENDING/SENT --revoke--> REVOKED    DRAFT/READY --check_delete--> (row removed)

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
* A send is to a recipient in the registry (``domain.recipients``) that is active and takes the
  type: by default the type's own recipient. It leaves the certificate SENDING until the recipient
  (or the archive) accepts it; only then is it SENT (``SEND_ACCEPTED``). A send that fails for good
  returns it to SIGNED with the failure (``SEND_FAILED``), and it can be sent again. The incumbent
  marked it sent, and told the journal SKICKA, when the send was only queued.
* A LOCKED draft may only be revoked or copied; the copy is a new DRAFT by the acting user, with the
  same content, patient and unit and relation KOPIA to the original.
* The lock period is configuration (``lock_days``): the deployment's ``draft_lock_days`` (14 by
  default, as the incumbent), a type's own ``draft_lock_days`` winning, and 0 meaning never. The
  rule that required locking (SOSFS 2008:14) was replaced by HSLF-FS 2016:40, which does not, so
  regions may turn it off; drafts locked before stay locked (they can be copied).
* A revocation carries a reason code (``RevokeReason``, the incumbent's two) and a description
  that must say something for ANNAT_ALLVARLIGT_FEL (``check_revocation``): the recipient's
  administrators act on it, and "c", "." or "dubblett" tell them nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from domain.certificate_types import CertificateType
from domain.certificates import Answer, Certificate
from domain.directory import Personnel
from domain.onward import may_leave
from domain.recipients import Recipient, SendRefusal
from domain.values import CertificateStatus, HsaId, RelationCode, RevokeReason, Role

DEFAULT_LOCK_DAYS = 14
"""A draft not signed this many days after creation is locked, unless configured otherwise."""

MAX_REASON_LENGTH = 2000
#: A description of a revocation must be at least this long, after trimming and collapsing spaces.
MIN_DESCRIPTION_LENGTH = 10

S = CertificateStatus
_EDITABLE = frozenset({S.DRAFT, S.READY})
_REVOCABLE = frozenset({S.DRAFT, S.READY, S.LOCKED, S.SIGNED, S.SENDING, S.SENT})
#: The settlement of a send, as (from, to): the recipient accepted it, or it failed for good. The
#: outbox's outcome step applies these to many certificates at once (``store.certificates``), so
#: they are data here rather than functions over one certificate.
SEND_ACCEPTED = (S.SENDING, S.SENT)
SEND_FAILED = (S.SENDING, S.SIGNED)
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
    # Related certificates (domain.relations): a new draft from a signed certificate.
    RENEW = "RENEW"
    REPLACE = "REPLACE"
    COMPLETE = "COMPLETE"
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
    RECIPIENT_UNKNOWN = SendRefusal.RECIPIENT_UNKNOWN.value  # no such recipient in the registry
    RECIPIENT_INACTIVE = SendRefusal.RECIPIENT_INACTIVE.value  # the recipient takes nothing now
    RECIPIENT_NOT_FOR_TYPE = SendRefusal.RECIPIENT_NOT_FOR_TYPE.value  # the recipient does not take this type
    REASON_MISSING = "REASON_MISSING"  # a revocation needs a reason code
    REASON_UNKNOWN = "REASON_UNKNOWN"  # the reason code is not a RevokeReason
    DESCRIPTION_MISSING = "DESCRIPTION_MISSING"  # ANNAT_ALLVARLIGT_FEL needs a description
    DESCRIPTION_TOO_VAGUE = "DESCRIPTION_TOO_VAGUE"  # too short, only punctuation, or one repeated character
    REASON_TOO_LONG = "REASON_TOO_LONG"  # the description is longer than MAX_REASON_LENGTH
    CONFLICT = "CONFLICT"  # someone else changed the certificate meanwhile; read it again
    QUESTION_NOT_FOUND = "QUESTION_NOT_FOUND"  # the certificate has no question with this meddelande-id
    QUESTION_NOT_ANSWERABLE = "QUESTION_NOT_ANSWERABLE"  # care answers only the recipient's questions
    QUESTION_ANSWERED = "QUESTION_ANSWERED"  # the question already has an answer
    QUESTION_HANDLED = "QUESTION_HANDLED"  # the question is already handled
    AMNE_NOT_ALLOWED = "AMNE_NOT_ALLOWED"  # care may ask about KONTKT, AVSTMN or OVRIGT only
    TEXT_MISSING = "TEXT_MISSING"  # a question or answer needs a text
    NO_ANSWERS = "NO_ANSWERS"  # a draft with no answers cannot be signed
    ANSWERS_MISSING = "ANSWERS_MISSING"  # answers the type requires are missing (``missing`` names them)
    # Related certificates (domain.relations):
    TYPE_INACTIVE = "TYPE_INACTIVE"  # the type is no longer issued: no new draft of it
    TYPE_NOT_AVAILABLE = "TYPE_NOT_AVAILABLE"  # not issued at the draft's unit today (dates or pilot)
    NOT_RENEWABLE = "NOT_RENEWABLE"  # the type is not renewed (registry: renewable)
    ALREADY_REPLACED = "ALREADY_REPLACED"  # a signed certificate replaces this one
    ALREADY_COMPLETED = "ALREADY_COMPLETED"  # a signed certificate completes this one
    PATIENT_DECEASED = "PATIENT_DECEASED"  # nothing new is made for a deceased patient
    PATIENT_PROTECTED = "PATIENT_PROTECTED"  # the type is not made for a patient with protected identity
    NO_OPEN_COMPLETION = "NO_OPEN_COMPLETION"  # no open KOMPLT question to answer
    COMPLETION_REQUIRED = "COMPLETION_REQUIRED"  # a KOMPLT question is answered by completing (complete)
    QUESTION_IS_REMINDER = "QUESTION_IS_REMINDER"  # a reminder (PAMINN) cannot be answered
    NO_OTHER_INFORMATION = "NO_OTHER_INFORMATION"  # the type has no "other information" answer (mode B)
    # The unit a related draft is issued at, when the user names one (``relations.check_draft_unit``):
    UNIT_UNKNOWN = "UNIT_UNKNOWN"  # the directory does not know the unit
    OTHER_CARE_GIVER = "OTHER_CARE_GIVER"  # the unit is another care giver's: that would need consent (SJF)


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
        missing: tuple[str, ...] = (),
        unit: HsaId | None = None,
    ) -> None:
        self.reason = reason
        self.action = action
        self.certificate_id = certificate_id
        self.status = status
        self.role = role
        self.missing = missing  # ANSWERS_MISSING: the answer ids the type requires and the draft lacks
        # The unit the user named for a related draft, on a refusal about it (UNIT_UNKNOWN, NO_ASSIGNMENT,
        # OTHER_CARE_GIVER); None on a refusal about the certificate's own unit.
        self.unit = unit
        details = ", ".join(
            f"{name}={value}" for name, value in (("status", status), ("role", role), ("missing", ",".join(missing)),
                                                  ("unit", unit))
            if value
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


def lock_days(certificate_type: CertificateType | None, default_days: int) -> int:
    """The lock period of drafts of ``certificate_type``: its own ``draft_lock_days``, else the
    deployment's ``default_days`` (also for a type no longer in the registry). 0: never lock."""
    if certificate_type is not None and certificate_type.draft_lock_days is not None:
        return certificate_type.draft_lock_days
    return default_days


def lock_cutoff(now: datetime, days: int) -> datetime:
    """Drafts with a lock period of ``days`` (above 0) created before this instant are due to be locked."""
    return now - timedelta(days=days)


def is_stale(certificate: Certificate, now: datetime, days: int) -> bool:
    """An unsigned draft (DRAFT or READY) created more than ``days`` days before ``now``; never when 0."""
    return days > 0 and certificate.status in _EDITABLE and certificate.created_at < lock_cutoff(now, days)


def lock_if_stale(certificate: Certificate, now: datetime, days: int) -> Certificate:
    """The certificate LOCKED if it is stale (see ``is_stale``), else unchanged.

    The locking job locks drafts in bulk; this applies the same rule when a certificate is used
    before the job has run, so a draft past its lock period can never be signed.
    """
    if not is_stale(certificate, now, days):
        return certificate
    return _changed(certificate, now, status=S.LOCKED, locked_at=now)


@dataclass(frozen=True, slots=True)
class LockRule:
    """One sweep of the locking job: drafts created before ``created_before`` whose type code is in
    ``type_codes`` (None: any type not in ``except_codes``) are due to be locked."""

    created_before: datetime
    type_codes: frozenset[str] | None = None
    except_codes: frozenset[str] = frozenset()


def lock_rules(types: Iterable[CertificateType], default_days: int, now: datetime) -> list[LockRule]:
    """The sweeps that lock every stale draft at ``now``: one for the types with the default period,
    one per period of the types that override it. Types whose period is 0 are in none.

    A draft of a type no longer in the registry has the default period (as on use, ``lock_days``).
    """
    overrides: dict[int, set[str]] = {}
    for certificate_type in types:
        if certificate_type.draft_lock_days is not None:
            overrides.setdefault(certificate_type.draft_lock_days, set()).add(certificate_type.code)
    overridden = frozenset(code for codes in overrides.values() for code in codes)
    rules = [LockRule(lock_cutoff(now, default_days), None, overridden)] if default_days > 0 else []
    rules += [
        LockRule(lock_cutoff(now, days), frozenset(codes)) for days, codes in sorted(overrides.items()) if days > 0
    ]
    return rules


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


def missing_answers(certificate: Certificate, certificate_type: CertificateType) -> tuple[str, ...]:
    """The answer ids ``certificate_type`` requires (``required_answers``) that the content lacks, in
    the registry's order. An answer counts when one of its parts says something (text or typed XML)."""
    present = {a.id for a in certificate.content if any(p.value.strip() or p.xml for p in a.parts)}
    return tuple(answer_id for answer_id in certificate_type.required_answers if answer_id not in present)


def sign(
    certificate: Certificate,
    signer: Personnel,
    role: Role,
    certificate_type: CertificateType | None,
    now: datetime,
) -> Certificate:
    """DRAFT or READY → SIGNED by ``signer``, whose ``role`` must be allowed to sign the type.

    A draft with no answers is refused (NO_ANSWERS), and one without an answer the type requires
    (ANSWERS_MISSING, naming them in ``missing``): nobody signs an empty certificate.
    """
    _require_status(certificate, Action.SIGN, _EDITABLE)
    if certificate_type is None:
        raise _refuse(RefusalReason.TYPE_UNKNOWN, Action.SIGN, certificate, role)
    if not may_sign(role, certificate_type):
        raise _refuse(RefusalReason.ROLE_NOT_ALLOWED, Action.SIGN, certificate, role)
    if not certificate.content:
        raise _refuse(RefusalReason.NO_ANSWERS, Action.SIGN, certificate, role)
    missing = missing_answers(certificate, certificate_type)
    if missing:
        raise LifecycleRefused(RefusalReason.ANSWERS_MISSING, Action.SIGN, certificate.id, status=certificate.status,
                               role=role, missing=missing)
    return _changed(
        certificate, now, status=S.SIGNED, signed_at=now, signed_by=signer.hsa_id,
        signed_by_name=signer.name,
    )


def send(
    certificate: Certificate,
    certificate_type: CertificateType | None,
    recipient: Recipient | SendRefusal,
    now: datetime,
) -> Certificate:
    """SIGNED → SENDING to ``recipient`` (as ``RecipientRegistry.check_send`` found it, or why not).

    Refused: WRONG_STATUS (not SIGNED: a send in progress is not started twice), TEST_CERTIFICATE
    (never sent), TYPE_UNKNOWN, and the recipient refusals. A failure of an earlier send is cleared.
    """
    _require_status(certificate, Action.SEND, frozenset({S.SIGNED}))
    if not may_leave(certificate):
        raise _refuse(RefusalReason.TEST_CERTIFICATE, Action.SEND, certificate)
    if certificate_type is None:
        raise _refuse(RefusalReason.TYPE_UNKNOWN, Action.SEND, certificate)
    if isinstance(recipient, SendRefusal):
        raise _refuse(RefusalReason(recipient.value), Action.SEND, certificate)
    return _changed(certificate, now, status=S.SENDING, sent_to=recipient.id, send_requested_at=now,
                    send_failed_at=None, send_failure_class=None, send_failure_text=None)


def refused_send(certificate: Certificate, refusal: RefusalReason, now: datetime) -> Certificate:
    """A SIGNED certificate whose automatic send (``send_on_sign``) was refused: the refusal recorded as
    the send's failure, so that it shows why the certificate was not sent."""
    return replace(certificate, send_failed_at=now, send_failure_class=refusal.value,
                   send_failure_text=f"sending on signing was refused: {refusal.value}")


def _says_something(text: str) -> bool:
    """At least ``MIN_DESCRIPTION_LENGTH`` characters, and two different letters or digits.

    A floor, not a judge: it stops "c", ".", "-----", "aaaaaaaaaa" and "dubblett" (which does not
    say of what), and lets any real sentence through.
    """
    alphanumeric = {char.casefold() for char in text if char.isalnum()}
    return len(text) >= MIN_DESCRIPTION_LENGTH and len(alphanumeric) >= 2


def check_revocation(reason_code: str, description: str | None) -> tuple[RevokeReason, str | None] | RefusalReason:
    """The reason code and description of a revocation, cleaned, or why they are refused.

    The code must be one of ``RevokeReason`` (exact spelling, surrounding spaces ignored). The
    description is kept as written, trimmed. For ANNAT_ALLVARLIGT_FEL, where it is the only
    explanation the recipient gets, it is required and must say something (``_says_something``, on
    the text with runs of white space collapsed); for FEL_PATIENT it is optional (the code says it
    all). Never longer than ``MAX_REASON_LENGTH``.
    """
    code = reason_code.strip()
    if not code:
        return RefusalReason.REASON_MISSING
    try:
        reason = RevokeReason(code)
    except ValueError:
        return RefusalReason.REASON_UNKNOWN
    text = (description or "").strip() or None  # kept as written, line breaks included
    if text is not None and len(text) > MAX_REASON_LENGTH:
        return RefusalReason.REASON_TOO_LONG
    if reason is RevokeReason.ANNAT_ALLVARLIGT_FEL:
        if text is None:
            return RefusalReason.DESCRIPTION_MISSING
        if not _says_something(" ".join(text.split())):
            return RefusalReason.DESCRIPTION_TOO_VAGUE
    return reason, text


def revoke(
    certificate: Certificate,
    user: HsaId,
    role: Role,
    certificate_type: CertificateType | None,
    reason_code: str,
    description: str | None,
    now: datetime,
) -> Certificate:
    """Any state but REVOKED → REVOKED (makulera), by a role that may sign the type, with a reason
    code and a description (``check_revocation``).

    A type no longer in the registry can still be revoked, by läkare and tandläkare.
    """
    _require_status(certificate, Action.REVOKE, _REVOCABLE)
    allowed = role in _PHYSICIANS if certificate_type is None else may_sign(role, certificate_type)
    if not allowed:
        raise _refuse(RefusalReason.ROLE_NOT_ALLOWED, Action.REVOKE, certificate, role)
    checked = check_revocation(reason_code, description)
    if isinstance(checked, RefusalReason):
        raise _refuse(checked, Action.REVOKE, certificate, role)
    reason, text = checked
    return _changed(
        certificate, now, status=S.REVOKED, revoked_at=now, revoked_by=user, revoke_reason=text,
        revoke_reason_code=reason,
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
        relation_code=RelationCode.KOPIA,
        relation_parent=certificate.id,
    )
