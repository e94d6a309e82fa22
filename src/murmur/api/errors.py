"""The one place where domain errors become HTTP responses: `{"error": {"code", "message"}}`."""

from __future__ import annotations

import json
import logging

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from murmur import errors

log = logging.getLogger(__name__)

STATUS: list[tuple[type[errors.MurmurError], int]] = [
    (errors.UnauthorizedError, 401),
    (errors.InvalidInputError, 400),
    (errors.NotFoundError, 404),
    (errors.RateLimitedError, 429),
    (errors.ForbiddenError, 403),
    (errors.ConflictError, 409),
    (errors.StorageUnavailableError, 503),
    (errors.TelegramRefusedError, 502),
    (errors.TelegramUnavailableError, 503),
]


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": {"code": code, "message": message}}),
        headers=headers or {},
    )


def domain_error(exc: errors.MurmurError) -> Response:
    status = next((s for cls, s in STATUS if isinstance(exc, cls)), 400)
    limited = exc if isinstance(exc, (errors.RateLimitedError, errors.TelegramRateLimitedError)) else None
    headers = {"Retry-After": str(limited.retry_after)} if limited else None
    return error_response(status, exc.code, exc.message, headers)


def validation_error(exc: RequestValidationError) -> Response:
    """Name the fields that failed, never echo their values (they may be personal)."""
    problems = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
        problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return error_response(422, "validation_error", "; ".join(problems) or "invalid request")


def unexpected_error(exc: Exception) -> Response:
    log.exception("unhandled error: %s", type(exc).__name__)
    return error_response(500, "internal", "something went wrong; try again")
