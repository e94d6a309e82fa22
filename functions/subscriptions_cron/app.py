"""Lambda `subscriptions_cron` (EventBridge Scheduler): expire Plus passes, remind, reconcile Stars, and deliver
the notices Telegram could not take earlier.

A composition root: settings and services once per container; the run itself is murmur.cron_tick."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from murmur.composition import Services
from murmur.config import Settings
from murmur.cron_tick import CronStepsFailedError, run_tick

logger = Logger()
services = Services(Settings.from_env())
clock = services.clock


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        summary = run_tick(services)
    except Exception:
        services.metrics.count("CronFailed")
        raise  # the on-failure destination and the Errors alarm see it too
    finally:
        services.metrics.flush()
    if summary["failed_steps"]:
        raise CronStepsFailedError(", ".join(summary["failed_steps"]))
    return summary


def shutdown() -> None:
    """Called by the local stack between test runs; on Lambda the container simply ends."""
    services.close()
