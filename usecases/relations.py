"""Renew, replace and complete: a new draft from a signed certificate, each one unit of work.

The rules are ``domain.relations``; this module fetches what they need, applies them and stores the
result. Before the writing transaction opens, the directory is asked for the acting user (as every
certificate operation, ``usecases.lifecycle.run_operation``) and for the patient as PU knows them
now: the new draft carries the patient's current details, and whether the patient is deceased now
decides whether anything new may be made. (A patient PU no longer knows keeps the details the parent
was written with.) Then, in one transaction with the parent locked: the parent's children and open
completion requests are read, the rules decide, and the new draft is stored with its SKAPAT event
(whose status update carries the relation) and a Skriva PDL record.

Replacing or completing while a replacing (completing) draft exists returns that draft and writes
nothing (``Related.created`` is False). Completion mode C makes no draft: it is an answer to the
recipient (``usecases.questions.answer_completions``).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import relations
from domain.certificates import Certificate
from domain.directory import DirectoryUnavailable, Person
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.pdl import Activity
from domain.relations import CompletionMode
from domain.values import EventCode, HsaId
from store import arenden, certificates, outbox
from store.errors import DatabaseUnavailable
from usecases.lifecycle import (
    DependencyUnavailable,
    LifecycleDeps,
    OperationContext,
    certificate_event,
    run_operation,
    type_of,
)
from usecases.pdl_log import record_certificate_access


@dataclass(frozen=True, slots=True)
class Related:
    """The draft a renew, replace or complete gave: made now (``created``), or the one that existed."""

    certificate: Certificate
    created: bool


@dataclass(frozen=True, slots=True)
class PatientNow:
    """The patient as the directory knows them now (None: no longer known), and whether deceased."""

    person: Person | None
    deceased: bool
    protected: bool


def patient_now(deps: LifecycleDeps, certificate_id: str) -> PatientNow:
    """Ask the directory (PU) for the patient of ``certificate_id`` as they are now, outside any writing
    transaction (the embedded directory reads in transactions of its own). Unknown to PU: the
    certificate's own details say whether the patient is deceased.

    Raises:
        LifecycleRefused: CERTIFICATE_NOT_FOUND (checked again, locked, inside the operation).
        DependencyUnavailable: the directory or the database does not answer.
    """
    try:
        with deps.transaction() as session:
            found = certificates.get_certificate(session, certificate_id)
        if found is None:
            raise LifecycleRefused(RefusalReason.CERTIFICATE_NOT_FOUND, Action.READ, certificate_id)
        person = deps.directory.person(found.patient.person_id)
    except DirectoryUnavailable as error:
        raise DependencyUnavailable("directory") from error
    except DatabaseUnavailable as error:
        raise DependencyUnavailable("database") from error
    known = person if person is not None else found.patient
    return PatientNow(person, known.deceased, known.protected_identity)


def renew(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str) -> Related:
    """Renew (förnya) a signed certificate: a new draft with relation FRLANG and the answers that follow."""
    return _related(deps, Action.RENEW, certificate_id, user, correlation_id)


def replace_certificate(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str) -> Related:
    """Replace (ersätta) a signed certificate: a corrected copy with relation ERSATT, or the replacing
    draft that exists already."""
    return _related(deps, Action.REPLACE, certificate_id, user, correlation_id)


def complete(deps: LifecycleDeps, certificate_id: str, user: HsaId, mode: CompletionMode, comment: str | None,
             correlation_id: str) -> Related:
    """Complete (komplettera) a certificate whose recipient asked for it, by mode A (a completing
    certificate) or B (the same with ``comment`` in the "other information" answer: no further medical
    information can be given; physicians only, the comment required), relation KOMPLT; or the
    completing draft that exists already. Signing it answers every open KOMPLT question at once.

    Raises:
        ValueError: mode C (an answer: ``usecases.questions.answer_completions``).
    """
    if mode is CompletionMode.C:
        raise ValueError("completion mode C is an answer to the recipient, not a draft")
    if mode is CompletionMode.B and not (comment or "").strip():
        raise LifecycleRefused(RefusalReason.TEXT_MISSING, Action.COMPLETE, certificate_id)
    text = comment.strip() if mode is CompletionMode.B and comment else None
    return _related(deps, Action.COMPLETE, certificate_id, user, correlation_id, mode, text)


def _related(deps: LifecycleDeps, action: Action, certificate_id: str, user: HsaId, correlation_id: str,
             mode: CompletionMode = CompletionMode.A, comment: str | None = None) -> Related:
    patient = patient_now(deps, certificate_id)
    made: list[Related] = []

    def step(ctx: OperationContext) -> Certificate:
        parent = ctx.certificate
        certificate_type = type_of(deps, parent)
        children = certificates.children(ctx.session, parent.id)
        open_questions = 0
        if action is Action.COMPLETE:
            open_questions = len(relations.open_completions(arenden.arenden_for_certificate(ctx.session, parent.id)))
        existing = relations.check_new_related(action, parent, children, certificate_type, ctx.user.role,
                                               patient.deceased, mode=mode, open_questions=open_questions,
                                               protected=patient.protected)
        if existing is not None:
            found = certificates.get_certificate(ctx.session, existing)
            assert found is not None, "a child read in this transaction"
            made.append(Related(found, created=False))
            return parent
        assert certificate_type is not None, "check_new_related refuses a type no longer in the registry"
        content = relations.related_content(parent, action, certificate_type, comment)
        draft = relations.related_draft(parent, action, deps.new_id(), ctx.user.personnel,
                                        patient.person or parent.patient, content, ctx.now)
        certificates.add_certificate(ctx.session, draft)
        outbox.enqueue(ctx.session, certificate_event(ctx, draft, EventCode.SKAPAT, {}))
        record_certificate_access(ctx.session, deps.system, draft, ctx.user.hsa_id, Activity.WRITE, ctx.now)
        made.append(Related(draft, created=True))
        return parent

    run_operation(deps, action, certificate_id, user, correlation_id, step)
    return made[0]
