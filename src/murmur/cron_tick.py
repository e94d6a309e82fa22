"""One run of the scheduled cron: expire and remind (murmur.renewals), send those notices, reconcile Stars
(murmur.reconciliation), refresh Telegram's gift catalogue (murmur.real_gifts), finish erasures (murmur.privacy),
deliver what the outbox owes (murmur.delivery).

Each step runs on its own: one that fails is counted (CronFailed) and logged, the others still run, and the
caller fails the invocation at the end (`CronStepsFailedError`) so the on-failure destination sees it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from murmur.delivery import Delivery, Pacer
from murmur.privacy import finish_erasures
from murmur.reconciliation import CURSOR as STARS_CURSOR
from murmur.reconciliation import reconcile_from
from murmur.renewals import Renewals, RunReport

if TYPE_CHECKING:
    from murmur.composition import Services

log = logging.getLogger(__name__)


# Of the cron's 60 s, what a run spends on erasures DELETE /api/me or /deleteme began and did not finish.
ERASURE_SECONDS = 20.0


class CronStepsFailedError(RuntimeError):
    """One or more steps of the run failed (each is logged); the others ran."""


def run_tick(services: Services) -> dict[str, Any]:
    """Every step once; the summary counts what each did and names the steps that failed."""
    pacer = Pacer()  # Telegram's limits, and this run's sending budget, shared by every notice of the run
    renewals = Renewals(services.repos, services.clock, services.webapp_url)
    # Every cursor of the run in one read: the two sweeps', the Stars ledger's offset, and when Telegram's gift
    # catalogue was last cached.
    *sweeps, stars_offset, gift_catalogue = services.repos.batch.get(
        [
            *renewals.cursor_refs(),
            services.repos.state.cursor_ref(STARS_CURSOR),
            services.repos.gift_catalogue.ref(),
        ],
        consistent=True,
    )
    summary: dict[str, Any] = {"failed_steps": []}
    report = RunReport()

    def step(name: str, work: Callable[[], dict[str, Any]]) -> None:
        try:
            counts = work()
        except Exception:
            log.exception("cron step failed", extra={"step": name})
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
        for owner_id in stars.announce_to:  # a message that waited for its gift's payment is in their inbox now
            services.metrics.count("MessagesSent")
            services.delivery.announce(owner_id)
        return {
            "transactions_seen": stars.seen,
            "payments_repaired": len(stars.repaired),
            "payments_flagged": len(stars.flagged),
            "refunds_applied": len(stars.refunds_applied),
        }

    def refresh_gifts() -> dict[str, Any]:
        return services.real_gifts.refresh(gift_catalogue)

    def erasures() -> dict[str, Any]:
        return finish_erasures(services.repos, services.clock.now(), ERASURE_SECONDS)

    def deliver_owed() -> dict[str, Any]:
        return _delivered("outbox", services.delivery.deliver_due(pacer))

    step("renewals", expire_and_remind)
    step("renewal_notices", send_renewal_notices)
    step("reconciliation", reconcile)
    step("gift_catalogue", refresh_gifts)  # Telegram's real gifts, for the send page: hourly
    step("erasures", erasures)  # what DELETE /api/me or /deleteme did not finish
    step("outbox", deliver_owed)  # last: it takes what is left of the sending budget
    log.info("cron run", extra=summary)
    return summary


def _delivered(prefix: str, outcomes: dict[Delivery, int]) -> dict[str, Any]:
    """Notices per outcome; one that storage failed on fails the step."""
    counts: dict[str, Any] = {f"{prefix}_{outcome.value}": outcomes.get(outcome, 0) for outcome in Delivery}
    return {**counts, "failed": outcomes.get(Delivery.FAILED, 0)}
