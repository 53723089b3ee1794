"""``GET /certificates?issuer=&signedSince=&page=``: an issuer's signed certificates, three months back by
default, ten a page, each listed one PDL-logged as read by the acting user."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.wiring import gateway_deps
from domain.values import CertificateStatus, HsaId, swedish_date
from gateway import make_app
from store import certificates, pdl
from store.migrate import upgrade
from store.session import transaction
from tests.builders import make_operable_draft
from tests.integration.gateway_server import serving
from usecases.signed_list import months_back

TOKEN = "signed-list-token"
LAKARE, DENTIST = "SE2321000016-P001", "SE2321000016-P005"
NOW = datetime.now(UTC)


def _signed(certificate_id: str, days_ago: float, signer: str = LAKARE, **changes: object) -> Any:
    signed_at = NOW - timedelta(days=days_ago)
    return make_operable_draft(certificate_id, signed_at - timedelta(hours=1), status=CertificateStatus.SIGNED,
                               signed_at=signed_at, signed_by=HsaId(signer), signed_by_name="Ann Läkare", **changes)


@pytest.fixture
def base(db_url: str, session_factory: sessionmaker[Session]) -> Iterator[str]:
    """23 certificates signed by Ann within three months, 2 older, 1 by the dentist, 1 draft."""
    upgrade(db_url)
    load_demo_directory(db_url)
    with transaction(session_factory) as session:
        for n in range(23):
            certificates.add_certificate(session, _signed(f"recent-{n:02d}", n * 3 + 0.5))
        certificates.add_certificate(session, _signed("old-1", 100))
        certificates.add_certificate(session, _signed("old-2", 200))
        # Signed under another spelling of Ann's HSA-id: still hers.
        certificates.add_certificate(session, _signed("lower-case", 80, LAKARE.lower()))
        certificates.add_certificate(session, _signed("dentists", 1, DENTIST))
        certificates.add_certificate(session, make_operable_draft("unsigned", NOW))
    deps = gateway_deps(Settings(database_url=db_url, internal_api_token=TOKEN))
    try:
        with serving(make_app(deps)) as url:
            yield url + "/internal/api/v1"
    finally:
        deps.close()


def _get(base: str, query: str, user: str | None = LAKARE) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if user is not None:
        headers["X-Acting-User"] = user
    request = urllib.request.Request(f"{base}/certificates?{query}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _reads(session_factory: sessionmaker[Session], ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    with transaction(session_factory) as session:
        return {cid: [(r.activity, r.user_id) for r in pdl.records_for_certificate(session, cid)] for cid in ids}


def test_pages_of_ten_newest_first_each_listed_one_logged_as_read(
    base: str, session_factory: sessionmaker[Session]
) -> None:
    """Three months back by default: 24 (the lower-case spelling included), in pages 10, 10, 4; only what a
    page lists gets a Läsa record, once per listing."""
    before = swedish_date(datetime.now(UTC))
    pages = [_get(base, f"issuer={LAKARE}&page={page}") for page in (1, 2, 3, 4)]
    after = swedish_date(datetime.now(UTC))  # the Swedish day may turn during the calls
    assert [status for status, _ in pages] == [200, 200, 200, 200]
    first = pages[0][1]
    assert (first["total"], first["pages"], first["pageSize"], first["issuer"]) == (24, 3, 10, LAKARE)
    assert first["signedSince"] in {months_back(day, 3).isoformat() for day in (before, after)}
    listed = [c["id"] for _, body in pages for c in body["certificates"]]
    assert [len(body["certificates"]) for _, body in pages] == [10, 10, 4, 0]
    assert listed[:3] == ["recent-00", "recent-01", "recent-02"] and listed[-1] == "lower-case"
    assert {"old-1", "old-2", "dentists", "unsigned"}.isdisjoint(listed)
    summary = first["certificates"][0]
    assert (summary["status"], summary["unit"]["hsaId"], summary["patient"]["personId"]["digits"]) == (
        "SIGNED", "SE2321000016-1003", "197010632391"
    )
    reads = _reads(session_factory, [*listed, "old-1", "dentists"])
    assert all(reads[cid] == [("Läsa", LAKARE)] for cid in listed)
    assert reads["old-1"] == [] and reads["dentists"] == []


def test_signed_since_reaches_further_back_and_the_issuer_defaults_to_the_acting_user(base: str) -> None:
    """signedSince a year back lists the two old ones too; without issuer the acting user's list."""
    since = (NOW - timedelta(days=365)).date().isoformat()
    status, body = _get(base, f"signedSince={since}&page=3")
    assert (status, body["total"], body["issuer"]) == (200, 26, LAKARE)
    assert [c["id"] for c in body["certificates"]] == [
        "recent-20", "recent-21", "recent-22", "lower-case", "old-1", "old-2"
    ]


@pytest.mark.parametrize(
    ("query", "user", "status", "code"),
    [
        (f"issuer={DENTIST}", LAKARE, 403, "NOT_OWN_LIST"),  # another issuer's patients are not the reader's
        ("", "SE2321000016-NOBODY", 403, "USER_UNKNOWN"),
        ("page=0", LAKARE, 400, "INVALID_PAGE"),
        ("page=x", LAKARE, 400, "INVALID_PAGE"),
        ("signedSince=2026-13-01", LAKARE, 400, "INVALID_DATE"),
        ("", None, 403, "USER_REQUIRED"),
    ],
)
def test_bad_requests_are_refused_and_log_nothing(
    base: str, session_factory: sessionmaker[Session], query: str, user: str | None, status: int, code: str
) -> None:
    """A refusal lists nothing and so writes no PDL record."""
    answer = _get(base, query, user)
    assert (answer[0], answer[1]["code"]) == (status, code)
    assert _reads(session_factory, ["recent-00"])["recent-00"] == []


def test_the_openapi_document_describes_the_list(base: str) -> None:
    """The route and its three query parameters are in the generated document."""
    request = urllib.request.Request(f"{base}/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        document = json.loads(response.read())
    operation = document["paths"]["/certificates"]["get"]
    assert operation["operationId"] == "list_signed"
    assert [p["name"] for p in operation["parameters"]][:3] == ["issuer", "signedSince", "page"]


def test_months_back_clamps_to_the_end_of_a_shorter_month() -> None:
    """31 May minus three months is 28 February (29 in a leap year); January goes into last year."""
    assert months_back(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert months_back(date(2028, 5, 31), 3) == date(2028, 2, 29)
    assert months_back(date(2026, 1, 15), 3) == date(2025, 10, 15)
