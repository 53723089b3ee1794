"""The internal operations API: JSON over HTTP under ``/internal/api/v1/``, for editors and operators.

Plain WSGI and ``json``: the API is a handful of routes, so a route table and a dispatcher are
shorter than a framework and keep the front door's one dependency (Spyne) the only one. The OpenAPI
3.1 document at ``/internal/api/v1/openapi.json`` is generated from the same table, so it cannot
drift from what is served.

Protection, in the order it is checked (``InternalApi.__call__``):

1. **Disabled unless configured.** Without any credential source (service tokens, OIDC, or the
   development token) every path under the prefix answers 404, as if the API did not exist (logged
   once when the process builds the API).
2. **Loopback only** unless ``internal_api_remote`` is true: a request whose ``REMOTE_ADDR`` is not
   a loopback address gets 403 ``REMOTE_NOT_ALLOWED``. The server listens on the gateway's port, so
   this is what "bound to loopback by default" means here; behind a proxy on the same host, the
   proxy decides who reaches it.
3. **A verified credential** (``gateway.internal_api.auth``): a service token, an OIDC/JWT bearer
   token, or the development token; 401 with a code otherwise. Then the route's scope, and for
   routes that act on patient data a user bound to the credential (403 with a code otherwise).

The acting user (whose HSA-id becomes ``hanteratAv`` and the PDL record's user) is the credential's
user on every call that acts on patient data (``ApiRoute.acting_user``), checked against the
directory by the use case; an ``X-Acting-User`` header naming anyone else is refused. Every call
is logged with its caller, scope and status. Errors are JSON ``{"code", "message", ...fields}`` with 400,
401, 403, 404, 405, 409 or 503; an unexpected exception is logged and answers 500 ``INTERNAL`` with
the correlation id, never a stack trace.

Adding routes from another module (``gateway/internal_api/pdl.py``, ``outbox.py``...)::

    # gateway/internal_api/pdl.py
    from gateway.internal_api import ApiError, Request, Response, ApiRoute

    def routes(search: Callable[..., list[PdlRecord]]) -> list[ApiRoute]:
        def handle(request: Request) -> Response:
            return Response(200, {"records": [...]})
        return [ApiRoute("GET", "/pdl/records", handle, summary="Search PDL records", tag="pdl",
                      query=(Param("patient", "the patient's id"),))]

    # cli/wiring.py puts every module's routes in one table:
    InternalApi([*certificates.routes(...), *pdl.routes(...)], credentials=..., allow_remote=...)

Paths are relative to the prefix and use ``{name}`` for a path segment (``request.params["name"]``).
A handler returns a ``Response`` or raises ``ApiError``; ``request.json()`` parses the body (400
``INVALID_JSON`` otherwise) and ``request.acting_user()`` is the credential's user.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import structlog

from domain.values import HsaId
from gateway import correlation
from gateway.correlation import HEADER as CORRELATION_HEADER
from gateway.internal_api.auth import AuthError, Credentials, Principal, Scope, authorize

PREFIX = "/internal/api/v1"
MAX_BODY_BYTES = 1024 * 1024
StartResponse = Callable[..., Any]
log = structlog.get_logger("gateway.internal_api")

_REASONS = {
    200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
    500: "Internal Server Error", 503: "Service Unavailable",
}


class ApiError(Exception):
    """Raised by a handler to answer an error: HTTP ``status``, a stable ``code`` and extra fields."""

    def __init__(self, status: int, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.fields}


@dataclass(frozen=True, slots=True)
class Response:
    """A handler's answer: status and a JSON-serialisable body."""

    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class Request:
    """What a handler gets: path parameters, query, body bytes, headers and the correlation id."""

    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, list[str]]
    body: bytes
    headers: Mapping[str, str]
    correlation_id: str
    principal: Principal | None = None
    user: HsaId | None = None

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, or 400 INVALID_JSON."""
        try:
            data = json.loads(self.body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(400, "INVALID_JSON", f"the body is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise ApiError(400, "INVALID_JSON", "the body must be a JSON object")
        return data

    def acting_user(self) -> HsaId:
        """The user the verified credential acts as (``auth.authorize`` made sure there is one)."""
        if self.user is None:
            raise ApiError(403, "USER_REQUIRED", "this operation needs a credential bound to a user")
        return self.user


@dataclass(frozen=True, slots=True)
class Param:
    """A documented query parameter."""

    name: str
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One operation: method, path pattern, handler, and what the OpenAPI document says about it.

    ``body`` is the JSON schema of the request body (None: no body; ``body_required`` False: the body
    may be left out, as ``{}``); ``responses`` maps status codes to descriptions (the error statuses
    the handler may answer included).
    """

    method: str
    path: str
    handler: Callable[[Request], Response]
    summary: str
    tag: str
    operation_id: str = ""
    acting_user: bool = False
    scope: Scope | None = None  # None: read for GET, edit otherwise
    body: Mapping[str, Any] | None = None
    body_required: bool = True
    query: tuple[Param, ...] = ()
    responses: Mapping[int, str] = field(default_factory=lambda: {200: "OK"})
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"route path must start with '/': {self.path!r}")
        regex = re.sub(r"\{([a-z_]+)\}", r"(?P<\1>[^/]+)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}"))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))
        if not self.operation_id:
            words = re.findall(r"[a-z]+", self.path.lower())
            object.__setattr__(self, "operation_id", "_".join([self.method.lower(), *words]))
        if self.scope is None:
            object.__setattr__(self, "scope", Scope.READ if self.method == "GET" else Scope.EDIT)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{([a-z_]+)\}", self.path)


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "stable error code; decide on this, not on message"},
        "message": {"type": "string"},
    },
    "additionalProperties": True,
}


def openapi_document(routes: Sequence[ApiRoute], title: str = "Intygsgateway operations API") -> dict[str, Any]:
    """The OpenAPI 3.1 description of ``routes`` (plus the document itself)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.path_params
        ]
        parameters += [
            {"name": p.name, "in": "query", "required": p.required, "description": p.description,
             "schema": {"type": "string"}}
            for p in route.query
        ]
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "description": f"Scope: {route.scope}." + (
                " Acts on patient data as the credential's user (hanteratAv; checked against the directory)."
                if route.acting_user else ""),
            "tags": [route.tag],
            "responses": {
                str(status): {
                    "description": text,
                    "content": {"application/json": {"schema": (
                        {"$ref": "#/components/schemas/Error"} if status >= 400 else {"type": "object"}
                    )}},
                }
                for status, text in sorted(route.responses.items())
            },
        }
        if parameters:
            operation["parameters"] = parameters
        if route.body is not None:
            operation["requestBody"] = {
                "required": route.body_required, "content": {"application/json": {"schema": dict(route.body)}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": "1",
            "description": "Loopback-only by default; every call needs a bearer credential (OIDC token or service "
                           "token) with the operation's scope. See docs/operations-api.md.",
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearerToken": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


class InternalApi:
    """The WSGI application under ``PREFIX``: protection, routing, JSON in and out."""

    def __init__(self, routes: Iterable[ApiRoute], credentials: Credentials, allow_remote: bool = False) -> None:
        routes = list(routes)
        self.credentials = credentials
        self._allow_remote = allow_remote
        document = ApiRoute(
            "GET", "/openapi.json", self._openapi, summary="This API's OpenAPI 3.1 document", tag="meta"
        )
        self.routes: tuple[ApiRoute, ...] = (document, *routes)
        seen = [(r.method, r.path) for r in self.routes]
        duplicates = {key for key in seen if seen.count(key) > 1}
        if duplicates:
            raise ValueError(f"routes defined twice: {sorted(duplicates)}")
        self.document = openapi_document(self.routes)
        if not credentials.enabled:
            log.warning("internal_api_disabled", reason="no credentials configured")
        else:
            log.info("internal_api_enabled", remote_allowed=allow_remote, routes=len(self.routes),
                     credentials=credentials.describe()["credentials"])
        if credentials.development:
            log.warning("internal_api_development_token", warning=credentials.describe()["warning"])

    @property
    def enabled(self) -> bool:
        return self.credentials.enabled

    def describe(self) -> dict[str, Any]:
        """What ``/readyz`` shows about the operations API."""
        return {"enabled": self.enabled, **self.credentials.describe()}

    def _openapi(self, request: Request) -> Response:
        return Response(200, self.document)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with correlation.bound(environ) as cid:  # as the SOAP endpoints take it; handlers get it in Request
            try:
                response = self._handle(environ, cid)
            except ApiError as error:
                response = Response(error.status, error.body())
            except Exception:  # the last resort: log it, answer without internals
                log.exception("internal_api_failed", path=environ.get("PATH_INFO"))
                response = Response(
                    500, {"code": "INTERNAL", "message": "an internal error occurred", "correlationId": cid}
                )
        body = json.dumps(response.body, ensure_ascii=False, default=str).encode()
        status = f"{response.status} {_REASONS.get(response.status, '')}".strip()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), (CORRELATION_HEADER, cid)]
        if response.status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="intygsgateway"'))
        start_response(status, headers)
        return [body]

    def reachable(self, environ: Mapping[str, Any]) -> None:
        """Steps 1 and 2 of the protection (module docstring): configured, and loopback unless allowed."""
        if not self.enabled:
            raise ApiError(404, "NOT_FOUND", "no service at this path")
        if not self._allow_remote and not _is_loopback(environ.get("REMOTE_ADDR", "")):
            log.warning("internal_api_remote_refused", remote_addr=environ.get("REMOTE_ADDR"))
            raise ApiError(403, "REMOTE_NOT_ALLOWED", "the operations API answers loopback clients only")

    def admit(self, environ: Mapping[str, Any], scope: Scope, credential: str | None = None) -> Principal:
        """The verified caller of a request outside the API's routes (the console, ``/metrics``), with ``scope``.

        The same rules in the same order as the API's own routes; ``credential`` is the bearer token
        when it does not come in ``Authorization`` (the console keeps it in a cookie). Raises
        ``ApiError`` (404, 403, 401) as the API would answer.
        """
        self.reachable(environ)
        headers = _headers(environ)
        authorization = f"Bearer {credential}" if credential is not None else environ.get("HTTP_AUTHORIZATION", "")
        try:
            principal = self.credentials.authenticate(authorization, headers)
            authorize(principal, scope, False, headers)
        except AuthError as refused:
            raise ApiError(refused.status, refused.code, refused.message) from None
        return principal

    def _handle(self, environ: dict[str, Any], cid: str) -> Response:
        self.reachable(environ)
        headers = _headers(environ)
        path = environ.get("PATH_INFO", "")[len(PREFIX):] or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        principal: Principal | None = None
        route: ApiRoute | None = None
        try:
            principal = self.credentials.authenticate(environ.get("HTTP_AUTHORIZATION", ""), headers)
            matches = [(candidate, m) for candidate in self.routes if (m := candidate.pattern.match(path))]
            if not matches:
                raise ApiError(404, "NOT_FOUND", "no operation at this path")
            found = [(candidate, m) for candidate, m in matches if candidate.method == method]
            if not found:
                raise ApiError(405, "METHOD_NOT_ALLOWED", f"use {', '.join(sorted({r.method for r, _ in matches}))}")
            route, match = found[0]
            assert route.scope is not None
            user = authorize(principal, route.scope, route.acting_user, headers)
            request = self._request(environ, method, path, match.groupdict(), cid, headers, principal, user)
            response = route.handler(request)
        except AuthError as refused:
            self._log_call(principal, route, method, path, refused.status, refused.code)
            raise ApiError(refused.status, refused.code, refused.message) from None
        except ApiError as error:
            self._log_call(principal, route, method, path, error.status, error.code)
            raise
        self._log_call(principal, route, method, path, response.status, None)
        return response

    @staticmethod
    def _log_call(principal: Principal | None, route: ApiRoute | None, method: str, path: str, status: int,
                  code: str | None) -> None:
        """One line per call: who (caller and its user), which scope, what, and the outcome."""
        (log.info if status < 400 else log.warning)(
            "internal_api_call", caller=principal.name if principal else None,
            credential=principal.kind if principal else None,
            user=principal.user.value if principal and principal.user else None,
            scope=route.scope if route else None, method=method, path=path, status=status, code=code,
        )  # fmt: skip

    @staticmethod
    def _request(
        environ: dict[str, Any], method: str, path: str, params: dict[str, str], cid: str,
        headers: Mapping[str, str], principal: Principal, user: HsaId | None,
    ) -> Request:  # fmt: skip
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "TOO_LARGE", f"the body may be at most {MAX_BODY_BYTES} bytes")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        return Request(method, path, params, query, body, headers, cid, principal, user)


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    return {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")}
