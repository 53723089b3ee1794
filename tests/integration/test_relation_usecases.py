"""Renew, replace and complete as use cases on a real database (SQLite and PostgreSQL): what each writes,
in one transaction, and what a refusal or a race leaves behind."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text

from domain.activation import Activation
from domain.arenden import Amne, ArendeStatus
from domain.certificate_types import CertificateTypeRegistry
from domain.certificates import Certificate
from domain.directory_import import parse_directory_document
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.relations import CompletionMode
from domain.values import CertificateStatus, EventCode, HsaId, RelationCode
from store import arenden, certificates, outbox, pdl
from store.directory_import import import_directory
from tests.builders import (
    CLINIC,
    CLINIC_LAKARE,
    CONTENT,
    OTHER_REGION,
    OTHER_REGION_UNIT,
    TWO_REGIONS_LAKARE,
    make_arende,
    make_signed_certificate,
)
from tests.concurrency import at_once
from tests.integration.test_lifecycle_usecases import (
    ADMIN,
    CID,
    LAKARE,
    START,
    _activities,
    _events,
    _store,
    _stored,
    deps,
)
from usecases import lifecycle, questions, relations
from usecases.lifecycle import LifecycleDeps

__all__ = ["deps"]  # the fixture, re-exported for pytest

S = CertificateStatus
SIGNED = {"signed_at": START, "signed_by": LAKARE, "signed_by_name": "Ann Läkare", "sent_at": START,
          "sent_to": "FKASSA"}


def _sent(deps: LifecycleDeps, **changes: object) -> None:
    _store(deps, S.SENT, **{**SIGNED, **changes})


def _ask(deps: LifecycleDeps, message_id: str, amne: Amne = Amne.KOMPLT, seconds: int = 0, **changes: object) -> None:
    question = make_arende(make_signed_certificate(CID), message_id=message_id, amne=amne,
                           reference_id=f"ref-{message_id}",
                           sent_at=START.replace(hour=9, second=seconds), **changes)
    with deps.transaction() as session:
        arenden.add_arende(session, question)


def _conversation(deps: LifecycleDeps) -> dict[str, ArendeStatus]:
    with deps.transaction() as session:
        return {a.message_id: a.status for a in arenden.arenden_for_certificate(session, CID)}


def _refusal(call: object) -> LifecycleRefused:
    with pytest.raises(LifecycleRefused) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_a_renewal_is_one_draft_one_skapat_and_one_record(deps: LifecycleDeps) -> None:
    _sent(deps)
    made = relations.renew(deps, CID, ADMIN, "r1")
    new = made.certificate
    assert (made.created, new.id, new.status, new.relation_code, new.relation_parent) == (
        True, "copy-0", S.DRAFT, RelationCode.FRLANG, CID)
    assert [a.id for a in new.content] == ["6"]  # CONTENT is 1 and 6; LISJP drops 1
    assert new.patient.given_name == "Samuel" and new.created_by.hsa_id == ADMIN  # PU's details, the acting user
    assert _stored(deps, new.id) == new
    assert (_events(deps, new.id), _activities(deps, new.id)) == ([(EventCode.SKAPAT, ADMIN.value)],
                                                                  [("Skriva", ADMIN.value)])
    assert (_events(deps), _activities(deps)) == ([], [])  # the parent: unchanged, no event, no record


@pytest.mark.parametrize(("arrange", "call", "reason"), [
    ("draft", lambda d: relations.renew(d, CID, LAKARE, "c"), RefusalReason.WRONG_STATUS),
    ("sent", lambda d: relations.complete(d, CID, LAKARE, CompletionMode.A, None, "c"),
     RefusalReason.NO_OPEN_COMPLETION),
    ("sent", lambda d: relations.complete(d, CID, LAKARE, CompletionMode.B, "  ", "c"), RefusalReason.TEXT_MISSING),
    ("sent", lambda d: relations.renew(d, CID, HsaId("SE2321000016-P003"), "c"), RefusalReason.ROLE_NOT_ALLOWED),
    ("sent", lambda d: relations.renew(d, "nope", LAKARE, "c"), RefusalReason.CERTIFICATE_NOT_FOUND),
    ("sent", lambda d: relations.replace_certificate(d, CID, HsaId("SE2321000016-NOBODY"), "c"),
     RefusalReason.USER_UNKNOWN),
    ("luse", lambda d: relations.renew(d, CID, LAKARE, "c"), RefusalReason.NOT_RENEWABLE),
    ("deceased", lambda d: relations.replace_certificate(d, CID, LAKARE, "c"), RefusalReason.PATIENT_DECEASED),
], ids=["not-signed", "no-question", "b-without-text", "nurse", "unknown", "stranger", "luse", "deceased"])
def test_refusals_write_nothing(deps: LifecycleDeps, arrange: str, call: object, reason: RefusalReason) -> None:
    if arrange == "draft":
        _store(deps, content=CONTENT)
    elif arrange == "luse":
        _sent(deps, type_code="LUSE", received_type_code="LUSE")
    else:
        _sent(deps)
    if arrange == "deceased":
        with deps.transaction() as session:
            session.execute(text("UPDATE patient SET deceased = :yes WHERE person_id = :pid"),
                            {"yes": True, "pid": make_signed_certificate().patient.person_id.digits})
    assert _refusal(lambda: call(deps)).reason is reason  # type: ignore[operator]
    with deps.transaction() as session:
        assert certificates.children(session, CID) == []
        assert outbox.events_for_certificate(session, CID) == []


def test_two_replacements_at_once_make_one_draft(deps: LifecycleDeps) -> None:
    """The parent is locked while its children are read: a race gives both callers the same draft."""
    _sent(deps)
    made = at_once({n: lambda: relations.replace_certificate(deps, CID, LAKARE, "race") for n in range(2)})
    assert len({r.certificate.id for r in made.values()}) == 1
    assert sorted(r.created for r in made.values()) == [False, True]
    with deps.transaction() as session:
        assert [c.id for c in certificates.children(session, CID)] == [made[0].certificate.id]


def _completion_of_two_requests(deps: LifecycleDeps) -> Certificate:
    """A sent certificate with two completion requests (q1, q2), a reminder of q1 (p1) and a question
    that is no completion request (k1); and its completing draft (mode A)."""
    _sent(deps)
    _ask(deps, "q1", seconds=1)
    _ask(deps, "q2", seconds=2)
    _ask(deps, "p1", Amne.PAMINN, seconds=3, reminder_of="q1", kompletteringar=())
    _ask(deps, "k1", Amne.KONTKT, seconds=4, kompletteringar=())
    return relations.complete(deps, CID, LAKARE, CompletionMode.A, None, "c1").certificate


def test_signing_a_completion_sends_it_answers_every_question_and_handles_the_reminder(deps: LifecycleDeps) -> None:
    completion = _completion_of_two_requests(deps)
    signed = lifecycle.sign(deps, completion.id, LAKARE, "c2")
    assert (signed.status, signed.sent_to) == (S.SENDING, "FKASSA")
    assert _conversation(deps) == {"q1": ArendeStatus.HANDLED, "q2": ArendeStatus.HANDLED,
                                   "p1": ArendeStatus.HANDLED, "k1": ArendeStatus.OPEN}
    with deps.transaction() as session:
        parent_events = [e for e in outbox.events_for_certificate(session, CID) if not e.is_onward]
        [registration] = [e for e in outbox.events_for_certificate(session, completion.id) if e.is_onward]
    assert [(e.code, e.payload["question"]) for e in parent_events] == [(EventCode.HANFRFM, "q1"),
                                                                       (EventCode.HANFRFM, "q2")]
    assert parent_events[-1].payload["counts"]["mottagnaFragor"] == {"totalt": 3, "ejBesvarade": 1, "besvarade": 0,
                                                                      "hanterade": 2}
    assert (registration.contract.value, registration.payload["svarPa"]) == (
        "RegisterCertificate", {"messageId": "q2", "referenceId": "ref-q2"})
    assert _events(deps, completion.id) == [(EventCode.SKAPAT, LAKARE.value), (EventCode.SIGNAT, LAKARE.value)]
    assert ("Skriva", LAKARE.value) in _activities(deps)  # the parent's questions were handled
    refused = _refusal(lambda: relations.renew(deps, CID, LAKARE, "c3"))
    assert (refused.reason, refused.action) == (RefusalReason.ALREADY_COMPLETED, Action.RENEW)


def test_revoking_a_completion_reopens_the_requests_it_answered_and_a_new_one_may_answer_them(
    deps: LifecycleDeps,
) -> None:
    """The recipient's completion requests are open again once the completion that answered them is
    revoked, with HANFRFM on the parent for each and a Skriva record; a new completion answers them."""
    completion = _completion_of_two_requests(deps)
    lifecycle.sign(deps, completion.id, LAKARE, "c2")
    with deps.transaction() as session:
        signed_events = len(outbox.events_for_certificate(session, CID))
    records = len(_activities(deps))

    lifecycle.revoke(deps, completion.id, LAKARE, "FEL_PATIENT", None, "c3")
    assert _conversation(deps) == {"q1": ArendeStatus.OPEN, "q2": ArendeStatus.OPEN, "p1": ArendeStatus.OPEN,
                                   "k1": ArendeStatus.OPEN}
    with deps.transaction() as session:
        reopened = [e for e in outbox.events_for_certificate(session, CID)[signed_events:] if not e.is_onward]
        handled_by = {a.message_id: a.handled_by for a in arenden.arenden_for_certificate(session, CID)}
    assert [(e.code, e.payload["question"]) for e in reopened] == [(EventCode.HANFRFM, "q1"), (EventCode.HANFRFM, "q2")]
    assert reopened[-1].payload["counts"]["mottagnaFragor"] == {"totalt": 3, "ejBesvarade": 3, "besvarade": 0,
                                                                 "hanterade": 0}
    assert set(handled_by.values()) == {None}
    assert ("Skriva", LAKARE.value) in _activities(deps)[records:]  # the parent's questions changed

    again = relations.complete(deps, CID, LAKARE, CompletionMode.A, None, "c4").certificate
    lifecycle.sign(deps, again.id, LAKARE, "c5")
    assert _conversation(deps) == {"q1": ArendeStatus.HANDLED, "q2": ArendeStatus.HANDLED,
                                   "p1": ArendeStatus.HANDLED, "k1": ArendeStatus.OPEN}


def test_revoking_a_renewal_that_answered_nothing_reopens_nothing(deps: LifecycleDeps) -> None:
    """A question handled by hand before the renewal was signed stays handled."""
    _sent(deps)
    _ask(deps, "q1")
    questions.mark_question_handled(deps, CID, "q1", LAKARE, "c1")
    renewal = relations.renew(deps, CID, LAKARE, "c2").certificate
    lifecycle.sign(deps, renewal.id, LAKARE, "c3")
    lifecycle.revoke(deps, renewal.id, LAKARE, "FEL_PATIENT", None, "c4")
    assert _conversation(deps) == {"q1": ArendeStatus.HANDLED}


def test_signing_a_renewal_handles_the_parents_completion_requests_only(deps: LifecycleDeps) -> None:
    _sent(deps)
    _ask(deps, "q1")
    _ask(deps, "k1", Amne.KONTKT, seconds=1, kompletteringar=())
    renewal = relations.renew(deps, CID, LAKARE, "c1").certificate
    lifecycle.sign(deps, renewal.id, LAKARE, "c2")
    assert _conversation(deps) == {"q1": ArendeStatus.HANDLED, "k1": ArendeStatus.OPEN}
    assert _stored(deps, renewal.id).status is S.SIGNED  # type: ignore[union-attr]  # not sent by itself


def test_completion_by_message_answers_every_question_with_one_message(deps: LifecycleDeps) -> None:
    _sent(deps)
    _ask(deps, "q1", seconds=1)
    _ask(deps, "q2", seconds=2)
    _ask(deps, "p1", Amne.PAMINN, seconds=3, reminder_of="q2", kompletteringar=())
    answer = questions.answer_completions(deps, CID, ADMIN, "Ingen kan ta ansvar.", "c1")
    assert (answer.amne, answer.answer_to.message_id if answer.answer_to else None) == (Amne.KOMPLT, "q2")
    assert _conversation(deps) == {"q1": ArendeStatus.ANSWERED, "q2": ArendeStatus.ANSWERED,
                                   "p1": ArendeStatus.HANDLED, answer.message_id: ArendeStatus.ANSWERED}
    with deps.transaction() as session:
        events = outbox.events_for_certificate(session, CID)
    assert [(e.code, e.payload.get("question")) for e in events if not e.is_onward] == [
        (EventCode.HANFRFM, "q1"), (EventCode.HANFRFM, "q2")]
    assert [(e.contract.value, e.payload["message"]["answerTo"]["messageId"]) for e in events if e.is_onward] == [
        ("SendMessageToRecipient", "q2")]
    assert _refusal(lambda: questions.answer_completions(deps, CID, ADMIN, "x", "c2")).reason is (
        RefusalReason.NO_OPEN_COMPLETION)


def test_a_deleted_replacing_draft_frees_replacement_and_a_signed_one_ends_it(deps: LifecycleDeps) -> None:
    _sent(deps)
    first = relations.replace_certificate(deps, CID, LAKARE, "c1").certificate
    assert relations.replace_certificate(deps, CID, ADMIN, "c2") == relations.Related(first, created=False)
    # the existing draft is shown to whoever asked: a read of it, and nothing else written
    assert _activities(deps, first.id) == [("Skriva", LAKARE.value), ("Läsa", ADMIN.value)]
    assert _events(deps, first.id) == [(EventCode.SKAPAT, LAKARE.value)]
    lifecycle.delete(deps, first.id, LAKARE, "c3")
    second = relations.replace_certificate(deps, CID, LAKARE, "c4")
    assert second.created and second.certificate.id != first.id
    lifecycle.sign(deps, second.certificate.id, LAKARE, "c5")
    assert _refusal(lambda: relations.replace_certificate(deps, CID, LAKARE, "c6")).reason is (
        RefusalReason.ALREADY_REPLACED)
    revoked = lifecycle.revoke(deps, second.certificate.id, LAKARE, "FEL_PATIENT", None, "c7")
    assert (revoked.status, revoked.relation_parent) == (S.REVOKED, CID)
    assert relations.replace_certificate(deps, CID, LAKARE, "c8").created


# --- the unit the new draft is issued at ----------------------------------------------------------------

DENTIST = HsaId("SE2321000016-P005")  # assignments at 1000 (above the parent's 1003) and at the clinic 2000


def _other_region(deps: LifecycleDeps) -> None:
    """A second care giver and the users of ``tests.builders.OTHER_REGION``, after the demo directory."""
    with deps.transaction() as session:
        import_directory(session, parse_directory_document(OTHER_REGION), START)


def _pdl_units(deps: LifecycleDeps, certificate_id: str) -> list[tuple[str, str, str | None]]:
    with deps.transaction() as session:
        return [(r.activity, r.user_care_unit_id, r.resource_care_unit_id)
                for r in pdl.records_for_certificate(session, certificate_id)]


def test_a_renewal_at_the_users_unit_is_issued_there(deps: LifecycleDeps) -> None:
    """Another unit of the parent's care giver: the draft has that unit as the directory knows it, its
    SKAPAT goes to that unit's journal system, and the Skriva record names that unit."""
    _sent(deps)
    made = relations.renew(deps, CID, DENTIST, "r1", unit=HsaId("se2321000016-2000"))  # as a client may spell it
    new = made.certificate
    assert (new.unit.hsa_id.value, new.unit.name, new.unit.postal_address, new.unit.arbetsplatskod) == (
        CLINIC, "Sjukhuset Demo, medicinkliniken", "Sjukhusgatan 2", "0987654321")
    assert (new.care_giver.hsa_id.value, new.care_giver.name) == ("SE2321000016-0001", "Region Demo")
    assert (new.relation_code, new.relation_parent, new.created_by.hsa_id) == (RelationCode.FRLANG, CID, DENTIST)
    assert _stored(deps, new.id) == new
    with deps.transaction() as session:
        [skapat] = outbox.events_for_certificate(session, new.id)
    assert (skapat.code, skapat.unit, skapat.care_giver, skapat.acting_user) == (
        EventCode.SKAPAT, HsaId(CLINIC), HsaId("SE2321000016-0001"), DENTIST)
    assert _pdl_units(deps, new.id) == [("Skriva", CLINIC, CLINIC)]
    assert (_events(deps), _activities(deps)) == ([], [])  # the parent: unchanged, no event, no record


def test_without_a_unit_the_draft_is_issued_at_the_parents_unit(deps: LifecycleDeps) -> None:
    """Leaving the unit out keeps the behaviour of before: the parent's unit, whoever acts."""
    _sent(deps)
    parent = _stored(deps)
    assert parent is not None
    new = relations.renew(deps, CID, DENTIST, "r1").certificate
    assert (new.unit, new.care_giver) == (parent.unit, parent.care_giver)
    with deps.transaction() as session:
        assert [e.unit for e in outbox.events_for_certificate(session, new.id)] == [HsaId("SE2321000016-1003")]


@pytest.mark.parametrize(("user", "unit", "reason", "named"), [
    (DENTIST, "SE2321000016-9999", RefusalReason.UNIT_UNKNOWN, True),
    (LAKARE, CLINIC, RefusalReason.NO_ASSIGNMENT, True),  # P001 works at 1000 only
    (HsaId(TWO_REGIONS_LAKARE), OTHER_REGION_UNIT, RefusalReason.OTHER_CARE_GIVER, True),
    (HsaId("SE2321000016-NOBODY"), CLINIC, RefusalReason.USER_UNKNOWN, False),
    # the user must still be allowed on the parent's unit, as for every operation on it
    (HsaId(CLINIC_LAKARE), CLINIC, RefusalReason.NO_ASSIGNMENT, False),
], ids=["unit-unknown", "no-assignment-there", "other-care-giver", "user-unknown", "not-on-the-parents-unit"])
@pytest.mark.parametrize("operation", ["renew", "replace", "complete"])
def test_a_unit_refused_writes_nothing(deps: LifecycleDeps, operation: str, user: HsaId, unit: str,
                                       reason: RefusalReason, named: bool) -> None:
    _other_region(deps)
    _sent(deps)
    _ask(deps, "q1")
    calls = {
        "renew": lambda: relations.renew(deps, CID, user, "c", HsaId(unit)),
        "replace": lambda: relations.replace_certificate(deps, CID, user, "c", HsaId(unit)),
        "complete": lambda: relations.complete(deps, CID, user, CompletionMode.A, None, "c", HsaId(unit)),
    }
    refused = _refusal(calls[operation])
    assert (refused.reason, refused.action.value, refused.unit) == (
        reason, operation.upper(), HsaId(unit) if named else None)
    with deps.transaction() as session:
        assert certificates.children(session, CID) == []
        assert outbox.events_for_certificate(session, CID) == []
    assert _activities(deps) == []


def test_a_replacing_draft_that_exists_is_returned_wherever_it_is(deps: LifecycleDeps) -> None:
    """The replacing (completing) draft made at the clinic is what a later replace or complete returns,
    with or without a unit; nothing new is written."""
    _sent(deps)
    _ask(deps, "q1")
    replacing = relations.replace_certificate(deps, CID, DENTIST, "c1", HsaId(CLINIC)).certificate
    assert replacing.unit.hsa_id == HsaId(CLINIC)
    assert relations.replace_certificate(deps, CID, LAKARE, "c2") == relations.Related(replacing, created=False)
    assert relations.replace_certificate(deps, CID, LAKARE, "c3", HsaId("SE2321000016-1000")) == relations.Related(
        replacing, created=False)
    completing = relations.complete(deps, CID, DENTIST, CompletionMode.A, None, "c4", HsaId(CLINIC)).certificate
    assert (completing.unit.hsa_id, completing.relation_code) == (HsaId(CLINIC), RelationCode.KOMPLT)
    again = relations.complete(deps, CID, LAKARE, CompletionMode.B, "Inget mer.", "c5", HsaId("SE2321000016-1003"))
    assert again == relations.Related(completing, created=False)
    with deps.transaction() as session:
        assert sorted(c.id for c in certificates.children(session, CID)) == sorted([replacing.id, completing.id])
        assert [e.code for e in outbox.events_for_certificate(session, completing.id)] == [EventCode.SKAPAT]


def test_a_directory_that_lost_the_care_giver_keeps_the_parents(deps: LifecycleDeps) -> None:
    """The unit's care giver is the parent's by the rule, so the parent's record of it stands in."""
    _sent(deps)
    directory = deps.directory

    class Forgetful:
        def __getattr__(self, name: str) -> object:
            return getattr(directory, name)

        def care_giver(self, hsa_id: HsaId) -> None:
            return None

    forgetful = replace(deps, directory=Forgetful())  # type: ignore[arg-type]
    new = relations.renew(forgetful, CID, DENTIST, "c", HsaId(CLINIC)).certificate
    assert (new.unit.hsa_id, new.care_giver) == (HsaId(CLINIC), make_signed_certificate(CID).care_giver)


def _lisjp_only_at(deps: LifecycleDeps, unit: str) -> LifecycleDeps:
    """``deps`` with LISJP in a pilot on ``unit`` (and its sub-units) since 2020."""
    piloted = tuple(replace(t, activation=Activation(starts=date(2020, 1, 1), units=frozenset({HsaId(unit)})))
                    if t.code == "LISJP" else t for t in deps.registry)
    return replace(deps, registry=CertificateTypeRegistry(piloted))


def test_a_type_in_a_pilot_elsewhere_is_not_renewed_and_the_pilot_unit_may(deps: LifecycleDeps) -> None:
    """The type's activation is checked where the draft is issued, as CreateDraftCertificate checks it:
    LISJP piloted at the clinic is not renewed at the health centre, and is at the clinic."""
    _sent(deps)
    piloted = _lisjp_only_at(deps, CLINIC)
    refused = _refusal(lambda: relations.renew(piloted, CID, DENTIST, "r1"))
    assert refused.reason is RefusalReason.TYPE_NOT_AVAILABLE
    with deps.transaction() as session:
        assert certificates.children(session, CID) == []
    made = relations.renew(piloted, CID, DENTIST, "r2", unit=HsaId(CLINIC))
    assert made.created and made.certificate.unit.hsa_id == HsaId(CLINIC)


def test_a_pilot_on_a_unit_above_the_parents_covers_its_renewal(deps: LifecycleDeps) -> None:
    _sent(deps)
    parent = _stored(deps)
    above = "SE2321000016-1000"
    assert parent is not None and parent.unit.hsa_id != HsaId(above)  # the parent is issued at a unit below it
    made = relations.renew(_lisjp_only_at(deps, above), CID, LAKARE, "r1")
    assert made.created and made.certificate.unit.hsa_id == parent.unit.hsa_id
