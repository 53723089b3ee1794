"""The rules of renew, replace and complete (domain.relations), table by table, as plain Python."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain import relations
from domain.activation import Activation, Placement
from domain.arenden import Amne, Arende, ArendeStatus, Direction, MessageReference
from domain.certificate_types import CertificateType, load_default_registry
from domain.certificates import Answer, AnswerPart, Certificate
from domain.directory import Assignment, Personnel
from domain.directory_import import parse_directory_document
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.relations import Child, CompletionMode, check_new_related
from domain.values import KV_INTYGSTYP, CertificateStatus, HsaId, RelationCode, Role
from tests.builders import (
    CLINIC,
    CLINIC_LAKARE,
    OTHER_REGION,
    OTHER_REGION_UNIT,
    TWO_REGIONS_LAKARE,
    make_arende,
    make_signed_certificate,
)
from tests.memory import demo_document

S, R, A = CertificateStatus, RefusalReason, Action
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
REGISTRY = load_default_registry()


def _type(code: str) -> CertificateType:
    found = REGISTRY.lookup(code, KV_INTYGSTYP)
    assert found is not None
    return found


LISJP, LUSE, DB = _type("LISJP"), _type("LUSE"), _type("DB")
PARENT = replace(make_signed_certificate("parent"), type_code="LISJP", content=(
    Answer("1", None, (AnswerPart("1.1", "Undersökning"),)),
    Answer("6", None, (AnswerPart("6.1", "J20"),)),
    Answer("25", None, (AnswerPart("25.1", "Tidigare sjukskriven."),)),
    Answer("26", None, (AnswerPart("26.1", "true"),)),
    Answer("32", 1, (AnswerPart("32.1", "", xml="<cv/>"),)),
    Answer("39", None, (AnswerPart("39.1", "Åter i arbete om två veckor"),)),
))
TODAY = NOW.date()
AT_PARENT_UNIT = Placement((PARENT.unit.hsa_id,), PARENT.care_giver.hsa_id)


def _check(action: Action, *, parent: Certificate = PARENT, children: tuple[Child, ...] = (),
           certificate_type: CertificateType | None = LISJP, role: Role = Role.LAKARE, deceased: bool = False,
           mode: CompletionMode = CompletionMode.A, open_questions: int = 2,
           protected: bool = False, placement: Placement = AT_PARENT_UNIT,
           day: date = TODAY) -> str | None | RefusalReason:
    try:
        return check_new_related(action, parent, children, certificate_type, role, deceased, mode=mode,
                                 open_questions=open_questions, protected=protected, placement=placement, day=day)
    except LifecycleRefused as refused:
        assert (refused.action, refused.certificate_id) == (action, parent.id)
        return refused.reason


def _child(relation: RelationCode, status: CertificateStatus, cid: str = "child") -> Child:
    return Child(cid, relation, status)


NEW = None  # the rules allow a new draft


@pytest.mark.parametrize(("case", "action", "changes", "expected"), [
    # the parent must be signed, and not revoked
    *[(f"{s} renewed", A.RENEW, {"parent": replace(PARENT, status=s)}, NEW) for s in (S.SIGNED, S.SENDING, S.SENT)],
    *[(f"{s} replaced", A.REPLACE, {"parent": replace(PARENT, status=s)}, R.WRONG_STATUS)
      for s in (S.DRAFT, S.READY, S.LOCKED, S.REVOKED)],
    ("a revoked one completed", A.COMPLETE, {"parent": replace(PARENT, status=S.REVOKED)}, R.WRONG_STATUS),
    # replaced or completed: done
    ("replaced, renewed", A.RENEW, {"children": (_child(RelationCode.ERSATT, S.SIGNED),)}, R.ALREADY_REPLACED),
    ("replaced, replaced", A.REPLACE, {"children": (_child(RelationCode.ERSATT, S.SENT),)}, R.ALREADY_REPLACED),
    ("replaced, completed", A.COMPLETE, {"children": (_child(RelationCode.ERSATT, S.SENT),)}, R.ALREADY_REPLACED),
    ("completed, renewed", A.RENEW, {"children": (_child(RelationCode.KOMPLT, S.SENDING),)}, R.ALREADY_COMPLETED),
    ("completed, replaced", A.REPLACE, {"children": (_child(RelationCode.KOMPLT, S.SENT),)}, R.ALREADY_COMPLETED),
    ("completed, completed by message", A.COMPLETE, {"children": (_child(RelationCode.KOMPLT, S.SENT),),
                                                     "mode": CompletionMode.C}, R.ALREADY_COMPLETED),
    # a revoked replacement or completion does not count; a renewal never blocks
    ("revoked replacement", A.REPLACE, {"children": (_child(RelationCode.ERSATT, S.REVOKED),)}, NEW),
    ("revoked completion", A.RENEW, {"children": (_child(RelationCode.KOMPLT, S.REVOKED),)}, NEW),
    ("renewed, renewed", A.RENEW, {"children": (_child(RelationCode.FRLANG, S.SENT),)}, NEW),
    ("renewed, replaced", A.REPLACE, {"children": (_child(RelationCode.FRLANG, S.SENT),)}, NEW),
    # the replacing (completing) draft that exists is returned, also for a deceased patient
    ("replacing draft", A.REPLACE, {"children": (_child(RelationCode.ERSATT, S.DRAFT, "d"),)}, "d"),
    ("replacing draft ready", A.REPLACE, {"children": (_child(RelationCode.ERSATT, S.READY, "d"),)}, "d"),
    ("replacing draft, deceased", A.REPLACE, {"children": (_child(RelationCode.ERSATT, S.DRAFT, "d"),),
                                               "deceased": True}, "d"),
    ("a locked replacing draft is no draft", A.REPLACE, {"children": (_child(RelationCode.ERSATT, S.LOCKED),)}, NEW),
    ("completing draft", A.COMPLETE, {"children": (_child(RelationCode.KOMPLT, S.DRAFT, "k"),)}, "k"),
    ("completing draft, mode B", A.COMPLETE, {"children": (_child(RelationCode.KOMPLT, S.DRAFT, "k"),),
                                              "mode": CompletionMode.B}, "k"),
    ("a renewing draft is not returned", A.RENEW, {"children": (_child(RelationCode.FRLANG, S.DRAFT),)}, NEW),
    ("a copy is no replacement", A.REPLACE, {"children": (_child(RelationCode.KOPIA, S.DRAFT),)}, NEW),
    # completion needs an open KOMPLT question
    ("no open question", A.COMPLETE, {"open_questions": 0}, R.NO_OPEN_COMPLETION),
    ("no open question, mode C", A.COMPLETE, {"open_questions": 0, "mode": CompletionMode.C}, R.NO_OPEN_COMPLETION),
    # the type
    ("type gone", A.RENEW, {"certificate_type": None}, R.TYPE_UNKNOWN),
    ("type gone, mode C", A.COMPLETE, {"certificate_type": None, "mode": CompletionMode.C}, NEW),
    ("type withdrawn", A.REPLACE, {"certificate_type": replace(LISJP, active=False)}, R.TYPE_INACTIVE),
    # the type's activation where and when the draft is made, as at creation (domain.activation)
    ("type not issued yet", A.RENEW, {"certificate_type": replace(LISJP, activation=Activation(
        starts=NOW.date() + timedelta(days=1)))}, R.TYPE_NOT_AVAILABLE),
    ("type phased out yesterday", A.REPLACE, {"certificate_type": replace(LISJP, activation=Activation(
        starts=date(2020, 1, 1), ends=NOW.date() - timedelta(days=1)))}, R.TYPE_NOT_AVAILABLE),
    ("type's last day", A.COMPLETE, {"certificate_type": replace(LISJP, activation=Activation(
        starts=date(2020, 1, 1), ends=NOW.date()))}, NEW),
    ("pilot elsewhere", A.RENEW, {"certificate_type": replace(LISJP, activation=Activation(
        starts=date(2020, 1, 1), units=frozenset({HsaId("SE-PILOT-UNIT")})))}, R.TYPE_NOT_AVAILABLE),
    ("pilot on a unit above the draft's", A.RENEW, {"certificate_type": replace(LISJP, activation=Activation(
        starts=date(2020, 1, 1), units=frozenset({HsaId("SE-PILOT-UNIT")}))),
        "placement": Placement((PARENT.unit.hsa_id, HsaId("SE-PILOT-UNIT")), PARENT.care_giver.hsa_id)}, NEW),
    ("pilot for the care giver", A.REPLACE, {"certificate_type": replace(LISJP, activation=Activation(
        starts=date(2020, 1, 1), care_givers=frozenset({PARENT.care_giver.hsa_id})))}, NEW),
    ("mode C makes nothing, a phased-out type allows it", A.COMPLETE, {"mode": CompletionMode.C,
        "certificate_type": replace(LISJP, activation=Activation(starts=date(2020, 1, 1), ends=date(2021, 1, 1)))},
     NEW),
    ("LUSE is not renewed", A.RENEW, {"certificate_type": LUSE}, R.NOT_RENEWABLE),
    ("LUSE is replaced", A.REPLACE, {"certificate_type": LUSE}, NEW),
    # a deceased patient: nothing new
    ("deceased, renewed", A.RENEW, {"deceased": True}, R.PATIENT_DECEASED),
    ("deceased, replaced", A.REPLACE, {"deceased": True}, R.PATIENT_DECEASED),
    ("deceased, completed A", A.COMPLETE, {"deceased": True}, R.PATIENT_DECEASED),
    ("deceased, completed B", A.COMPLETE, {"deceased": True, "mode": CompletionMode.B}, R.PATIENT_DECEASED),
    ("deceased, answered C", A.COMPLETE, {"deceased": True, "mode": CompletionMode.C}, NEW),
    # protected identity: as at creation
    ("protected, LISJP", A.REPLACE, {"protected": True}, NEW),
    ("protected, DB", A.REPLACE, {"protected": True, "certificate_type": DB}, R.PATIENT_PROTECTED),
    ("protected, DB answered C", A.COMPLETE, {"protected": True, "certificate_type": DB, "mode": CompletionMode.C},
     NEW),
    # roles
    ("administrator renews", A.RENEW, {"role": Role.VARDADMINISTRATOR}, NEW),
    ("nurse renews LISJP", A.RENEW, {"role": Role.SJUKSKOTERSKA}, R.ROLE_NOT_ALLOWED),
    ("administrator completes A", A.COMPLETE, {"role": Role.VARDADMINISTRATOR}, NEW),
    ("administrator completes B", A.COMPLETE, {"role": Role.VARDADMINISTRATOR, "mode": CompletionMode.B},
     R.ROLE_NOT_ALLOWED),
    ("dentist completes B", A.COMPLETE, {"role": Role.TANDLAKARE, "mode": CompletionMode.B}, NEW),
    ("administrator answers C", A.COMPLETE, {"role": Role.VARDADMINISTRATOR, "mode": CompletionMode.C}, NEW),
    ("B without an other-information answer", A.COMPLETE, {"certificate_type": DB, "mode": CompletionMode.B},
     R.NO_OTHER_INFORMATION),
])
def test_who_may_make_what_from_which(case: str, action: Action, changes: dict[str, object],
                                      expected: str | None | RefusalReason) -> None:
    assert _check(action, **changes) == expected  # type: ignore[arg-type]


def test_a_renewal_drops_the_answers_the_registry_names() -> None:
    """LISJP: the basis of the assessment (1), contact with FK (26) and the need of sick leave (32) go."""
    content = relations.related_content(PARENT, A.RENEW, LISJP)
    assert [a.id for a in content] == ["6", "25", "39"]
    assert relations.related_content(PARENT, A.REPLACE, LISJP) == PARENT.content
    assert LISJP.renewal_drops == {"1", "26", "32"}


@pytest.mark.parametrize(("content", "expected"), [
    (PARENT.content, "Tidigare sjukskriven.\n\nInget mer att tillägga."),
    ((Answer("25", None, (AnswerPart("25.1", "  "),)),), "Inget mer att tillägga."),
    ((Answer("25", None, (AnswerPart("25.2", "x"),)),), "Inget mer att tillägga."),
    ((), "Inget mer att tillägga."),
])
def test_mode_b_puts_the_comment_in_the_other_information_answer(content: tuple[Answer, ...],
                                                                 expected: str) -> None:
    changed = relations.related_content(replace(PARENT, content=content), A.COMPLETE, LISJP,
                                        "Inget mer att tillägga.")
    other = [a for a in changed if a.id == "25"]
    assert len(other) == 1 and [p.value for p in other[0].parts if p.id == "25.1"] == [expected]
    assert [a.id for a in changed if a.id != "25"] == [a.id for a in content if a.id != "25"]


def test_the_new_draft_names_its_parent_and_has_the_patient_of_today() -> None:
    creator = Personnel(HsaId("SE2321000016-P009"), "Ny Läkare")
    moved = replace(PARENT.patient, postal_address="Nya gatan 1")
    draft = relations.related_draft(PARENT, A.RENEW, "new", creator, moved, (), NOW)
    assert (draft.status, draft.relation_code, draft.relation_parent, draft.patient, draft.created_by) == (
        S.DRAFT, RelationCode.FRLANG, "parent", moved, creator)
    assert (draft.unit, draft.type_code, draft.ref, draft.version, draft.signed_at) == (
        PARENT.unit, PARENT.type_code, None, 1, None)


_DIRECTORY = [demo_document(), parse_directory_document(OTHER_REGION)]
UNITS = {unit.hsa_id: unit for document in _DIRECTORY for unit in document.units}
USERS = {p.hsa_id.value: p for document in _DIRECTORY for p in document.personnel}
LAKARE, DENTIST = "SE2321000016-P001", "SE2321000016-P005"  # at 1000; at 1000 and 2000


@pytest.mark.parametrize(("case", "user", "requested", "expected"), [
    ("another unit of the care giver", DENTIST, CLINIC, CLINIC),
    ("as a client spells it", DENTIST, "se2321000016-2000", CLINIC),
    ("the parent's own unit", LAKARE, "SE2321000016-1003", "SE2321000016-1003"),
    ("the vårdenhet above the parent's", LAKARE, "SE2321000016-1000", "SE2321000016-1000"),
    ("an assignment below covers the vårdenhet", "below", "SE2321000016-1000", "SE2321000016-1000"),
    ("user unknown", None, CLINIC, R.USER_UNKNOWN),
    ("unit unknown", DENTIST, "SE2321000016-9999", R.UNIT_UNKNOWN),
    ("unit unknown, no assignment either", LAKARE, "SE2321000016-9999", R.UNIT_UNKNOWN),
    ("no assignment there", LAKARE, CLINIC, R.NO_ASSIGNMENT),
    ("an assignment for another purpose", "statistics", CLINIC, R.NO_ASSIGNMENT),
    ("another care giver's unit", TWO_REGIONS_LAKARE, OTHER_REGION_UNIT, R.OTHER_CARE_GIVER),
    ("another care giver's, no assignment", CLINIC_LAKARE, OTHER_REGION_UNIT, R.NO_ASSIGNMENT),
])
def test_where_a_related_draft_may_be_issued(case: str, user: str | None, requested: str, expected: str) -> None:
    """A unit the directory knows, covered by one of the user's care assignments, of the parent's care giver."""
    users: dict[str, Personnel] = {
        **USERS,
        "below": Personnel(HsaId("SE2321000016-P009"), "Mottagningsläkare",
                           assignments=(Assignment(HsaId("SE2321000016-1003"), "Vård och behandling"),)),
        "statistics": Personnel(HsaId("SE2321000016-P009"), "Statistiker",
                                assignments=(Assignment(HsaId(CLINIC), "Statistik"),)),
    }
    try:
        unit = relations.check_draft_unit(A.RENEW, PARENT, HsaId(requested), users.get(user or ""), UNITS)
    except LifecycleRefused as refused:
        assert (refused.action, refused.certificate_id) == (A.RENEW, "parent")
        assert refused.unit == (None if refused.reason is R.USER_UNKNOWN else HsaId(requested))
        assert refused.reason == expected
        return
    assert unit == UNITS[HsaId(expected)]


def test_a_draft_at_the_users_unit_has_that_unit_and_care_giver() -> None:
    creator = USERS[DENTIST]
    clinic = UNITS[HsaId(CLINIC)]
    draft = relations.related_draft(PARENT, A.REPLACE, "new", creator, PARENT.patient, PARENT.content, NOW,
                                    clinic, PARENT.care_giver)
    assert (draft.unit, draft.care_giver, draft.relation_parent, draft.header.unit) == (
        clinic, PARENT.care_giver, "parent", HsaId(CLINIC))
    assert (draft.unit.name, draft.unit.arbetsplatskod) == ("Sjukhuset Demo, medicinkliniken", "0987654321")


def test_completions_are_the_open_komplt_questions_and_svar_pa_the_latest() -> None:
    cert = PARENT
    q1 = make_arende(cert, message_id="q1", reference_id="r1", sent_at=NOW)
    q2 = make_arende(cert, message_id="q2", reference_id="r2", sent_at=NOW + timedelta(hours=1))
    others = [
        make_arende(cert, message_id="handled", status=ArendeStatus.HANDLED),
        make_arende(cert, message_id="answered", status=ArendeStatus.ANSWERED),
        make_arende(cert, message_id="kontakt", amne=Amne.KONTKT),
        make_arende(cert, message_id="ours", direction=Direction.FROM_CARE),
        make_arende(cert, message_id="p1", amne=Amne.PAMINN, reminder_of="q1"),
    ]
    open_ones = relations.open_completions([q2, *others, q1])
    assert [a.message_id for a in open_ones] == ["q1", "q2"]
    assert relations.completion_reference(open_ones) == MessageReference("q2", "r2")
    assert relations.completion_reference([]) is None


def test_reminders_of_answered_questions_are_handled_with_them() -> None:
    cert = PARENT
    conversation = [
        make_arende(cert, message_id="q1"),
        make_arende(cert, message_id="p1", amne=Amne.PAMINN, reminder_of="q1"),
        make_arende(cert, message_id="p2", amne=Amne.PAMINN, reminder_of="q1", status=ArendeStatus.HANDLED),
        make_arende(cert, message_id="p3", amne=Amne.PAMINN, reminder_of="other"),
    ]
    assert relations.reminders_of(conversation, ["q1"]) == ["p1"]


@pytest.mark.parametrize(("relation", "handles", "sends", "review"), [
    (RelationCode.KOMPLT, True, True, None),
    (RelationCode.ERSATT, True, False, "parent"),
    (RelationCode.FRLANG, True, False, None),
    (RelationCode.KOPIA, False, False, None),
    (None, False, False, None),
])
def test_what_signing_and_revoking_a_related_certificate_does(relation: RelationCode | None, handles: bool,
                                                              sends: bool, review: str | None) -> None:
    child = replace(PARENT, id="child", relation_code=relation, relation_parent="parent" if relation else None)
    assert relations.handles_parent_completions(child) is handles
    assert relations.sent_on_signing(child) is sends
    assert relations.review_after_revoking(child) == review


def test_children_are_the_certificates_naming_the_parent() -> None:
    found = relations.children_of([
        replace(PARENT, id="a", relation_code=RelationCode.ERSATT, relation_parent="parent", status=S.DRAFT),
        replace(PARENT, id="b", relation_code=RelationCode.FRLANG, relation_parent="other"),
        PARENT,
    ], "parent")
    assert found == [Child("a", RelationCode.ERSATT, S.DRAFT)]


SIGNER = HsaId("SE2321000016-P001")
COMPLETION = replace(make_signed_certificate("completion"), relation_code=RelationCode.KOMPLT,
                     relation_parent="parent", signed_at=NOW, signed_by=SIGNER)


def _handled(message_id: str, at: datetime = NOW, by: HsaId = SIGNER, **changes: object) -> Arende:
    return make_arende(PARENT, message_id=message_id, status=ArendeStatus.HANDLED, handled_at=at, handled_by=by,
                       **changes)


PARENT_CONVERSATION = [
    _handled("q1"), _handled("q2"),
    _handled("p1", amne=Amne.PAMINN, reminder_of="q1"),
    _handled("earlier", at=NOW - timedelta(days=1)),  # answered by an earlier completion
    _handled("by-hand", by=HsaId("SE2321000016-P002")),  # another user closed it
    _handled("kontakt", amne=Amne.KONTKT),  # not a completion request
    _handled("ours", direction=Direction.FROM_CARE),
    make_arende(PARENT, message_id="still-open"),
]


@pytest.mark.parametrize(("revoked", "siblings", "expected"), [
    (COMPLETION, [Child("completion", RelationCode.KOMPLT, CertificateStatus.SENT)], (("q1", "q2"), ("p1",))),
    # a later completion, replacement or renewal that counts answers the recipient now
    (COMPLETION, [Child("completion", RelationCode.KOMPLT, CertificateStatus.SENT),
                  Child("later", RelationCode.KOMPLT, CertificateStatus.SENT)], ((), ())),
    (COMPLETION, [Child("completion", RelationCode.KOMPLT, CertificateStatus.SENT),
                  Child("later", RelationCode.ERSATT, CertificateStatus.SIGNED)], ((), ())),
    # ... one that does not count (revoked, a draft, a copy) does not
    (COMPLETION, [Child("completion", RelationCode.KOMPLT, CertificateStatus.SENT),
                  Child("later", RelationCode.KOMPLT, CertificateStatus.REVOKED),
                  Child("draft", RelationCode.FRLANG, CertificateStatus.DRAFT),
                  Child("copy", RelationCode.KOPIA, CertificateStatus.SIGNED)], (("q1", "q2"), ("p1",))),
    # an earlier sibling changes nothing
    (COMPLETION, [Child("before", RelationCode.KOMPLT, CertificateStatus.SENT),
                  Child("completion", RelationCode.KOMPLT, CertificateStatus.SENT)], (("q1", "q2"), ("p1",))),
    # a renewal and a replacement handled them when signed, and reopen them
    (replace(COMPLETION, relation_code=RelationCode.FRLANG), [], (("q1", "q2"), ("p1",))),
    (replace(COMPLETION, relation_code=RelationCode.ERSATT), [], (("q1", "q2"), ("p1",))),
    # a copy, or a certificate without a relation, handled nothing
    (replace(COMPLETION, relation_code=RelationCode.KOPIA), [], ((), ())),
    (replace(COMPLETION, relation_code=None, relation_parent=None), [], ((), ())),
    # signed at another moment (or by another user): not what its signing handled
    (replace(COMPLETION, signed_at=NOW + timedelta(seconds=1)), [], ((), ())),
    (replace(COMPLETION, signed_by=HsaId("SE2321000016-P002")), [], (("by-hand",), ())),
])
def test_revoking_a_completion_reopens_what_its_signing_handled_unless_a_later_one_answers(
    revoked: Certificate, siblings: list[Child], expected: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    reopened = relations.reopened_by_revoking(revoked, siblings, PARENT_CONVERSATION)
    assert (reopened.questions, reopened.reminders) == expected
