"""Renew, replace and complete: a new draft from a signed certificate, each one unit of work.

The rules are ``domain.relations``; this module fetches what they need, applies them and stores the
result. Before the writing transaction opens, the directory is asked for the unit the user named, if
any (``draft_unit``: the user's unit now, checked by ``relations.check_draft_unit``), for the
patient as PU knows them now, and for the acting user (as every certificate operation,
``usecases.lifecycle.run_operation``, on the parent's unit): the new draft carries the patient's
current details, and whether the patient is deceased now decides whether anything new may be made.
(A patient PU no longer knows keeps the details the parent was written with.) Then, in one
transaction with the parent locked: the parent's children and open completion requests are read,
the rules decide, and the new draft is stored, at the named unit or else the parent's, with its
SKAPAT event (whose status update carries the relation and goes to that unit's journal system) and a
Skriva PDL record naming that unit.

Replacing or completing while a replacing (completing) draft exists returns that draft, at whatever
unit it is (``Related.created`` is False), and writes only a Läsa PDL record of it: the caller is
shown its content. Completion mode C makes no draft: it is an answer to the recipient
(``usecases.questions.answer_completions``).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import relations
from domain.activation import Placement
from domain.certificates import Certificate
from domain.directory import CareGiver, Directory, DirectoryUnavailable, Person, Unit
from domain.draft_checks import placement_of_unit
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.pdl import Activity
from domain.relations import CompletionMode
from domain.values import EventCode, HsaId, swedish_date
from store import arenden, certificates, outbox
from store.errors import DatabaseUnavailable
from usecases.acting_user import units_around
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


@dataclass(frozen=True, slots=True)
class DraftUnit:
    """Where the new draft is issued when the user named a unit: the unit and its care giver, as the
    directory knows them now (name, address and arbetsplatskod included, as CreateDraftCertificate
    fills a unit)."""

    unit: Unit
    care_giver: CareGiver
    placement: Placement


def draft_unit(directory: Directory, action: Action, parent: Certificate, user: HsaId, requested: HsaId) -> DraftUnit:
    """The unit ``requested`` for the draft ``user`` makes from ``parent``, checked by
    ``relations.check_draft_unit`` against what the directory says now.

    Raises:
        LifecycleRefused: the refusals of ``relations.check_draft_unit``.
        DirectoryUnavailable: the directory does not answer.
    """
    personnel = directory.personnel(user)
    units = units_around(directory, requested.value, personnel) if personnel is not None else {}
    unit = relations.check_draft_unit(action, parent, requested, personnel, units)
    # The unit's care giver is the parent's (checked above), so the parent's record of it stands in for
    # a directory that has lost the care giver's own entry.
    care_giver = directory.care_giver(unit.care_giver) or parent.care_giver
    return DraftUnit(unit, care_giver, placement_of_unit(unit, units))


def parent_placement(directory: Directory, parent: Certificate) -> Placement:
    """Where a draft issued at ``parent``'s own unit is placed: that unit and the units above it as the
    directory knows them now (only the unit itself, with the parent's care giver, if it does not)."""
    units = units_around(directory, parent.unit.hsa_id.value, None)
    unit = units.get(parent.unit.hsa_id)
    if unit is None:
        return Placement((parent.unit.hsa_id,), parent.care_giver.hsa_id)
    return placement_of_unit(unit, units)


def _before_writing(deps: LifecycleDeps, action: Action, certificate_id: str, user: HsaId,
                    unit: HsaId | None) -> tuple[PatientNow, DraftUnit | None, Placement]:
    """Ask the directory, outside any writing transaction (the embedded directory reads in transactions
    of its own), for the named ``unit`` (``draft_unit``; None: the parent's unit) and for the patient
    of ``certificate_id`` as they are now (PU). Unknown to PU: the certificate's own details say
    whether the patient is deceased.

    Raises:
        LifecycleRefused: CERTIFICATE_NOT_FOUND (checked again, locked, inside the operation), and the
            refusals of ``relations.check_draft_unit``.
        DependencyUnavailable: the directory or the database does not answer.
    """
    try:
        with deps.transaction() as session:
            found = certificates.get_certificate(session, certificate_id)
        if found is None:
            raise LifecycleRefused(RefusalReason.CERTIFICATE_NOT_FOUND, action, certificate_id)
        place = draft_unit(deps.directory, action, found, user, unit) if unit is not None else None
        placement = place.placement if place is not None else parent_placement(deps.directory, found)
        person = deps.directory.person(found.patient.person_id)
    except DirectoryUnavailable as error:
        raise DependencyUnavailable("directory") from error
    except DatabaseUnavailable as error:
        raise DependencyUnavailable("database") from error
    known = person if person is not None else found.patient
    return PatientNow(person, known.deceased, known.protected_identity), place, placement


def renew(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str,
          unit: HsaId | None = None) -> Related:
    """Renew (förnya) a signed certificate: a new draft with relation FRLANG and the answers that follow,
    at ``unit`` (the user's unit now; None: the parent's)."""
    return _related(deps, Action.RENEW, certificate_id, user, correlation_id, unit)


def replace_certificate(deps: LifecycleDeps, certificate_id: str, user: HsaId, correlation_id: str,
                        unit: HsaId | None = None) -> Related:
    """Replace (ersätta) a signed certificate: a corrected copy with relation ERSATT at ``unit`` (None:
    the parent's), or the replacing draft that exists already."""
    return _related(deps, Action.REPLACE, certificate_id, user, correlation_id, unit)


def complete(deps: LifecycleDeps, certificate_id: str, user: HsaId, mode: CompletionMode, comment: str | None,
             correlation_id: str, unit: HsaId | None = None) -> Related:
    """Complete (komplettera) a certificate whose recipient asked for it, by mode A (a completing
    certificate) or B (the same with ``comment`` in the "other information" answer: no further medical
    information can be given; physicians only, the comment required), relation KOMPLT, at ``unit``
    (None: the parent's); or the completing draft that exists already. Signing it answers every open
    KOMPLT question at once.

    Raises:
        ValueError: mode C (an answer: ``usecases.questions.answer_completions``).
    """
    if mode is CompletionMode.C:
        raise ValueError("completion mode C is an answer to the recipient, not a draft")
    if mode is CompletionMode.B and not (comment or "").strip():
        raise LifecycleRefused(RefusalReason.TEXT_MISSING, Action.COMPLETE, certificate_id)
    text = comment.strip() if mode is CompletionMode.B and comment else None
    return _related(deps, Action.COMPLETE, certificate_id, user, correlation_id, unit, mode, text)


def _related(deps: LifecycleDeps, action: Action, certificate_id: str, user: HsaId, correlation_id: str,
             unit: HsaId | None, mode: CompletionMode = CompletionMode.A, comment: str | None = None) -> Related:
    patient, place, placement = _before_writing(deps, action, certificate_id, user, unit)
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
                                               protected=patient.protected, placement=placement,
                                               day=swedish_date(ctx.now))
        if existing is not None:
            found = certificates.get_certificate(ctx.session, existing)
            assert found is not None, "a child read in this transaction"
            # The caller is shown a draft with the patient's data: a read of it, by whoever asked (PDL).
            record_certificate_access(ctx.session, deps.system, found, ctx.user.hsa_id, Activity.READ, ctx.now)
            made.append(Related(found, created=False))
            return parent
        assert certificate_type is not None, "check_new_related refuses a type no longer in the registry"
        content = relations.related_content(parent, action, certificate_type, comment)
        draft = relations.related_draft(parent, action, deps.new_id(), ctx.user.personnel,
                                        patient.person or parent.patient, content, ctx.now,
                                        place.unit if place else None, place.care_giver if place else None)
        certificates.add_certificate(ctx.session, draft)
        outbox.enqueue(ctx.session, certificate_event(ctx, draft, EventCode.SKAPAT, {}))
        record_certificate_access(ctx.session, deps.system, draft, ctx.user.hsa_id, Activity.WRITE, ctx.now)
        made.append(Related(draft, created=True))
        return parent

    run_operation(deps, action, certificate_id, user, correlation_id, step)
    return made[0]
