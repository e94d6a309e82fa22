"""The routes a Powertools resolver holds: the one place that reads its private route lists.

Powertools has no public way to list them, and the API needs them twice: to give every documented route the error
answers and its security scheme in the OpenAPI document, and to answer a known path asked with another method with
405 and `Allow` (Powertools itself answers 404). `_static_routes` and `_dynamic_routes` are private, so this module
names the Powertools version it was checked with; tests/unit/test_library_internals.py fails as soon as the
installed or pinned version differs, or the lists change shape: an upgrade makes someone look here first."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Route

CHECKED_WITH = "3.37.0"  # aws-lambda-powertools


def routes(app: APIGatewayHttpResolver) -> list[Route]:
    """Every route registered so far (those of included routers too), fixed paths first."""
    return [*app._static_routes, *app._dynamic_routes]
