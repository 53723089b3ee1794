"""The interoperability corpus (``tests/interop``) against the gateway served on loopback.

Every request of the corpus is posted as its client sends it (bytes, Content-Type, SOAPAction) to a
gateway with the demo directory, on SQLite and PostgreSQL, and must get the incumbent's answer: HTTP
200 and the expected ResultType. All mismatches of a contract are reported together.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lxml import etree

from domain.certificate_types import load_default_registry
from domain.pdl import SystemIdentity
from domain.values import HsaId
from store.directory import SqlDirectory
from store.session import UnitOfWork
from tests import envelopes as m
from tests.builders import CONTENT
from tests.integration.gateway_server import Gateway, demo_gateway_deps, running
from tests.interop import inbound
from tests.interop.inbound import Case
from usecases import lifecycle
from usecases.lifecycle import LifecycleDeps

pytestmark = pytest.mark.integration

LAKARE = HsaId(m.DEFAULT_USER_HSA_ID)


@pytest.fixture
def gateway(db_url: str) -> Iterator[Gateway]:
    _, deps = demo_gateway_deps(db_url, validation_persons=())
    with running(deps, db_url) as gateway:
        yield gateway


def _answer(gateway: Gateway, case: Case) -> tuple[int, etree._Element]:
    request = urllib.request.Request(gateway.url + case.path, data=case.body, method="POST", headers=dict(case.headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, etree.fromstring(response.read())
    except urllib.error.HTTPError as error:
        return error.code, etree.fromstring(error.read())


def _mismatches(gateway: Gateway, cases: list[Case]) -> list[str]:
    """Every case whose answer is not the expected one, described; empty when all answer as expected."""
    found = []
    for case in cases:
        status, envelope = _answer(gateway, case)
        values = {etree.QName(e).localname: (e.text or "") for e in envelope.iter() if isinstance(e.tag, str)}
        got = (status, values.get("resultCode"), values.get("errorId"))
        wanted = (200, case.expected.result_code, case.expected.error_id)
        text = values.get("resultText", "")
        if got != wanted or (case.expected.text is not None and not text.startswith(case.expected.text)):
            found.append(f"{case.name}: got {got} {text[:160]!r}, expected {wanted} {case.expected.text!r}")
        elif case.expected.result_code == "OK" and "CreateDraftCertificateResponse" in values and not values.get(
                "extension"):
            found.append(f"{case.name}: OK without an intygs-id")
    return found


def test_create_draft_certificate_as_journal_systems_send_it(gateway: Gateway) -> None:
    """Legacy and current type codes, LogicalAddress samples, extensions, encodings, prefixes, SOAPActions."""
    cases = inbound.create_draft_cases()
    assert _mismatches(gateway, cases) == []
    assert gateway.row_counts()["certificate"] == sum(case.expected.result_code == "OK" for case in cases)


def _sent_certificate(gateway: Gateway) -> str:
    """A LISJP certificate for the demo patient at the demo unit, created over SOAP, signed and sent."""
    status, envelope, _ = gateway.post(m.create_draft_envelope())
    assert status == 200
    certificate_id = envelope.findtext(f".//{{{m.TYPES_NS}}}extension")
    assert certificate_id
    deps = LifecycleDeps(
        transaction=UnitOfWork(gateway.factory), directory=SqlDirectory(gateway.factory),
        registry=load_default_registry(), system=SystemIdentity("SE0000000000-GW", "Intygsgateway"),
        clock=lambda: datetime.now(UTC),
    )
    lifecycle.update_content(deps, certificate_id, LAKARE, CONTENT, "interop-edit")
    lifecycle.sign(deps, certificate_id, LAKARE, "interop-sign")
    lifecycle.send(deps, certificate_id, LAKARE, "interop-send")
    return certificate_id


def test_send_message_to_care_as_the_recipient_sends_it(gateway: Gateway) -> None:
    """Försäkringskassan's questions in every field shape are stored and answered OK."""
    certificate_id = _sent_certificate(gateway)
    cases = inbound.send_message_cases(certificate_id, m.DEFAULT_PERSON_ID, m.DEFAULT_UNIT_HSA_ID)
    assert _mismatches(gateway, cases) == []
    assert gateway.row_counts()["arende"] == sum(case.expected.result_code == "OK" for case in cases)


def test_store_log_as_logsender_and_journal_systems_send_it(gateway: Gateway) -> None:
    """PDL entries in every field shape are stored and answered OK; a misrouted draft gets the wrong-operation text."""
    assert _mismatches(gateway, inbound.store_log_cases()) == []
