"""The benchmarks' baseline: a bare WSGI handler that parses and validates, then answers a fixed body.

It does exactly the XML work every gateway request must do (the hardened parse and the contract's
lxml schema validation of header and body) and nothing else, so the ratio to it shows what Spyne,
the business rules and the database cost on top. Run under gunicorn with the same worker count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from contracts.xmlparse import parse_xml, split_envelope
from gateway.validation import schema_for_wsdl

WSDL = Path(os.environ["BASELINE_WSDL"])
RESPONSE = os.environ.get("BASELINE_RESPONSE", "<ok>OK</ok>").encode()
SCHEMA = schema_for_wsdl(WSDL)
LIMIT = 2 * 1024 * 1024


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    headers, element = split_envelope(parse_xml(body, LIMIT))
    status = "200 OK" if not SCHEMA.violations(headers, element) else "500 Internal Server Error"
    start_response(status, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(RESPONSE)))])
    return [RESPONSE]
