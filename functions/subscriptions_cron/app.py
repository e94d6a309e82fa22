"""Lambda `subscriptions_cron` (EventBridge Scheduler): expire Plus passes, remind, reconcile Stars.

A composition root: settings and services once per container; the work lives in murmur.renewals and
murmur.reconciliation."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from murmur.composition import Services
from murmur.config import Settings
from murmur.reconciliation import CURSOR as STARS_CURSOR
from murmur.reconciliation import reconcile_from
from murmur.renewals import Renewals

logger = Logger()
services = Services(Settings.from_env())
clock = services.clock


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return run()
    except Exception:
        services.metrics.count("CronFailed")
        raise  # the on-failure destination and the Errors alarm see it too
    finally:
        services.metrics.flush()


def run() -> dict[str, Any]:
    renewals = Renewals(services.repos, services.clock, services.webapp_url)
    # Every cursor of the run in one read: the two sweeps' and the Stars ledger's offset.
    *sweeps, stars_offset = services.repos.batch.get(
        [*renewals.cursor_refs(), services.repos.state.cursor_ref(STARS_CURSOR)], consistent=True
    )
    report = renewals.run(sweeps)
    for notice in report.notices:
        services.gateway.send_message(notice.chat_id, notice.text, notice.buttons)
    stars = reconcile_from(stars_offset, services.repos, services.orders, services.gateway)
    summary = {
        "expired": report.expired,
        "reminded": report.reminded,
        "index_items_read": report.index_items_read,
        "queries": report.queries,
        "complete": report.complete,
        "transactions_seen": stars.seen,
        "payments_repaired": len(stars.repaired),
        "refunds_applied": len(stars.refunds_applied),
    }
    logger.info("cron run", extra=summary)
    return summary


def shutdown() -> None:
    """Called by the local stack between test runs; on Lambda the container simply ends."""
    services.close()
