"""The operations API's front: protection, dispatch, JSON errors and the generated OpenAPI document."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from domain.certificate_types import load_default_registry
from domain.lifecycle import RefusalReason
from domain.pdl import SystemIdentity
from gateway.internal_api import PREFIX, ApiError, ApiRoute, InternalApi, Request, Response
from gateway.internal_api.auth import Credentials, DevelopmentToken
from gateway.internal_api.certificates import STATUS_OF
from gateway.internal_api.certificates import routes as certificate_routes
from store.errors import DatabaseUnavailable
from tests.memory import ClosedUnitOfWork, MemoryDirectory
from usecases.lifecycle import LifecycleDeps

TOKEN = "s3cret-token"


def _echo(request: Request) -> Response:
    return Response(200, {"params": dict(request.params), "user": request.acting_user().value})


def _boom(request: Request) -> Response:
    raise RuntimeError("secret internals")


def _refuse(request: Request) -> Response:
    raise ApiError(409, "WRONG_STATUS", "not now", action="SIGN")


def _json_body(request: Request) -> Response:
    return Response(201, request.json())


ROUTES = [
    ApiRoute("GET", "/things/{thing_id}", _echo, "echo", "test", acting_user=True),
    ApiRoute("POST", "/things/{thing_id}/boom", _boom, "boom", "test"),
    ApiRoute("POST", "/things/{thing_id}/refuse", _refuse, "refuse", "test", responses={409: "refused"}),
    ApiRoute("PUT", "/things", _json_body, "json", "test", body={"type": "object"}),
]


def call(
    api: InternalApi, method: str, path: str, *, token: str | None = TOKEN, remote: str = "127.0.0.1",
    body: bytes = b"", headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": PREFIX + path, "QUERY_STRING": "", "REMOTE_ADDR": remote,
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
    }
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen: list[Any] = []
    chunks = api(environ, lambda status, hdrs, exc_info=None: seen.append((status, hdrs)))
    status, hdrs = seen[0]
    return int(status[:3]), dict(hdrs), json.loads(b"".join(chunks))


@pytest.fixture
def api() -> InternalApi:
    return InternalApi(ROUTES, credentials=Credentials([DevelopmentToken(TOKEN)]))


def test_route_gets_path_params_and_acting_user(api: InternalApi) -> None:
    """The path pattern fills params; the X-Acting-User header is the acting user."""
    status, headers, body = call(api, "GET", "/things/abc-1", headers={"X-Acting-User": "SE-P001"})
    assert (status, body) == (200, {"params": {"thing_id": "abc-1"}, "user": "SE-P001"})
    assert headers["Content-Type"] == "application/json"


def test_missing_acting_user_is_403(api: InternalApi) -> None:
    """A route that needs the acting user refuses a credential without one (the development token names it)."""
    status, _, body = call(api, "GET", "/things/x")
    assert (status, body["code"]) == (403, "USER_REQUIRED")


def test_empty_token_disables_the_api(caplog: pytest.LogCaptureFixture) -> None:
    """Without a configured token every path answers 404, even with some Authorization header."""
    api = InternalApi(ROUTES, credentials=Credentials([]))
    assert not api.enabled
    for path in ("/openapi.json", "/things/x"):
        status, _, body = call(api, "GET", path, token="")
        assert (status, body["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", ""])
def test_wrong_or_missing_token_is_401(api: InternalApi, token: str | None) -> None:
    """Only the exact token is accepted; 401 names the Bearer scheme."""
    status, headers, body = call(api, "GET", "/openapi.json", token=token)
    assert (status, body["code"]) == (401, "UNAUTHORIZED")
    assert headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("remote", ["10.0.0.5", "192.168.1.2", "", "not-an-address"])
def test_only_loopback_clients_by_default(api: InternalApi, remote: str) -> None:
    """A non-loopback client is refused before the token is looked at."""
    status, _, body = call(api, "GET", "/openapi.json", remote=remote)
    assert (status, body["code"]) == (403, "REMOTE_NOT_ALLOWED")


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.8.9.1", "::1"])
def test_loopback_addresses_are_accepted(api: InternalApi, remote: str) -> None:
    """IPv4 and IPv6 loopback both count."""
    assert call(api, "GET", "/openapi.json", remote=remote)[0] == 200


def test_remote_clients_allowed_when_configured() -> None:
    """internal_api_remote lets other addresses in; the token is still required."""
    api = InternalApi(ROUTES, credentials=Credentials([DevelopmentToken(TOKEN)]), allow_remote=True)
    assert call(api, "GET", "/openapi.json", remote="10.0.0.5")[0] == 200
    assert call(api, "GET", "/openapi.json", remote="10.0.0.5", token="no")[0] == 401


def test_unknown_path_404_and_wrong_method_405(api: InternalApi) -> None:
    """A path nobody serves is 404; a served path with another method is 405 naming the methods."""
    assert call(api, "GET", "/nothing/here")[2]["code"] == "NOT_FOUND"
    status, _, body = call(api, "DELETE", "/things/x")
    assert (status, body["code"], body["message"]) == (405, "METHOD_NOT_ALLOWED", "use GET")


def test_api_error_becomes_json_with_fields(api: InternalApi) -> None:
    """ApiError's status, code and fields reach the client."""
    status, _, body = call(api, "POST", "/things/x/refuse")
    assert (status, body) == (409, {"code": "WRONG_STATUS", "message": "not now", "action": "SIGN"})


def test_unexpected_exception_is_500_without_internals(api: InternalApi) -> None:
    """The client gets a code and the correlation id, not the exception text or a trace."""
    status, _, body = call(api, "POST", "/things/x/boom", headers={"x-skltp-correlation-id": "cid-42"})
    assert (status, body["code"], body["correlationId"]) == (500, "INTERNAL", "cid-42")
    assert "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_bad_json_is_400(api: InternalApi, body: bytes) -> None:
    """A body that is not a JSON object is refused as INVALID_JSON."""
    status, _, answer = call(api, "PUT", "/things", body=body)
    assert (status, answer["code"]) == (400, "INVALID_JSON")


def test_json_body_reaches_the_handler(api: InternalApi) -> None:
    """A JSON object body is parsed."""
    status, _, answer = call(api, "PUT", "/things", body=b'{"a": [1]}')
    assert (status, answer) == (201, {"a": [1]})


def test_duplicate_routes_are_refused() -> None:
    """Two modules claiming the same method and path is a wiring error found at start."""
    with pytest.raises(ValueError):
        InternalApi([*ROUTES, ROUTES[0]], credentials=Credentials([DevelopmentToken(TOKEN)]))


def _certificate_api() -> InternalApi:
    system = SystemIdentity("SE-GW", "GW")
    clock = partial(datetime.now, UTC)
    lifecycle_deps = LifecycleDeps(
        transaction=None, directory=None, registry=load_default_registry(), system=system, clock=clock,  # type: ignore[arg-type]
    )
    return InternalApi(certificate_routes(lifecycle_deps), credentials=Credentials([DevelopmentToken(TOKEN)]))


def test_openapi_document_lists_every_route_with_its_operation() -> None:
    """Every route of the table is in the document, with its operationId, parameters and responses."""
    api = _certificate_api()
    status, _, document = call(api, "GET", "/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": PREFIX}]
    assert document["components"]["securitySchemes"]["bearerToken"] == {"type": "http", "scheme": "bearer"}
    listed = {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert set(listed) == {(route.method, route.path) for route in api.routes}
    operation_ids = [operation["operationId"] for operation in listed.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for route in api.routes:
        operation = listed[(route.method, route.path)]
        names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        assert {("path", name) for name in route.path_params} <= names
        assert f"Scope: {route.scope}." in operation["description"]
        assert ("as the credential's user" in operation["description"]) is route.acting_user
        assert ("requestBody" in operation) is (route.body is not None)
        for code, response in operation["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            assert (schema == {"$ref": "#/components/schemas/Error"}) is (int(code) >= 400)
    expected = {
        ("GET", "/certificates/{certificate_id}"), ("PUT", "/certificates/{certificate_id}/content"),
        ("POST", "/certificates/{certificate_id}/ready"), ("POST", "/certificates/{certificate_id}/sign"),
        ("POST", "/certificates/{certificate_id}/send"), ("POST", "/certificates/{certificate_id}/revoke"),
        ("DELETE", "/certificates/{certificate_id}"), ("POST", "/certificates/{certificate_id}/copy"),
        ("POST", "/certificates/{certificate_id}/questions"),
        ("POST", "/certificates/{certificate_id}/questions/{question_id}/answer"),
        ("POST", "/certificates/{certificate_id}/questions/{question_id}/handled"),
        ("GET", "/openapi.json"),
    }
    assert expected <= set(listed)


@pytest.mark.parametrize("unit", [
    "", "   ", 2000, True, ["SE2321000016-2000"], {"hsaId": "SE2321000016-2000"}, "Sjukhuset Demo, medicinkliniken",
    "SE2321000016-2000\nSE2321000016-1000", "SE2321000016\u20102000", "\u0421E2321000016-2000", "S" * 65,
])
@pytest.mark.parametrize(("operation", "body"), [
    ("renew", {}), ("replace", {}), ("complete", {"mode": "A"}), ("complete", {"mode": "C", "text": "Nej."}),
])
def test_a_malformed_unit_is_400_before_anything_is_read(operation: str, body: dict[str, Any], unit: Any) -> None:
    """renew, replace and complete (every mode) refuse a unit that is not an HSA-id's shape, naming the
    field, with no transaction opened and nothing asked of the directory."""
    directory = MemoryDirectory()
    deps = LifecycleDeps(transaction=ClosedUnitOfWork(), directory=directory, registry=load_default_registry(),
                         system=SystemIdentity("SE-GW", "GW"), clock=partial(datetime.now, UTC))
    api = InternalApi(certificate_routes(deps), credentials=Credentials([DevelopmentToken(TOKEN)]))
    status, _, answer = call(api, "POST", f"/certificates/c-1/{operation}", headers={"X-Acting-User": "SE-P001"},
                             body=json.dumps({**body, "unit": unit}).encode())
    assert (status, answer["code"], answer["parameter"]) == (400, "INVALID_BODY", "unit")
    assert not directory.asked


def test_the_unit_of_a_related_draft_is_documented_and_optional() -> None:
    """renew and replace take an optional body naming the unit; complete's body (with mode) is required."""
    _, _, document = call(_certificate_api(), "GET", "/openapi.json")
    for operation, required in (("renew", False), ("replace", False), ("complete", True)):
        body = document["paths"][f"/certificates/{{certificate_id}}/{operation}"]["post"]["requestBody"]
        unit = body["content"]["application/json"]["schema"]["properties"]["unit"]
        assert (body["required"], unit["type"]) == (required, ["string", "null"])
        assert "OTHER_CARE_GIVER" in unit["description"] and unit["pattern"].startswith("^")


def test_every_refusal_reason_has_an_http_status() -> None:
    """A new reason must be given its status deliberately, not fall through to a default."""
    assert set(STATUS_OF) == set(RefusalReason)
    assert set(STATUS_OF.values()) <= {400, 403, 404, 409}


def test_database_outage_answers_503() -> None:
    """A use case whose database does not answer gives 503 UNAVAILABLE, not a 500."""

    def no_database() -> Any:
        raise DatabaseUnavailable("down")

    deps = LifecycleDeps(
        transaction=no_database, directory=None, registry=load_default_registry(),  # type: ignore[arg-type]
        system=SystemIdentity("SE-GW", "GW"), clock=partial(datetime.now, UTC),
    )
    api = InternalApi(certificate_routes(deps), credentials=Credentials([DevelopmentToken(TOKEN)]))
    status, _, body = call(api, "POST", "/certificates/c-1/sign", headers={"X-Acting-User": "SE-P001"})
    assert (status, body["code"]) == (503, "UNAVAILABLE")
