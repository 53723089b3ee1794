"""The one hardened XML parse, used for everything the gateway reads: requests, answers, files.

libxml2 already refuses external entities and network access by default, but it still *accepts* a
DOCTYPE and silently blanks unresolved entity references, so a message with an XXE attempt would be
processed with an empty field. SOAP 1.1 forbids DTDs outright and no file we read needs one, so any
DOCTYPE, entity declaration or entity reference is refused before a single field is read. Size and
depth are capped, comments and processing instructions are dropped. The inbound SOAP endpoints, the
journal systems' answers, the simulators and the HSA unit file all go through ``parse_xml``: one set
of rules, in the contracts package because the gateway, the outbound client and the simulator all
read through it.

Beside the parse: splitting a SOAP 1.1 envelope, reading a stored fragment (certificate content kept
as XML), and reading values out of a schema-valid element (``text_at``).
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping

from lxml import etree

from contracts.errors import HostileXml, NotSoap, NotXml
from contracts.ns import SOAP11_ENV, qname

MAX_DEPTH = 64  # RIVTA messages nest about 10 deep; libxml2's own limit (256) is far too lax
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _parser(encoding: str | None = None) -> etree.XMLParser:
    # A new parser per call: a shared parser holds a lock and would serialise worker threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        encoding=encoding,
    )
    # Plain elements only, without lxml's default chain of lookups (per-parser, then per-namespace)
    # for a custom class: every element the readers touch gets its Python object from here, and a
    # StoreLog call of 100 entries touches some 3,300 (its reading costs about 6 % less).
    parser.set_element_class_lookup(_PLAIN_ELEMENTS)
    return parser


_PLAIN_ELEMENTS = etree.ElementDefaultClassLookup()


def _names_its_encoding(body: bytes) -> bool:
    """Whether the document itself says how it is encoded: a byte order mark, an encoding in its XML
    declaration, or UTF-16 without a mark (which libxml2 recognises from the first bytes)."""
    if body.startswith(_BOMS) or body[:2] in (b"<\x00", b"\x00<"):
        return True
    if not body.startswith(b"<?xml"):
        return False
    end = body.find(b"?>", 0, 256)
    return end != -1 and b"encoding" in body[:end]


def _fallback(encoding: str | None, body: bytes) -> str | None:
    """``encoding`` when the document names none of its own and it is a known codec other than UTF-8."""
    if encoding is None or _names_its_encoding(body):
        return None
    try:
        name = codecs.lookup(encoding.strip().strip('"')).name
    except LookupError:
        return None  # an unknown charset in a header is no reason to refuse: the default applies
    return None if name == "utf-8" else name


def parse_xml(body: bytes, max_bytes: int | None = None, *, document: str = "a SOAP message",
              encoding: str | None = None) -> etree._Element:
    """Parse ``body`` into an element tree, refusing anything a contract message may not contain.

    ``max_bytes`` None leaves the size to libxml2's own limits (files an operator loads); requests
    from the network always pass their cap. ``document`` names what is read in the refusal texts
    (they reach the caller inside the contract's answer). ``encoding`` is what the transport says
    (the HTTP charset): as the XML specification orders it, a byte order mark or the XML declaration
    wins, then ``encoding``, then UTF-8. Journal systems that write ISO-8859-1 without a declaration
    but say so in Content-Type are read as the incumbent's stack reads them.

    Raises:
        HostileXml: oversize input, a DTD, entities, or nesting deeper than ``MAX_DEPTH``.
        NotXml: the bytes are not well-formed XML.
    """
    if max_bytes is not None and len(body) > max_bytes:
        raise HostileXml(f"the message is larger than {max_bytes} bytes")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        # Cheap pre-check: refuse before libxml2 spends any effort on declarations.
        raise HostileXml(f"a DTD is not allowed in {document}")
    try:
        root = etree.fromstring(body, _parser(_fallback(encoding, body)))
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "amplification" in message or "too long" in message or "Excessive depth" in message:
            raise HostileXml("the message exceeds the parser's limits") from exc
        raise NotXml(f"line {exc.lineno}: {exc.msg}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # type: ignore[union-attr]  # lxml-stubs' DocInfo lacks doctype
        raise HostileXml(f"a DTD is not allowed in {document}")
    _check_tree(root, document)
    return root


# Whether any element lies deeper than MAX_DEPTH (the root is level 1), asked of libxml2 itself.
_TOO_DEEP = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")


def _check_tree(root: etree._Element, document: str) -> None:
    """Refuse entity references and nesting deeper than ``MAX_DEPTH``.

    Both questions are answered inside libxml2 (a typed ``iter`` and an XPath), without a Python
    object per element: a StoreLog call of 100 entries has over 3,000 elements, and walking them in
    Python cost more than parsing them (issue 16).
    """
    if next(root.iter(etree.Entity), None) is not None:
        raise HostileXml(f"entity references are not allowed in {document}")
    if _TOO_DEEP(root):
        raise HostileXml(f"the message nests deeper than {MAX_DEPTH} levels")


_ENVELOPE, _HEADER, _BODY = (qname(SOAP11_ENV, name) for name in ("Envelope", "Header", "Body"))


def envelope_parts(root: etree._Element) -> tuple[list[etree._Element], list[etree._Element]]:
    """The header entries and the body's elements of a SOAP 1.1 envelope, in order.

    Raises:
        NotSoap: the root is not a SOAP 1.1 Envelope, or it has no Body.
    """
    if root.tag != _ENVELOPE:
        raise NotSoap("the root element is not a SOAP 1.1 Envelope")
    # The first child with each tag, as ``text_at`` finds it (``find`` reads its argument as a path).
    body = next(root.iterchildren(_BODY), None)
    if body is None:
        raise NotSoap("the Envelope has no Body")
    header = next(root.iterchildren(_HEADER), None)
    headers = [] if header is None else [entry for entry in header if isinstance(entry.tag, str)]
    return headers, [child for child in body if isinstance(child.tag, str)]


def split_envelope(root: etree._Element) -> tuple[list[etree._Element], etree._Element]:
    """The header entries and the single body element of a request envelope.

    Raises:
        NotSoap: not a SOAP 1.1 Envelope, no Body, or a Body that does not hold exactly one element.
    """
    headers, children = envelope_parts(root)
    if len(children) != 1:
        raise NotSoap(f"the Body holds {len(children)} elements, expected exactly one")
    return headers, children[0]


def read_fragment(xml: str) -> list[etree._Element]:
    """The elements of a stored XML fragment (several siblings, text between them ignored).

    Raises:
        HostileXml, NotXml: as ``parse_xml``.
    """
    wrapper = parse_xml(f"<fragment>{xml}</fragment>".encode(), document="a stored fragment")
    return [child for child in wrapper if isinstance(child.tag, str)]


def text_at(parent: etree._Element | None, *path: str) -> str | None:
    """The text of the element at ``path`` (Clark-notation tags) below ``parent``; None when absent.

    For schema-valid elements: the schema has already decided what is present, so a reader only
    states *where* a value is. An element that is present but empty reads as "". Each step takes the
    first child with that tag as lxml's C iterator finds it: half the time of ``find``, which looks its
    argument up as a path first (a registration is read with a dozen of these).
    """
    element = parent
    for tag in path:
        if element is None:
            return None
        element = next(element.iterchildren(tag), None)
    return None if element is None else (element.text or "")


def children_by_tag(parent: etree._Element) -> dict[object, etree._Element]:
    """Each tag among ``parent``'s children with the first child of that tag, in one pass.

    For a reader of many fields of one element: a ``text_at`` per field walks the children once per
    field (a SendMessageToCare has sixteen), this walks them once. Read the map with ``text_in``.
    """
    children: dict[object, etree._Element] = {}
    for child in parent:
        children.setdefault(child.tag, child)
    return children


def text_in(children: Mapping[object, etree._Element], tag: str) -> str | None:
    """``text_at`` for a child found by ``children_by_tag``: its text, "" when empty, None when absent."""
    element = children.get(tag)
    return None if element is None else (element.text or "")


def required_in(children: Mapping[object, etree._Element], tag: str) -> str:
    """``text_in`` for a child the schema requires: an absent one still reads as "" (as ``required_at``)."""
    return text_in(children, tag) or ""


def required_at(parent: etree._Element | None, *path: str) -> str:
    """``text_at`` for an element the schema requires: an absent one still reads as "" rather than failing."""
    return text_at(parent, *path) or ""
