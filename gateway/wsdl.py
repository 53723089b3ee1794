"""Serving the contract's own WSDL and the schemas it imports, with addresses rewritten.

``GET <endpoint>?wsdl`` returns the WSDL from ``xsd/`` with ``soap:address`` set to the URL it was
fetched from, and every ``schemaLocation`` turned into ``<endpoint>?xsd=<path relative to the WSDL>``,
the way the national platform serves imports. ``?xsd=`` only serves files reached by following the
imports from the WSDL (a whitelist built at start-up), so no other file can be read through it.
Documents are prepared once; a request only substitutes the endpoint URL.
"""

from __future__ import annotations

import html
import os.path
import posixpath
from pathlib import Path
from typing import cast

from lxml import etree

from contracts.ns import WSDL_SOAP, XSD

_BASE = "urn:intygsgateway:endpoint-url"  # placeholder replaced by the endpoint URL per request


class WsdlDocuments:
    """The WSDL of one contract and every schema it reaches, ready to serve."""

    def __init__(self, wsdl_path: Path) -> None:
        self._folder = wsdl_path.resolve().parent
        self._docs: dict[str, bytes] = {}
        self._wsdl = self._prepare(wsdl_path.resolve(), is_wsdl=True)

    def wsdl(self, endpoint_url: str) -> bytes:
        """The WSDL with the endpoint's URL as ``soap:address`` and as the base of imports."""
        return self._wsdl.replace(_BASE.encode(), _escape(endpoint_url))

    def schema(self, relative_path: str, endpoint_url: str) -> bytes | None:
        """One imported schema by its path relative to the WSDL, or None if it is not ours to serve."""
        document = self._docs.get(posixpath.normpath(relative_path))
        return None if document is None else document.replace(_BASE.encode(), _escape(endpoint_url))

    def _relative(self, path: Path) -> str:
        return posixpath.normpath(Path(os.path.relpath(path, self._folder)).as_posix())

    def _prepare(self, path: Path, is_wsdl: bool = False) -> bytes:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        # A path of element steps selects elements (lxml types any XPath result as the union of all).
        locations = cast(list[etree._Element], tree.xpath(
            "//xs:import[@schemaLocation] | //xs:include[@schemaLocation]",
            namespaces={"xs": XSD},
        ))
        for element in locations:
            location = element.get("schemaLocation")
            assert location is not None  # selected by [@schemaLocation]
            target = (path.parent / location).resolve()
            relative = self._relative(target)
            if relative not in self._docs:
                self._docs[relative] = b""  # reserve first: schemas may import each other
                self._docs[relative] = self._prepare(target)
            element.set("schemaLocation", f"{_BASE}?xsd={relative}")
        if is_wsdl:
            for address in tree.iter(f"{{{WSDL_SOAP}}}address"):
                address.set("location", _BASE)
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _escape(url: str) -> bytes:
    return html.escape(url, quote=True).encode()
