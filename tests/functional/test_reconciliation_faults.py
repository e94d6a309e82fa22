"""Reconciliation and refunds that never lose anything: lost Pro renewals, refunds under storage faults, and
one page of Telegram's Stars ledger with a fault injected at each of its steps.

The faulted page holds three transactions whose updates were all lost: an unlock paid (A), a Pro renewal (B)
and a hint that Telegram refunded (C). After the fault, the next run must leave 0 lost payments, 0 double
grants or refunds, and a revenue summary equal to the ledger. Throttling is injected for every attempt of one
call (botocore's retries included); "before" is the code of commit 07c4267.

| path    | step faulted                        | first run now                  | before                         |
|---------|-------------------------------------|--------------------------------|--------------------------------|
| cron    | getStarTransactions 500             | step fails, offset stays       | same; B flagged on the retry   |
| cron    | getStarTransactions 429 retry_after | step fails, offset stays       | same; B flagged on the retry   |
| cron    | BatchGetItem of the page's payments | step fails, nothing written    | same; B flagged on the retry   |
| cron    | fulfilment write (A)                | step fails, offset stays       | same; B flagged on the retry   |
| cron    | renewal write (B)                   | step fails, offset stays       | same; B flagged on the retry   |
| cron    | refund write (C)                    | step fails, offset stays       | passes, offset moved: C lost   |
| cron    | offset + summary transaction        | fails; A B C applied, no sum   | same; B flagged                |
| webhook | refunded_payment's refund write     | 500, Telegram redelivers       | 200: refund lost               |

Next run, every row now: A granted once, B renewed to its charge date + period once, C refunded once, the
summary moved by +1 unlock, +50 pro_month, -5 hint (= the ledger's net 46), the offset past the page; a third
run finds nothing to do. A webhook redelivery applies the refund once and the cron counts it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from murmur.ports import StarTransaction
from murmur.reconciliation import CURSOR
from murmur.telegram.gateway import HttpGateway
from sandbox.lambda_runtime import FunctionInvokeError
from sandbox.local_stack import LocalStack
from tests.functional.helpers import (
    buy,
    operator_services,
    order,
    payment_rows,
    payments_table,
    person,
    read,
    send,
)

DAY = 86400
PERIOD = 2592000  # pro_month's subscription_period
CRON = "SubscriptionsCronFunction"
THROTTLED = "ProvisionedThroughputExceededException"
# botocore's attempts at one call in the functions (the first and `max_attempts` = 3 retries): a fault injected
# this many times fails exactly one call, and the writes after it go through.
ATTEMPTS = 4


@pytest.fixture
def operator(stack: LocalStack) -> Iterator[Any]:
    services = operator_services(stack)
    yield services
    services.close()


# ---------------------------------------------------------------------- small steps
def _ledger(stack: LocalStack, offset: int) -> list[StarTransaction]:
    """Telegram's Stars ledger from `offset` on, through getStarTransactions."""
    gateway = HttpGateway(stack.bot_token, stack.bot_api.base_url)
    try:
        found: list[StarTransaction] = []
        while page := gateway.star_transactions(offset + len(found), 100):
            found += page
        return found
    finally:
        gateway.close()


def _refund_by_telegram(stack: LocalStack, user_id: int, charge_id: str) -> None:
    """Telegram refunds (e.g. through its support): the Stars go back; our webhook may or may not hear of it."""
    gateway = HttpGateway(stack.bot_token, stack.bot_api.base_url)
    try:
        gateway.refund_star_payment(user_id, charge_id)
    finally:
        gateway.close()


def _stars(amount: int, payload: str, charge_id: str) -> dict[str, Any]:
    return {
        "currency": "XTR",
        "total_amount": amount,
        "invoice_payload": payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": "",
    }


def _offset(operator: Any) -> int:
    (offset,) = operator.repos.batch.get([operator.repos.state.cursor_ref(CURSOR)], consistent=True)
    return int(offset or 0)


def _settled(stack: LocalStack, operator: Any) -> tuple[int, dict[str, int]]:
    """Reconcile everything earlier; the offset and the revenue summary from which a test counts."""
    stack.run_cron()
    return _offset(operator), operator.admin_stats.totals().revenue


def _added(operator: Any, before: dict[str, int]) -> dict[str, int]:
    """What the revenue summary gained since `before` (zeros left out)."""
    after = operator.admin_stats.totals().revenue
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in {*after, *before}}
    return {key: value for key, value in delta.items() if value}


def _net(transactions: list[StarTransaction]) -> int:
    return sum(tx.amount if tx.incoming else -tx.amount for tx in transactions)


def _plan(stack: LocalStack, user: dict[str, Any]) -> dict[str, Any]:
    me = stack.api("GET", "/api/me", user=user)
    assert me.status == 200, me.body
    return dict(me.json()["plan"])


def _row(stack: LocalStack, charge_id: str) -> dict[str, Any]:
    (row,) = payment_rows(stack, charge_id)  # exactly one ledger row per charge
    return row


# ---------------------------------------------------------------------- the fake's renewals
def test_the_fake_lists_a_renewal_as_telegram_does_a_new_charge_with_the_same_payload_and_period(
    stack: LocalStack,
) -> None:
    owner = person()
    paid = buy(stack, owner, "pro_month")
    renewal = stack.bot_api.renew_subscription(paid["charge_id"])
    first, again = (tx for tx in _ledger(stack, 0) if tx.id in (paid["charge_id"], renewal))
    assert renewal != paid["charge_id"] and (first.id, again.id) == (paid["charge_id"], renewal)
    assert (again.user_id, again.amount, again.incoming) == (owner["id"], 50, True)
    assert (again.payload, again.subscription_period) == (first.payload, PERIOD)

    assert stack.api("POST", "/api/plan/pro/cancel", user=owner).status == 200
    with pytest.raises(ValueError, match="canceled"):
        stack.bot_api.renew_subscription(paid["charge_id"])  # Telegram renews no canceled subscription


# ---------------------------------------------------------------------- lost Pro renewals
def test_a_renewal_whose_update_was_lost_extends_pro_once_from_reconciliation(stack: LocalStack, operator: Any) -> None:
    owner = person()
    paid = buy(stack, owner, "pro_month")
    first_end = _plan(stack, owner)["expires_at"]
    offset, before = _settled(stack, operator)
    stack.advance_clock(PERIOD - 3600)  # Telegram charges the next period as the first one ends
    renewal = stack.bot_api.renew_subscription(paid["charge_id"])  # its successful_payment never arrives
    (charged,) = (tx for tx in _ledger(stack, offset) if tx.id == renewal)

    report = stack.run_cron()
    row = _row(stack, renewal)
    assert row["product"]["S"] == "pro_month" and "flag" not in row
    plan = _plan(stack, owner)
    assert plan["kind"] == "pro" and plan["active"]
    assert plan["expires_at"] == charged.date + PERIOD > first_end  # Telegram's subscription_expiration_date
    assert (report["payments_repaired"], report["payments_flagged"]) == (1, 0)

    again = stack.run_cron()
    assert (again["payments_repaired"], again["payments_flagged"]) == (0, 0)
    assert _plan(stack, owner)["expires_at"] == charged.date + PERIOD
    _row(stack, renewal)
    assert _added(operator, before) == {"stars_pro_month": 50, "count_pro_month": 1}


def test_a_lost_first_pro_payment_and_its_lost_renewal_grant_then_renew_in_one_page(
    stack: LocalStack, operator: Any
) -> None:
    owner = person()
    created = order(stack, owner, "pro_month").json()
    offset, before = _settled(stack, operator)
    lost = stack.pay_invoice(owner, created["invoice_link"], deliver=False)
    stack.advance_clock(PERIOD - 3600)
    renewal = stack.bot_api.renew_subscription(lost["charge_id"])
    (charged,) = (tx for tx in _ledger(stack, offset) if tx.id == renewal)

    report = stack.run_cron()
    assert "flag" not in _row(stack, lost["charge_id"]) and "flag" not in _row(stack, renewal)
    assert _plan(stack, owner)["expires_at"] == charged.date + PERIOD
    assert (report["payments_repaired"], report["payments_flagged"]) == (2, 0)
    # The subscription is still the one its first charge started: that is what cancelling names.
    assert stack.api("POST", "/api/plan/pro/cancel", user=owner).status == 200
    assert stack.bot_api.subscription_canceled(owner["id"], lost["charge_id"])
    assert _added(operator, before) == {"stars_pro_month": 100, "count_pro_month": 2}


# ---------------------------------------------------------------------- refunds are never lost
def test_a_refunded_payment_the_webhook_cannot_write_is_answered_5xx_and_applied_once_on_redelivery(
    stack: LocalStack, operator: Any
) -> None:
    owner = person()
    buy(stack, owner, "plus_week")
    second = buy(stack, owner, "plus_week")
    stacked_end = _plan(stack, owner)["expires_at"]
    offset, before = _settled(stack, operator)
    _refund_by_telegram(stack, owner["id"], second["charge_id"])
    refunded = _stars(15, second["invoice_payload"], second["charge_id"])
    update = stack.message_update(owner, refunded_payment=refunded)

    stack.aws.inject(
        "TransactWriteItems", THROTTLED, times=ATTEMPTS, table=payments_table(stack), function="WebhookFunction"
    )
    try:
        assert stack.webhook(update).status == 500  # Telegram will redeliver
    finally:
        stack.aws.clear_injected()
    assert _plan(stack, owner)["expires_at"] == stacked_end
    assert _row(stack, second["charge_id"])["status"]["S"] == "paid"

    assert stack.webhook(update).status == 200  # the redelivery
    assert stack.webhook(update).status == 200  # and another: nothing more happens
    assert _plan(stack, owner)["expires_at"] == stacked_end - 7 * DAY  # one week taken back, once
    assert _row(stack, second["charge_id"])["status"]["S"] == "refunded"
    texts = [m["text"] for m in stack.bot_api.messages_to(owner["id"])]
    assert sum("15 ⭐ refunded" in t for t in texts) == 1

    report = stack.run_cron()
    assert report["refunds_applied"] == 0  # applied already, by the webhook
    assert _added(operator, before) == {"stars_plus_week": -15, "count_plus_week": -1}
    assert _net(_ledger(stack, offset)) == -15


def test_a_refund_reconciliation_cannot_write_keeps_the_offset_and_the_next_run_applies_it_once(
    stack: LocalStack, operator: Any
) -> None:
    owner, sender = person(), person()
    mids = [
        send(stack, owner, sender, text)["message_id"]
        for text in ("the first of two messages", "the second of two messages")
    ]
    paid = [buy(stack, owner, "unlock", mid) for mid in mids]
    offset, before = _settled(stack, operator)
    _refund_by_telegram(stack, owner["id"], paid[0]["charge_id"])  # the refunded_payment update is lost

    stack.aws.inject("TransactWriteItems", THROTTLED, times=ATTEMPTS, table=payments_table(stack), function=CRON)
    try:
        with pytest.raises(FunctionInvokeError, match="reconciliation"):
            stack.run_cron()
    finally:
        stack.aws.clear_injected()
    assert _offset(operator) == offset and _added(operator, before) == {}
    assert not read(stack, owner, mids[0])["locked"]
    assert _row(stack, paid[0]["charge_id"])["status"]["S"] == "paid"

    report = stack.run_cron()
    assert report["refunds_applied"] == 1
    assert read(stack, owner, mids[0])["locked"] and not read(stack, owner, mids[1])["locked"]
    assert _row(stack, paid[0]["charge_id"])["status"]["S"] == "refunded"
    assert stack.run_cron()["refunds_applied"] == 0
    assert _added(operator, before) == {"stars_unlock": -1, "count_unlock": -1}
    assert _offset(operator) == offset + 1


def test_a_lost_payment_refunded_before_any_run_is_granted_then_revoked_in_one_page(
    stack: LocalStack, operator: Any
) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "paid, refunded, never heard of")["message_id"]
    created = order(stack, owner, "unlock", mid).json()
    offset, before = _settled(stack, operator)
    lost = stack.pay_invoice(owner, created["invoice_link"], deliver=False)
    _refund_by_telegram(stack, owner["id"], lost["charge_id"])
    # The refunded_payment comes before any trace of the payment: acknowledged, reconciliation applies both.
    update = stack.message_update(owner, refunded_payment=_stars(1, created["order_id"], lost["charge_id"]))
    assert stack.webhook(update).status == 200

    report = stack.run_cron()
    assert (report["payments_repaired"], report["refunds_applied"]) == (1, 1)
    assert read(stack, owner, mid)["locked"]
    assert _row(stack, lost["charge_id"])["status"]["S"] == "refunded"
    assert _added(operator, before) == {} and _net(_ledger(stack, offset)) == 0


# ---------------------------------------------------------------------- one page, a fault at each step
@dataclass(frozen=True)
class Fault:
    page: tuple[str, ...]  # the order of the page's transactions: "lost", "renewal", "refund"
    inject: Callable[[LocalStack], None]


def _throttle(operation: str, table: Callable[[LocalStack], str]) -> Callable[[LocalStack], None]:
    return lambda stack: stack.aws.inject(operation, THROTTLED, times=ATTEMPTS, table=table(stack), function=CRON)


def _state_table(stack: LocalStack) -> str:
    return str(stack.env["STATE_TABLE"])


FAULTS = {
    "getStarTransactions 500": Fault(
        ("lost", "renewal", "refund"), lambda stack: stack.bot_api.fail_next("getStarTransactions", 500)
    ),
    "getStarTransactions 429": Fault(
        ("lost", "renewal", "refund"),
        lambda stack: stack.bot_api.fail_next(
            "getStarTransactions", 429, "Too Many Requests: retry after 3", retry_after=3
        ),
    ),
    "payments batch read": Fault(("lost", "renewal", "refund"), _throttle("BatchGetItem", payments_table)),
    "fulfilment write": Fault(("lost", "renewal", "refund"), _throttle("TransactWriteItems", payments_table)),
    "renewal write": Fault(("renewal", "lost", "refund"), _throttle("TransactWriteItems", payments_table)),
    "refund write": Fault(("refund", "lost", "renewal"), _throttle("TransactWriteItems", payments_table)),
    "offset and summary write": Fault(("lost", "renewal", "refund"), _throttle("TransactWriteItems", _state_table)),
}


@pytest.mark.parametrize("step", list(FAULTS))
def test_a_page_faulted_at_each_step_loses_nothing_grants_nothing_twice_and_counts_once(
    stack: LocalStack, operator: Any, step: str
) -> None:
    fault = FAULTS[step]
    buyer_a, buyer_b, buyer_c, sender = person(), person(), person(), person()
    mid_a = send(stack, buyer_a, sender, "unlocked by a lost payment")["message_id"]
    mid_c = send(stack, buyer_c, sender, "a hint bought, then refunded")["message_id"]
    pro = buy(stack, buyer_b, "pro_month")
    hints_before = read(stack, buyer_c, mid_c)["hints_left"]
    hint = buy(stack, buyer_c, "hint", mid_c)
    offset, before = _settled(stack, operator)

    stack.advance_clock(PERIOD - 3600)  # B's renewal falls due
    created = order(stack, buyer_a, "unlock", mid_a).json()
    charges: dict[str, str] = {}
    for kind in fault.page:  # every update of the page is lost
        if kind == "lost":
            charges["lost"] = stack.pay_invoice(buyer_a, created["invoice_link"], deliver=False)["charge_id"]
        elif kind == "renewal":
            charges["renewal"] = stack.bot_api.renew_subscription(pro["charge_id"])
        else:
            _refund_by_telegram(stack, buyer_c["id"], hint["charge_id"])
    page = _ledger(stack, offset)
    (renewal,) = (tx for tx in page if tx.id == charges["renewal"])

    fault.inject(stack)
    try:
        with pytest.raises(FunctionInvokeError, match="reconciliation"):
            stack.run_cron()
    finally:
        stack.aws.clear_injected()
    assert _offset(operator) == offset and _added(operator, before) == {}

    stack.run_cron()
    quiet = stack.run_cron()
    # 0 lost: each payment of the page has its one ledger row, and what it bought.
    assert "flag" not in _row(stack, charges["lost"]) and "flag" not in _row(stack, charges["renewal"])
    assert not read(stack, buyer_a, mid_a)["locked"]
    assert _plan(stack, buyer_b)["expires_at"] == renewal.date + PERIOD
    # The refund: applied, once.
    assert _row(stack, hint["charge_id"])["status"]["S"] == "refunded"
    assert read(stack, buyer_c, mid_c)["hints_left"] == hints_before
    # The summary equals the ledger: each transaction of the page counted once.
    added = _added(operator, before)
    assert added == {
        "stars_unlock": 1,
        "count_unlock": 1,
        "stars_pro_month": 50,
        "count_pro_month": 1,
        "stars_hint": -5,
        "count_hint": -1,
    }
    assert sum(v for k, v in added.items() if k.startswith("stars_")) == _net(page) == 46
    assert _offset(operator) == offset + len(page)
    assert (quiet["payments_repaired"], quiet["payments_flagged"], quiet["refunds_applied"]) == (0, 0, 0)
