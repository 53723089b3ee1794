"""Compile contract schemas from a folder, validate SOAP messages part by part, outline WSDLs.

The conformance tests compile the same root schema twice, once over our ``xsd/`` and once over the
official RIVTA files, and compare verdicts. The root is an in-memory ``xs:schema`` that only
imports the namespaces a contract needs (plus, optionally, global "probe" elements of types that no
contract element exposes directly), the way the gateway validates: the Envelope itself is never
validated, only each header element and the body element.

Nothing here may reach the network: every schema document is loaded through a resolver that
admits files under the given folder and records (and refuses) anything else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[2]
OUR_XSD = REPO_ROOT / "xsd"
OFFICIAL_ENV = "RIVTA_OFFICIAL_SCHEMAS"

XS_NS = "http://www.w3.org/2001/XMLSchema"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"


def official_root() -> Path:
    """Return the folder holding the official schemas, or skip the calling test.

    The official files are reference data outside the project; CI points the variable at them.
    A variable that is set but points nowhere is a broken setup, so that fails instead of skipping.
    """
    value = os.environ.get(OFFICIAL_ENV)
    if not value:
        pytest.skip(
            f"{OFFICIAL_ENV} is not set: point it at a copy of the official RIVTA schemas "
            "(for example ../shared/reference/rivta-official) to compare xsd/ with them"
        )
    root = Path(value)
    if not root.is_dir():
        pytest.fail(f"{OFFICIAL_ENV}={value!r} is not a folder")
    return root


class LocalFilesOnly(etree.Resolver):
    """Resolve schema documents to files inside one folder; record and refuse everything else."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder.resolve()
        self.loaded: list[Path] = []
        self.refused: list[str] = []

    # lxml-stubs leave out resolve's context argument and resolve_filename, both lxml's own API.
    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> object:  # type: ignore[override]
        path = _local_path(system_url or "")
        if path is None or not path.is_relative_to(self.folder) or not path.is_file():
            self.refused.append(system_url or f"public id {public_id}")
            raise SchemaFetchRefused(system_url or "")
        self.loaded.append(path)
        return self.resolve_filename(str(path), context)  # type: ignore[attr-defined]


class SchemaFetchRefused(Exception):
    """Raised (inside libxml2's loader) when a schema import points outside the allowed folder."""


@dataclass(frozen=True)
class CompiledSchema:
    """A compiled root schema and the files that went into it."""

    schema: etree.XMLSchema
    loaded: tuple[Path, ...]


@dataclass(frozen=True)
class RootSchema:
    """What a root schema imports, with locations relative to a service domain's schema folder.

    The same relative paths hold for ``xsd/<domain>/`` and for the official
    ``<RIVTA_OFFICIAL_SCHEMAS>/<domain>/schemas/``, so one description compiles on both sides.
    """

    domain: str
    imports: Mapping[str, str]
    target_namespace: str | None = None
    elements: Mapping[str, str] | None = None

    def ours(self) -> CompiledSchema:
        """Compile over our ``xsd/`` folder."""
        return self.compile(OUR_XSD / self.domain)

    def official(self) -> CompiledSchema:
        """Compile over the official files, or skip when ``RIVTA_OFFICIAL_SCHEMAS`` is unset."""
        return self.compile(official_root() / self.domain / "schemas")

    def compile(self, folder: Path) -> CompiledSchema:
        return compile_root_schema(
            folder, self.imports, target_namespace=self.target_namespace, elements=self.elements
        )


def root_schema_document(
    imports: Mapping[str, str],
    *,
    target_namespace: str | None = None,
    elements: Mapping[str, str] | None = None,
) -> bytes:
    """Return the text of a root schema importing ``imports`` (namespace -> relative location).

    ``elements`` declares global probe elements in ``target_namespace``, name -> type in Clark
    notation (``{namespace}TypeName``), so that named types without a global element of their own
    can be validated directly.
    """
    if elements and target_namespace is None:
        raise ValueError("probe elements need a target namespace")
    prefixes = {namespace: f"n{index}" for index, namespace in enumerate(imports)}
    nsmap: dict[str, str] = {"xs": XS_NS, **{p: ns for ns, p in prefixes.items()}}
    root = etree.Element(f"{{{XS_NS}}}schema", nsmap=nsmap, elementFormDefault="qualified")
    if target_namespace is not None:
        root.set("targetNamespace", target_namespace)
    for namespace, location in imports.items():
        etree.SubElement(root, f"{{{XS_NS}}}import", namespace=namespace, schemaLocation=location)
    for name, type_name in (elements or {}).items():
        type_qname = etree.QName(type_name)
        if type_qname.namespace not in prefixes:
            raise ValueError(f"type {type_name} is in a namespace that is not imported")
        declared = f"{prefixes[type_qname.namespace]}:{type_qname.localname}"
        etree.SubElement(root, f"{{{XS_NS}}}element", name=name, type=declared)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def compile_root_schema(
    folder: Path,
    imports: Mapping[str, str],
    *,
    target_namespace: str | None = None,
    elements: Mapping[str, str] | None = None,
) -> CompiledSchema:
    """Compile a root schema whose relative import locations resolve against ``folder``.

    Raises ``etree.XMLSchemaParseError`` when a file is missing or broken, and
    ``AssertionError`` when an import pointed outside ``folder`` (for example to the network).
    """
    resolver = LocalFilesOnly(folder)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(resolver)
    text = root_schema_document(imports, target_namespace=target_namespace, elements=elements)
    document = etree.fromstring(text, parser, base_url=str(folder.resolve() / "_root.xsd"))
    # libxml2 turns a refused import into a parse error or, for some imports, only a warning,
    # so the resolver's record decides, whichever way compiling ends.
    try:
        schema = etree.XMLSchema(document)
    except etree.XMLSchemaParseError:
        if resolver.refused:
            raise AssertionError(f"schema loading tried to leave {folder}: {resolver.refused}") from None
        raise
    if resolver.refused:
        raise AssertionError(f"schema loading tried to leave {folder}: {resolver.refused}")
    return CompiledSchema(schema, tuple(resolver.loaded))


def parse_message(message: bytes) -> etree._Element:
    """Parse a test message with no DTD, no entities and no network."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)
    return etree.fromstring(message, parser)


def envelope_parts(message: bytes) -> list[etree._Element]:
    """Return the header elements and the body element of a SOAP 1.1 envelope.

    These are what the gateway validates, each on its own, against the contract's root schema.
    A body that does not hold exactly one element is reported by :func:`message_errors`.
    """
    envelope = parse_message(message)
    if envelope.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise ValueError(f"not a SOAP 1.1 envelope: {envelope.tag}")
    parts: list[etree._Element] = []
    for section in ("Header", "Body"):
        for holder in envelope.findall(f"{{{SOAP_ENV_NS}}}{section}"):
            parts.extend(child for child in holder if isinstance(child.tag, str))
    return parts


def element_errors(schema: etree.XMLSchema, element: etree._Element) -> list[str]:
    """Validate one element (not its whole document) and return libxml2's messages, if any.

    Uses ``assertValid`` and the exception's own error log, which is safe under threads; the
    validator's ``error_log`` attribute is shared state.
    """
    try:
        schema.assertValid(element)
    except etree.DocumentInvalid as invalid:
        # lxml-stubs' _ErrorLog has no __iter__; lxml's error logs are iterable.
        return [f"line {entry.line}: {entry.message}" for entry in invalid.error_log]  # type: ignore[attr-defined]
    return []


def message_errors(schema: etree.XMLSchema, message: bytes) -> list[str]:
    """Validate every header element and the body element of an envelope; return all errors."""
    body = parse_message(message).find(f"{{{SOAP_ENV_NS}}}Body")
    body_elements = [] if body is None else [child for child in body if isinstance(child.tag, str)]
    errors = [] if len(body_elements) == 1 else [f"Body holds {len(body_elements)} elements, expected 1"]
    for part in envelope_parts(message):
        errors.extend(element_errors(schema, part))
    return errors


def wsdl_outline(path: Path) -> dict[str, object]:
    """Return what a WSDL 1.1 document means on the wire, as plain values that compare with ==.

    Names, QNames (resolved to Clark notation, so prefixes do not matter), binding style, use,
    soapAction, header bindings, the imported schema namespaces and the addresses. Documentation,
    comments, attribute order and the schemaLocation spelling are left out.
    """
    root = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
    w, s = f"{{{WSDL_NS}}}", f"{{{WSDL_SOAP_NS}}}"

    def qname(element: etree._Element, attribute: str) -> str | None:
        value = element.get(attribute)
        if value is None:
            return None
        prefix, _, local = value.rpartition(":")
        return f"{{{element.nsmap[prefix or None]}}}{local}"

    def soap_io(io: etree._Element | None) -> dict[str, object] | None:
        if io is None:
            return None
        body = io.find(f"{s}body")
        return {
            "body": None if body is None else {"use": body.get("use"), "parts": body.get("parts")},
            "headers": sorted(
                (qname(h, "message") or "", h.get("part") or "", h.get("use") or "")
                for h in io.findall(f"{s}header")
            ),
        }

    types = root.find(f"{w}types")
    schemas = [] if types is None else types.findall(f"{{{XS_NS}}}schema")
    return {
        "name": root.get("name"),
        "targetNamespace": root.get("targetNamespace"),
        "types": sorted(
            (
                schema.get("targetNamespace") or "",
                tuple(sorted(i.get("namespace") or "" for i in schema.iter(f"{{{XS_NS}}}import"))),
            )
            for schema in schemas
        ),
        "messages": {
            m.get("name"): [
                (p.get("name"), qname(p, "element"), qname(p, "type")) for p in m.findall(f"{w}part")
            ]
            for m in root.findall(f"{w}message")
        },
        "portTypes": {
            pt.get("name"): {
                op.get("name"): {
                    io.tag.removeprefix(w): (io.get("name"), qname(io, "message"))
                    for io in op
                    if isinstance(io.tag, str) and io.tag in (f"{w}input", f"{w}output", f"{w}fault")
                }
                for op in pt.findall(f"{w}operation")
            }
            for pt in root.findall(f"{w}portType")
        },
        "bindings": {
            b.get("name"): {
                "type": qname(b, "type"),
                "soap": _attributes(b.find(f"{s}binding"), ("style", "transport")),
                "operations": {
                    op.get("name"): {
                        "soap": _attributes(op.find(f"{s}operation"), ("soapAction", "style")),
                        "input": soap_io(op.find(f"{w}input")),
                        "output": soap_io(op.find(f"{w}output")),
                        "faults": sorted(f.get("name") or "" for f in op.findall(f"{w}fault")),
                    }
                    for op in b.findall(f"{w}operation")
                },
            }
            for b in root.findall(f"{w}binding")
        },
        "services": {
            svc.get("name"): {
                port.get("name"): (
                    qname(port, "binding"),
                    _attributes(port.find(f"{s}address"), ("location",)),
                )
                for port in svc.findall(f"{w}port")
            }
            for svc in root.findall(f"{w}service")
        },
    }


#: Defaults that an explicit attribute may repeat, by schema component; filled in before comparing.
_DEFAULTS = {
    "element": {"minOccurs": "1", "maxOccurs": "1", "nillable": "false", "abstract": "false"},
    "any": {"minOccurs": "1", "maxOccurs": "1", "namespace": "##any", "processContents": "strict"},
    "sequence": {"minOccurs": "1", "maxOccurs": "1"},
    "choice": {"minOccurs": "1", "maxOccurs": "1"},
    "attribute": {"use": "optional"},
    "anyAttribute": {"namespace": "##any", "processContents": "strict"},
    "complexType": {"mixed": "false", "abstract": "false"},
    "complexContent": {"mixed": "false"},
}
_QNAME_ATTRIBUTES = ("type", "ref", "base", "itemType", "substitutionGroup")
_SCHEMA_ATTRIBUTES = (("elementFormDefault", "unqualified"), ("attributeFormDefault", "unqualified"),
                      ("blockDefault", ""), ("finalDefault", ""))  # fmt: skip

Component = tuple[str, tuple[tuple[str, str], ...], tuple["Component", ...]]


def schema_declarations(files: Iterable[Path]) -> dict[str, dict[str, object]]:
    """Return, per target namespace, what the schema files declare, in a form that compares with ==.

    Each top-level component (element, type, group, attribute) is reduced to its meaning:
    annotations and comments dropped, QName-valued attributes resolved to Clark notation, default
    values filled in, whitespace around values stripped. Imports count by namespace only, since
    their locations differ between file layouts. Two sets of files with equal results accept the
    same documents.
    """
    result: dict[str, dict[str, object]] = {}
    for path in files:
        root = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
        if root.tag != f"{{{XS_NS}}}schema":
            continue
        namespace = root.get("targetNamespace") or ""
        entry = result.setdefault(namespace, {"imports": set()})
        entry["schema"] = tuple((name, root.get(name, default)) for name, default in _SCHEMA_ATTRIBUTES)
        for child in root:
            if not isinstance(child.tag, str) or child.tag == f"{{{XS_NS}}}annotation":
                continue
            local = etree.QName(child).localname
            if local in ("import", "include"):
                imports = entry["imports"]
                assert isinstance(imports, set)
                imports.add(child.get("namespace") or "")
                continue
            entry[f"{local} {child.get('name')}"] = _component(child, top_level=True)
    return result


def _component(element: etree._Element, *, top_level: bool = False) -> Component:
    local = etree.QName(element).localname
    attributes = dict(_DEFAULTS.get(local, {}))
    if top_level and local == "element":
        del attributes["minOccurs"], attributes["maxOccurs"]  # occurrence belongs to local particles
    for name, value in element.attrib.items():
        assert isinstance(value, str)  # lxml-stubs allow bytes; lxml gives attribute values as str
        value = value.strip()
        if name in _QNAME_ATTRIBUTES:
            prefix, _, localname = value.rpartition(":")
            value = f"{{{element.nsmap.get(prefix or None, '')}}}{localname}"
        attributes[str(name)] = value
    children = tuple(
        _component(child)
        for child in element
        if isinstance(child.tag, str) and child.tag != f"{{{XS_NS}}}annotation"
    )
    return (local, tuple(sorted(attributes.items())), children)


def schema_locations(document: etree._Element) -> list[str]:
    """Return every ``schemaLocation`` of ``xs:import``/``xs:include`` found in a document."""
    found = document.iter(f"{{{XS_NS}}}import", f"{{{XS_NS}}}include", f"{{{XS_NS}}}redefine")
    return [location for element in found if (location := element.get("schemaLocation")) is not None]


def files_under(folder: Path, suffixes: Iterable[str] = (".xsd", ".wsdl")) -> list[Path]:
    """Return the schema and WSDL files under ``folder``, sorted, for checks over all of them."""
    wanted = tuple(suffixes)
    return sorted(path for path in folder.rglob("*") if path.is_file() and path.name.endswith(wanted))


def _attributes(element: etree._Element | None, names: Iterable[str]) -> dict[str, str | None] | None:
    if element is None:
        return None
    return {name: element.get(name) for name in names}


def _local_path(url: str) -> Path | None:
    """Turn a plain path or a file: URL into a resolved path; None for anything else."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parsed.path)).resolve()
    if parsed.scheme == "" and url.startswith("/"):
        return Path(url).resolve()
    return None


def declaration_differences(ours: Iterable[Path], official: Iterable[Path]) -> list[str]:
    """Return ``"<namespace>: <component>"`` for each declaration that differs between two file sets.

    An empty list means both sets declare the same components per namespace (see
    :func:`schema_declarations`), so they accept the same documents.
    """
    left, right = schema_declarations(ours), schema_declarations(official)
    return [
        f"{namespace}: {key}"
        for namespace in sorted(set(left) | set(right))
        for key in sorted(set(left.get(namespace, {})) | set(right.get(namespace, {})))
        if left.get(namespace, {}).get(key) != right.get(namespace, {}).get(key)
    ]
