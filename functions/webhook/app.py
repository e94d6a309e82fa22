"""Lambda `webhook`: Telegram updates and payments, behind API Gateway (POST /webhook).

A composition root: settings, services and the PTB Application are built once per container."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from murmur.composition import Services
from murmur.config import Settings
from murmur.telegram.webhook import Webhook

logger = Logger()
services = Services(Settings.from_env())
clock = services.clock
webhook = Webhook(services)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return webhook(event, context)


def shutdown() -> None:
    """Called by the local stack between test runs; on Lambda the container simply ends."""
    webhook.shutdown()
    services.close()
