"""Care's side of the ärenden: answer a recipient's question, mark a question handled, ask a question,
and answer every completion request at once by a message (completion mode C, ``answer_completions``).

The operations API calls these for a user of a certificate editor. Each runs through the lifecycle
operations' own unit of work and dependencies (``usecases.lifecycle.run_operation``, ``LifecycleDeps``):
the acting user is checked against the directory, the certificate is read with a row lock (so a
revocation, which closes the questions, and these never interleave), then the step here applies its
rule, stores, queues the status-update event with the user as ``hanteratAv`` and the question counts
in ``payload["counts"]``, and writes a Skriva PDL record. A refusal raises ``LifecycleRefused`` with a
``RefusalReason`` and nothing is written; an outage raises ``DependencyUnavailable``.

A completion request (KOMPLT) is answered by completing (``usecases.relations``, or mode C here), not
by a plain answer (COMPLETION_REQUIRED); a reminder (PAMINN) is never answered (QUESTION_IS_REMINDER)
and becomes handled with the question it reminds about (``domain.relations.reminders_of``).

Events: answering the recipient's question is HANFRFM (the question is now answered); marking a
question handled is HANFRFM for the recipient's question and HANFRFV for care's own; asking is
NYFRFV. The journal system is told at once. Care's question or answer also goes to the recipient
with SendMessageToRecipient (``domain.onward.on_message``: to the recipient's logical address, or to
the archive naming it), queued in the same transaction and ordered after the certificate's
registration there; the message shows its delivery (PENDING, then DELIVERED, FAILED or CANCELLED,
``usecases.onward``). The recipient must be in the recipient registry (RECIPIENT_UNKNOWN otherwise:
nothing is stored); an inactive recipient still gets messages about certificates it has.
"""

from __future__ import annotations

from collections.abc import Callable

from domain import relations
from domain.arenden import (
    CARE_PART,
    Amne,
    Arende,
    ArendeStatus,
    DeliveryState,
    Direction,
    MessageReference,
    handled_code,
)
from domain.certificates import Certificate
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.onward import OutgoingMessage, may_leave, on_message
from domain.pdl import Activity
from domain.question_counts import question_counts, to_payload
from domain.recipients import Recipient
from domain.relations import CompletionMode
from domain.values import CertificateStatus, EventCode, HsaId
from store import arenden, certificates, outbox
from usecases import lifecycle as operations
from usecases.lifecycle import (
    LifecycleDeps,
    OperationContext,
)
from usecases.pdl_log import record_certificate_access

#: What care may ask the recipient about (completion requests and reminders are the recipient's).
CARE_AMNEN = frozenset({Amne.KONTKT, Amne.AVSTMN, Amne.OVRIGT})
#: Who care's questions go to when the certificate does not name its recipient.
DEFAULT_RECIPIENT = "FKASSA"



def answer_question(
    deps: LifecycleDeps,
    certificate_id: str,
    question_id: str,
    user: HsaId,
    text: str,
    correlation_id: str,
) -> Arende:
    """Care answers the recipient's question ``question_id``; returns the stored answer (HANFRFM).

    Refused: QUESTION_NOT_FOUND (no such question on the certificate), QUESTION_NOT_ANSWERABLE
    (care's own question: the recipient answers those), QUESTION_HANDLED, QUESTION_ANSWERED,
    TEXT_MISSING, and WRONG_STATUS for a revoked certificate.
    """

    def step(ctx: OperationContext) -> Arende:
        conversation = arenden.arenden_for_certificate(ctx.session, ctx.certificate.id)
        if any(a.message_id == question_id and a.is_reminder for a in conversation):
            raise _refused(ctx, Action.ANSWER_QUESTION, RefusalReason.QUESTION_IS_REMINDER)
        question = _question(ctx, Action.ANSWER_QUESTION, conversation, question_id)
        if question.amne is Amne.KOMPLT and question.direction is Direction.FROM_RECIPIENT:
            raise _refused(ctx, Action.ANSWER_QUESTION, RefusalReason.COMPLETION_REQUIRED)
        if question.direction is not Direction.FROM_RECIPIENT:
            raise _refused(
                ctx, Action.ANSWER_QUESTION, RefusalReason.QUESTION_NOT_ANSWERABLE
            )
        if question.status is ArendeStatus.HANDLED:
            raise _refused(ctx, Action.ANSWER_QUESTION, RefusalReason.QUESTION_HANDLED)
        if any(
            a.is_answer and a.answer_to and a.answer_to.message_id == question_id
            for a in conversation
        ):
            raise _refused(ctx, Action.ANSWER_QUESTION, RefusalReason.QUESTION_ANSWERED)
        answer = _from_care(
            deps,
            ctx,
            Action.ANSWER_QUESTION,
            amne=question.amne,
            text=text,
            recipient=question.sender_part,
            status=ArendeStatus.ANSWERED,
            answer_to=MessageReference(question.message_id, question.reference_id),
        )
        arenden.add_arende(ctx.session, answer)
        arenden.mark_answered(ctx.session, [question_id], ctx.now)
        _handle_reminders(ctx, conversation, [question_id])
        _finish(deps, ctx, EventCode.HANFRFM, answer)
        return answer

    return _run(
        deps, Action.ANSWER_QUESTION, certificate_id, user, correlation_id, step
    )


def answer_completions(
    deps: LifecycleDeps,
    certificate_id: str,
    user: HsaId,
    text: str,
    correlation_id: str,
) -> Arende:
    """Completion mode C: care answers every open completion request (KOMPLT) of the certificate at
    once with a message (no one at the unit can take responsibility for a completion); returns it.

    The message answers the latest request (``svarPa``, as the incumbent sends one answer for all) and
    goes to the recipient with SendMessageToRecipient; every open request becomes answered, their
    reminders handled, and the journal gets one HANFRFM per request. Allowed for a deceased patient
    (nothing new is made). Refused (``domain.relations.check_new_related``): NO_OPEN_COMPLETION,
    ALREADY_COMPLETED, ALREADY_REPLACED, WRONG_STATUS; TEXT_MISSING.
    """

    def step(ctx: OperationContext) -> Arende:
        conversation = arenden.arenden_for_certificate(ctx.session, ctx.certificate.id)
        completions = relations.open_completions(conversation)
        relations.check_new_related(Action.COMPLETE, ctx.certificate, certificates.children(ctx.session,
                                    ctx.certificate.id), None, ctx.user.role, False, mode=CompletionMode.C,
                                    open_questions=len(completions))
        latest = completions[-1]
        answer = _from_care(
            deps, ctx, Action.COMPLETE, amne=Amne.KOMPLT, text=text, recipient=latest.sender_part,
            status=ArendeStatus.ANSWERED, heading=latest.heading,
            answer_to=MessageReference(latest.message_id, latest.reference_id),
        )
        arenden.add_arende(ctx.session, answer)
        answered = [q.message_id for q in completions]
        arenden.mark_answered(ctx.session, answered, ctx.now)
        _handle_reminders(ctx, conversation, answered)
        _finish(deps, ctx, EventCode.HANFRFM, answer, questions=answered)
        return answer

    return _run(deps, Action.COMPLETE, certificate_id, user, correlation_id, step)


def _handle_reminders(ctx: OperationContext, conversation: list[Arende], question_ids: list[str]) -> None:
    """Reminders (PAMINN) are never answered: they are handled with the question they remind about."""
    for message_id in relations.reminders_of(conversation, question_ids):
        arenden.mark_handled(ctx.session, message_id, ctx.user.hsa_id.value, ctx.now)


def mark_question_handled(
    deps: LifecycleDeps,
    certificate_id: str,
    question_id: str,
    user: HsaId,
    correlation_id: str,
) -> Arende:
    """Mark a question handled (hanterad); returns it as it is now.

    HANFRFM for the recipient's question, HANFRFV for care's own. Refused: QUESTION_NOT_FOUND,
    QUESTION_HANDLED (already handled: nothing changes), WRONG_STATUS for a revoked certificate
    (whose questions the revocation already closed).
    """

    def step(ctx: OperationContext) -> Arende:
        question = _question(
            ctx,
            Action.HANDLE_QUESTION,
            arenden.arenden_for_certificate(ctx.session, ctx.certificate.id),
            question_id,
        )
        if not arenden.mark_handled(
            ctx.session, question_id, ctx.user.hsa_id.value, ctx.now
        ):
            raise _refused(ctx, Action.HANDLE_QUESTION, RefusalReason.QUESTION_HANDLED)
        _handle_reminders(ctx, arenden.arenden_for_certificate(ctx.session, ctx.certificate.id), [question_id])
        _finish(deps, ctx, handled_code(question))
        handled = arenden.get_arende(ctx.session, question_id)
        assert handled is not None  # just updated in this transaction
        return handled

    return _run(
        deps, Action.HANDLE_QUESTION, certificate_id, user, correlation_id, step
    )


def ask_question(
    deps: LifecycleDeps,
    certificate_id: str,
    user: HsaId,
    amne: Amne,
    heading: str | None,
    text: str,
    correlation_id: str,
) -> Arende:
    """Care asks the certificate's recipient a question; returns it as stored (NYFRFV).

    Only about a certificate that was sent (the recipient has it), and only about KONTKT, AVSTMN or
    OVRIGT. The question is stored, not delivered (see the module docstring). Refused:
    WRONG_STATUS (not sent, or revoked), AMNE_NOT_ALLOWED, TEXT_MISSING.
    """

    def step(ctx: OperationContext) -> Arende:
        if ctx.certificate.status is not CertificateStatus.SENT:
            raise _refused(ctx, Action.ASK_QUESTION, RefusalReason.WRONG_STATUS)
        if amne not in CARE_AMNEN:
            raise _refused(ctx, Action.ASK_QUESTION, RefusalReason.AMNE_NOT_ALLOWED)
        question = _from_care(
            deps,
            ctx,
            Action.ASK_QUESTION,
            amne=amne,
            text=text,
            recipient=ctx.certificate.sent_to or DEFAULT_RECIPIENT,
            status=ArendeStatus.OPEN,
            heading=heading,
        )
        arenden.add_arende(ctx.session, question)
        _finish(deps, ctx, EventCode.NYFRFV, question)
        return question

    return _run(deps, Action.ASK_QUESTION, certificate_id, user, correlation_id, step)


def _run(
    deps: LifecycleDeps,
    action: Action,
    certificate_id: str,
    user: HsaId,
    correlation_id: str,
    step: Callable[[OperationContext], Arende],
) -> Arende:
    """``step`` inside the lifecycle's unit of work, on a certificate that is not revoked."""
    done: list[Arende] = []

    def on_certificate(ctx: OperationContext) -> Certificate:
        if ctx.certificate.status is CertificateStatus.REVOKED:
            raise _refused(ctx, action, RefusalReason.WRONG_STATUS)
        done.append(step(ctx))
        return ctx.certificate

    operations.run_operation(deps, action, certificate_id, user, correlation_id, on_certificate)
    return done[0]


def _refused(ctx: OperationContext, action: Action, reason: RefusalReason) -> LifecycleRefused:
    return LifecycleRefused(
        reason, action, ctx.certificate.id, status=ctx.certificate.status
    )


def _question(
    ctx: OperationContext, action: Action, conversation: list[Arende], question_id: str
) -> Arende:
    found = next(
        (a for a in conversation if a.message_id == question_id and a.is_question), None
    )
    if found is None:
        raise _refused(ctx, action, RefusalReason.QUESTION_NOT_FOUND)
    return found


def _from_care(
    deps: LifecycleDeps,
    ctx: OperationContext,
    action: Action,
    *,
    amne: Amne,
    text: str,
    recipient: str,
    status: ArendeStatus,
    heading: str | None = None,
    answer_to: MessageReference | None = None,
) -> Arende:
    """A message written by the acting user, as it is stored (PENDING delivery when it goes onward)."""
    if not text.strip():
        raise _refused(ctx, action, RefusalReason.TEXT_MISSING)
    if may_leave(ctx.certificate) and deps.onward.recipients.lookup(recipient) is None:
        raise _refused(ctx, action, RefusalReason.RECIPIENT_UNKNOWN)
    return Arende(
        message_id=deps.new_id(),
        certificate_id=ctx.certificate.id,
        direction=Direction.FROM_CARE,
        status=status,
        amne=amne,
        text=text,
        sent_at=ctx.now,
        received_at=ctx.now,
        sender_part=CARE_PART,
        patient=ctx.certificate.patient.person_id,
        recipient=recipient,
        heading=heading,
        answer_to=answer_to,
        author=ctx.user.hsa_id,
        delivery=DeliveryState.PENDING if may_leave(ctx.certificate) else None,
    )


def _finish(deps: LifecycleDeps, ctx: OperationContext, code: EventCode, written: Arende | None = None,
            questions: list[str] | None = None) -> None:
    """Queue the event with the counts as they are now, one for each of ``questions`` when given (and the
    message care ``written`` for the recipient, when it goes onward), and write the Skriva record."""
    counts = question_counts(
        arenden.arenden_for_certificate(ctx.session, ctx.certificate.id)
    )
    certificate = ctx.certificate
    payloads = [{"counts": to_payload(counts)}] if questions is None else [
        {"counts": to_payload(counts), "question": question} for question in questions]
    events = [operations.certificate_event(ctx, certificate, code, payload) for payload in payloads]
    if written is not None and written.delivery is not None:
        recipient = deps.onward.recipients.lookup(written.recipient)
        assert recipient is not None, "_from_care checked the recipient"
        events.append(on_message(certificate.header, _outgoing(ctx, written, recipient), recipient, deps.onward, code,
                                 ctx.correlation_id))
    outbox.enqueue_all(ctx.session, events)
    record_certificate_access(
        ctx.session, deps.system, certificate, ctx.user.hsa_id, Activity.WRITE, ctx.now
    )


def _outgoing(ctx: OperationContext, written: Arende, recipient: Recipient) -> OutgoingMessage:
    """The message as SendMessageToRecipient carries it: written by the acting user, for the recipient."""
    return OutgoingMessage(
        message_id=written.message_id, sent_at=ctx.now, amne=written.amne, heading=written.heading, text=written.text,
        author=operations.actor(ctx), recipient_address=recipient.logical_address, answer_to=written.answer_to,
    )
