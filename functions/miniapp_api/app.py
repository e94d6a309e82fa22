"""Lambda `miniapp_api`: the Mini App's JSON API behind API Gateway (HTTP API, payload v2).

A composition root: settings and services once per container, observability around one handler."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from murmur.api.app import build_handler
from murmur.composition import Services
from murmur.config import Settings

logger = Logger()
services = Services(Settings.from_env())
clock = services.clock
_handle = build_handler(services)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return _handle(event, context)
    finally:
        services.metrics.flush()


def shutdown() -> None:
    """Called by the local stack between test runs; on Lambda the container simply ends."""
    services.close()
