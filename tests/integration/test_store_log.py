"""StoreLog v2 end to end: HTTP on loopback, the XSDs, the rules, the hash chain, on SQLite and PostgreSQL.

zeep builds its client from the running gateway's ``?wsdl``; refusals are posted as raw SOAP so that
each case can be exact. A refused call must answer HTTP 200 with the contract's own ResultType and
store nothing; answers are checked against the official schema when it is available.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import structlog
from lxml import etree
from sqlalchemy import func, select
from zeep import Client
from zeep.transports import Transport

from cli.settings import Settings
from cli.wiring import gateway_deps
from domain.pdl import PdlQuery
from domain.pdl_chain import Verification
from gateway import make_app
from gateway.validation import schema_for_wsdl
from store import pdl
from store.migrate import upgrade
from store.session import UnitOfWork, make_engine, make_session_factory, transaction
from tests import store_log_envelopes as s
from tests.envelopes import LOG_NS, SLR_NS
from tests.integration.gateway_server import serving
from usecases.pdl_log import verify_log

PATHS = (
    "/informationsecurity/auditing/log/StoreLog/2/rivtabp21",
    "/informationsecurity/auditing/log/StoreLog/v2/rivtabp21",
)
OFFICIAL_WSDL = (
    "informationsecurity-auditing-log/schemas/interactions/StoreLogInteraction/StoreLogInteraction_2.0_RIVTABP21.wsdl"
)
BAD_CHECKSUM = "191212121213"


class StoreLogGateway:
    """A running gateway: post raw StoreLog calls, read the answer, count and verify the log."""

    def __init__(self, url: str, db_url: str) -> None:
        self.url = url
        self.engine = make_engine(db_url)
        self.factory = make_session_factory(self.engine)

    def post(self, body: bytes, path: str = PATHS[0]) -> tuple[str, str | None, etree._Element]:
        request = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            answer = etree.fromstring(response.read())
        _assert_official(answer)
        code = answer.findtext(f".//{{{LOG_NS}}}resultCode")
        assert code is not None
        return code, answer.findtext(f".//{{{LOG_NS}}}resultText"), answer

    def stored(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(pdl.PdlRow.__table__)).scalar_one())

    def verify(self) -> Verification:
        """Seal what the gateway's sealer has not sealed yet, then verify the chain."""
        return verify_log(UnitOfWork(self.factory)).chain


def _assert_official(answer: etree._Element) -> None:
    """The response body validates against the official StoreLog schema (when it is available)."""
    folder = os.environ.get("RIVTA_OFFICIAL_SCHEMAS")
    if not folder:
        return
    schema = schema_for_wsdl(Path(folder) / OFFICIAL_WSDL)
    body = answer.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    assert schema.violations([], body[0]) == []


@pytest.fixture
def gateway(db_url: str) -> Iterator[StoreLogGateway]:
    yield from _running(db_url)


def _running(db_url: str, **settings: Any) -> Iterator[StoreLogGateway]:
    upgrade(db_url)
    deps = gateway_deps(replace(Settings(database_url=db_url, access_control="off"), **settings))
    with serving(make_app(deps)) as url:
        running = StoreLogGateway(url, db_url)
        try:
            yield running
        finally:
            running.engine.dispose()
            deps.close()


def _zeep_log(log_id: str, patient: str = "191212121212") -> dict[str, Any]:
    return {
        "logId": log_id,
        "system": {"systemId": "SE2321000016-JOURNAL", "systemName": "Journalen"},
        "activity": {"activityType": "Läsa", "activityLevel": "intyg-1", "startDate": "2026-11-20T08:15:00",
                     "purpose": "Vård och behandling"},
        "user": {
            "userId": "SE2321000016-P001",
            "assignment": "Vårdcentralen Alfa",
            "careProvider": {"careProviderId": "SE2321000016-0001", "careProviderName": "Region Demo"},
            "careUnit": {"careUnitId": "SE2321000016-1000", "careUnitName": "Alfa vårdenhet"},
        },
        "resources": {
            "resource": [
                {
                    "resourceType": "Intyg",
                    "patient": {"patientId": {"root": s.PERSONNUMMER_ROOT, "extension": patient}},
                    "careProvider": {"careProviderId": "SE2321000016-0001"},
                    "careUnit": {"careUnitId": "SE2321000016-1000"},
                }
            ]
        },
    }


@pytest.mark.parametrize("path", PATHS)
def test_zeep_client_from_wsdl_stores_a_batch(gateway: StoreLogGateway, path: str) -> None:
    """A client built from ?wsdl (imports fetched with ?xsd=) stores ten entries and gets OK; the chain verifies."""
    client = Client(gateway.url + path + "?wsdl", transport=Transport(timeout=10, operation_timeout=10))  # type: ignore[no-untyped-call]
    binding = "{urn:riv:informationsecurity:auditing:log:StoreLog:2:rivtabp21}StoreLogResponderBinding"
    service = client.create_service(binding, gateway.url + path)  # type: ignore[no-untyped-call]
    result = service.StoreLog(
        log=[_zeep_log(str(uuid.uuid4())) for _ in range(10)], _soapheaders={"LogicalAddress": s.LOGICAL_ADDRESS}
    )
    assert result.result.resultCode == "OK"
    assert gateway.stored() == 10
    verification = gateway.verify()
    assert verification.broken is None and verification.checked == 10


def test_one_bad_entry_refuses_the_batch_and_stores_nothing(gateway: StoreLogGateway) -> None:
    """A bad personnummer in entry 3 of 5: VALIDATION_ERROR naming entry 3 and its logId, no row stored."""
    ids = [str(uuid.uuid4()) for _ in range(5)]
    entries = [
        s.entry(log_id, patient_id=BAD_CHECKSUM if index == 2 else "191212121212") for index, log_id in enumerate(ids)
    ]
    code, text, _ = gateway.post(s.store_log_envelope(*entries))
    assert code == "VALIDATION_ERROR"
    assert text is not None and f"Loggpost 3 (logId {ids[2]})" in text and "patientId/extension" in text
    assert BAD_CHECKSUM not in text
    assert gateway.stored() == 0


def test_every_failing_entry_is_listed(gateway: StoreLogGateway) -> None:
    """Entries 1 and 4 fail for different reasons; the text names both, each with its field."""
    ids = [str(uuid.uuid4()) for _ in range(4)]
    entries = [
        s.entry(ids[0], start_date="2099-01-01T00:00:00"),
        s.entry(ids[1]),
        s.entry(ids[2]),
        s.entry(ids[3], user_id="   "),
    ]
    code, text, _ = gateway.post(s.store_log_envelope(*entries))
    assert code == "VALIDATION_ERROR" and text is not None
    assert f"Loggpost 1 (logId {ids[0]}): activity/startDate" in text
    assert f"Loggpost 4 (logId {ids[3]}): user/userId" in text
    assert "Loggpost 2" not in text and gateway.stored() == 0


def test_repeated_batch_is_idempotent(gateway: StoreLogGateway) -> None:
    """The same batch twice: OK, then INFO naming the repeats; rows are stored once."""
    batch = s.store_log_envelope(*(s.entry(str(uuid.uuid4())) for _ in range(3)))
    assert gateway.post(batch)[0] == "OK"
    code, text, _ = gateway.post(batch)
    assert code == "INFO" and text is not None and text.startswith("3 av 3 loggposter")
    assert gateway.stored() == 3
    assert gateway.verify().broken is None


def test_reused_log_id_with_other_content_is_refused(gateway: StoreLogGateway) -> None:
    """A stored logId sent again with another activity refuses the whole call, new entry included."""
    log_id = str(uuid.uuid4())
    assert gateway.post(s.store_log_envelope(s.entry(log_id)))[0] == "OK"
    code, text, _ = gateway.post(
        s.store_log_envelope(s.entry(str(uuid.uuid4())), s.entry(log_id, activity_type="Skriva"))
    )
    assert code == "VALIDATION_ERROR" and text is not None and f"Loggpost 2 (logId {log_id})" in text
    assert gateway.stored() == 1


def test_several_resources_are_stored_under_one_log_id(gateway: StoreLogGateway) -> None:
    """An entry with three resources is three records, in order, all findable by patient."""
    assert gateway.post(s.store_log_envelope(s.entry(resources=3)))[0] == "OK"
    with transaction(gateway.factory) as session:
        found = pdl.search(session, PdlQuery(patient_id="191212121212"))
    assert [record.resource_index for record in found] == [0, 1, 2]
    assert len({record.log_id for record in found}) == 1


def test_schema_violation_answers_validation_error_in_this_contracts_result(gateway: StoreLogGateway) -> None:
    """A missing logId is refused by the front door as VALIDATION_ERROR, without errorId."""
    broken = s.store_log_body(s.entry())
    logged = broken.find(f"{{{SLR_NS}}}log")
    assert logged is not None
    logged.remove(logged[0])
    code, text, answer = gateway.post(s.store_log_envelope(body=broken))
    assert code == "VALIDATION_ERROR" and text is not None and "logId" in text
    assert not [el for el in answer.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "errorId"]


def test_too_many_entries_are_refused(db_url: str) -> None:
    """storelog_max_entries bounds a call; more entries answer VALIDATION_ERROR and store nothing."""
    for running in _running(db_url, storelog_max_entries=2):
        code, text, _ = running.post(s.store_log_envelope(*(s.entry() for _ in range(3))))
        assert code == "VALIDATION_ERROR" and text is not None and "högst 2" in text
        assert running.stored() == 0


def test_logs_hold_no_patient_id(gateway: StoreLogGateway) -> None:
    """Refusals and successes log counts, never the personnummer."""
    with structlog.testing.capture_logs() as logs:
        gateway.post(s.store_log_envelope(s.entry(), s.entry(patient_id=BAD_CHECKSUM)))
        gateway.post(s.store_log_envelope(s.entry()))
    assert logs and "191212121212" not in repr(logs) and BAD_CHECKSUM not in repr(logs)


def _api(gateway: StoreLogGateway, path: str, user: str | None = "SE2321000016-P002") -> tuple[int, Any]:
    headers = {"Authorization": "Bearer test-token", **({"X-Acting-User": user} if user else {})}
    request = urllib.request.Request(gateway.url + "/internal/api/v1" + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_operations_api_searches_and_verifies(db_url: str) -> None:
    """GET /pdl/records gives a patient's extract and logs the search with the patient masked; /pdl/chain verifies."""
    for running in _running(db_url, internal_api_token="test-token"):
        running.post(s.store_log_envelope(s.entry(), s.entry(patient_id="194011306125")))
        with structlog.testing.capture_logs() as logs:
            status, body = _api(running, "/pdl/records?patient=191212121212")
        assert status == 200 and body["count"] == 1
        assert (
            body["records"][0]["patient_id"] == "191212121212"
            and body["records"][0]["purpose"] == "Vård och behandling"
        )
        [line] = [entry for entry in logs if entry["event"] == "pdl_search"]
        assert (line["acting_user"], line["patient"], line["criteria"], line["records"]) == (
            "SE2321000016-P002", "19121212-****", ["patient_id"], 1
        )
        assert "191212121212" not in repr(logs)
        assert _api(running, "/pdl/records?unit=SE2321000016-1000&from=2026-01-01")[1]["count"] == 2
        assert _api(running, "/pdl/records")[0] == 400
        # No acting user: the development token names none.
        assert _api(running, "/pdl/records?patient=191212121212", user=None)[0] == 403
        status, chain = _api(running, "/pdl/chain", user=None)
        assert status == 200 and chain["intact"] is True and (chain["checked"], chain["pending"]) == (2, 0)
