"""The whole FK loop with real processes on loopback, on SQLite and PostgreSQL, in both deployment shapes.

``intygsgateway serve`` (with its worker), ``mock-journal`` and ``mock-recipient`` run as processes; a
journal system (zeep, from the gateway's ``?wsdl``) creates a draft; the physician signs and sends it
(the command line); the simulated FK receives the registration (or, beside the archive, the archive
receives it on signing and then the send); FK asks a question, which reaches the journal as NYFRFM;
care answers, FK receives it with ``svarPa``, the journal gets HANFRFM; care revokes, FK (or the
archive) receives the revocation and the journal MAKULE. Every message either simulator received is
valid by our schemas and, with ``RIVTA_OFFICIAL_SCHEMAS``, by the official ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conformance import status_update_corpus
from tests.conformance.schemas import OFFICIAL_ENV, message_errors
from tests.integration.fk_loop import (
    ARCHIVE,
    CONTENT_FILE,
    FK,
    LAKARE,
    Processes,
    create_draft,
    start_loop,
    wait,
)
from tests.integration.onward_env import CORPORA


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path, {})
    yield started
    started.stop()


@pytest.mark.parametrize("target", ["recipient", "archive"])
def test_the_whole_fk_loop_with_real_processes(target: str, db_url: str, session_factory: sessionmaker[Session],
                                               processes: Processes) -> None:
    processes.env["INTYGSGATEWAY_ONWARD_TARGET"] = target
    loop = start_loop(processes, db_url, session_factory)
    gateway, journal, recipient, http = loop.gateway, loop.journal, loop.recipient, loop.http

    def on_fk(contract: str) -> list[dict[str, Any]]:
        """What the simulated FK (or archive) received of ``contract``."""
        return list(http.get(f"{recipient}/_mock/received?contract={contract}", timeout=5).json())

    def codes() -> list[str]:
        """The event codes the journal received, in order."""
        return [r["event_code"] for r in http.get(f"{journal}/_mock/received", timeout=5).json()]

    where = FK if target == "recipient" else ARCHIVE

    certificate_id = create_draft(gateway)
    processes.cli("certificate", "edit", certificate_id, "--content", str(CONTENT_FILE), "--user", LAKARE,
                  "--db", db_url)
    processes.cli("certificate", "sign", certificate_id, "--user", LAKARE, "--db", db_url)
    assert "SENDING" in processes.cli("certificate", "send", certificate_id, "--user", LAKARE, "--db", db_url)
    carrier = "RegisterCertificate" if target == "recipient" else "SendCertificateToRecipient"
    [delivered] = wait("the send", lambda: on_fk(carrier))
    assert (delivered["logicalAddress"], delivered["certificateId"], delivered["resultCode"]) == (
        where, certificate_id, "OK")
    wait("SKICKA", lambda: "SKICKA" in codes())
    assert "SENT" in processes.cli("certificate", "show", certificate_id, "--user", LAKARE, "--db", db_url)

    asked = http.post(f"{recipient}/_mock/send-message-to-care", timeout=30, json={
        "certificateId": certificate_id, "amne": "KONTKT", "heading": "Kontakt", "text": "Ring oss",
        "sistaDatumForSvar": "2027-01-15"}).json()
    assert asked["result"]["resultCode"] == "OK", asked
    wait("NYFRFM", lambda: "NYFRFM" in codes())
    processes.cli("certificate", "answer", certificate_id, "--question", asked["messageId"], "--text",
                  "Ring mig på 010-123 45 67", "--user", LAKARE, "--db", db_url)
    [answer] = wait("the answer", lambda: on_fk("SendMessageToRecipient"))
    assert (answer["logicalAddress"], answer["recipient"], answer["resultCode"]) == (where, FK, "OK")
    assert asked["messageId"] in answer["xml"] and "svarPa" in answer["xml"]
    wait("HANFRFM", lambda: "HANFRFM" in codes())

    processes.cli("certificate", "revoke", certificate_id, "--reason", "FEL_PATIENT", "--user", LAKARE, "--db", db_url)
    [revocation] = wait("the revocation", lambda: on_fk("RevokeCertificate"))
    assert (revocation["logicalAddress"], revocation["resultCode"]) == (where, "OK")
    # the revocation closes the answered question: MAKULE, then its HANFRFM (as the incumbent)
    wait("MAKULE and HANFRFM", lambda: codes()[-2:] == ["MAKULE", "HANFRFM"])
    assert codes() == ["SKAPAT", "ANDRAT", "SIGNAT", "SKICKA", "NYFRFM", "HANFRFM", "MAKULE", "HANFRFM"]
    if target == "archive":
        assert [r["logicalAddress"] for r in on_fk("RegisterCertificate")] == [ARCHIVE]

    official = bool(os.environ.get(OFFICIAL_ENV))
    received = http.get(f"{recipient}/_mock/received", timeout=5).json()
    assert all(record["valid"] for record in received)
    for record in received:
        corpus = CORPORA[record["contract"]]
        for schema in [corpus.SCHEMA.ours().schema] + ([corpus.SCHEMA.official().schema] if official else []):
            assert message_errors(schema, record["xml"].encode()) == [], record["contract"]
    for record in http.get(f"{journal}/_mock/received", timeout=5).json():
        for schema in [status_update_corpus.SCHEMA.ours().schema] + (
                [status_update_corpus.SCHEMA.official().schema] if official else []):
            assert message_errors(schema, record["raw_xml"].encode()) == [], record["event_code"]
