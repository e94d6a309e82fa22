"""The Mini App API: one Powertools resolver, validation on, one auth gate, one error mapping, OpenAPI."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query

from murmur import catalog, errors
from murmur.api import auth, resolver_routes
from murmur.api.errors import domain_error, error_response, unexpected_error, validation_error
from murmur.api.routes import cards, inbox, links, me, orders, sharing
from murmur.api.schemas import STORY_IMAGE_BASE64_CHARS, CatalogOut, ErrorOut, ProductOut, success
from murmur.catalog import PRODUCTS
from murmur.composition import Services

Language = Annotated[
    str, Query(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})?$", description="a language code; English if none")
]
ERROR_RESPONSES: dict[int, Any] = {
    status: {"description": description, "content": {"application/json": {"model": ErrorOut}}}
    for status, description in (
        (400, "invalid input"),
        (401, "missing or invalid initData"),
        (403, "not allowed"),
        (404, "not found"),
        (405, "method not allowed on this path; see Allow"),
        (409, "conflict with the current state"),
        (413, "request body too large"),
        (415, "the body must be application/json"),
        (422, "request validation failed"),
        (429, "rate limited; see Retry-After"),
        (500, "unexpected failure (a bug: reported in the log)"),
        (503, "storage unavailable; retry"),
    )
}


def _openapi_document(app: APIGatewayHttpResolver) -> str:
    """Built on the first GET /api/openapi.json: Powertools' OpenAPI models are a large import (about a
    third of this function's cold start, measured in bench/) that validating requests does not need."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    app.configure_openapi(
        title="Murmur Mini App API",
        version="1.0.0",
        summary="Anonymous inbox inside Telegram, paid with Telegram Stars",
        security_schemes={
            "tma": APIKey.model_validate(
                {
                    "name": "Authorization",
                    "in": APIKeyIn.header,
                    "description": "`tma <initData>`: the Mini App's Telegram.WebApp.initData",
                }
            )
        },
    )
    return str(app.get_openapi_json_schema())


def build_resolver(services: Services) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    app.exception_handler(errors.MurmurError)(domain_error)
    app.exception_handler(RequestValidationError)(validation_error)
    app.exception_handler(RouteNotFound)(lambda _exc: _no_route(app))

    for module in (me, links, inbox, orders, cards, sharing):
        app.include_router(module.build(services))

    @app.get("/api/catalog", summary="What Murmur sells, in Stars", responses=success(CatalogOut))
    def get_catalog(lang: Language = "en") -> CatalogOut:
        return CatalogOut(
            products=[
                ProductOut(
                    id=p.id,
                    stars=p.stars,
                    title=catalog.title(p, lang),
                    description=catalog.description(p, lang),
                    payer=p.payer.value,  # type: ignore[arg-type]
                    subscription=p.subscription_period is not None,
                )
                for p in PRODUCTS.values()
            ]
        )

    document: list[str] = []

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        if not document:
            document.append(_openapi_document(app))
        return Response(200, "application/json", document[0])

    for route in resolver_routes.routes(app):
        if route.include_in_schema:
            # Every route can answer with the error envelope; authenticated routes say so per route,
            # because Powertools reads an empty per-route `security` as "inherit the global one".
            route.responses = {**ERROR_RESPONSES, **(route.responses or {})}
            if not auth.is_public(route.path):
                route.security = [{"tma": []}]
    return app


def _no_route(app: APIGatewayHttpResolver) -> Response:
    """404 for an unknown path; 405 with `Allow` for a known path and another method."""
    path = app.current_event.path
    allowed = sorted({r.method.upper() for r in resolver_routes.routes(app) if r.rule.fullmatch(path)})
    if allowed:
        return error_response(405, "method_not_allowed", f"use {', '.join(allowed)}", {"Allow": ", ".join(allowed)})
    return error_response(404, "not_found", "no such route")


def _too_large(event: dict[str, Any], limit: int) -> Response | None:
    body = event.get("body") or ""
    if len(body) > limit * (4 / 3 if event.get("isBase64Encoded") else 1):
        return error_response(413, "too_large", f"request body over {limit} bytes")
    return None


# A story image's JSON body: the image's base64 and room for the object around it.
STORY_BODY_BYTES = STORY_IMAGE_BASE64_CHARS + 1024
MAX_NESTING = 32  # our requests are flat objects; a deeper body is an attack on the JSON parser's recursion


def _nests_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON text opens more than `limit` arrays or objects inside each other (strings skipped): one
    linear pass, before a recursive parser meets thousands of levels and fails with RecursionError."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _body_problem(event: dict[str, Any]) -> Response | None:
    """Media type, encoding and nesting, checked before any parser sees the body (a parser's crash would be a
    500)."""
    body = event.get("body") or ""
    headers = event.get("headers") or {}
    declared = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if declared.split(";", 1)[0].strip().lower() not in ("", "application/json"):
        return error_response(415, "unsupported_media_type", "send the body as application/json")
    if body:
        try:
            raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
            text = raw.decode("utf-8")
        except (ValueError, UnicodeError):
            return error_response(400, "invalid_input", "the body is not UTF-8 JSON")
        if _nests_deeper_than(text, MAX_NESTING):
            return error_response(400, "invalid_input", f"the body nests more than {MAX_NESTING} levels deep")
    return None


def _query_problem(event: dict[str, Any]) -> Response | None:
    """A query parameter without a name (`?=x`) is no parameter of any route: refused, not ignored."""
    if any(not name for name in (event.get("queryStringParameters") or {})):
        return error_response(400, "invalid_input", "a query parameter has no name")
    return None


def as_lambda_response(response: Response) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json", **{k: str(v) for k, v in response.headers.items()}},
        "body": response.body if isinstance(response.body, str) else json.dumps(response.body),
        "isBase64Encoded": False,
    }


def _no_store(response: dict[str, Any]) -> dict[str, Any]:
    """Every answer is personal: no browser or CDN may keep it."""
    response.setdefault("headers", {})["Cache-Control"] = "no-store"
    return response


def build_handler(services: Services) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Size limit, then authentication, then media type and encoding, all before routing: nothing
    unauthenticated reaches validation, and no parser sees a body it could choke on."""
    app = build_resolver(services)
    limit = services.settings.limits.body_bytes

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return _no_store(answer(event, context))

    def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # A story card image is the one large body (murmur.stories); every other request keeps the small limit.
        too_large = _too_large(event, STORY_BODY_BYTES if event.get("rawPath") == sharing.STORY_PATH else limit)
        if too_large is not None:
            return as_lambda_response(too_large)
        path = event.get("rawPath") or ""
        if not auth.is_public(path):
            try:
                init = auth.authenticate(
                    event.get("headers") or {},
                    bot_token=services.bot_token,
                    now=services.clock.now(),
                    max_age=services.settings.initdata_max_age,
                    public_key_hex=services.settings.initdata_public_key,
                    require_signature=services.settings.require_initdata_signature,
                )
            except errors.UnauthorizedError as exc:
                return as_lambda_response(domain_error(exc))
            app.append_context(init=init)
        problem = _body_problem(event) or _query_problem(event)
        if problem is not None:
            app.clear_context()
            return as_lambda_response(problem)
        try:
            return app.resolve(event, context)
        except Exception as exc:  # anything unmapped: a 500 in our envelope, details only in the log
            app.clear_context()
            return as_lambda_response(unexpected_error(exc))

    return handle
