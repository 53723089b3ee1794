"""The operator console in a real browser: headless Chromium (Debian's) driven by selenium.

A gateway runs on loopback with real data (drafts created over SOAP, status updates that a journal
system refused for good, two catalogue versions). The browser signs in with a service token, loads
every page, previews a resend and makes it, and a screenshot of each page is saved and checked for
the page's elements. An attacker's page on another site then tries to make the browser resend:
nothing is resent. ``.ci/run`` installs ``chromium`` and ``chromium-driver`` when they are missing;
without them the test is skipped with the reason.
"""

from __future__ import annotations

import shutil
import struct
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.ns import STATUS_UPDATE_V3
from domain.delivery import OutcomeClass
from domain.resend_policy import NextState, Verdict
from gateway.internal_api.auth import token_hash
from routing.catalogue import Route
from routing.content import CatalogueContent
from store.outbox import AttemptOutcome, OutboxRow, OutboxStatus, ResendRequestRow, claim_due, record_outcomes
from store.routing import publish
from store.session import transaction
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import demo_gateway_deps, plain_session, running
from tests.integration.store.outbox_helpers import T0, add_events, attempt, make_event

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
OPERATOR_TOKEN = "operator-console-token-0123456789abcdef"
UNIT = "SE2321000016-2000"
JOURNAL = "https://journal.example/clinicalprocess/healthcond/certificate/CertificateStatusUpdateForCare/3/rivtabp21"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1400")


@pytest.fixture
def tokens_file(tmp_path: Path) -> str:
    path = tmp_path / "tokens.toml"
    path.write_text(f'[[token]]\nname = "operator"\nsha256 = "{token_hash(OPERATOR_TOKEN)}"\n'
                    'scopes = ["read", "resend", "pdl-read"]\n', encoding="utf-8")
    return str(path)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def _failed_events(factory: sessionmaker[Session]) -> list[int]:
    """Two events of UNIT refused for good by the journal (VALIDATION_ERROR), with their attempt."""
    ids = add_events(factory, make_event("c-console-1", unit=UNIT), make_event("c-console-2", unit=UNIT))
    with transaction(factory) as tx:
        at = T0 + timedelta(seconds=1)
        claimed = claim_due(tx, "t", at, timedelta(minutes=1), 10)
        record_outcomes(tx, [
            AttemptOutcome(c, attempt(OutcomeClass.VALIDATION_ERROR, at, http_status=200,
                                         text="Intyget saknar obligatoriska uppgifter"),
                           NextState(Verdict.FAILED, c.series, None))
            for c in claimed if c.id in ids
        ])
    return ids


def _catalogue_versions(factory: sessionmaker[Session]) -> None:
    first = Route(STATUS_UPDATE_V3, "SE2321000016-1000", JOURNAL, "SE2321000016-J001")
    moved = Route(STATUS_UPDATE_V3, "SE2321000016-1000", JOURNAL.replace("journal.", "journal2."),
                  "SE2321000016-J001")
    for version, route in enumerate((first, moved), start=1):
        with transaction(factory) as tx:
            publish(tx, CatalogueContent((route,), (), (STATUS_UPDATE_V3,)), by="tester", action="add",
                    now=T0 + timedelta(minutes=version), keep=20, changes={"routesAdded": 1})


def _navigate(driver: WebDriver, by: str, value: str) -> None:
    """Click what loads another page, and wait until the old page is gone (the click returns before)."""

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, value).click()

    def gone(_: WebDriver) -> bool:
        # Chrome answers "Node with given id does not belong to the document" instead of a stale element
        # when the old page is being replaced at the moment of asking: that too means it is gone.
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in (error.msg or ""):
                return True
            raise
        return False

    WebDriverWait(driver, 15).until(gone)


def _accessible(driver: WebDriver) -> None:
    """The page names its language and has one h1; every visible control has a label; Tab reaches the skip link."""
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") in ("sv", "en")
    assert len(driver.find_elements(By.TAG_NAME, "h1")) == 1
    for control in driver.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
        if control.get_attribute("type") == "hidden":
            continue
        control_id = control.get_attribute("id")
        assert control_id and driver.find_elements(By.CSS_SELECTOR, f"label[for='{control_id}']"), control_id
    for table in driver.find_elements(By.TAG_NAME, "table"):
        assert table.find_elements(By.CSS_SELECTOR, "th[scope=col]")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("class") == "skip"


def _checked_screenshot(driver: WebDriver, path: Path, *element_ids: str) -> None:
    """Save a screenshot of the page and check it: a real PNG of the window's size, the elements shown;
    and the page's accessibility basics (``_accessible``, after the picture: Tab shows the skip link)."""

    for element_id in element_ids:
        assert driver.find_element(By.ID, element_id).is_displayed(), element_id
    assert driver.save_screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 600
    _accessible(driver)


class _Attacker(BaseHTTPRequestHandler):
    """Another site: a page whose form posts to the console as soon as it loads."""

    target = ""

    def do_GET(self) -> None:
        page = (f'<!DOCTYPE html><html><body><form id="f" method="post" action="{self.target}">'
                f'<input name="unit" value="{UNIT}"><input name="reason" value="attack">'
                '<input name="action" value="resend"></form>'
                '<script>document.getElementById("f").submit()</script></body></html>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        return None


def _statuses(factory: sessionmaker[Session], ids: list[int]) -> list[str]:
    with transaction(factory) as tx:
        rows = [tx.get(OutboxRow, i, populate_existing=True) for i in ids]
        return [OutboxStatus(row.status).value for row in rows if row is not None]


def test_the_console_in_chromium(
    db_url: str, session_factory: sessionmaker[Session], tokens_file: str, tmp_path: Path, browser: WebDriver
) -> None:
    """Sign in, every page, a dry run then a real resend, the languages, screenshots; a cross-site attack fails."""

    driver = browser
    shots = tmp_path / "screenshots"
    shots.mkdir()
    _catalogue_versions(session_factory)
    failed = _failed_events(session_factory)
    _, deps = demo_gateway_deps(db_url, internal_api_service_tokens=tokens_file)
    with running(deps, db_url) as gateway, plain_session() as http:
        for _ in range(2):  # real drafts: two SKAPAT events pending for the demo unit
            assert b">OK<" in http.post(gateway.url + "/services/create-draft-certificate/v3.0",
                                        data=create_draft_envelope(), headers={"Content-Type": "text/xml"}).content
        console = f"{gateway.url}/console"

        driver.get(f"{console}/?lang=en")
        assert driver.current_url.endswith("/console/login")
        assert driver.find_element(By.CSS_SELECTOR, "label[for=token]").text == "Token"
        _checked_screenshot(driver, shots / "login.png", "token", "login")
        driver.find_element(By.ID, "token").send_keys("a guessed token")
        _navigate(driver, By.ID, "login")
        assert "not accepted" in driver.find_element(By.ID, "login-error").text
        driver.find_element(By.ID, "token").send_keys(OPERATOR_TOKEN)
        _navigate(driver, By.ID, "login")

        # The overview: counts, the unit with its two failed events, the classes.
        assert driver.find_element(By.TAG_NAME, "h1").text == "Outbox: status updates"
        assert driver.find_element(By.CSS_SELECTOR, "td[data-status=FAILED]").text == "2"
        assert driver.find_element(By.CSS_SELECTOR, "td[data-status=PENDING]").text == "2"
        row = driver.find_element(By.CSS_SELECTOR, f"tr[data-unit='{UNIT}']")
        assert [cell.text for cell in row.find_elements(By.TAG_NAME, "td")][:2] == ["0", "2"]
        assert driver.find_element(By.CSS_SELECTOR, "tr[data-outcome=validation-error]")
        cookie = driver.get_cookie("__Host-intygsgateway-console")
        assert cookie is not None and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        _checked_screenshot(driver, shots / "overview.png", "counts", "units", "classes")

        # One event with its attempt.
        driver.get(f"{console}/events/{failed[0]}")
        attempts = driver.find_elements(By.CSS_SELECTOR, "#attempts tr.attempt")
        assert len(attempts) == 1 and "validation-error" in attempts[0].text
        assert "Intyget saknar obligatoriska uppgifter" in attempts[0].text
        _checked_screenshot(driver, shots / "event.png", "event", "attempts")

        # Resend: the reason is required, the dry run changes nothing, then the real one.
        _navigate(driver, By.ID, "resend-event")
        driver.get(f"{console}/resend?unit={UNIT}")
        driver.find_element(By.ID, "preview-button").click()  # held back: no reason
        assert driver.find_element(By.ID, "reason").get_attribute("validationMessage")
        assert driver.find_elements(By.ID, "preview") == []  # the browser held it back
        driver.find_element(By.ID, "reason").send_keys("journal fixed its validation")
        _navigate(driver, By.ID, "preview-button")
        assert driver.find_element(By.ID, "preview-selected").text == "2"
        assert _statuses(session_factory, failed) == ["FAILED", "FAILED"]  # a dry run
        _checked_screenshot(driver, shots / "resend-preview.png", "preview", "preview-counts", "confirm-resend")
        _navigate(driver, By.ID, "confirm-resend")
        assert driver.find_element(By.ID, "result-rearmed").text == "2"
        assert _statuses(session_factory, failed) == ["PENDING", "PENDING"]
        with transaction(session_factory) as tx:
            logged = tx.scalars(select(ResendRequestRow)).all()
        assert [(r.requested_by, r.reason, r.rearmed) for r in logged] == [
            ("token:operator", "journal fixed its validation", 2)]
        _checked_screenshot(driver, shots / "resend-done.png", "resend-result")

        # Routing: explain with the trace, the versions, a diff.
        driver.get(f"{console}/routing")
        driver.find_element(By.ID, "address").send_keys("SE2321000016-1003")
        _navigate(driver, By.ID, "explain-button")
        assert "journal2.example" in driver.find_element(By.ID, "explained-url").text
        trace = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#trace li")]
        assert trace[:2] == ["SE2321000016-1003", "(SE2321000016-1000)"] or "SE2321000016-1000" in " ".join(trace)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#versions tr[data-version]")) == 2
        _checked_screenshot(driver, shots / "routing.png", "explain-form", "explanation", "versions")
        _navigate(driver, By.CSS_SELECTOR, "tr[data-version='2'] a")
        changed = driver.find_element(By.ID, "routes-changed").text
        assert "journal.example" in changed and "journal2.example" in changed
        _checked_screenshot(driver, shots / "routing-diff.png", "version", "routes-changed")

        # The PDL chain, then the same page in Swedish.
        driver.get(f"{console}/pdl")
        assert driver.find_element(By.ID, "chain-status").text == "The chain is intact"
        _checked_screenshot(driver, shots / "pdl.png", "chain-status", "chain")
        driver.get(f"{console}/pdl?lang=sv")
        assert driver.find_element(By.ID, "chain-status").text == "Kedjan är hel"
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "sv"
        driver.get(f"{console}/")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Utkorgen: statusuppdateringar"
        _checked_screenshot(driver, shots / "overview-sv.png", "counts")

        # The attack: fail them again, then a page on another site posts a resend as the signed-in browser.
        with transaction(session_factory) as tx:
            for event in tx.scalars(select(OutboxRow).where(OutboxRow.id.in_(failed))):
                event.status = OutboxStatus.FAILED
        handler = type("Attacker", (_Attacker,), {"target": f"{console}/resend"})
        attacker = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=attacker.serve_forever, daemon=True)
        thread.start()
        try:  # localhost is another site than 127.0.0.1
            driver.get(f"http://localhost:{attacker.server_address[1]}/")
            driver.find_element(By.TAG_NAME, "body")  # the post has landed
            assert "/console/" in driver.current_url
            assert driver.find_elements(By.ID, "resend-result") == []
        finally:
            attacker.shutdown()
            attacker.server_close()
        assert _statuses(session_factory, failed) == ["FAILED", "FAILED"]  # nothing resent

        # Sign out: the cookie is gone and the pages ask for the token again.
        driver.get(f"{console}/")
        _navigate(driver, By.ID, "logout")
        assert driver.current_url.endswith("/console/login")
        assert driver.get_cookie("__Host-intygsgateway-console") is None
    assert sorted(path.name for path in shots.iterdir()) == [
        "event.png", "login.png", "overview-sv.png", "overview.png", "pdl.png", "resend-done.png",
        "resend-preview.png", "routing-diff.png", "routing.png"]
