"""Legacy typAvIntyg end to end: zeep from ?wsdl, the gateway, the dispatcher, and a journal on loopback.

Journal systems integrated years ago name LUSE, LISJP, LUAE_NA and LUAE_FS in the legacy
KV_UTLATANDE_TYP, often in lower case; the incumbent resolves them by code and answers OK
(contracts.md §2.5, §3.3). The draft keeps what was sent; the status update carries the canonical
type and is valid by the official CertificateStatusUpdateForCare schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from contracts.ns import STATUS_UPDATE_V3
from routing.catalogue import Catalogue, Route
from routing.provider import StaticProvider
from simulator.journal import MockJournal
from simulator.server import running as journal_running
from store import certificates
from store.session import transaction
from tests import envelopes as m
from tests.conformance import status_update_corpus
from tests.conformance.schemas import OFFICIAL_ENV, message_errors
from tests.integration.gateway_server import (
    CREATE_DRAFT_PATH,
    Gateway,
    demo_gateway_deps,
    plain_session,
    running,
    zeep_client,
)
from tests.integration.outbox_env import Clock, make_dispatcher

pytestmark = pytest.mark.integration

UNIT = "SE2321000016-1000"
# (code as sent, canonical code): the four FK types in upper and lower case.
SENT = [(code, code) for code in ("LUSE", "LISJP", "LUAE_NA", "LUAE_FS")] + [
    (code.lower(), code) for code in ("LUSE", "LISJP", "LUAE_NA", "LUAE_FS")
]


@pytest.fixture
def gateway(db_url: str) -> Iterator[Gateway]:
    _, deps = demo_gateway_deps(db_url, validation_persons=())
    with running(deps, db_url) as gateway:
        yield gateway


@pytest.fixture
def journal() -> Iterator[tuple[MockJournal, str]]:
    simulator = MockJournal()
    with journal_running(simulator) as url:
        yield simulator, url


def _create(client: object, code: str) -> object:
    return client.service.CreateDraftCertificate(  # type: ignore[attr-defined]
        _soapheaders={"LogicalAddress": UNIT},
        intyg={
            "typAvIntyg": {"code": code, "codeSystem": m.KV_UTLATANDE_TYP},
            "patient": {
                "person-id": {"root": m.PERSONNUMMER_ROOT, "extension": m.DEFAULT_PERSON_ID},
                "fornamn": "Tolvan", "efternamn": "Tolvansson",
                "postadress": "Gatan 2", "postnummer": "12345", "postort": "Staden",
            },
            "skapadAv": {
                "personal-id": {"root": m.HSA_ID_ROOT, "extension": m.DEFAULT_USER_HSA_ID},
                "fullstandigtNamn": "Ajla Doktor",
                "enhet": {"enhets-id": {"root": m.HSA_ID_ROOT, "extension": UNIT}, "enhetsnamn": "Alfa"},
            },
        },
    )


def test_zeep_creates_legacy_drafts_whose_status_updates_carry_the_canonical_type(
    gateway: Gateway, journal: tuple[MockJournal, str]
) -> None:
    """Eight drafts in KV_UTLATANDE_TYP (upper and lower case) answer OK; each SKAPAT names the canonical
    type in KV_INTYGSTYP and is valid by our schema and, with the official files, by theirs."""
    session = plain_session()
    client = zeep_client(f"{gateway.url}{CREATE_DRAFT_PATH}?wsdl", session)
    created: dict[str, tuple[str, str]] = {}
    for sent, canonical in SENT:
        response = _create(client, sent)
        assert response.result.resultCode == "OK", (sent, response.result)  # type: ignore[attr-defined]
        created[response["intygs-id"].extension] = (sent, canonical)  # type: ignore[index]
    session.close()

    with transaction(gateway.factory) as db:
        for certificate_id, (sent, canonical) in created.items():
            draft = certificates.get_certificate(db, certificate_id)
            assert draft is not None
            assert (draft.type_code, draft.type_code_system) == (canonical, m.KV_INTYGSTYP)
            assert (draft.received_type_code, draft.received_type_code_system) == (sent, m.KV_UTLATANDE_TYP)

    simulator, url = journal
    catalogue = StaticProvider(Catalogue(routes=[Route(STATUS_UPDATE_V3, UNIT, url)]))
    dispatcher, sender = make_dispatcher(gateway.factory, catalogue, Clock(datetime.now(UTC) + timedelta(minutes=1)))
    try:
        assert dispatcher.run_batch() == len(SENT)
    finally:
        sender.close()
    received = {record.certificate_id: record for record in simulator.received()}
    assert set(received) == set(created)
    official = status_update_corpus.SCHEMA.official().schema if os.environ.get(OFFICIAL_ENV) else None
    for received_id, record in received.items():
        assert received_id is not None
        assert record.valid and record.mode == "ok", record.problems
        raw = record.raw_xml
        assert raw is not None
        message = raw.encode()
        typ = etree.fromstring(message).find(f".//{{{m.CORE_NS}}}typ")
        assert typ is not None
        assert (typ.findtext(f"{{{m.TYPES_NS}}}code"), typ.findtext(f"{{{m.TYPES_NS}}}codeSystem")) == (
            created[received_id][1], m.KV_INTYGSTYP)
        assert message_errors(status_update_corpus.SCHEMA.ours().schema, message) == []
        if official is not None:
            assert message_errors(official, message) == []

