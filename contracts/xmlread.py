"""Reading XML the gateway did not write: journal systems' answers, and requests in the simulator.

The same precautions as the gateway's inbound parse (``gateway.xmlparse``) in their plain form: no
DTD, no entities, no network, libxml2's size limits on. Answers are small and come from systems we
call ourselves, so nesting is not walked again here.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import SOAP11_ENV, qname


class UnreadableXml(ValueError):
    """Raised when bytes are not well-formed XML, or hold a DTD; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def read_xml(content: bytes) -> etree._Element:
    """Parse ``content`` with every fetch and expansion off; a DTD is refused outright."""
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise UnreadableXml("a DTD is not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableXml(f"not well-formed XML: line {exc.lineno}: {exc.msg}") from exc


def read_fragment(xml: str) -> list[etree._Element]:
    """The elements of a stored XML fragment (several siblings, text between them ignored)."""
    wrapper = read_xml(f"<fragment>{xml}</fragment>".encode())
    return [child for child in wrapper if isinstance(child.tag, str)]


def envelope_parts(root: etree._Element) -> tuple[list[etree._Element], etree._Element | None]:
    """The header entries and the first body element of a SOAP 1.1 envelope (None when empty).

    Raises ``UnreadableXml`` when the root is not a SOAP 1.1 Envelope with a Body.
    """
    body = root.find(qname(SOAP11_ENV, "Body")) if root.tag == qname(SOAP11_ENV, "Envelope") else None
    if body is None:
        raise UnreadableXml(f"not a SOAP 1.1 envelope with a Body: root {etree.QName(root).localname}")
    header = root.find(qname(SOAP11_ENV, "Header"))
    headers = [] if header is None else [entry for entry in header if isinstance(entry.tag, str)]
    first = next((child for child in body if isinstance(child.tag, str)), None)
    return headers, first
