"""The cron's plan work: expire Plus passes that are due, and remind a day before. Reads only what is due
(the sparse day-bucketed indexes), bounded per run, resumable (a cursor day per index), idempotent (each
write is conditional on the expiry it saw, so two runs at once notify once).

A Pro that awaits Telegram's renewal stays readable for `RENEWAL_GRACE_SECONDS` past its paid end, and sits in
the day bucket of that grace's end: the day is not left behind before the grace is over. Only a renewal that is
late is read more than once (each run between the paid end and the grace's end finds it and leaves it)."""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from murmur import notices, plans, texts
from murmur.clock import Clock
from murmur.errors import MurmurError
from murmur.models import PlanKind
from murmur.ports import Button
from murmur.store.batch import Ref
from murmur.store.repositories import Repositories
from murmur.store.users import EXPIRY_INDEX, REMIND_INDEX, day_bucket

log = logging.getLogger(__name__)
FIRST_RUN_LOOKBACK_DAYS = 8


@dataclass(slots=True)
class RunReport:
    expired: int = 0
    reminded: int = 0
    index_items_read: int = 0
    queries: int = 0
    complete: bool = True
    notices: list[notices.Notice] = field(default_factory=list)


def _day_start(day: str) -> int:
    return calendar.timegm(time.strptime(day, "%Y-%m-%d"))


def _days(cursor: str | None, now: float) -> list[str]:
    """The day buckets from the cursor (or a first-run lookback) to today, oldest first."""
    t = _day_start(cursor) if cursor else now - FIRST_RUN_LOOKBACK_DAYS * 86400
    days: list[str] = []
    while day_bucket(t) <= day_bucket(now) and len(days) < 400:
        days.append(day_bucket(t))
        t += 86400
    return days


class Renewals:
    def __init__(self, repos: Repositories, clock: Clock, webapp_url: str, budget: int = 200) -> None:
        self.repos = repos
        self.clock = clock
        self.webapp_url = webapp_url
        self.budget = budget  # users handled per run and per index, at most

    def cursor_refs(self) -> list[Ref[str]]:
        """Where the two sweeps resume: read by the caller, in one batch with whatever else it needs."""
        state = self.repos.state
        return [state.cursor_ref(f"sweep#{EXPIRY_INDEX}"), state.cursor_ref(f"sweep#{REMIND_INDEX}")]

    def run(self, cursors: Sequence[str | None] | None = None, report: RunReport | None = None) -> RunReport:
        """Both sweeps, from `cursors` as read through `cursor_refs` (read here when not given), into `report`
        (a new one when not given), which keeps what was done and owed even if a sweep fails half-way."""
        report = report if report is not None else RunReport()
        if cursors is None:
            cursors = self.repos.batch.get(self.cursor_refs(), consistent=True)
        self._sweep(EXPIRY_INDEX, cursors[0], report, self._expire_one)
        self._sweep(REMIND_INDEX, cursors[1], report, self._remind_one)
        return report

    def _sweep(
        self, index: str, cursor: str | None, report: RunReport, act: Callable[[int, int, RunReport], None]
    ) -> None:
        now = int(self.clock.now())
        cursor_name = f"sweep#{index}"
        today = day_bucket(now)
        handled = 0
        for day in _days(cursor, now):
            start = None
            while True:
                ids, start = self.repos.users.due(index, day, now, min(100, self.budget - handled) or 1, start)
                report.queries += 1
                report.index_items_read += len(ids)
                for user_id in ids:
                    act(user_id, now, report)
                    handled += 1
                if not start or handled >= self.budget:
                    break
            if handled >= self.budget:
                report.complete = False
                return
            following = day_bucket(_day_start(day) + 86400)
            if day < today and following != cursor:  # a finished past day is never read again
                cursor = following
                self.repos.state.set_cursor(cursor_name, following)

    def _expire_one(self, user_id: int, now: int, report: RunReport) -> None:
        user = self.repos.users.get(user_id, consistent=True)
        if user is None or user.plan_expires_at is None or user.plan_active(now):
            return  # renewed or erased meanwhile (the index entry is stale), or a Pro whose renewal is still due
        try:
            self.repos.tx.write_one(plans.expire(self.repos.users, user))
        except MurmurError as exc:
            log.info("expiry skipped: %s", exc.code)  # renewed or expired by another run meanwhile, or storage
            return
        report.expired += 1
        # Every end the user did not choose at that moment is told: a Plus pass running out, and Pro that ends
        # because it was cancelled, its renewal failed, or no renewal came.
        if user.plan is PlanKind.PLUS:
            report.notices.append(self._renew_notice(user_id, user.language_code, "plan_expired"))
        elif user.plan is PlanKind.PRO:
            report.notices.append(self._renew_notice(user_id, user.language_code, "pro_expired", "resubscribe"))

    def _remind_one(self, user_id: int, now: int, report: RunReport) -> None:
        user = self.repos.users.get(user_id, consistent=True)
        if user is None or user.plan is not PlanKind.PLUS or not user.plan_expires_at:
            return
        remind_at = user.plan_expires_at - plans.REMIND_BEFORE
        if remind_at > now or not self.repos.users.clear_reminder(user_id, remind_at):
            return
        report.reminded += 1
        until = time.strftime("%Y-%m-%d %H:%M", time.gmtime(user.plan_expires_at))
        report.notices.append(self._renew_notice(user_id, user.language_code, "plan_reminder", until=until))

    def _renew_notice(
        self, user_id: int, language: str, key: str, button: str = "renew", **values: object
    ) -> notices.Notice:
        renew = Button(texts.text(button, language), web_app_url=notices.app_url(self.webapp_url, "/plans"))
        return notices.Notice(user_id, texts.text(key, language, **values), [[renew]])
