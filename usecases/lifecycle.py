"""The certificate operations of an editor or operator, each one unit of work.

Every operation runs the same steps: check the acting user against the directory (``acting_user``:
in HSA, assignment on the certificate's unit tree), then in one transaction read the certificate
with a row lock (``for_update``), lock the draft first if it is past its lock period
(``lifecycle.lock_if_stale`` with the type's ``lifecycle.lock_days``: the job may not have run
yet), apply the rule from ``domain.lifecycle``, save at the version read (``Conflict`` if someone
else saved meanwhile), queue the status-update event with the acting user
as ``hanteratAv``, and write the PDL record. A refusal raises ``LifecycleRefused`` and nothing is
written; a certificate that was only locked lazily stays as it was until the job locks it.

Events and PDL activities (``EVENTS_AND_ACTIVITIES``): update content ANDRAT/Skriva, mark ready
KFSIGN/Skriva, sign SIGNAT/Signera, send (no event yet)/Utskrift, revoke MAKULE/Radera (with the
question counts after its open questions were closed, and the reason code and description), delete
RADERA/Radera (with the whole certificate in ``payload["certificate"]``, because its row is gone),
copy a locked draft SKAPAT/Skriva on the new draft. Reading (``show``) writes a Läsa record and no
event. Test certificates and PU test persons get no PDL records, as in CreateDraftCertificate. A
directory or database outage raises ``DependencyUnavailable``.

Onward (``domain.onward``, by ``LifecycleDeps.onward``): signing registers the certificate at the
archive in ``archive`` mode, and sends it at once for a type with ``send_on_sign``; sending leaves it
SENDING and queues the call that carries the send; SKICKA is queued when the recipient accepts it
(``usecases.onward``), never here. Revoking cancels the onward deliveries that have not started and
queues RevokeCertificate where the certificate reached (or may reach) a recipient or the archive.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from domain import lifecycle, relations
from domain.arenden import Arende, DeliveryState, MessageReference, handled_code
from domain.certificate_types import CertificateType, CertificateTypes
from domain.certificates import Answer, Certificate, to_snapshot
from domain.directory import Directory, DirectoryUnavailable
from domain.events import OutboundContract, OutboxEvent, event_about
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.onward import (
    DEFAULT_ARCHIVE_ADDRESS,
    REVOKED_BEFORE,
    Actor,
    OnwardConfig,
    OnwardTarget,
    on_send,
    on_signed,
    revocation,
    revocation_targets,
    to_cancel,
    with_answers,
)
from domain.pdl import Activity, SystemIdentity
from domain.question_counts import question_counts, to_payload
from domain.recipients import Recipient, load_default_recipients
from domain.values import EventCode, HsaId, RelationCode
from store import Tx, UnitOfWork, arenden, certificates, outbox
from store.errors import Conflict, DatabaseUnavailable
from usecases.acting_user import ActingUser, acting_user
from usecases.pdl_log import record_certificate_access

log = structlog.get_logger("usecases.lifecycle")

EVENTS_AND_ACTIVITIES: dict[Action, tuple[EventCode | None, Activity]] = {
    Action.READ: (None, Activity.READ),
    Action.UPDATE_CONTENT: (EventCode.ANDRAT, Activity.WRITE),
    Action.MARK_READY: (EventCode.KFSIGN, Activity.WRITE),
    Action.SIGN: (EventCode.SIGNAT, Activity.SIGN),
    Action.SEND: (None, Activity.PRINT),  # SKICKA follows the recipient's acceptance (usecases.onward)
    Action.REVOKE: (EventCode.MAKULE, Activity.DELETE),
    Action.DELETE: (EventCode.RADERA, Activity.DELETE),
    Action.COPY: (EventCode.SKAPAT, Activity.WRITE),
}


class DependencyUnavailable(Exception):
    """Raised when the directory or the database does not answer; the caller may try again."""

    def __init__(self, dependency: str) -> None:
        super().__init__(f"the {dependency} is not answering")
        self.dependency = dependency


@dataclass(frozen=True, slots=True)
class LifecycleDeps:
    """What the certificate operations need from the outside world."""

    transaction: UnitOfWork
    directory: Directory
    registry: CertificateTypes
    system: SystemIdentity
    clock: Callable[[], datetime]
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    draft_lock_days: int = lifecycle.DEFAULT_LOCK_DAYS  # the draft_lock_days setting; a type's own wins
    onward: OnwardConfig = field(default_factory=lambda: default_onward())  # onward_target and the recipients


def default_onward() -> OnwardConfig:
    """The shipped recipients, delivered to directly (``onward_target = "recipient"``)."""
    return OnwardConfig(OnwardTarget.RECIPIENT, DEFAULT_ARCHIVE_ADDRESS, load_default_recipients())


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate as read by a user, with its ärenden (questions, reminders, answers) and its onward
    deliveries (registration, send, revocation, messages: each event as the outbox holds it)."""

    certificate: Certificate
    arenden: tuple[Arende, ...]
    deliveries: tuple[outbox.StoredEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class OperationContext:
    """One operation in progress: its session, time, acting user and the certificate as read."""

    session: Tx
    now: datetime
    user: ActingUser
    certificate: Certificate
    correlation_id: str


def certificate_event(
    ctx: OperationContext, certificate: Certificate, code: EventCode, payload: dict[str, Any]
) -> OutboxEvent:
    """The status-update event of a user's operation: the user becomes ``hanteratAv``."""
    return event_about(certificate.header, code, ctx.now, ctx.correlation_id, ctx.user.hsa_id, payload)


def actor(ctx: OperationContext) -> Actor:
    """The acting user as onward messages name their sender (``skickatAv``)."""
    return Actor(ctx.user.hsa_id, ctx.user.personnel.name)


def run_operation(
    deps: LifecycleDeps,
    action: Action,
    certificate_id: str,
    user: HsaId,
    correlation_id: str,
    step: Callable[[OperationContext], Certificate],
) -> Certificate:
    """Check the user, then read, lock if stale and ``step`` (which writes) in one transaction.

    The directory is asked before the writing transaction opens: the embedded directory reads in
    its own transactions, which on SQLite would wait for our write lock. A certificate's unit never
    changes, so checking the user against the unit read first is as good as checking it inside.
    """
    try:
        actor = _actor(deps, action, certificate_id, user)
        with deps.transaction() as session:
            stored = certificates.get_certificate(session, certificate_id, for_update=True)
            if stored is None:  # deleted since the check
                raise LifecycleRefused(RefusalReason.CERTIFICATE_NOT_FOUND, action, certificate_id)
            now = deps.clock()
            current = stored
            if action is not Action.READ:
                days = lifecycle.lock_days(type_of(deps, stored), deps.draft_lock_days)
                current = lifecycle.lock_if_stale(stored, now, days)
                if current is not stored:
                    certificates.save_certificate(session, current, stored.version)
            result = step(OperationContext(session, now, actor, current, correlation_id))
    except Conflict as error:
        raise LifecycleRefused(RefusalReason.CONFLICT, action, certificate_id) from error
    except DirectoryUnavailable as error:
        log.warning("directory_unavailable", action=action.value)
        raise DependencyUnavailable("directory") from error
    except DatabaseUnavailable as error:
        log.warning("database_unavailable", action=action.value)
        raise DependencyUnavailable("database") from error
    log.info(
        "certificate_action",
        action=action.value,
        certificate_id=certificate_id,
        status=result.status.value,
        user=user.value,
    )
    return result


def _actor(deps: LifecycleDeps, action: Action, certificate_id: str, user: HsaId) -> ActingUser:
    """The acting user, checked against the directory for the certificate's unit."""
    with deps.transaction() as session:
        found = certificates.get_certificate(session, certificate_id)
    if found is None:
        raise LifecycleRefused(RefusalReason.CERTIFICATE_NOT_FOUND, action, certificate_id)
    return acting_user(deps.directory, user, found.unit_id, action, certificate_id)


def _change(
    deps: LifecycleDeps,
    action: Action,
    certificate_id: str,
    user: HsaId,
    correlation_id: str,
    apply: Callable[[OperationContext], Certificate],
    payload: Callable[[OperationContext, Certificate], dict[str, Any]] = lambda ctx, changed: {},
    onward_events: Callable[[OperationContext, Certificate], list[OutboxEvent]] = lambda ctx, changed: [],
) -> Certificate:
    """An operation that changes the certificate in place: save, event, onward events, PDL record."""
    code, activity = EVENTS_AND_ACTIVITIES[action]

    def step(ctx: OperationContext) -> Certificate:
        changed = apply(ctx)
        if changed is ctx.certificate:
            return changed  # nothing changed: no new version, no event, no record
        certificates.save_certificate(ctx.session, changed, ctx.certificate.version)
        events = [certificate_event(ctx, changed, code, payload(ctx, changed))] if code is not None else []
        outbox.enqueue_all(ctx.session, [*events, *onward_events(ctx, changed)])
        record_certificate_access(ctx.session, deps.system, changed, ctx.user.hsa_id, activity, ctx.now)
        return changed

    return run_operation(deps, action, certificate_id, user, correlation_id, step)


def type_of(deps: LifecycleDeps, certificate: Certificate) -> CertificateType | None:
    """The certificate's type in the registry, or None when it is no longer there."""
    return deps.registry.lookup(certificate.type_code, certificate.type_code_system)


def show(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str) -> CertificateView:
    """The certificate and its ärenden, as ``user`` may read them; writes a Läsa record."""
    conversation: list[Arende] = []
    deliveries: list[outbox.StoredEvent] = []

    def step(ctx: OperationContext) -> Certificate:
        conversation.extend(arenden.arenden_for_certificate(ctx.session, ctx.certificate.id))
        deliveries.extend(e for e in outbox.events_for_certificate(ctx.session, ctx.certificate.id) if e.is_onward)
        record_certificate_access(ctx.session, deps.system, ctx.certificate, ctx.user.hsa_id, Activity.READ, ctx.now)
        return ctx.certificate

    certificate = run_operation(deps, Action.READ, certificate_id, user, correlation_id, step)
    return CertificateView(certificate, tuple(conversation), tuple(deliveries))


def update_content(
    deps: LifecycleDeps, certificate_id: str, user: HsaId, content: tuple[Answer, ...], correlation_id: str
) -> Certificate:
    """Replace a draft's content (ANDRAT); identical content changes nothing."""
    return _change(
        deps, Action.UPDATE_CONTENT, certificate_id, user, correlation_id,
        lambda ctx: lifecycle.update_content(ctx.certificate, content, ctx.now),
    )


def mark_ready(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str) -> Certificate:
    """DRAFT → READY (KFSIGN)."""
    return _change(
        deps, Action.MARK_READY, certificate_id, user, correlation_id,
        lambda ctx: lifecycle.mark_ready(ctx.certificate, ctx.user.hsa_id, ctx.now),
    )


def sign(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str) -> Certificate:
    """DRAFT/READY → SIGNED by ``user`` (SIGNAT); registered at the archive in ``archive`` mode, and
    sent at once (SENDING) for a type with ``send_on_sign`` and for a completing certificate
    (relation KOMPLT), as ``send`` would.

    A refused automatic send does not undo the signing: the certificate is SIGNED with the refusal
    as its send failure (a test certificate is simply not sent).

    A completing, replacing or renewing certificate also handles its parent's open KOMPLT questions
    (and their reminders): one HANFRFM per question on the parent, in the same transaction; a
    completion's registration names the latest of them (``svarPa``; ``domain.relations``).
    """
    sent: list[OutboxEvent] = []

    def apply(ctx: OperationContext) -> Certificate:
        certificate_type = type_of(deps, ctx.certificate)
        signed = lifecycle.sign(ctx.certificate, ctx.user.personnel, ctx.user.role, certificate_type, ctx.now)
        if certificate_type is None or not (certificate_type.send_on_sign or relations.sent_on_signing(signed)):
            return signed
        try:
            sending = _sending(deps, ctx, signed, None)
        except LifecycleRefused as refused:
            if refused.reason is RefusalReason.TEST_CERTIFICATE:
                return signed
            log.warning("send_on_sign_refused", certificate_id=signed.id, reason=refused.reason.value)
            return lifecycle.refused_send(signed, refused.reason, ctx.now)
        sent.extend(on_send(sending, _recipient(deps, sending), deps.onward, ctx.now, ctx.correlation_id,
                            actor(ctx)))
        return sending

    def onward_events(ctx: OperationContext, changed: Certificate) -> list[OutboxEvent]:
        if sent:  # sending discloses the certificate to the recipient: the send's own PDL record too
            record_certificate_access(ctx.session, deps.system, changed, ctx.user.hsa_id, Activity.PRINT, ctx.now)
        answered = _handle_parent_completions(deps, ctx, changed)
        onward = [*on_signed(changed, deps.onward, ctx.now, ctx.correlation_id, actor(ctx)), *sent]
        if changed.relation_code is RelationCode.KOMPLT and answered is not None:
            onward = [with_answers(e, answered) if e.contract is OutboundContract.REGISTER else e for e in onward]
        return onward

    return _change(deps, Action.SIGN, certificate_id, user, correlation_id, apply, onward_events=onward_events)


def _handle_parent_completions(deps: LifecycleDeps, ctx: OperationContext,
                               signed: Certificate) -> MessageReference | None:
    """Handle the parent's open KOMPLT questions and their reminders (HANFRFM on the parent for each
    question, a Skriva record on the parent) when ``signed`` completes, replaces or renews it; the
    latest question handled (a completion's ``svarPa``), or None."""
    if not relations.handles_parent_completions(signed) or signed.relation_parent is None:
        return None
    parent = certificates.get_certificate(ctx.session, signed.relation_parent, for_update=True)
    if parent is None:
        return None  # a parent is never deleted once signed; a copy's parent draft may be
    conversation = arenden.arenden_for_certificate(ctx.session, parent.id)
    completions = relations.open_completions(conversation)
    if not completions:
        return None
    handled = [q.message_id for q in completions]
    for message_id in [*handled, *relations.reminders_of(conversation, handled)]:
        arenden.mark_handled(ctx.session, message_id, ctx.user.hsa_id.value, ctx.now)
    counts = to_payload(question_counts(arenden.arenden_for_certificate(ctx.session, parent.id)))
    outbox.enqueue_all(ctx.session, [
        certificate_event(ctx, parent, EventCode.HANFRFM, {"counts": counts, "question": message_id})
        for message_id in handled])
    record_certificate_access(ctx.session, deps.system, parent, ctx.user.hsa_id, Activity.WRITE, ctx.now)
    return relations.completion_reference(completions)


def _reopen_parent_completions(deps: LifecycleDeps, ctx: OperationContext, revoked: Certificate) -> None:
    """Open the parent's completion requests ``revoked`` handled when signed, with their reminders
    (HANFRFM on the parent for each question, a Skriva record on the parent)."""
    if not relations.handles_parent_completions(revoked) or revoked.relation_parent is None:
        return
    parent = certificates.get_certificate(ctx.session, revoked.relation_parent, for_update=True)
    if parent is None:
        return
    reopened = relations.reopened_by_revoking(
        revoked, certificates.children(ctx.session, parent.id), arenden.arenden_for_certificate(ctx.session, parent.id)
    )
    if not reopened.questions:
        return
    arenden.reopen(ctx.session, [*reopened.questions, *reopened.reminders])
    counts = to_payload(question_counts(arenden.arenden_for_certificate(ctx.session, parent.id)))
    outbox.enqueue_all(ctx.session, [
        certificate_event(ctx, parent, EventCode.HANFRFM, {"counts": counts, "question": message_id})
        for message_id in reopened.questions])
    record_certificate_access(ctx.session, deps.system, parent, ctx.user.hsa_id, Activity.WRITE, ctx.now)
    log.info("completions_reopened", certificate_id=parent.id, revoked=revoked.id,
             questions=len(reopened.questions), reminders=len(reopened.reminders))


def send(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str,
         recipient: str | None = None) -> Certificate:
    """SIGNED → SENDING to ``recipient`` (default: the type's), which must be in the recipient registry,
    active and take the type; the call that carries the send is queued. SKICKA comes when the
    recipient (or the archive) accepts it (``usecases.onward``)."""

    def onward_events(ctx: OperationContext, changed: Certificate) -> list[OutboxEvent]:
        return on_send(changed, _recipient(deps, changed), deps.onward, ctx.now, ctx.correlation_id, actor(ctx))

    return _change(
        deps, Action.SEND, certificate_id, user, correlation_id,
        lambda ctx: _sending(deps, ctx, ctx.certificate, recipient), onward_events=onward_events,
    )


def _sending(
    deps: LifecycleDeps, ctx: OperationContext, certificate: Certificate, recipient: str | None
) -> Certificate:
    """``certificate`` SENDING to ``recipient`` (or its type's), checked against the registry."""
    certificate_type = type_of(deps, certificate)
    wanted = recipient or (certificate_type.recipient if certificate_type is not None else "")
    checked = deps.onward.recipients.check_send(wanted, certificate.type_code)
    return lifecycle.send(certificate, certificate_type, checked, ctx.now)


def _recipient(deps: LifecycleDeps, certificate: Certificate) -> Recipient:
    """The recipient a SENDING certificate goes to (``lifecycle.send`` checked it just now)."""
    found = deps.onward.recipients.lookup(certificate.sent_to or "")
    assert found is not None, "a certificate is SENDING only to a recipient in the registry"
    return found


def revoke(
    deps: LifecycleDeps,
    certificate_id: str,
    user: HsaId,
    reason_code: str,
    description: str | None,
    correlation_id: str,
) -> Certificate:
    """Revoke (makulera) with a reason code and description (``domain.lifecycle.check_revocation``);
    its open questions become handled. MAKULE carries the question counts and the reason, and is
    followed by one HANFRFM (the recipient's question) or HANFRFV (care's) per question it closed,
    as the incumbent reports them (onward-flows §1.4).

    Revoking a completion, replacement or renewal opens again the parent's KOMPLT questions its
    signing handled, unless a later one answers them (``domain.relations.reopened_by_revoking``):
    one HANFRFM per question on the parent, as the incumbent reports a reopened question.
    """

    closed_events: list[OutboxEvent] = []

    def payload(ctx: OperationContext, changed: Certificate) -> dict[str, Any]:
        closed = arenden.close_open_questions(ctx.session, changed.id, ctx.user.hsa_id.value, ctx.now)
        conversation = arenden.arenden_for_certificate(ctx.session, changed.id)
        counts = to_payload(question_counts(conversation))
        closed_events.extend(
            certificate_event(ctx, changed, handled_code(question), {"counts": counts, "question": question.message_id})
            for question in conversation if question.message_id in closed)
        return {"counts": counts, "reason": revoke_reason_payload(changed)}

    def onward_events(ctx: OperationContext, changed: Certificate) -> list[OutboxEvent]:
        """Cancel what has not started; revoke where the certificate reached, or may still reach. The
        events of the questions the revocation closed come first, after MAKULE; the parent's reopened
        requests are its own events."""
        records = outbox.onward_records(ctx.session, changed.id, ctx.now)
        cancelled = set(outbox.cancel_pending(ctx.session, to_cancel(records), ctx.now, REVOKED_BEFORE))
        arenden.set_delivery(ctx.session, [(r.message_id, DeliveryState.CANCELLED, REVOKED_BEFORE) for r in records
                                           if r.event_id in cancelled and r.message_id is not None])
        _reopen_parent_completions(deps, ctx, changed)
        return [*closed_events, *(
            revocation(changed.header, destination, recipient, ctx.now, ctx.correlation_id, actor(ctx))
            for destination, recipient in revocation_targets(records, cancelled))]

    return _change(
        deps, Action.REVOKE, certificate_id, user, correlation_id,
        lambda ctx: lifecycle.revoke(
            ctx.certificate, ctx.user.hsa_id, ctx.user.role, type_of(deps, ctx.certificate), reason_code,
            description, ctx.now,
        ),
        payload,
        onward_events,
    )


def revoke_reason_payload(certificate: Certificate) -> dict[str, str | None]:
    """The revocation's reason as the MAKULE event records it: ``{"code", "description"}``."""
    code = certificate.revoke_reason_code
    return {"code": code.value if code is not None else None, "description": certificate.revoke_reason}


def delete(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str) -> Certificate:
    """Remove a draft (RADERA, carrying the removed certificate); returns it as it was."""

    def step(ctx: OperationContext) -> Certificate:
        lifecycle.check_delete(ctx.certificate)
        certificates.delete_certificate(ctx.session, ctx.certificate.id)
        payload = {"certificate": to_snapshot(ctx.certificate)}
        outbox.enqueue(ctx.session, certificate_event(ctx, ctx.certificate, EventCode.RADERA, payload))
        record_certificate_access(
            ctx.session, deps.system, ctx.certificate, ctx.user.hsa_id, Activity.DELETE, ctx.now
        )
        return ctx.certificate

    return run_operation(deps, Action.DELETE, certificate_id, user, correlation_id, step)


def copy_locked(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str) -> Certificate:
    """A new DRAFT from a LOCKED one, made by ``user`` (SKAPAT on the new draft); returns the copy."""

    def step(ctx: OperationContext) -> Certificate:
        copy = lifecycle.copy_locked(
            ctx.certificate, deps.new_id(), ctx.user.personnel, ctx.user.role,
            type_of(deps, ctx.certificate), ctx.now,
        )
        certificates.add_certificate(ctx.session, copy)
        payload = {"ref": copy.ref} if copy.ref is not None else {}
        outbox.enqueue(ctx.session, certificate_event(ctx, copy, EventCode.SKAPAT, payload))
        record_certificate_access(ctx.session, deps.system, copy, ctx.user.hsa_id, Activity.WRITE, ctx.now)
        return copy

    return run_operation(deps, Action.COPY, certificate_id, user, correlation_id, step)
