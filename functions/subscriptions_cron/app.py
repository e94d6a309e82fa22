"""Lambda `subscriptions_cron` (EventBridge Scheduler): expire Plus passes, remind, reconcile Stars, and deliver
the notices Telegram could not take earlier.

A composition root: settings and services once per container; the work lives in murmur.renewals,
murmur.reconciliation and murmur.delivery. Each step runs on its own: one that fails is counted (CronFailed)
and logged, the others still run, and the invocation fails at the end so the on-failure destination sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from murmur.composition import Services
from murmur.config import Settings
from murmur.delivery import Delivery, Pacer
from murmur.reconciliation import CURSOR as STARS_CURSOR
from murmur.reconciliation import reconcile_from
from murmur.renewals import Renewals, RunReport

logger = Logger()
services = Services(Settings.from_env())
clock = services.clock


class CronStepsFailedError(RuntimeError):
    """One or more steps of the run failed (each is logged); the others ran."""


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        summary = run()
    except Exception:
        services.metrics.count("CronFailed")
        raise  # the on-failure destination and the Errors alarm see it too
    finally:
        services.metrics.flush()
    if summary["failed_steps"]:
        raise CronStepsFailedError(", ".join(summary["failed_steps"]))
    return summary


def run() -> dict[str, Any]:
    pacer = Pacer()  # Telegram's limits, and this run's sending budget, shared by every notice of the run
    renewals = Renewals(services.repos, services.clock, services.webapp_url)
    # Every cursor of the run in one read: the two sweeps' and the Stars ledger's offset.
    *sweeps, stars_offset = services.repos.batch.get(
        [*renewals.cursor_refs(), services.repos.state.cursor_ref(STARS_CURSOR)], consistent=True
    )
    summary: dict[str, Any] = {"failed_steps": []}
    report = RunReport()

    def step(name: str, work: Callable[[], dict[str, Any]]) -> None:
        try:
            counts = work()
        except Exception:
            logger.exception("cron step failed", extra={"step": name})
            counts = {"failed": 1}
        summary.update({key: value for key, value in counts.items() if key != "failed"})
        if counts.get("failed"):  # raised, or some of its notices could not even be kept (storage)
            services.metrics.count("CronFailed")
            summary["failed_steps"].append(name)

    def expire_and_remind() -> dict[str, Any]:
        renewals.run(sweeps, report)
        return {
            "expired": report.expired,
            "reminded": report.reminded,
            "index_items_read": report.index_items_read,
            "queries": report.queries,
            "complete": report.complete,
        }

    def send_renewal_notices() -> dict[str, Any]:
        # Also what a failed sweep found before it failed: those users were expired or reminded already.
        return _delivered("notices", services.delivery.deliver_paced(report.notices, pacer))

    def reconcile() -> dict[str, Any]:
        stars = reconcile_from(stars_offset, services.repos, services.orders, services.gateway)
        return {
            "transactions_seen": stars.seen,
            "payments_repaired": len(stars.repaired),
            "refunds_applied": len(stars.refunds_applied),
        }

    def deliver_owed() -> dict[str, Any]:
        return _delivered("outbox", services.delivery.deliver_due(pacer))

    step("renewals", expire_and_remind)
    step("renewal_notices", send_renewal_notices)
    step("reconciliation", reconcile)
    step("outbox", deliver_owed)  # last: it takes what is left of the sending budget
    logger.info("cron run", extra=summary)
    return summary


def _delivered(prefix: str, outcomes: dict[Delivery, int]) -> dict[str, Any]:
    """Notices per outcome; one that storage failed on fails the step."""
    counts: dict[str, Any] = {f"{prefix}_{outcome.value}": outcomes.get(outcome, 0) for outcome in Delivery}
    return {**counts, "failed": outcomes.get(Delivery.FAILED, 0)}


def shutdown() -> None:
    """Called by the local stack between test runs; on Lambda the container simply ends."""
    services.close()
