"""The one hardened XML parse every inbound SOAP message goes through.

libxml2 already refuses external entities and network access by default, but it still *accepts* a
DOCTYPE and silently blanks unresolved entity references, so a message with an XXE attempt would be
processed with an empty field. SOAP 1.1 forbids DTDs outright, so we refuse any DOCTYPE, any entity
declaration and any entity reference before a single field is read. Size and depth are capped too.
"""

from __future__ import annotations

from lxml import etree

from gateway.errors import HostileXml, NotSoap, NotXml

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_DEPTH = 64  # RIVTA messages nest about 10 deep; libxml2's own limit (256) is far too lax


def _parser() -> etree.XMLParser:
    # A new parser per call: a shared parser holds a lock and would serialise worker threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(body: bytes, max_bytes: int) -> etree._Element:
    """Parse ``body`` into an element tree, refusing anything a SOAP message may not contain.

    Raises ``HostileXml`` for oversize input, DTDs, entities and excessive nesting, and ``NotXml``
    when the bytes are not well-formed XML.
    """
    if len(body) > max_bytes:
        raise HostileXml(f"the message is larger than {max_bytes} bytes")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        # Cheap pre-check: refuse before libxml2 spends any effort on declarations.
        raise HostileXml("a DTD is not allowed in a SOAP message")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "amplification" in message or "too long" in message or "Excessive depth" in message:
            raise HostileXml("the message exceeds the parser's limits") from exc
        raise NotXml(f"line {exc.lineno}: {exc.msg}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise HostileXml("a DTD is not allowed in a SOAP message")
    _check_tree(root)
    return root


def _check_tree(root: etree._Element) -> None:
    """Refuse entity references and nesting deeper than ``MAX_DEPTH`` in one walk."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise HostileXml(f"the message nests deeper than {MAX_DEPTH} levels")
        for child in element:
            if isinstance(child, etree._Entity):
                raise HostileXml("entity references are not allowed in a SOAP message")
            stack.append((child, depth + 1))


def split_envelope(root: etree._Element) -> tuple[list[etree._Element], etree._Element]:
    """Return the SOAP header entries and the single body child of an envelope.

    Raises ``NotSoap`` when the root is not a SOAP 1.1 Envelope or the Body does not hold exactly one
    element.
    """
    if root.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise NotSoap("the root element is not a SOAP 1.1 Envelope")
    header = root.find(f"{{{SOAP11_ENV}}}Header")
    body = root.find(f"{{{SOAP11_ENV}}}Body")
    if body is None:
        raise NotSoap("the Envelope has no Body")
    children = [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise NotSoap(f"the Body holds {len(children)} elements, expected exactly one")
    headers = [] if header is None else [h for h in header if isinstance(h.tag, str)]
    return headers, children[0]
