"""Related certificates: renew (förnya), replace (ersätta) and complete (komplettera). Pure rules.

Each is a new draft made from a signed certificate (its *parent*), which it names with a relation
(``RelationCode``, KV_RELATION) kept on the new certificate (``Certificate.relation_code`` and
``relation_parent``):

* **Renew** (FRLANG): a new draft of a renewable type (registry: ``renewable``) with every answer but
  those that must be made anew (registry: ``renewal_drops``), typically to extend a sick leave.
* **Replace** (ERSATT): a corrected copy. The replaced certificate stays valid but read-only. While a
  replacing draft exists, asking again returns that draft; deleting it makes replacement possible
  again; once a replacement is signed, the parent is *replaced*.
* **Complete** (KOMPLT): the recipient asked for completion (questions with amne KOMPLT). Care answers
  all open KOMPLT questions of the certificate at once, in one of three ways (``CompletionMode``):
  A a completing certificate (a copy), B a copy whose "other information" answer (registry:
  ``other_information_answer``) carries the physician's comment that no further medical information
  can be given (physicians only), C a message to the recipient (no new draft). While a completing
  draft exists, asking again returns it; once one is signed, the parent is *completed*.

Shared rules (``check_new_related``): the parent must be signed and not revoked; a replaced or
completed certificate is renewed, replaced and completed no more (a revoked replacement or
completion does not count); the type must still be issued, for this patient (a type not allowed
for protected identity is not made for a patient who has it now), and the user's role one that may
create it. For a **deceased** patient nothing new is made (renew, replace, complete A and B are refused;
returning a replacing or completing draft that exists already makes nothing new); what concerns
existing certificates stays possible: signing a draft written while the patient lived, sending,
revoking, asking and answering (complete C is an answer).

When the new certificate is **signed** (``usecases.lifecycle.sign``): a completing certificate is
sent to the type's recipient at once, its registration names the latest of the questions it
answers (``svarPa``, ``completion_reference``), and the parent's open KOMPLT questions become
handled (HANFRFM each); a renewing or replacing one also handles the parent's open KOMPLT questions
(``handles_parent_completions``); administrative questions stay open. Reminders (PAMINN) are never
answered: they are handled with the question they remind about (``reminders_of``).

Revoking a replacing certificate leaves the replaced one as it was: the user is told to review it
(``review_after_revoking``).

**Where the new draft is issued** (``check_draft_unit``): at the parent's unit, or at the unit the
user names, the vårdenhet they work at now (as a care front end's logged-in unit). A named unit must
be in the directory, the user must hold a care assignment covering it (the rule of every user action,
``draft_checks.has_care_assignment``), and it must be a unit of the parent's care giver: the new draft
carries the parent's content, and handing that to another care giver would be a disclosure that needs
the patient's consent under sammanhållen journalföring, which the gateway does not handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from domain.activation import ActivationState, Placement, activation_state
from domain.arenden import Amne, Arende, ArendeStatus, Direction, MessageReference
from domain.certificate_types import CertificateType
from domain.certificates import Answer, AnswerPart, Certificate
from domain.directory import CareGiver, Person, Personnel, Unit
from domain.draft_checks import has_care_assignment
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.roles import role_of
from domain.values import CertificateStatus, HsaId, RelationCode, Role

S = CertificateStatus
#: A parent's statuses from which a related certificate may be made: signed, and not revoked.
_SIGNED = frozenset({S.SIGNED, S.SENDING, S.SENT})
#: A child in these is an unsigned draft that may still be signed (a LOCKED one never will).
_OPEN_DRAFT = frozenset({S.DRAFT, S.READY})
_PHYSICIANS = frozenset({Role.LAKARE, Role.TANDLAKARE})

#: The relation each operation gives its new draft.
RELATION_OF: dict[Action, RelationCode] = {
    Action.RENEW: RelationCode.FRLANG,
    Action.REPLACE: RelationCode.ERSATT,
    Action.COMPLETE: RelationCode.KOMPLT,
}
#: Relations whose signing handles the parent's open KOMPLT questions (as the incumbent).
_HANDLES_COMPLETIONS = frozenset({RelationCode.KOMPLT, RelationCode.ERSATT, RelationCode.FRLANG})


class CompletionMode(StrEnum):
    """How care answers a completion request (module docstring)."""

    A = "A"  # a completing certificate
    B = "B"  # no further medical information: a copy with the physician's comment
    C = "C"  # nobody at the unit can take responsibility: a message to the recipient


@dataclass(frozen=True, slots=True)
class Child:
    """A certificate made from the parent, as the rules see it: its id, relation and status."""

    id: str
    relation: RelationCode
    status: CertificateStatus

    @property
    def is_signed(self) -> bool:
        """Signed and not revoked: it counts (a parent it replaces or completes is done)."""
        return self.status in _SIGNED


def children_of(certificates: Iterable[Certificate], parent_id: str) -> list[Child]:
    """The children of ``parent_id`` among ``certificates``."""
    return [Child(c.id, c.relation_code, c.status) for c in certificates
            if c.relation_parent == parent_id and c.relation_code is not None]


def open_completions(conversation: Iterable[Arende]) -> list[Arende]:
    """The recipient's open completion requests (KOMPLT questions neither answered nor handled), oldest
    first: by the sender's time, then (the wire's time has whole seconds) by when they arrived."""
    return sorted((a for a in conversation if a.is_question and a.amne is Amne.KOMPLT
                   and a.direction is Direction.FROM_RECIPIENT and a.status is ArendeStatus.OPEN),
                  key=lambda a: (a.sent_at, a.received_at, a.message_id))


def completion_reference(completions: Sequence[Arende]) -> MessageReference | None:
    """``svarPa`` of a completion: the latest of the requests it answers (the incumbent's choice: one
    reference fits the contract, and the latest is the one the recipient is waiting on)."""
    if not completions:
        return None
    latest = completions[-1]
    return MessageReference(latest.message_id, latest.reference_id)


def reminders_of(conversation: Iterable[Arende], question_ids: Iterable[str]) -> list[str]:
    """The reminders (PAMINN) not yet handled that remind about one of ``question_ids``: they are
    handled when their question is answered or handled."""
    wanted = set(question_ids)
    return [a.message_id for a in conversation
            if a.is_reminder and a.reminder_of in wanted and a.status is not ArendeStatus.HANDLED]


def handles_parent_completions(certificate: Certificate) -> bool:
    """Whether signing ``certificate`` handles its parent's open KOMPLT questions."""
    return certificate.relation_code in _HANDLES_COMPLETIONS and certificate.relation_parent is not None


@dataclass(frozen=True, slots=True)
class Reopened:
    """The parent's messages revoking a certificate opens again: completion requests and their reminders."""

    questions: tuple[str, ...] = ()
    reminders: tuple[str, ...] = ()


def reopened_by_revoking(revoked: Certificate, siblings: Sequence[Child],
                         parent_conversation: Iterable[Arende]) -> Reopened:
    """What revoking ``revoked`` opens again on its parent: the KOMPLT questions, and their reminders,
    that its signing handled, unless a certificate made from the parent after it (``siblings``, the
    parent's children oldest first) that handles completion requests too is signed and not revoked.

    The incumbent reopens the parent's completion requests when the latest completion is revoked
    (onward-flows §4.4): otherwise the recipient's request stays handled by a certificate that no
    longer counts, and nobody is asked to answer it again. A later valid completion, replacement or
    renewal answers the recipient now, so nothing is reopened. Only what this certificate's signing
    handled is reopened (a request an earlier completion answered stays answered): the messages
    handled at its signing time by its signer, which one transaction wrote together with the
    signature (``usecases.lifecycle.sign``).
    """
    if not handles_parent_completions(revoked) or revoked.signed_at is None or revoked.signed_by is None:
        return Reopened()
    ids = [child.id for child in siblings]
    later = siblings[ids.index(revoked.id) + 1:] if revoked.id in ids else []
    if any(child.relation in _HANDLES_COMPLETIONS and child.is_signed for child in later):
        return Reopened()
    handled_then = [a for a in parent_conversation if a.status is ArendeStatus.HANDLED
                    and a.direction is Direction.FROM_RECIPIENT
                    and a.handled_at == revoked.signed_at and a.handled_by == revoked.signed_by]
    questions = tuple(a.message_id for a in handled_then if a.is_question and a.amne is Amne.KOMPLT)
    reminders = tuple(a.message_id for a in handled_then if a.is_reminder and a.reminder_of in questions)
    return Reopened(questions, reminders)


def sent_on_signing(certificate: Certificate) -> bool:
    """A completing certificate is sent when signed: the recipient asked for it."""
    return certificate.relation_code is RelationCode.KOMPLT


def review_after_revoking(certificate: Certificate) -> str | None:
    """The certificate the user should review after revoking ``certificate``: the one it replaced."""
    return certificate.relation_parent if certificate.relation_code is RelationCode.ERSATT else None


def _refuse(reason: RefusalReason, action: Action, parent: Certificate, role: Role | None = None) -> LifecycleRefused:
    return LifecycleRefused(reason, action, parent.id, status=parent.status, role=role)


def check_new_related(
    action: Action,
    parent: Certificate,
    children: Sequence[Child],
    certificate_type: CertificateType | None,
    role: Role,
    deceased: bool,
    *,
    mode: CompletionMode = CompletionMode.A,
    open_questions: int = 0,
    protected: bool = False,
    placement: Placement | None = None,
    day: date | None = None,
) -> str | None:
    """Whether ``action`` (RENEW, REPLACE or COMPLETE) may make a new draft from ``parent``: the id of
    the replacing or completing draft that exists already (return it, make nothing), or None (make
    one). ``deceased``: the patient is deceased now; ``protected``: has protected identity now (a type
    not ``allowed_for_protected`` is then not made, as at creation). ``open_questions``: the parent's
    open KOMPLT questions (COMPLETE needs one). ``placement`` and ``day``: where the new draft would be
    issued (its unit, the units above it, its care giver) and the Swedish calendar day, for the type's
    activation (``domain.activation``, as CreateDraftCertificate checks it: a type not yet issued, no
    longer issued or in a pilot elsewhere is not made by renewing either); required unless nothing new
    is made (mode C).

    Raises:
        LifecycleRefused: WRONG_STATUS (not signed, or revoked), ALREADY_REPLACED, ALREADY_COMPLETED,
            NO_OPEN_COMPLETION, (for mode C nothing more), TYPE_UNKNOWN, TYPE_INACTIVE, TYPE_NOT_AVAILABLE,
            NOT_RENEWABLE, PATIENT_DECEASED, PATIENT_PROTECTED, ROLE_NOT_ALLOWED, NO_OTHER_INFORMATION (in
            that order).
    """
    if parent.status not in _SIGNED:
        raise _refuse(RefusalReason.WRONG_STATUS, action, parent)
    signed = {child.relation for child in children if child.is_signed}
    if RelationCode.ERSATT in signed:
        raise _refuse(RefusalReason.ALREADY_REPLACED, action, parent)
    if RelationCode.KOMPLT in signed:
        raise _refuse(RefusalReason.ALREADY_COMPLETED, action, parent)
    if action is Action.COMPLETE and open_questions == 0:
        raise _refuse(RefusalReason.NO_OPEN_COMPLETION, action, parent)
    if action is Action.COMPLETE and mode is CompletionMode.C:
        return None  # an answer to the recipient: nothing new is made, so neither type nor death stops it
    if action is not Action.RENEW:
        existing = next((c.id for c in children if c.relation is RELATION_OF[action] and c.status in _OPEN_DRAFT),
                        None)
        if existing is not None:
            return existing
    if certificate_type is None:
        raise _refuse(RefusalReason.TYPE_UNKNOWN, action, parent, role)
    if not certificate_type.active:
        raise _refuse(RefusalReason.TYPE_INACTIVE, action, parent, role)
    assert placement is not None and day is not None, "a new draft is checked where and when it is made"
    if activation_state(True, certificate_type.activation, placement, day) is not ActivationState.ACTIVE:
        raise _refuse(RefusalReason.TYPE_NOT_AVAILABLE, action, parent, role)
    if action is Action.RENEW and not certificate_type.renewable:
        raise _refuse(RefusalReason.NOT_RENEWABLE, action, parent, role)
    if deceased:
        raise _refuse(RefusalReason.PATIENT_DECEASED, action, parent, role)
    if protected and not certificate_type.allowed_for_protected:
        raise _refuse(RefusalReason.PATIENT_PROTECTED, action, parent, role)
    if role not in certificate_type.allowed_roles or (mode is CompletionMode.B and role not in _PHYSICIANS):
        raise _refuse(RefusalReason.ROLE_NOT_ALLOWED, action, parent, role)
    if mode is CompletionMode.B and certificate_type.other_information_answer is None:
        raise _refuse(RefusalReason.NO_OTHER_INFORMATION, action, parent, role)
    return None


def check_draft_unit(
    action: Action, parent: Certificate, requested: HsaId, user: Personnel | None, units: Mapping[HsaId, Unit]
) -> Unit:
    """The unit ``requested`` as the directory knows it, if ``user`` may have the new draft made from
    ``parent`` issued there (module docstring). ``user`` is what the directory returned for the acting
    user (None: unknown); ``units`` the requested unit, the user's assignment units and their
    ancestors (``usecases.acting_user.units_around``).

    Raises:
        LifecycleRefused: USER_UNKNOWN, UNIT_UNKNOWN, NO_ASSIGNMENT (no assignment covering the unit),
            OTHER_CARE_GIVER (in that order); each but the first names the unit in ``unit``.
    """
    if user is None:
        raise LifecycleRefused(RefusalReason.USER_UNKNOWN, action, parent.id)
    role = role_of(user)
    unit = units.get(requested)
    if unit is None:
        raise LifecycleRefused(RefusalReason.UNIT_UNKNOWN, action, parent.id, role=role, unit=requested)
    if not has_care_assignment(user, requested, units):
        raise LifecycleRefused(RefusalReason.NO_ASSIGNMENT, action, parent.id, role=role, unit=requested)
    if unit.care_giver != parent.care_giver.hsa_id:
        raise LifecycleRefused(RefusalReason.OTHER_CARE_GIVER, action, parent.id, role=role, unit=requested)
    return unit


def related_content(
    parent: Certificate, action: Action, certificate_type: CertificateType, comment: str | None = None
) -> tuple[Answer, ...]:
    """The new draft's answers: the parent's, less ``renewal_drops`` for a renewal, and with ``comment``
    added to the "other information" answer (completion mode B)."""
    content = parent.content
    if action is Action.RENEW:
        content = tuple(a for a in content if a.id not in certificate_type.renewal_drops)
    if comment is not None and certificate_type.other_information_answer is not None:
        content = with_comment(content, certificate_type.other_information_answer, comment)
    return content


def with_comment(content: tuple[Answer, ...], answer_id: str, comment: str) -> tuple[Answer, ...]:
    """``content`` with ``comment`` in answer ``answer_id``'s first part (``<id>.1``): after what it says
    already, a blank line between, or as a new answer at the end."""
    part_id = f"{answer_id}.1"
    for index, answer in enumerate(content):
        if answer.id != answer_id:
            continue
        parts = list(answer.parts)
        at = next((i for i, p in enumerate(parts) if p.id == part_id), None)
        if at is None:
            parts.append(AnswerPart(part_id, comment))
        else:
            before = parts[at].value.rstrip()
            parts[at] = replace(parts[at], value=f"{before}\n\n{comment}" if before else comment)
        return (*content[:index], replace(answer, parts=tuple(parts)), *content[index + 1:])
    return (*content, Answer(answer_id, None, (AnswerPart(part_id, comment),)))


def related_draft(
    parent: Certificate,
    action: Action,
    new_id: str,
    creator: Personnel,
    patient: Person,
    content: tuple[Answer, ...],
    now: datetime,
    unit: Unit | None = None,
    care_giver: CareGiver | None = None,
) -> Certificate:
    """The new DRAFT made by ``creator`` from ``parent`` with the relation of ``action``: the same type,
    the patient as the directory knows them now (``patient``), at ``unit`` of ``care_giver`` (default
    the parent's; ``check_draft_unit`` decides whether another may be given).

    What the journal system sent when it created the parent (its ``ref``, prefill and extensions)
    belongs to that request, not to the new draft.
    """
    return Certificate(
        id=new_id,
        type_code=parent.type_code,
        type_code_system=parent.type_code_system,
        received_type_code=parent.type_code,
        received_type_code_system=parent.type_code_system,
        status=S.DRAFT,
        patient=patient,
        unit=unit or parent.unit,
        care_giver=care_giver or parent.care_giver,
        created_by=creator,
        created_at=now,
        test_certificate=parent.test_certificate,
        content=content,
        relation_code=RELATION_OF[action],
        relation_parent=parent.id,
    )
