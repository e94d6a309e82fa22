"""The cron reads what is due, not what exists: 10,000 Plus holders, 20 of them due."""

from __future__ import annotations

from typing import Any

from murmur.renewals import Renewals
from murmur.store.repositories import Repositories
from murmur.store.users import day_bucket
from tests.fixed_clock import FixedClock

DAY = 86400


def _seed(repos: Repositories, now: float, holders: int, due: int) -> list[int]:
    """Plus holders straight into the table (seeding only): `due` expired a minute ago, the rest later."""
    due_ids = []
    items: list[dict[str, Any]] = []
    for i in range(holders):
        user_id = 10_000_000 + i
        expires = int(now) - 60 if i < due else int(now) + DAY * (2 + i % 20)
        if i < due:
            due_ids.append(user_id)
        remind = expires - DAY
        items.append(
            {
                "PutRequest": {
                    "Item": {
                        "user_id": {"N": str(user_id)},
                        "first_name": {"S": f"U{i}"},
                        "language_code": {"S": "en"},
                        "link_code": {"S": f"c{i:011d}"},
                        "accepts_messages": {"BOOL": True},
                        "plan": {"S": "plus"},
                        "plan_expires_at": {"N": str(expires)},
                        "expiry_bucket": {"S": day_bucket(expires)},
                        "remind_at": {"N": str(remind)},
                        "remind_bucket": {"S": day_bucket(remind)},
                    }
                }
            }
        )
    for start in range(0, len(items), 25):
        repos.users.client.batch_write_item(RequestItems={repos.users.table: items[start : start + 25]})
    return due_ids


def test_ten_thousand_holders_twenty_due_reads_twenty(repos: Repositories, clock: FixedClock) -> None:
    due = _seed(repos, clock.now(), 10_000, 20)
    report = Renewals(repos, clock, "https://example.org/").run()
    assert report.expired == 20
    assert report.index_items_read == 20
    assert report.queries <= 2 * 10  # one query per day bucket and index, at most the lookback of days
    assert sorted(n.chat_id for n in report.notices) == due
    assert all(repos.users.get(u).plan.value == "free" for u in due)  # type: ignore[union-attr]
    again = Renewals(repos, clock, "https://example.org/").run()
    assert (again.expired, again.index_items_read, again.notices) == (0, 0, [])


def test_a_run_is_bounded_and_the_next_one_resumes(repos: Repositories, clock: FixedClock) -> None:
    _seed(repos, clock.now(), 300, 250)
    first = Renewals(repos, clock, "https://example.org/", budget=100).run()
    assert first.expired == 100 and not first.complete
    rest = [Renewals(repos, clock, "https://example.org/", budget=100).run() for _ in range(3)]
    assert sum(r.expired for r in rest) == 150 and rest[-1].complete
