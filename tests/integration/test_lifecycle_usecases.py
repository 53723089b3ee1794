"""The certificate operations as use cases on a real database: one transaction each, events and PDL.

The demo directory is loaded so that users, roles and assignments come from the directory as in
production. Time is a settable clock; certificates are stored directly so each test starts in the
state it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli.serve import load_demo_directory
from domain.arenden import Amne, Arende, ArendeStatus, Direction, MessageReference
from domain.certificate_types import CertificateTypeRegistry, load_default_registry
from domain.certificates import Certificate, from_snapshot
from domain.directory import DirectoryUnavailable, Unit
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.pdl import SystemIdentity
from domain.values import CertificateStatus, EventCode, HsaId, RelationCode, RevokeReason
from store import arenden, certificates, outbox, pdl
from store.directory import SqlDirectory
from store.session import UnitOfWork
from tests.builders import CONTENT, make_draft, make_operable_draft
from usecases import lifecycle
from usecases.lifecycle import DependencyUnavailable, LifecycleDeps

S = CertificateStatus
START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
LAKARE, ADMIN, NURSE = HsaId("SE2321000016-P001"), HsaId("SE2321000016-P002"), HsaId("SE2321000016-P003")
CID = "cert-1"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def deps(db_url: str, session_factory: sessionmaker[Session]) -> Iterator[LifecycleDeps]:
    load_demo_directory(db_url)
    ids = iter(f"copy-{n}" for n in range(100))
    yield LifecycleDeps(
        transaction=UnitOfWork(session_factory),
        directory=SqlDirectory(session_factory),
        registry=load_default_registry(),
        system=SystemIdentity("SE0000000000-GW", "Intygsgateway"),
        clock=Clock(),
        new_id=lambda: next(ids),
    )


def _store(deps: LifecycleDeps, status: S = S.DRAFT, **changes: object) -> Certificate:
    certificate = make_operable_draft(CID, START, status=status, **changes)
    with deps.transaction() as session:
        certificates.add_certificate(session, certificate)
    return certificate


def _events(deps: LifecycleDeps, certificate_id: str = CID) -> list[tuple[EventCode, str | None]]:
    """The certificate's status updates (its onward events are ``_onward``'s)."""
    with deps.transaction() as session:
        return [
            (e.code, e.acting_user.value if e.acting_user else None)
            for e in outbox.events_for_certificate(session, certificate_id) if not e.is_onward
        ]


def _onward(deps: LifecycleDeps, certificate_id: str = CID) -> list[tuple[str, str | None, str | None]]:
    """The certificate's onward events: contract, recipient, logical address."""
    with deps.transaction() as session:
        return [(e.contract.value, e.recipient, e.logical_address)
                for e in outbox.events_for_certificate(session, certificate_id) if e.is_onward]


def _activities(deps: LifecycleDeps, certificate_id: str = CID) -> list[tuple[str, str]]:
    with deps.transaction() as session:
        return [(r.activity, r.user_id) for r in pdl.records_for_certificate(session, certificate_id)]


def _stored(deps: LifecycleDeps, certificate_id: str = CID) -> Certificate | None:
    with deps.transaction() as session:
        return certificates.get_certificate(session, certificate_id)


def _refused(call: object) -> LifecycleRefused:
    with pytest.raises(LifecycleRefused) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_edit_ready_sign_send_writes_events_and_pdl_in_order(deps: LifecycleDeps) -> None:
    """Each step saves a new version, queues its event with hanteratAv and writes its PDL activity; a
    send leaves the certificate SENDING with its registration at FK queued, and no SKICKA yet."""
    _store(deps, content=())
    lifecycle.update_content(deps, CID, ADMIN, CONTENT, "c1")
    lifecycle.mark_ready(deps, CID, ADMIN, "c2")
    lifecycle.sign(deps, CID, LAKARE, "c3")
    sent = lifecycle.send(deps, CID, LAKARE, "c4")
    assert (sent.status, sent.sent_to, sent.sent_at, sent.signed_by, sent.ready_by, sent.version) == (
        S.SENDING, "FKASSA", None, LAKARE, ADMIN, 5
    )
    assert sent.send_requested_at is not None
    assert _stored(deps) == sent
    assert _events(deps) == [
        (EventCode.ANDRAT, ADMIN.value), (EventCode.KFSIGN, ADMIN.value), (EventCode.SIGNAT, LAKARE.value),
    ]
    assert _onward(deps) == [("RegisterCertificate", "FKASSA", "2021005521")]
    assert _activities(deps) == [
        ("Skriva", ADMIN.value), ("Skriva", ADMIN.value), ("Signera", LAKARE.value), ("Utskrift", LAKARE.value),
    ]


def test_identical_content_writes_nothing(deps: LifecycleDeps) -> None:
    """Saving unchanged content is no change: no version, no event, no record."""
    stored = _store(deps, content=CONTENT)
    assert lifecycle.update_content(deps, CID, ADMIN, CONTENT, "c") == stored
    assert (_events(deps), _activities(deps)) == ([], [])


def test_refusals_write_nothing(deps: LifecycleDeps) -> None:
    """A vårdadministratör may not sign; nothing changes and no event or record is written."""
    stored = _store(deps)
    refusal = _refused(lambda: lifecycle.sign(deps, CID, ADMIN, "c"))
    assert (refusal.reason, refusal.action) == (RefusalReason.ROLE_NOT_ALLOWED, Action.SIGN)
    assert _stored(deps) == stored
    assert (_events(deps), _activities(deps)) == ([], [])


def test_unknown_certificate_user_and_unit_are_refused(deps: LifecycleDeps) -> None:
    """Not found, a user HSA does not know, and a user without an assignment on the unit's tree."""
    assert _refused(lambda: lifecycle.show(deps, "nope", LAKARE, "c")).reason is RefusalReason.CERTIFICATE_NOT_FOUND
    draft = make_draft()
    _store(deps, unit=Unit(HsaId("SE2321000016-2000"), "Annan enhet", draft.care_giver.hsa_id))
    assert _refused(lambda: lifecycle.show(deps, CID, HsaId("SE2321000016-NOBODY"), "c")).reason is (
        RefusalReason.USER_UNKNOWN
    )
    refusal = _refused(lambda: lifecycle.show(deps, CID, LAKARE, "c"))
    assert (refusal.reason, refusal.action) == (RefusalReason.NO_ASSIGNMENT, Action.READ)
    # Tandläkare P005 has an assignment on unit 2000 as well.
    assert lifecycle.show(deps, CID, HsaId("SE2321000016-P005"), "c").certificate.id == CID


def test_assignment_on_the_parent_unit_covers_a_sub_unit(deps: LifecycleDeps) -> None:
    """The builder's unit 1003 is under 1000, where the users have their assignments."""
    _store(deps)
    view = lifecycle.show(deps, CID, NURSE, "c")
    assert (view.certificate.unit.hsa_id, view.arenden) == (HsaId("SE2321000016-1003"), ())
    assert _activities(deps) == [("Läsa", NURSE.value)]


def test_test_certificates_get_events_but_no_pdl(deps: LifecycleDeps) -> None:
    """A validation person's certificate: ANDRAT is queued, no PDL record is written."""
    _store(deps, test_certificate=True, content=())
    lifecycle.update_content(deps, CID, LAKARE, CONTENT, "c")
    assert (_events(deps), _activities(deps)) == ([(EventCode.ANDRAT, LAKARE.value)], [])


def test_delete_removes_the_row_and_carries_the_certificate(deps: LifecycleDeps) -> None:
    """RADERA's payload holds the whole deleted certificate; the row is gone."""
    stored = _store(deps, content=CONTENT)
    lifecycle.delete(deps, CID, ADMIN, "c")
    assert _stored(deps) is None
    with deps.transaction() as session:
        (event,) = outbox.events_for_certificate(session, CID)
    assert (event.code, from_snapshot(event.payload["certificate"])) == (EventCode.RADERA, stored)
    assert _activities(deps) == [("Radera", ADMIN.value)]


def _question(message_id: str, status: ArendeStatus = ArendeStatus.OPEN, **changes: object) -> Arende:
    return Arende(
        message_id=message_id, certificate_id=CID, direction=Direction.FROM_RECIPIENT, status=status,
        amne=Amne.KOMPLT, text="Komplettera", sent_at=START, received_at=START, sender_part="FKASSA",
        patient=make_draft().patient.person_id, deadline=date(2026, 12, 1), **changes,  # type: ignore[arg-type]
    )


def test_revoke_closes_open_questions_and_counts_them(deps: LifecycleDeps) -> None:
    """Open questions become handled by the revoker; MAKULE carries the counts afterwards, then one
    HANFRFM per recipient's question and HANFRFV per care's question it closed (as the incumbent)."""
    _store(deps, S.SENT, signed_at=START)
    with deps.transaction() as session:
        arenden.add_arende(session, _question("q-open"))
        ours = replace(_question("q-ours"), direction=Direction.FROM_CARE, amne=Amne.OVRIGT,
                       received_at=START + timedelta(seconds=1))
        arenden.add_arende(session, ours)
        arenden.add_arende(session, replace(_question("q-answered"), received_at=START + timedelta(seconds=2)))
        arenden.add_arende(
            session,
            replace(_question("a-1"), answer_to=MessageReference("q-answered", None)),
        )
        arenden.mark_answered(session, ["q-answered"], START)
    revoked = lifecycle.revoke(deps, CID, LAKARE, "ANNAT_ALLVARLIGT_FEL", "Fel diagnos i fält 3", "c")
    assert (revoked.status, revoked.revoke_reason_code, revoked.revoke_reason, revoked.revoked_by) == (
        S.REVOKED, RevokeReason.ANNAT_ALLVARLIGT_FEL, "Fel diagnos i fält 3", LAKARE
    )
    with deps.transaction() as session:
        event, *closed = outbox.events_for_certificate(session, CID)
        stored = {a.message_id: a for a in arenden.arenden_for_certificate(session, CID)}
    assert event.code is EventCode.MAKULE
    assert event.payload["reason"] == {"code": "ANNAT_ALLVARLIGT_FEL", "description": "Fel diagnos i fält 3"}
    assert event.payload["counts"] == {
        "skickadeFragor": {"totalt": 1, "ejBesvarade": 0, "besvarade": 0, "hanterade": 1},
        "mottagnaFragor": {"totalt": 2, "ejBesvarade": 0, "besvarade": 0, "hanterade": 2},
    }
    assert [(e.code, e.payload["question"]) for e in closed] == [
        (EventCode.HANFRFM, "q-open"), (EventCode.HANFRFV, "q-ours"), (EventCode.HANFRFM, "q-answered")]
    assert all(e.payload["counts"] == event.payload["counts"] for e in closed)
    assert (stored["q-open"].status, stored["q-open"].handled_by) == (ArendeStatus.HANDLED, LAKARE)
    assert _activities(deps) == [("Radera", LAKARE.value)]


def test_a_revoke_without_a_real_description_is_refused_and_writes_nothing(deps: LifecycleDeps) -> None:
    """ANNAT_ALLVARLIGT_FEL with "dubblett" says nothing: refused, no event, no PDL record, still signed."""
    _store(deps, S.SIGNED, signed_at=START)
    refusal = _refused(lambda: lifecycle.revoke(deps, CID, LAKARE, "ANNAT_ALLVARLIGT_FEL", "dubblett", "c"))
    assert (refusal.reason, refusal.action) == (RefusalReason.DESCRIPTION_TOO_VAGUE, Action.REVOKE)
    stored = _stored(deps)
    assert stored is not None and stored.status is S.SIGNED
    assert _events(deps) == [] and _activities(deps) == []


def test_a_lock_period_of_zero_leaves_an_old_draft_signable(deps: LifecycleDeps) -> None:
    """draft_lock_days = 0: a draft a year old is signed, not locked on use."""
    never = replace(deps, draft_lock_days=0)
    _store(never, content=CONTENT)
    never.clock.now = START + timedelta(days=365)  # type: ignore[attr-defined]
    assert lifecycle.sign(never, CID, LAKARE, "c").status is S.SIGNED


def _with_lisjp_lock_days(deps: LifecycleDeps, days: int) -> LifecycleDeps:
    types = tuple(replace(t, draft_lock_days=days) if t.code == "LISJP" else t for t in load_default_registry())
    return replace(deps, registry=CertificateTypeRegistry(types))


@pytest.mark.parametrize(("type_days", "age_days", "locked"), [(30, 20, False), (5, 7, True), (0, 400, False)])
def test_a_types_own_lock_period_wins_on_use(deps: LifecycleDeps, type_days: int, age_days: int, locked: bool) -> None:
    """LISJP with its own draft_lock_days: 20 days is young under 30, 7 days old under 5, never under 0."""
    own = _with_lisjp_lock_days(deps, type_days)
    _store(own, content=CONTENT)
    own.clock.now = START + timedelta(days=age_days)  # type: ignore[attr-defined]
    if locked:
        assert _refused(lambda: lifecycle.sign(own, CID, LAKARE, "c")).status is S.LOCKED
    else:
        assert lifecycle.sign(own, CID, LAKARE, "c").status is S.SIGNED


def test_stale_draft_is_locked_on_use_and_can_then_only_be_revoked_or_copied(deps: LifecycleDeps) -> None:
    """15 days on, signing is refused as WRONG_STATUS; the copy is a new draft with SKAPAT."""
    _store(deps, content=CONTENT)
    deps.clock.now = START + timedelta(days=15)  # type: ignore[attr-defined]
    refusal = _refused(lambda: lifecycle.sign(deps, CID, LAKARE, "c"))
    assert (refusal.reason, refusal.status) == (RefusalReason.WRONG_STATUS, S.LOCKED)
    copy = lifecycle.copy_locked(deps, CID, ADMIN, "c")
    original = _stored(deps)
    assert original is not None and original.status is S.LOCKED and original.locked_at is not None
    assert (copy.id, copy.status, copy.content, copy.relation_code, copy.relation_parent, copy.created_by.hsa_id) == (
        "copy-0", S.DRAFT, CONTENT, RelationCode.KOPIA, CID, ADMIN
    )
    assert _stored(deps, "copy-0") == copy
    assert _events(deps, "copy-0") == [(EventCode.SKAPAT, ADMIN.value)]
    assert _activities(deps, "copy-0") == [("Skriva", ADMIN.value)]
    assert _events(deps) == []


def test_directory_outage_is_dependency_unavailable(deps: LifecycleDeps) -> None:
    """A directory that does not answer gives DependencyUnavailable (API: 503), and nothing is written."""

    class Down(SqlDirectory):
        def personnel(self, hsa_id: HsaId):  # type: ignore[no-untyped-def]
            raise DirectoryUnavailable("down")

    stored = _store(deps)
    down = replace(deps, directory=Down(None))  # type: ignore[arg-type]
    with pytest.raises(DependencyUnavailable) as caught:
        lifecycle.mark_ready(down, CID, ADMIN, "c")
    assert caught.value.dependency == "directory"
    assert (_stored(deps), _events(deps)) == (stored, [])
