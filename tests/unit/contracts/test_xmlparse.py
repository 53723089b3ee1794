"""The hardened parse refuses every XML attack before any field is read."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from contracts.errors import HostileXml, NotSoap, NotXml
from contracts.xmlparse import MAX_DEPTH, _check_tree, parse_xml, split_envelope

LIMIT = 2 * 1024 * 1024
ENV = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" * 1}' + f'{("&lol" + str(i - 1) + ";") * 9}">'
        for i in range(1, 10)
    ]
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]><lolz>&lol9;</lolz>'.encode()


@pytest.fixture
def listener() -> Iterator[tuple[int, list[int]]]:
    """A loopback listener that counts connections: proof that no parse fetches anything."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    hits: list[int] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


def test_xxe_with_a_local_file_is_refused_and_leaks_nothing(tmp_path: Path) -> None:
    """An external entity naming a local file is refused outright."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]><x>&e;</x>'.encode()
    with pytest.raises(HostileXml) as refused:
        parse_xml(body, LIMIT)
    assert "TOP-SECRET" not in str(refused.value)


def test_network_entities_and_external_dtds_fetch_nothing(listener: tuple[int, list[int]]) -> None:
    """XXE over http, an external DTD and a parameter entity are refused without a connection."""
    port, hits = listener
    url = f"http://127.0.0.1:{port}/evil"
    attacks = [
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "{url}">]><x>&e;</x>',
        f'<!DOCTYPE x SYSTEM "{url}"><x/>',
        f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{url}"> %p;]><x/>',
    ]
    for attack in attacks:
        with pytest.raises(HostileXml):
            parse_xml(attack.encode(), LIMIT)
    assert hits == []


def test_billion_laughs_is_refused() -> None:
    """Entity expansion bombs never get expanded."""
    with pytest.raises(HostileXml):
        parse_xml(_billion_laughs(), LIMIT)


def test_quadratic_blowup_is_refused() -> None:
    """One big entity referenced many times is refused as a DTD."""
    big = "A" * 50_000
    body = f'<!DOCTYPE x [<!ENTITY a "{big}">]><x>{"&a;" * 1000}</x>'.encode()
    with pytest.raises(HostileXml):
        parse_xml(body, LIMIT)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_deep_nesting_is_refused(depth: int) -> None:
    """Nesting deeper than the cap is refused, whether libxml2 or our walk catches it."""
    body = b"<a>" * depth + b"</a>" * depth
    with pytest.raises(HostileXml):
        parse_xml(body, LIMIT)


def test_one_deep_branch_among_wide_ones_is_refused() -> None:
    """The depth cap holds for any branch, not only the first: a wide message with one branch too deep."""
    wide = b"<b><c/></b>" * 200
    deep = b"<d>" * MAX_DEPTH + b"</d>" * MAX_DEPTH  # under the root: one level past the cap
    with pytest.raises(HostileXml, match="nests deeper"):
        parse_xml(b"<a>" + wide + deep + wide + b"</a>", LIMIT)


def test_an_entity_node_anywhere_in_the_tree_is_refused() -> None:
    """The last guard, should a parser setting ever let one through: an entity reference node in the tree."""
    root = etree.fromstring(b"<a><b><c/></b><b/></a>")
    root[0][0].append(etree.Entity("e"))
    with pytest.raises(HostileXml, match="entity references"):
        _check_tree(root, "a test document")


def test_nesting_within_the_cap_is_accepted() -> None:
    """A message as deep as the cap still parses."""
    body = b"<a>" * MAX_DEPTH + b"</a>" * MAX_DEPTH
    assert parse_xml(body, LIMIT).tag == "a"


def test_oversize_message_is_refused_before_parsing() -> None:
    """A body over the limit is refused by size alone."""
    with pytest.raises(HostileXml, match="larger than 100 bytes"):
        parse_xml(b"<a>" + b"x" * 200 + b"</a>", 100)


def test_undefined_entity_reference_is_not_xml() -> None:
    """An entity reference with no declaration is a syntax error, not an empty value."""
    with pytest.raises((HostileXml, NotXml)):
        parse_xml(b"<a>&undefined;</a>", LIMIT)


def test_garbage_is_not_xml() -> None:
    """Bytes that are not XML raise NotXml with the position."""
    with pytest.raises(NotXml, match="line 1"):
        parse_xml(b"this is not xml", LIMIT)


def test_split_envelope_returns_headers_and_the_body_child() -> None:
    """A SOAP envelope yields its header entries and its one body child."""
    root = parse_xml(ENV + b"<s:Header><h/></s:Header><s:Body><b/></s:Body></s:Envelope>", LIMIT)
    headers, body = split_envelope(root)
    assert [h.tag for h in headers] == ["h"]
    assert body.tag == "b"


@pytest.mark.parametrize(
    "message",
    [
        b"<Envelope><Body><b/></Body></Envelope>",
        ENV + b"<s:Header/></s:Envelope>",
        ENV + b"<s:Body><a/><b/></s:Body></s:Envelope>",
        ENV + b"<s:Body></s:Body></s:Envelope>",
    ],
)
def test_split_envelope_refuses_what_is_not_one_soap_body_child(message: bytes) -> None:
    """Wrong root, no Body, two or zero Body children are NotSoap."""
    with pytest.raises(NotSoap):
        split_envelope(parse_xml(message, LIMIT))


def test_the_encoding_is_the_documents_own_then_the_transports_then_utf8() -> None:
    """A byte order mark or declaration wins; without either the HTTP charset applies; else UTF-8."""
    latin = "<a>Åsa Öberg</a>".encode("iso-8859-1")
    assert parse_xml(latin, encoding="ISO-8859-1").text == "Åsa Öberg"
    assert parse_xml(b"<?xml version='1.0' encoding='ISO-8859-1'?>" + latin, encoding="UTF-8").text == "Åsa Öberg"
    utf8 = "<a>Åsa</a>".encode()
    assert parse_xml(b"\xef\xbb\xbf" + utf8, encoding="ISO-8859-1").text == "Åsa"
    assert parse_xml(utf8, encoding="no-such-charset").text == "Åsa"
    with pytest.raises(NotXml):
        parse_xml(latin)
