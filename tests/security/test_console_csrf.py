"""The console's POSTs under attack: a cross-site form, a stolen cookie without its CSRF token, a forged
origin, a weaker credential, markup in the data, and a client that is not on loopback.

Each attack is made with plain HTTP (requests) against the gateway on loopback, carrying the
session cookie exactly as a browser would send it if SameSite did not hold it back; and each is
shown to change nothing in the database. The browser's own view of the attack (the cookie not sent
at all) is in ``tests/integration/test_console_browser.py``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from domain.delivery import OutcomeClass
from domain.resend_policy import NextState, Verdict
from gateway.console import SESSION_COOKIE, csrf_token, session_cookie
from gateway.internal_api.auth import token_hash
from store.outbox import AttemptOutcome, OutboxRow, OutboxStatus, claim_due, record_outcomes
from store.session import transaction
from tests.integration.gateway_server import Gateway, demo_gateway_deps, plain_session, running
from tests.integration.store.outbox_helpers import T0, add_events, attempt, make_event

OPERATOR = "csrf-operator-token-0123456789abcdef"
READER = "csrf-reader-token-0123456789abcdef"
UNIT = "SE2321000016-2000"
HOSTILE_UNIT = '<script>alert("x")</script>'


@pytest.fixture
def failed(session_factory: sessionmaker[Session]) -> list[int]:
    ids = add_events(session_factory, make_event("c-csrf-1", unit=UNIT), make_event("c-csrf-2", unit=HOSTILE_UNIT))
    with transaction(session_factory) as tx:
        at = T0 + timedelta(seconds=1)
        record_outcomes(tx, [
            AttemptOutcome(c, attempt(OutcomeClass.VALIDATION_ERROR, at), NextState(Verdict.FAILED, c.series, None))
            for c in claim_due(tx, "t", at, timedelta(minutes=1), 10)
        ])
    return ids


@pytest.fixture
def gateway(db_url: str, tmp_path: Path, failed: list[int]) -> Iterator[Gateway]:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(
        f'[[token]]\nname = "operator"\nsha256 = "{token_hash(OPERATOR)}"\nscopes = ["read", "resend"]\n\n'
        f'[[token]]\nname = "reader"\nsha256 = "{token_hash(READER)}"\nscopes = ["read"]\n', encoding="utf-8")
    _, deps = demo_gateway_deps(db_url, internal_api_service_tokens=str(tokens))
    with running(deps, db_url) as served:
        yield served


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with plain_session() as session:
        yield session


def _cookie(token: str) -> str:
    return session_cookie(token).split(";")[0]


def _resend(http: requests.Session, gateway: Gateway, token: str, **extra: Any) -> requests.Response:
    headers = {"Cookie": _cookie(token), **extra.pop("headers", {})}
    form = {"unit": UNIT, "reason": "attack", "action": "resend", **extra}
    return http.post(f"{gateway.url}/console/resend", data=form, headers=headers, allow_redirects=False)


def _status(session_factory: sessionmaker[Session], event_id: int) -> str:
    with transaction(session_factory) as tx:
        row = tx.get(OutboxRow, event_id, populate_existing=True)
        assert row is not None
        return OutboxStatus(row.status).value


def test_a_cross_site_post_without_the_csrf_token_is_refused(
    gateway: Gateway, http: requests.Session, session_factory: sessionmaker[Session], failed: list[int]
) -> None:
    """The cookie alone (as a cross-site form would carry it) resends nothing: 403 CSRF_TOKEN."""
    answer = _resend(http, gateway, OPERATOR, headers={"Origin": gateway.url})
    assert answer.status_code == 403 and "CSRF_TOKEN" in answer.text
    wrong = _resend(http, gateway, OPERATOR, csrf="0" * 64, headers={"Origin": gateway.url})
    assert wrong.status_code == 403
    others = _resend(http, gateway, OPERATOR, csrf=csrf_token(READER))  # another session's token
    assert others.status_code == 403
    assert _status(session_factory, failed[0]) == "FAILED"


def test_a_post_from_another_origin_or_site_is_refused_even_with_the_token(
    gateway: Gateway, http: requests.Session, session_factory: sessionmaker[Session], failed: list[int]
) -> None:
    """A leaked CSRF token is still no use from another site: the browser's Origin and Sec-Fetch-Site give it away."""
    token = csrf_token(OPERATOR)
    assert _resend(http, gateway, OPERATOR, csrf=token, headers={"Origin": "https://evil.example"}).status_code == 403
    assert _resend(http, gateway, OPERATOR, csrf=token, headers={"Origin": "null"}).status_code == 403
    assert _resend(http, gateway, OPERATOR, csrf=token, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert _status(session_factory, failed[0]) == "FAILED"
    # The same request from our own page goes through: the refusals above are the checks', not a broken form.
    own = {"Origin": gateway.url, "Sec-Fetch-Site": "same-origin"}
    done = _resend(http, gateway, OPERATOR, csrf=token, headers=own)
    assert done.status_code == 200 and 'id="result-rearmed">1<' in done.text
    assert _status(session_factory, failed[0]) == "PENDING"


def test_a_reading_credential_cannot_resend(
    gateway: Gateway, http: requests.Session, session_factory: sessionmaker[Session], failed: list[int]
) -> None:
    """Scope read may preview, not resend (403 SCOPE_MISSING); an unknown cookie is sent to the login page."""
    preview = _resend(http, gateway, READER, csrf=csrf_token(READER), action="preview")
    assert preview.status_code == 200 and 'id="preview-selected">1<' in preview.text
    refused = _resend(http, gateway, READER, csrf=csrf_token(READER))
    assert refused.status_code == 403 and "SCOPE_MISSING" in refused.text
    forged = _resend(http, gateway, "forged", csrf=csrf_token("forged"))
    assert forged.status_code == 303 and forged.headers["Location"] == "/console/login"
    assert f"{SESSION_COOKIE}=;" in forged.headers["Set-Cookie"]
    assert _status(session_factory, failed[0]) == "FAILED"


def test_a_resend_needs_a_reason(gateway: Gateway, http: requests.Session,
                                 session_factory: sessionmaker[Session], failed: list[int]) -> None:
    """An empty reason (a form edited to skip the browser's check) is refused with the field marked."""
    answer = _resend(http, gateway, OPERATOR, csrf=csrf_token(OPERATOR), reason="  ")
    assert answer.status_code == 400 and 'id="reason-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert _status(session_factory, failed[0]) == "FAILED"


def test_markup_in_the_data_is_escaped_and_the_pages_are_locked_down(
    gateway: Gateway, http: requests.Session
) -> None:
    """A unit id holding a script tag is shown as text; every page forbids scripts, framing and caching."""
    page = http.get(f"{gateway.url}/console/", headers={"Cookie": _cookie(OPERATOR)})
    assert page.status_code == 200
    assert HOSTILE_UNIT not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    login = http.post(f"{gateway.url}/console/login", data={"token": OPERATOR}, allow_redirects=False,
                      headers={"Origin": gateway.url})
    assert login.status_code == 303
    cookie = login.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and OPERATOR not in cookie
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"))
    cross = http.post(f"{gateway.url}/console/login", data={"token": OPERATOR}, allow_redirects=False,
                      headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403  # no login from another site's form either


def test_the_console_keeps_the_operations_apis_loopback_rule(db_url: str, tmp_path: Path) -> None:
    """A client that is not on loopback gets 403 unless internal_api_remote is on; without credentials, 404."""
    tokens = tmp_path / "t.toml"
    tokens.write_text(f'[[token]]\nname = "o"\nsha256 = "{token_hash(OPERATOR)}"\nscopes = ["read"]\n', "utf-8")
    _, deps = demo_gateway_deps(db_url, internal_api_service_tokens=str(tokens))
    try:
        assert deps.console is not None
        statuses: list[str] = []
        environ = {"PATH_INFO": "/console/", "REQUEST_METHOD": "GET", "REMOTE_ADDR": "10.1.2.3",
                   "HTTP_COOKIE": _cookie(OPERATOR), "wsgi.input": io.BytesIO()}
        deps.console(environ, lambda status, headers: statuses.append(status))
        assert statuses == ["403 Forbidden"]
    finally:
        deps.close()
    _, off = demo_gateway_deps(db_url)
    try:
        assert off.console is not None
        statuses = []
        off.console({"PATH_INFO": "/console/login", "REQUEST_METHOD": "GET", "REMOTE_ADDR": "127.0.0.1",
                     "wsgi.input": io.BytesIO()}, lambda status, headers: statuses.append(status))
        assert statuses == ["404 Not Found"]
    finally:
        off.close()


def test_a_token_too_long_for_a_cookie_is_refused_at_sign_in(db_url: str, tmp_path: Path) -> None:
    """A browser would drop a cookie over 4096 bytes without a word; the login page says it instead."""
    long_token = "x" * 3500
    tokens = tmp_path / "t.toml"
    tokens.write_text(f'[[token]]\nname = "long"\nsha256 = "{token_hash(long_token)}"\nscopes = ["read"]\n', "utf-8")
    _, deps = demo_gateway_deps(db_url, internal_api_service_tokens=str(tokens))
    with running(deps, db_url) as served, plain_session() as http:
        answer = http.post(f"{served.url}/console/login", data={"token": long_token}, allow_redirects=False)
    assert answer.status_code == 400 and "TOKEN_TOO_LONG" in answer.text and "Set-Cookie" not in answer.headers
