"""The lifecycle rules: every allowed transition and every refusal, as plain Python."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain import lifecycle
from domain.certificate_types import CertificateType, load_default_registry
from domain.certificates import Answer, AnswerPart, Certificate
from domain.directory import Personnel
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.recipients import Recipient, from_mapping, load_default_recipients
from domain.values import KV_INTYGSTYP, CertificateStatus, HsaId, RelationCode, RevokeReason, Role
from tests.builders import CONTENT, make_draft

S = CertificateStatus
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
USER = HsaId("SE2321000016-P001")
SIGNER = Personnel(USER, "Ann Läkare", licensed_professions=("Läkare",))
REGISTRY = load_default_registry()
RECIPIENTS = load_default_recipients()


def _type(code: str) -> CertificateType:
    found = REGISTRY.lookup(code, KV_INTYGSTYP)
    assert found is not None
    return found


LISJP, IGRAV, ITFP, LUSE = _type("LISJP"), _type("IGRAV"), _type("ITFP"), _type("LUSE")


def _in(status: CertificateStatus, **changes: object) -> Certificate:
    """A young, non-test certificate in ``status``."""
    base = replace(make_draft(), created_at=NOW - timedelta(days=1), test_certificate=False)
    base = replace(base, patient=replace(base.patient, test_indicator=False))
    return replace(base, status=status, **changes)  # type: ignore[arg-type]


def _refusal(call: object) -> LifecycleRefused:
    with pytest.raises(LifecycleRefused) as caught:
        call()  # type: ignore[operator]
    return caught.value


ALL = tuple(CertificateStatus)


# --- update content ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.READY])
def test_changed_content_is_stored_and_ready_falls_back_to_draft(status: CertificateStatus) -> None:
    """New content bumps the version, sets updated_at, and a READY certificate is a DRAFT again."""
    before = _in(status, ready_at=NOW, ready_by=USER) if status is S.READY else _in(status)
    after = lifecycle.update_content(before, CONTENT, NOW)
    assert (after.content, after.status, after.version, after.updated_at) == (CONTENT, S.DRAFT, 2, NOW)
    assert (after.ready_at, after.ready_by) == (None, None)


def test_identical_content_changes_nothing() -> None:
    """Saving the same content is not a change: same object, no new version."""
    before = _in(S.READY, content=CONTENT, ready_at=NOW, ready_by=USER)
    assert lifecycle.update_content(before, CONTENT, NOW) is before


@pytest.mark.parametrize("status", [s for s in ALL if s not in (S.DRAFT, S.READY)])
def test_content_of_locked_signed_sent_or_revoked_cannot_change(status: CertificateStatus) -> None:
    """Only drafts have editable content."""
    refusal = _refusal(lambda: lifecycle.update_content(_in(status), CONTENT, NOW))
    assert (refusal.reason, refusal.action, refusal.status) == (
        RefusalReason.WRONG_STATUS, Action.UPDATE_CONTENT, status
    )


# --- mark ready --------------------------------------------------------------------------------


def test_mark_ready_records_who_and_when() -> None:
    """DRAFT becomes READY with ready_at and ready_by."""
    after = lifecycle.mark_ready(_in(S.DRAFT), HsaId("SE2321000016-P002"), NOW)
    assert (after.status, after.ready_at, after.ready_by, after.version) == (
        S.READY, NOW, HsaId("SE2321000016-P002"), 2
    )


@pytest.mark.parametrize("status", [s for s in ALL if s is not S.DRAFT])
def test_only_a_draft_can_be_marked_ready(status: CertificateStatus) -> None:
    """READY again, LOCKED, SIGNED, SENT and REVOKED are refused."""
    refusal = _refusal(lambda: lifecycle.mark_ready(_in(status), USER, NOW))
    assert (refusal.reason, refusal.action) == (RefusalReason.WRONG_STATUS, Action.MARK_READY)


# --- sign --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "certificate_type"),
    [
        (Role.LAKARE, LISJP), (Role.TANDLAKARE, LISJP), (Role.LAKARE, LUSE),
        (Role.SJUKSKOTERSKA, IGRAV), (Role.BARNMORSKA, IGRAV), (Role.SJUKSKOTERSKA, ITFP),
    ],
)
@pytest.mark.parametrize("status", [S.DRAFT, S.READY])
def test_allowed_roles_sign(role: Role, certificate_type: CertificateType, status: CertificateStatus) -> None:
    """Läkare/tandläkare sign what they may create; nurses and midwives sign nurses_may_sign types."""
    after = lifecycle.sign(_in(status, content=CONTENT), SIGNER, role, certificate_type, NOW)
    assert (after.status, after.signed_at, after.signed_by, after.signed_by_name, after.is_signed) == (
        S.SIGNED, NOW, USER, "Ann Läkare", True
    )


@pytest.mark.parametrize(
    ("role", "certificate_type"),
    [
        (Role.VARDADMINISTRATOR, LISJP), (Role.VARDADMINISTRATOR, IGRAV),
        (Role.SJUKSKOTERSKA, LISJP), (Role.BARNMORSKA, LISJP),
        (Role.BARNMORSKA, ITFP),  # nurses_may_sign, but barnmorska may not create ITFP
        (Role.TANDLAKARE, LUSE),  # tandläkare may not create LUSE
    ],
)
def test_other_roles_may_not_sign(role: Role, certificate_type: CertificateType) -> None:
    """Refused with ROLE_NOT_ALLOWED and the role named."""
    refusal = _refusal(lambda: lifecycle.sign(_in(S.DRAFT), SIGNER, role, certificate_type, NOW))
    assert (refusal.reason, refusal.action, refusal.role) == (RefusalReason.ROLE_NOT_ALLOWED, Action.SIGN, role)


@pytest.mark.parametrize("status", [S.LOCKED, S.SIGNED, S.SENT, S.REVOKED])
def test_only_drafts_can_be_signed(status: CertificateStatus) -> None:
    """Locked, already signed, sent and revoked certificates are refused."""
    refusal = _refusal(lambda: lifecycle.sign(_in(status), SIGNER, Role.LAKARE, LISJP, NOW))
    assert refusal.reason is RefusalReason.WRONG_STATUS


def test_signing_a_type_missing_from_the_registry_is_refused() -> None:
    """Without the type there is no rule to sign by."""
    refusal = _refusal(lambda: lifecycle.sign(_in(S.DRAFT), SIGNER, Role.LAKARE, None, NOW))
    assert refusal.reason is RefusalReason.TYPE_UNKNOWN


def test_a_draft_with_no_answers_is_not_signed() -> None:
    refusal = _refusal(lambda: lifecycle.sign(_in(S.DRAFT), SIGNER, Role.LAKARE, LISJP, NOW))
    assert (refusal.reason, refusal.missing) == (RefusalReason.NO_ANSWERS, ())


@pytest.mark.parametrize(("content", "missing"), [
    ((), None),  # NO_ANSWERS
    (CONTENT, ("32", "39")),  # CONTENT has 1 and 6
    ((Answer("32", None, (AnswerPart("32.1", "  "),)), Answer("39", None, (AnswerPart("39.1", "x"),))), ("32",)),
    ((Answer("32", None, (AnswerPart("32.1", "", xml="<cv/>"),)), Answer("39", None, (AnswerPart("39.1", "x"),))),
     ()),
])
def test_the_answers_a_type_requires_are_named_when_missing(content: tuple[Answer, ...],
                                                            missing: tuple[str, ...] | None) -> None:
    """``required_answers`` (registry data): an answer with only blank parts is missing; typed XML counts."""
    strict = replace(LISJP, required_answers=("32", "39"))
    draft = _in(S.DRAFT, content=content)
    if missing == ():
        assert lifecycle.sign(draft, SIGNER, Role.LAKARE, strict, NOW).status is S.SIGNED
        return
    refusal = _refusal(lambda: lifecycle.sign(draft, SIGNER, Role.LAKARE, strict, NOW))
    expected = (RefusalReason.NO_ANSWERS, ()) if missing is None else (RefusalReason.ANSWERS_MISSING, missing)
    assert (refusal.reason, refusal.missing) == expected
    assert missing is None or "missing=" + ",".join(missing) in str(refusal)


# --- send --------------------------------------------------------------------------------------


_FK = RECIPIENTS.lookup("FKASSA")
assert _FK is not None
FK: Recipient = _FK


def test_send_waits_for_the_recipient() -> None:
    """SIGNED becomes SENDING to the recipient: sent_to and when it was asked, but no sent_at yet."""
    after = lifecycle.send(_in(S.SIGNED, signed_at=NOW), LISJP, RECIPIENTS.check_send("FKASSA", "LISJP"), NOW)
    assert (after.status, after.sent_at, after.sent_to, after.send_requested_at) == (S.SENDING, None, "FKASSA", NOW)
    assert after.version == 2


def test_a_new_send_clears_the_last_failure() -> None:
    """A certificate whose send failed is SIGNED with the failure; sending again starts clean."""
    failed = _in(S.SIGNED, signed_at=NOW, sent_to="FKASSA", send_failed_at=NOW, send_failure_class="validation-error",
                 send_failure_text="Ogiltig diagnoskod")
    after = lifecycle.send(failed, LISJP, FK, NOW + timedelta(hours=1))
    assert (after.send_failed_at, after.send_failure_class, after.send_failure_text) == (None, None, None)


@pytest.mark.parametrize("status", [s for s in ALL if s is not S.SIGNED])
def test_only_signed_certificates_are_sent(status: CertificateStatus) -> None:
    """Drafts, certificates being sent or sent (again), locked and revoked certificates are refused."""
    refusal = _refusal(lambda: lifecycle.send(_in(status), LISJP, FK, NOW))
    assert (refusal.reason, refusal.action) == (RefusalReason.WRONG_STATUS, Action.SEND)


@pytest.mark.parametrize("where", ["test_certificate", "pu_test_indicator"])
def test_test_certificates_are_never_sent(where: str) -> None:
    """A validation person's certificate or a PU test person's is refused with TEST_CERTIFICATE."""
    certificate = _in(S.SIGNED)
    if where == "test_certificate":
        certificate = replace(certificate, test_certificate=True)
    else:
        certificate = replace(certificate, patient=replace(certificate.patient, test_indicator=True))
    refusal = _refusal(lambda: lifecycle.send(certificate, LISJP, FK, NOW))
    assert refusal.reason is RefusalReason.TEST_CERTIFICATE


def test_sending_a_type_missing_from_the_registry_is_refused() -> None:
    """Without the type there is no recipient."""
    assert _refusal(lambda: lifecycle.send(_in(S.SIGNED), None, FK, NOW)).reason is RefusalReason.TYPE_UNKNOWN


@pytest.mark.parametrize(("recipient", "type_code", "reason"), [
    ("SKV", "LISJP", RefusalReason.RECIPIENT_UNKNOWN),
    ("TRANSP", "LISJP", RefusalReason.RECIPIENT_NOT_FOR_TYPE),
    ("INACTIVE", "LISJP", RefusalReason.RECIPIENT_INACTIVE),
])
def test_a_send_to_a_recipient_that_cannot_take_it_is_refused(recipient: str, type_code: str,
                                                              reason: RefusalReason) -> None:
    """Unknown, inactive, or not listed for the type: refused with the code, before anything changes."""
    registry = from_mapping({"recipients": {
        "TRANSP": {"name": "T", "logical_address": "2021006099", "certificate_types": ["TSTRK1007"], "active": True},
        "INACTIVE": {"name": "I", "logical_address": "1", "certificate_types": ["LISJP"], "active": False},
    }})
    refusal = _refusal(lambda: lifecycle.send(_in(S.SIGNED), LISJP, registry.check_send(recipient, type_code), NOW))
    assert (refusal.reason, refusal.action) == (reason, Action.SEND)


def test_a_certificate_being_sent_may_be_revoked() -> None:
    """SENDING is revocable: the revocation then follows or cancels the send (domain.onward)."""
    after = lifecycle.revoke(_in(S.SENDING, signed_at=NOW), USER, Role.LAKARE, LISJP, "FEL_PATIENT", None, NOW)
    assert after.status is S.REVOKED


# --- revoke ------------------------------------------------------------------------------------

SERIOUS = RevokeReason.ANNAT_ALLVARLIGT_FEL.value
WHY = "Fel diagnoskod i fält 3, intyget skrivs om"


@pytest.mark.parametrize("status", [S.DRAFT, S.READY, S.LOCKED, S.SIGNED, S.SENT])
def test_revoke_records_who_when_and_why(status: CertificateStatus) -> None:
    """Drafts, locked drafts and certificates can be revoked; the code is kept, the description trimmed."""
    after = lifecycle.revoke(_in(status), USER, Role.LAKARE, LISJP, f" {SERIOUS} ", f"  {WHY}\n", NOW)
    assert (after.status, after.revoked_at, after.revoked_by, after.revoke_reason_code, after.revoke_reason) == (
        S.REVOKED, NOW, USER, RevokeReason.ANNAT_ALLVARLIGT_FEL, WHY
    )


def test_wrong_patient_needs_no_description() -> None:
    """FEL_PATIENT says it all; a description is optional and kept when given, even a short one."""
    bare = lifecycle.revoke(_in(S.SIGNED), USER, Role.LAKARE, LISJP, "FEL_PATIENT", None, NOW)
    noted = lifecycle.revoke(_in(S.SIGNED), USER, Role.LAKARE, LISJP, "FEL_PATIENT", "tvilling", NOW)
    assert (bare.revoke_reason_code, bare.revoke_reason) == (RevokeReason.FEL_PATIENT, None)
    assert noted.revoke_reason == "tvilling"


def test_revoked_certificate_cannot_be_revoked_again() -> None:
    """REVOKED is final."""
    refusal = _refusal(lambda: lifecycle.revoke(_in(S.REVOKED), USER, Role.LAKARE, LISJP, SERIOUS, WHY, NOW))
    assert refusal.reason is RefusalReason.WRONG_STATUS


@pytest.mark.parametrize(
    ("role", "certificate_type"),
    [(Role.VARDADMINISTRATOR, LISJP), (Role.SJUKSKOTERSKA, LISJP), (Role.VARDADMINISTRATOR, None),
     (Role.SJUKSKOTERSKA, None)],
)
def test_roles_that_may_not_sign_may_not_revoke(role: Role, certificate_type: CertificateType | None) -> None:
    """Vårdadministratör never revokes; a nurse only types she may sign."""
    refusal = _refusal(lambda: lifecycle.revoke(_in(S.SIGNED), USER, role, certificate_type, SERIOUS, WHY, NOW))
    assert (refusal.reason, refusal.role) == (RefusalReason.ROLE_NOT_ALLOWED, role)


def test_nurse_revokes_a_type_she_may_sign_and_a_physician_an_unregistered_type() -> None:
    """IGRAV by a sjuksköterska; a type gone from the registry by a läkare."""
    assert lifecycle.revoke(_in(S.SIGNED), USER, Role.SJUKSKOTERSKA, IGRAV, SERIOUS, WHY, NOW).status is S.REVOKED
    assert lifecycle.revoke(_in(S.SIGNED), USER, Role.LAKARE, None, SERIOUS, WHY, NOW).status is S.REVOKED


@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        ("", WHY, RefusalReason.REASON_MISSING),
        ("   ", WHY, RefusalReason.REASON_MISSING),
        ("Fel patient", WHY, RefusalReason.REASON_UNKNOWN),  # the old free-text reason is no code
        ("annat_allvarligt_fel", WHY, RefusalReason.REASON_UNKNOWN),  # spelt exactly, as the incumbent
        ("INCORRECT_PATIENT", WHY, RefusalReason.REASON_UNKNOWN),  # the certificate service's name
        (SERIOUS, None, RefusalReason.DESCRIPTION_MISSING),
        (SERIOUS, "  \n\t ", RefusalReason.DESCRIPTION_MISSING),
        # What the incumbent's administrators found in real revocations.
        (SERIOUS, "c", RefusalReason.DESCRIPTION_TOO_VAGUE),
        (SERIOUS, ".", RefusalReason.DESCRIPTION_TOO_VAGUE),
        (SERIOUS, "dubblett", RefusalReason.DESCRIPTION_TOO_VAGUE),
        (SERIOUS, "..........!!", RefusalReason.DESCRIPTION_TOO_VAGUE),
        (SERIOUS, "aaaaaaaaaaaaaaaa", RefusalReason.DESCRIPTION_TOO_VAGUE),
        (SERIOUS, "A a a a a a a a a a", RefusalReason.DESCRIPTION_TOO_VAGUE),  # one letter in two cases
        (SERIOUS, "x       y", RefusalReason.DESCRIPTION_TOO_VAGUE),  # spaces collapse: "x y" is short
        (SERIOUS, "x" * (lifecycle.MAX_REASON_LENGTH + 1), RefusalReason.REASON_TOO_LONG),
        ("FEL_PATIENT", "x" * (lifecycle.MAX_REASON_LENGTH + 1), RefusalReason.REASON_TOO_LONG),
    ],
)
def test_revoke_needs_a_reason_code_and_a_description_that_says_something(
    code: str, description: str | None, expected: RefusalReason
) -> None:
    """A missing or unknown code, and for ANNAT_ALLVARLIGT_FEL a missing or meaningless description, is refused."""
    refusal = _refusal(lambda: lifecycle.revoke(_in(S.SIGNED), USER, Role.LAKARE, LISJP, code, description, NOW))
    assert refusal.reason is expected


@pytest.mark.parametrize(
    "description", ["Dubblett av intyg 1234", "Fel datum!", "Fel datum i 2.1", "Wrong ICD-10", "Fel datum.\nSkrivs om."]
)
def test_short_real_descriptions_pass(description: str) -> None:
    """The rule is a floor: ten characters that are not one repeated sign are enough; line breaks are kept."""
    after = lifecycle.revoke(_in(S.SIGNED), USER, Role.LAKARE, LISJP, SERIOUS, description, NOW)
    assert after.revoke_reason == description


# --- delete ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.READY])
def test_drafts_may_be_deleted(status: CertificateStatus) -> None:
    """check_delete passes for drafts that are neither locked nor signed."""
    lifecycle.check_delete(_in(status))


@pytest.mark.parametrize("status", [S.LOCKED, S.SIGNED, S.SENT, S.REVOKED])
def test_locked_signed_and_revoked_may_not_be_deleted(status: CertificateStatus) -> None:
    """Refused with WRONG_STATUS."""
    refusal = _refusal(lambda: lifecycle.check_delete(_in(status)))
    assert (refusal.reason, refusal.action, refusal.status) == (RefusalReason.WRONG_STATUS, Action.DELETE, status)


# --- lock --------------------------------------------------------------------------------------

DAYS = lifecycle.DEFAULT_LOCK_DAYS


@pytest.mark.parametrize("status", [S.DRAFT, S.READY])
def test_drafts_older_than_fourteen_days_are_locked(status: CertificateStatus) -> None:
    """Created 14 days and a second ago: LOCKED with locked_at."""
    stale = _in(status, created_at=NOW - timedelta(days=14, seconds=1))
    after = lifecycle.lock_if_stale(stale, NOW, DAYS)
    assert (after.status, after.locked_at, after.version) == (S.LOCKED, NOW, 2)


def test_a_draft_exactly_fourteen_days_old_is_not_locked_yet() -> None:
    """The boundary itself is still young."""
    draft = _in(S.DRAFT, created_at=NOW - timedelta(days=14))
    assert lifecycle.lock_if_stale(draft, NOW, DAYS) is draft


@pytest.mark.parametrize("status", [S.SIGNED, S.SENT, S.REVOKED, S.LOCKED])
def test_old_certificates_that_are_not_drafts_are_left_alone(status: CertificateStatus) -> None:
    """Signed, sent, revoked and already locked certificates never (re)lock."""
    old = _in(status, created_at=NOW - timedelta(days=100))
    assert lifecycle.lock_if_stale(old, NOW, DAYS) is old


def test_a_lock_period_of_zero_never_locks() -> None:
    """draft_lock_days = 0: a ten-year-old draft is still a draft."""
    ancient = _in(S.DRAFT, created_at=NOW - timedelta(days=3650))
    assert lifecycle.lock_if_stale(ancient, NOW, 0) is ancient


def test_a_types_own_lock_period_wins_over_the_setting() -> None:
    """The type's draft_lock_days, 0 included, wins; without one, and for an unknown type, the setting."""
    assert lifecycle.lock_days(replace(LISJP, draft_lock_days=30), 14) == 30
    assert lifecycle.lock_days(replace(LISJP, draft_lock_days=0), 14) == 0
    assert lifecycle.lock_days(LISJP, 7) == 7
    assert lifecycle.lock_days(None, 7) == 7


def test_lock_rules_sweep_each_period_once_and_skip_never() -> None:
    """One sweep for the default period (without the overriding types), one per overriding period; 0 is no sweep."""
    types = [LISJP, replace(IGRAV, draft_lock_days=30), replace(_type("DB"), draft_lock_days=0),
             replace(_type("DOI"), draft_lock_days=30), replace(_type("AG7804"), draft_lock_days=14)]
    rules = lifecycle.lock_rules(types, 7, NOW)
    assert rules == [
        lifecycle.LockRule(NOW - timedelta(days=7), None, frozenset({"IGRAV", "DB", "DOI", "AG7804"})),
        lifecycle.LockRule(NOW - timedelta(days=14), frozenset({"AG7804"})),
        lifecycle.LockRule(NOW - timedelta(days=30), frozenset({"IGRAV", "DOI"})),
    ]


def test_no_sweep_at_all_when_every_period_is_zero() -> None:
    """draft_lock_days = 0 and no type overriding it: the job locks nothing."""
    assert lifecycle.lock_rules([LISJP, IGRAV], 0, NOW) == []
    only = lifecycle.lock_rules([replace(IGRAV, draft_lock_days=5)], 0, NOW)
    assert only == [lifecycle.LockRule(NOW - timedelta(days=5), frozenset({"IGRAV"}))]


# --- copy --------------------------------------------------------------------------------------


def test_copy_of_a_locked_draft_is_a_new_draft_with_the_same_content() -> None:
    """Same type, patient, unit, content; new id, creator and time; relation KOPIA to it; version 1."""
    content = (Answer("1", None, (AnswerPart("1.1", "text"),)),)
    locked = _in(S.LOCKED, content=content, version=4, locked_at=NOW)
    creator = Personnel(HsaId("SE2321000016-P002"), "Bo Vårdadministratör")
    later = NOW + timedelta(hours=1)
    copy = lifecycle.copy_locked(locked, "new-id", creator, Role.VARDADMINISTRATOR, LISJP, later)
    assert copy == replace(
        locked, id="new-id", status=S.DRAFT, created_by=creator, created_at=later, version=1,
        locked_at=None, relation_code=RelationCode.KOPIA, relation_parent=locked.id,
    )


@pytest.mark.parametrize("status", [s for s in ALL if s is not S.LOCKED])
def test_only_locked_drafts_are_copied(status: CertificateStatus) -> None:
    """Copying anything else is refused."""
    refusal = _refusal(lambda: lifecycle.copy_locked(_in(status), "n", SIGNER, Role.LAKARE, LISJP, NOW))
    assert (refusal.reason, refusal.action) == (RefusalReason.WRONG_STATUS, Action.COPY)


def test_copy_needs_a_role_that_may_create_the_type() -> None:
    """A sjuksköterska may not create LISJP, so may not copy one; an unknown type is refused."""
    locked = _in(S.LOCKED)
    refusal = _refusal(lambda: lifecycle.copy_locked(locked, "n", SIGNER, Role.SJUKSKOTERSKA, LISJP, NOW))
    assert refusal.reason is RefusalReason.ROLE_NOT_ALLOWED
    refusal = _refusal(lambda: lifecycle.copy_locked(locked, "n", SIGNER, Role.LAKARE, None, NOW))
    assert refusal.reason is RefusalReason.TYPE_UNKNOWN


def test_refusal_names_its_fields() -> None:
    """The exception carries certificate id, status and role; its text is for logs only."""
    refusal = _refusal(lambda: lifecycle.sign(_in(S.DRAFT), SIGNER, Role.VARDADMINISTRATOR, LISJP, NOW))
    assert (refusal.certificate_id, refusal.status, refusal.role) == (
        make_draft().id, S.DRAFT, Role.VARDADMINISTRATOR
    )
