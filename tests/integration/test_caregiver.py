"""Certificates that lose their owner: inventory, export then purge (all or nothing, PDL-logged, events
kept as tombstones), a digest mismatch and a change since the export refused."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.caregiver import write_private
from cli.serve import load_demo_directory
from domain.arenden import Amne, Arende, ArendeStatus, Direction
from domain.certificates import from_snapshot
from domain.directory import CareGiver
from domain.events import event_about
from domain.pdl import SystemIdentity
from domain.resend_request import ResendSelection
from domain.values import CertificateStatus, EventCode, HsaId
from store import arenden, certificates, outbox, pdl
from store import caregiver as store_caregiver
from store.outbox import OutboxRow, OutboxStatus
from store.outbox import resend as store_resend
from store.session import UnitOfWork, transaction
from tests.builders import make_operable_draft
from usecases import caregiver
from usecases.caregiver import CaregiverDeps, CaregiverRefusal, CaregiverRefused

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OLD = "SE2321000099-0001"  # a care giver merged away: not in the (demo) directory
ADMIN = "SE2321000016-A001"
OPEN = ArendeStatus.OPEN
IDS = ("old-draft", "old-signed")


def _owned_by(certificate_id: str, care_giver: str, **changes: object):  # type: ignore[no-untyped-def]
    draft = make_operable_draft(certificate_id, NOW - timedelta(days=30), **changes)
    owner = CareGiver(HsaId(care_giver), "Gamla regionen")
    return replace(draft, care_giver=owner, unit=replace(draft.unit, care_giver=owner.hsa_id))


@pytest.fixture
def deps(db_url: str, session_factory: sessionmaker[Session]) -> Iterator[CaregiverDeps]:
    """The demo directory, two certificates of the old care giver (one signed, with a question from FK,
    a delivered SKAPAT and a pending SIGNAT) and one of the demo region."""
    load_demo_directory(db_url)
    signed = _owned_by(IDS[1], OLD, status=CertificateStatus.SIGNED, signed_at=NOW - timedelta(days=20),
                       signed_by=HsaId("SE2321000016-P001"), signed_by_name="Ann Läkare")
    with transaction(session_factory) as session:
        certificates.add_certificate(session, _owned_by(IDS[0], OLD.lower()))
        certificates.add_certificate(session, signed)
        certificates.add_certificate(session, make_operable_draft("demo-draft", NOW))
        arenden.add_arende(session, Arende(
            message_id="fk-1", certificate_id=IDS[1], direction=Direction.FROM_RECIPIENT, status=OPEN, amne=Amne.KONTKT,
            text="Ring oss", sent_at=NOW, received_at=NOW, sender_part="FKASSA", patient=signed.patient.person_id,
        ))
        delivered = outbox.enqueue(session, event_about(signed.header, EventCode.SKAPAT, NOW, "c1",
                                                        payload={"ref": "journal-42"}))
        outbox.enqueue(session, event_about(signed.header, EventCode.SIGNAT, NOW, "c2", HsaId("SE2321000016-P001")))
        session.execute(update(OutboxRow).where(OutboxRow.id == delivered).values(status=OutboxStatus.DELIVERED))
    yield CaregiverDeps(UnitOfWork(session_factory), SystemIdentity("SE0000000000-GW", "Intygsgateway"), lambda: NOW)


def _export(deps: CaregiverDeps, path: Path) -> str:
    return caregiver.export(deps, HsaId(OLD), ADMIN, str(path), write_private(path)).digest


def _refusal(call: object) -> CaregiverRefused:
    with pytest.raises(CaregiverRefused) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_inventory_counts_by_type_status_and_unit(deps: CaregiverDeps) -> None:
    """Both spellings of the care giver's HSA-id count; the demo region's draft does not."""
    found = caregiver.inventory(deps, HsaId(OLD))
    assert (found.total, found.by_type_and_status, found.by_unit) == (
        2, (("LISJP", "DRAFT", 1), ("LISJP", "SIGNED", 1)), (("SE2321000016-1003", 2),)
    )
    assert (found.oldest, found.newest) == (NOW - timedelta(days=30), NOW - timedelta(days=30))


def test_export_writes_every_certificate_whole_privately_with_its_digest(deps: CaregiverDeps, tmp_path: Path) -> None:
    """JSON Lines (a header, then one certificate a line with its ärenden and events), 0600, digest of
    the bytes, recorded; each certificate PDL-logged as Utskrift."""
    path = tmp_path / "old-region.jsonl"
    digest = _export(deps, path)
    content = path.read_bytes()
    assert digest == hashlib.sha256(content).hexdigest()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    header, *lines = [json.loads(line) for line in content.decode().splitlines()]
    assert header["export"]["certificates"] == 2 and header["export"]["exportedBy"] == ADMIN
    by_id = {line["certificate"]["certificate_id"]: line for line in lines}
    assert sorted(by_id) == sorted(IDS)
    signed = by_id["old-signed"]
    assert from_snapshot(signed["certificate"]).status is CertificateStatus.SIGNED
    assert [a["messageId"] for a in signed["arenden"]] == ["fk-1"]
    assert [(e["event_code"], e["status"]) for e in signed["events"]] == [
        ("SKAPAT", "DELIVERED"), ("SIGNAT", "PENDING")
    ]
    with deps.transaction() as session:
        assert [r.activity for r in pdl.records_for_certificate(session, "old-signed")] == ["Utskrift"]
        assert store_caregiver.find_export(session, HsaId(OLD), digest.upper()) is not None
    with pytest.raises(FileExistsError):  # never over an existing file; nothing recorded then
        _export(deps, path)


def test_an_export_never_follows_a_planted_symlink(deps: CaregiverDeps, tmp_path: Path) -> None:
    """A dangling symlink at the export path (pointing where the attacker wants the data) is not
    followed: the export fails, nothing is written there, and no export is recorded."""
    folder = tmp_path / "exports"
    folder.mkdir()
    target, path = tmp_path / "elsewhere.jsonl", folder / "export.jsonl"
    path.symlink_to(target)
    with pytest.raises(FileExistsError):
        _export(deps, path)
    assert not target.exists() and [p.name for p in folder.iterdir()] == ["export.jsonl"]  # no leftovers
    with deps.transaction() as session:
        assert pdl.records_for_certificate(session, "old-signed") == []


def test_export_then_purge_removes_everything_but_the_event_tombstones(deps: CaregiverDeps, tmp_path: Path) -> None:
    """The round trip: certificates and ärenden gone, events kept without payload (pending ones PURGED),
    a Radera record each, the export marked, the demo region untouched; a second purge refused."""
    digest = _export(deps, tmp_path / "export.jsonl")
    with deps.transaction() as session:
        before = outbox.events_for_certificate(session, "old-signed")
    done = caregiver.purge(deps, HsaId(OLD), digest, "Regionen uppgick i Region Demo 2026", ADMIN)
    assert (done.certificates, done.events) == (2, 2)
    with deps.transaction() as session:
        assert certificates.certificates_by_id(session, [*IDS, "demo-draft"]).keys() == {"demo-draft"}
        assert arenden.arenden_for_certificate(session, "old-signed") == []
        after = outbox.events_for_certificate(session, "old-signed")
        activities = [(r.activity, r.user_id) for r in pdl.records_for_certificate(session, "old-draft")]
    assert [(e.id, e.code) for e in after] == [(e.id, e.code) for e in before]
    assert [e.status for e in after] == [OutboxStatus.DELIVERED, OutboxStatus.PURGED]
    assert all(set(e.payload) == {"purged"} and e.payload["purged"]["exportDigest"] == digest for e in after)
    assert activities == [("Utskrift", ADMIN), ("Radera", ADMIN)]
    assert _refusal(lambda: caregiver.purge(deps, HsaId(OLD), digest, "igen", ADMIN)).reason is (
        CaregiverRefusal.ALREADY_PURGED
    )
    # A resend of everything the old care giver ever had sends none of the tombstones again.
    selection = ResendSelection(care_giver=HsaId(OLD), include_delivered=True)
    with deps.transaction() as session:
        assert store_resend(session, selection, NOW, ADMIN, "prov").rearmed == 0


def test_a_digest_that_matches_no_export_is_refused_and_changes_nothing(deps: CaregiverDeps, tmp_path: Path) -> None:
    """A wrong (or another care giver's) digest: EXPORT_NOT_FOUND, every row still there."""
    _export(deps, tmp_path / "export.jsonl")
    refusal = _refusal(lambda: caregiver.purge(deps, HsaId(OLD), "0" * 64, "sammanslagning", ADMIN))
    assert refusal.reason is CaregiverRefusal.EXPORT_NOT_FOUND
    assert caregiver.inventory(deps, HsaId(OLD)).total == 2


def test_a_change_since_the_export_is_refused_until_exported_again(
    deps: CaregiverDeps, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A new ärende on one certificate and a new certificate: the old export no longer matches."""
    digest = _export(deps, tmp_path / "first.jsonl")
    with transaction(session_factory) as session:
        arenden.add_arende(session, Arende(
            message_id="fk-2", certificate_id="old-signed", direction=Direction.FROM_RECIPIENT, status=OPEN,
            amne=Amne.OVRIGT,
            text="En till fråga", sent_at=NOW, received_at=NOW, sender_part="FKASSA",
            patient=make_operable_draft("x", NOW).patient.person_id,
        ))
        certificates.add_certificate(session, _owned_by("old-late", OLD))
    refusal = _refusal(lambda: caregiver.purge(deps, HsaId(OLD), digest, "sammanslagning", ADMIN))
    assert (refusal.reason, refusal.details) == (
        CaregiverRefusal.CHANGED_SINCE_EXPORT, {"added": 1, "removed": 0, "changed": 1}
    )
    again = _export(deps, tmp_path / "second.jsonl")
    assert caregiver.purge(deps, HsaId(OLD), again, "sammanslagning", ADMIN).certificates == 3


def test_a_dry_run_and_a_care_giver_still_in_the_directory_change_nothing(
    deps: CaregiverDeps, tmp_path: Path
) -> None:
    """--dry-run counts and rolls back; the demo region (in the directory) needs the explicit override."""
    digest = _export(deps, tmp_path / "export.jsonl")
    assert caregiver.purge(deps, HsaId(OLD), digest, "prov", ADMIN, dry_run=True).certificates == 2
    assert caregiver.inventory(deps, HsaId(OLD)).total == 2
    with deps.transaction() as session:
        assert [r.activity for r in pdl.records_for_certificate(session, "old-draft")] == ["Utskrift"]
    refusal = _refusal(lambda: caregiver.purge(deps, HsaId("SE2321000016-0001"), digest, "fel", ADMIN))
    assert refusal.reason is CaregiverRefusal.STILL_IN_DIRECTORY


def test_the_command_line_round_trip(deps: CaregiverDeps, db_url: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """inventory, export (digest printed), purge with a wrong digest (exit 1), then the right one."""
    assert main(["caregiver", "inventory", OLD, "--json", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{\n"):])["total"] == 2
    path = tmp_path / "export.jsonl"
    assert main(["caregiver", "export", OLD, "--to", str(path), "--user", ADMIN, "--db", db_url]) == 0
    (digest,) = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("sha256 ")]
    assert main(["caregiver", "export", OLD, "--to", str(path), "--user", ADMIN, "--db", db_url]) == 1
    wrong = ["caregiver", "purge", OLD, "--export-digest", "ab" * 32, "--reason", "sammanslagning", "--user", ADMIN]
    assert main([*wrong, "--db", db_url]) == 1
    assert "EXPORT_NOT_FOUND" in capsys.readouterr().err
    right = ["caregiver", "purge", OLD, "--export-digest", digest, "--reason", "sammanslagning", "--user", ADMIN]
    assert main([*right, "--db", db_url]) == 0
    assert "purged 2 certificates; 2 status-update events kept as tombstones" in capsys.readouterr().out
