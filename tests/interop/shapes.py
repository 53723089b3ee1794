"""The shapes a SOAP request takes on its way from a real client: the same message, written differently.

contracts.md §1 and §10 list what a compatible server must take: prefixes are irrelevant (only
namespaces and order matter), the SOAPAction header is not relied upon (absent, empty or quoted),
the LogicalAddress may be ``1``, ``?`` or empty in the incumbent's own samples, and every
``##other`` wildcard may hold extension content. Encodings are the XML specification's: a byte order
mark or an XML declaration names the encoding, else the HTTP charset, else UTF-8. Each function here
takes the message as an lxml tree and writes one such variant as the bytes a client would send.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from tests import envelopes as m

BOM = b"\xef\xbb\xbf"
#: A namespace no contract declares, as a journal system's own extension elements use.
EXTENSION = "urn:example:journal-extension"


def envelope(body: etree._Element, logical_address: str | None) -> etree._Element:
    """A SOAP 1.1 envelope around ``body``, with the LogicalAddress header unless it is None."""
    headers = [] if logical_address is None else [m.logical_address_header(logical_address)]
    return etree.fromstring(m.soap_envelope(body, headers=headers))


def written(tree: etree._Element, encoding: str = "UTF-8", *, declaration: bool = True, bom: bool = False,
            pretty: bool = False, crlf: bool = False) -> bytes:
    """``tree`` as bytes in ``encoding``, with or without the XML declaration and a UTF-8 byte order mark.

    ``pretty`` indents (whitespace between elements, as hand-written and SoapUI samples have it);
    ``crlf`` ends lines as Windows clients do.
    """
    tree = copy.deepcopy(tree)
    if pretty:
        etree.indent(tree, space="  ")
    data: bytes = etree.tostring(tree, encoding=encoding, xml_declaration=declaration)  # type: ignore[assignment]
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    return (BOM + data) if bom else data


def reprefixed(tree: etree._Element, prefixes: Mapping[str, str | None]) -> etree._Element:
    """The same tree with the namespace prefixes of ``prefixes`` (None: the default namespace).

    Every namespace is declared on the root, as most SOAP stacks write it. Prefixes missing from
    ``prefixes`` are numbered ``ns0``, ``ns1``... as lxml and zeep write them.
    """
    used = sorted({etree.QName(e).namespace for e in tree.iter() if isinstance(e.tag, str)} - {None})
    nsmap: dict[str | None, str] = {}
    for number, namespace in enumerate(used):
        prefix = prefixes.get(namespace, f"ns{number}")
        nsmap[prefix] = namespace
    return _rebuilt(tree, nsmap)


def default_namespace_per_element(tree: etree._Element) -> etree._Element:
    """The same tree with every element declaring its own namespace as the default, as .NET clients
    write it (``<CreateDraftCertificate xmlns="urn:...">``): no prefix anywhere."""
    nsmap: Any = {None: etree.QName(tree).namespace}  # lxml's stubs do not take the default namespace's None
    root = etree.Element(tree.tag, nsmap=nsmap)
    root.text = tree.text
    for child in tree:
        root.append(default_namespace_per_element(child) if isinstance(child.tag, str) else copy.deepcopy(child))
    for name, value in tree.attrib.items():
        root.set(name, value)
    root.tail = tree.tail
    return root


def _rebuilt(source: etree._Element, nsmap: Mapping[str | None, str]) -> etree._Element:
    declared: Any = dict(nsmap)  # lxml's stubs do not take the default namespace's None
    built = etree.Element(source.tag, nsmap=declared)
    _copy_into(built, source)
    return built


def _copy_into(target: etree._Element, source: etree._Element) -> None:
    for name, value in source.attrib.items():
        target.set(name, value)
    target.text = source.text
    for child in source:
        if not isinstance(child.tag, str):
            continue
        built = etree.SubElement(target, child.tag)
        _copy_into(built, child)
        built.tail = child.tail


def with_extensions(tree: etree._Element, positions: Sequence[str]) -> etree._Element:
    """The same tree with a foreign element appended inside each element at ``positions``.

    Positions are XPaths (prefixes of ``tests.envelopes.PREFIXES``) of the elements whose type ends
    with an ``xs:any namespace="##other"`` wildcard; appending puts the extension exactly there.
    """
    tree = copy.deepcopy(tree)
    for number, path in enumerate(positions):
        found = tree.xpath(path, namespaces={k: v for k, v in m.PREFIXES.items() if k})
        assert isinstance(found, list) and found, f"no element at {path}"
        for element in found:
            assert isinstance(element, etree._Element)
            extra = etree.SubElement(element, f"{{{EXTENSION}}}journalExtension{number}", nsmap={"jx": EXTENSION})
            extra.set("version", "2")
            etree.SubElement(extra, f"{{{EXTENSION}}}note").text = f"kept at {path.rsplit('/', 1)[-1]}"
    return tree
