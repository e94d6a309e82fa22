"""The Mini App API: one Powertools resolver, validation on, one auth gate, one error mapping, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from murmur import errors
from murmur.api import auth
from murmur.api.errors import domain_error, error_response, unexpected_error, validation_error
from murmur.api.routes import inbox, links, me, orders
from murmur.api.schemas import CatalogOut, ErrorOut, ProductOut
from murmur.catalog import PRODUCTS
from murmur.composition import Services

ERROR_RESPONSES: dict[int, Any] = {
    status: {"description": description, "content": {"application/json": {"model": ErrorOut}}}
    for status, description in (
        (400, "invalid input"),
        (401, "missing or invalid initData"),
        (403, "not allowed"),
        (404, "not found"),
        (409, "conflict with the current state"),
        (413, "request body too large"),
        (415, "the body must be application/json"),
        (422, "request validation failed"),
        (429, "rate limited; see Retry-After"),
        (503, "storage unavailable; retry"),
    )
}


def build_resolver(services: Services) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    app.configure_openapi(
        title="Murmur Mini App API",
        version="1.0.0",
        summary="Anonymous inbox inside Telegram, paid with Telegram Stars",
        security_schemes={
            "tma": APIKey(
                name="Authorization",
                **{"in": APIKeyIn.header},
                description="`tma <initData>`: the Mini App's Telegram.WebApp.initData",
            )
        },
        security=[{"tma": []}],
    )

    app.exception_handler(errors.MurmurError)(domain_error)
    app.exception_handler(RequestValidationError)(validation_error)
    app.exception_handler(RouteNotFound)(lambda _exc: error_response(404, "not_found", "no such route"))

    for module in (me, links, inbox, orders):
        app.include_router(module.build(services))

    @app.get("/api/catalog", summary="What Murmur sells, in Stars", security=[])
    def get_catalog() -> CatalogOut:
        return CatalogOut(
            products=[
                ProductOut(
                    id=p.id,
                    stars=p.stars,
                    title=p.title,
                    description=p.description,
                    payer=p.payer.value,  # type: ignore[arg-type]
                    subscription=p.subscription_period is not None,
                )
                for p in PRODUCTS.values()
            ]
        )

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        return Response(200, "application/json", app.get_openapi_json_schema())

    for route_list in app._static_routes + app._dynamic_routes:  # declare our error envelope on every route
        if route_list.include_in_schema:
            route_list.responses = {**ERROR_RESPONSES, **(route_list.responses or {})}
    return app


def as_lambda_response(response: Response) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json", **{k: str(v) for k, v in response.headers.items()}},
        "body": response.body if isinstance(response.body, str) else json.dumps(response.body),
        "isBase64Encoded": False,
    }


def _json_or_absent(headers: dict[str, str]) -> bool:
    """The API speaks JSON only; any other declared body type is refused before a parser sees it."""
    declared = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    media_type = declared.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json")


def build_handler(services: Services) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Size limit and authentication before routing, so nothing unauthenticated reaches validation."""
    app = build_resolver(services)
    limit = services.settings.limits.body_bytes

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = event.get("body") or ""
        if len(body) > limit * (4 / 3 if event.get("isBase64Encoded") else 1):
            return as_lambda_response(error_response(413, "too_large", f"request body over {limit} bytes"))
        path = event.get("rawPath") or ""
        if path not in auth.PUBLIC_PATHS:
            try:
                init = auth.authenticate(
                    event.get("headers") or {},
                    bot_token=services.bot_token,
                    now=services.clock.now(),
                    max_age=services.settings.initdata_max_age,
                    public_key_hex=services.settings.initdata_public_key,
                )
            except errors.UnauthorizedError as exc:
                return as_lambda_response(domain_error(exc))
            app.append_context(init=init)
        if not _json_or_absent(event.get("headers") or {}):
            app.clear_context()
            return as_lambda_response(
                error_response(415, "unsupported_media_type", "send the body as application/json")
            )
        try:
            return app.resolve(event, context)
        except Exception as exc:  # anything unmapped: a 500 in our envelope, details only in the log
            app.clear_context()
            return as_lambda_response(unexpected_error(exc))

    return handle
