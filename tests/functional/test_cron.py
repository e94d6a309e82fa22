"""The subscriptions cron: Plus expiry and reminders (due work only, idempotent), Stars reconciliation."""

from __future__ import annotations

from typing import Any

from murmur.reconciliation import CURSOR, Reconciled, reconcile_from
from sandbox.local_stack import LocalStack
from tests.functional.helpers import buy, operator_services, payment_rows, person, read, send

DAY = 86400


def _notes(stack: LocalStack, user: dict) -> list[str]:  # type: ignore[type-arg]
    return [m["text"] for m in stack.bot_api.messages_to(user["id"])]


def test_plus_reminds_a_day_before_then_expires_and_relocks_once(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "read me while you can")["message_id"]
    buy(stack, owner, "plus_week")
    assert not read(stack, owner, mid)["locked"]

    stack.advance_clock(6 * DAY + 60)  # inside the last day
    first = stack.run_cron()
    second = stack.run_cron()
    reminders = [t for t in _notes(stack, owner) if "ends in less than a day" in t]
    assert len(reminders) == 1 and first["reminded"] >= 1 and second["reminded"] == 0
    assert not read(stack, owner, mid)["locked"]

    stack.advance_clock(DAY)
    expired = stack.run_cron()
    again = stack.run_cron()
    assert expired["expired"] >= 1 and again["expired"] == 0
    assert read(stack, owner, mid)["locked"]
    assert sum("has ended" in t for t in _notes(stack, owner)) == 1
    me = stack.api("GET", "/api/me", user=owner).json()
    assert me["plan"]["kind"] == "free" and not me["plan"]["active"]


def test_renewed_plus_is_not_expired_by_a_stale_index_entry(stack: LocalStack) -> None:
    owner = person()
    buy(stack, owner, "plus_week")
    stack.advance_clock(6 * DAY)
    buy(stack, owner, "plus_week")  # stacks: ends in 8 days now
    stack.advance_clock(2 * DAY)
    stack.run_cron()
    assert stack.api("GET", "/api/me", user=owner).json()["plan"]["active"]


def test_cron_reads_only_what_is_due(stack: LocalStack) -> None:
    """Holders whose pass is far from its end are never read: the index query is bounded by time."""
    holders = [person() for _ in range(6)]
    for h in holders:
        buy(stack, h, "plus_week")
    report = stack.run_cron()
    assert report["index_items_read"] == 0 and report["expired"] == 0 and report["reminded"] == 0


def test_reconciliation_fulfils_a_payment_whose_update_was_lost(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "the update never came")["message_id"]
    created = stack.api("POST", "/api/orders", user=owner, json={"product": "unlock", "message_id": mid}).json()
    lost = stack.pay_invoice(owner, created["invoice_link"], deliver=False)
    assert read(stack, owner, mid)["locked"] and not payment_rows(stack, lost["charge_id"])

    report = stack.run_cron()
    assert report["payments_repaired"] == 1
    assert not read(stack, owner, mid)["locked"]
    assert len(payment_rows(stack, lost["charge_id"])) == 1
    assert stack.run_cron()["payments_repaired"] == 0  # the cursor moved on; nothing is granted twice


def test_reconciliation_applies_a_refund_made_outside_the_bot(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "refunded behind our back")["message_id"]
    paid = buy(stack, owner, "unlock", mid)
    # Telegram refunds (e.g. through support) and the refunded_payment update is lost.
    from murmur.telegram.gateway import HttpGateway

    gateway = HttpGateway(stack.bot_token, stack.bot_api.base_url)
    try:
        gateway.refund_star_payment(owner["id"], paid["charge_id"])
    finally:
        gateway.close()
    report = stack.run_cron()
    assert report["refunds_applied"] == 1
    assert read(stack, owner, mid)["locked"]
    assert payment_rows(stack, paid["charge_id"])[0]["status"]["S"] == "refunded"


def test_overlapping_reconciliations_count_each_transaction_once(stack: LocalStack) -> None:
    """Two runs read the same page; the one that commits second finds the offset moved and adds nothing."""
    services = operator_services(stack)

    def reconcile(gateway: Any) -> Reconciled:
        """A run as the cron's: from the offset it read."""
        (offset,) = services.repos.batch.get([services.repos.state.cursor_ref(CURSOR)], consistent=True)
        return reconcile_from(offset, services.repos, services.orders, gateway)

    stack.run_cron()  # everything earlier is counted
    before = services.admin_stats.totals().revenue
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "this one is counted exactly once")["message_id"]
    buy(stack, owner, "unlock", mid)

    class Overlapping:
        """The real gateway; the first page is read, then another run reconciles in full before this one
        goes on (what two cron invocations racing would do)."""

        def __init__(self) -> None:
            self.raced = False

        def star_transactions(self, offset: int, limit: int) -> list[Any]:
            page = services.gateway.star_transactions(offset, limit)
            if not self.raced:
                self.raced = True
                other = reconcile(services.gateway)
                assert other.revenue["stars_unlock"] == 1
            return page

    late = reconcile(Overlapping())
    assert late.revenue == {}  # its commit found the offset moved: nothing added twice
    after = services.admin_stats.totals().revenue
    assert after["stars_unlock"] - before.get("stars_unlock", 0) == 1
    assert after["count_unlock"] - before.get("count_unlock", 0) == 1
