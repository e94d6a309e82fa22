"""A fault at the steps of the money paths that the other fault tests do not reach: making an order, answering
pre-checkout, telling the buyer after fulfilment, a Pro renewal's write, and an admin's refund whose bookkeeping
fails after Telegram moved the Stars. After retries (Telegram's redelivery, the cron): 0 lost payments, 0 double
grants, the ledger and the entitlements agree.

Elsewhere: a send with a gift (test_send_idempotency), fulfilment's transaction (test_payments), refunds from
Telegram and every step of a reconciliation page (test_reconciliation_faults), automatic refunds of purchases
that gave nothing (test_purchase_guards), subscriptions and erasure (test_subscriptions)."""

from __future__ import annotations

from typing import Any

from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import buy, order, payment_rows, person, read, send

WEBHOOK, API = "WebhookFunction", "MiniAppApiFunction"
TEXT = "a message long enough to be worth unlocking"
ATTEMPTS = 4  # botocore's attempts at one call in the functions: injected this many times, one call fails


def _ledger(stack: LocalStack, charge_id: str) -> list[dict[str, Any]]:
    return payment_rows(stack, charge_id)


def test_an_order_whose_invoice_link_fails_is_503_and_the_retry_sells_once(stack: LocalStack) -> None:
    owner = person()
    mid = send(stack, owner, person(), TEXT)["message_id"]
    stack.bot_api.fail_next("createInvoiceLink", 500, "Internal Server Error")
    failed = order(stack, owner, "unlock", mid)
    assert failed.status == 503, failed.body
    assert failed.json()["error"]["code"] == "telegram_unavailable"
    paid = buy(stack, owner, "unlock", mid)  # the person taps again: a fresh order and invoice
    assert not read(stack, owner, mid)["locked"]
    assert len(_ledger(stack, paid["charge_id"])) == 1
    assert len(stack.bot_api.calls("refundStarPayment")) == 0


def test_an_order_storage_cannot_write_is_5xx_and_makes_no_invoice(stack: LocalStack) -> None:
    owner = person()
    mid = send(stack, owner, person(), TEXT)["message_id"]
    invoices = len(stack.bot_api.calls("createInvoiceLink"))
    stack.aws.inject("PutItem", "InternalServerError", times=ATTEMPTS, table=stack.tables["ORDERS_TABLE"], function=API)
    try:
        failed = order(stack, owner, "unlock", mid)
    finally:
        stack.aws.clear_injected()
    assert failed.status >= 500
    assert len(stack.bot_api.calls("createInvoiceLink")) == invoices  # nothing the person could pay
    buy(stack, owner, "unlock", mid)
    assert not read(stack, owner, mid)["locked"]


def test_pre_checkout_that_cannot_read_never_accepts_and_nothing_is_charged(stack: LocalStack) -> None:
    owner = person()
    mid = send(stack, owner, person(), TEXT)["message_id"]
    created = order(stack, owner, "unlock", mid).json()
    stack.aws.inject("BatchGetItem", "InternalServerError", times=ATTEMPTS, function=WEBHOOK)
    try:
        paid = stack.pay_invoice(owner, created["invoice_link"])
    finally:
        stack.aws.clear_injected()
    assert paid["status"] == "failed"  # Telegram got no "ok": the sheet fails, no Stars move
    assert all(call.params.get("ok") is not True for call in stack.bot_api.calls("answerPreCheckoutQuery")[-1:])
    assert read(stack, owner, mid)["locked"]
    again = stack.pay_invoice(owner, created["invoice_link"])  # the person tries again: it goes through once
    assert again["status"] == "paid" and again["webhook_status"] == 200
    assert not read(stack, owner, mid)["locked"]
    assert len(_ledger(stack, again["charge_id"])) == 1


def test_a_confirmation_telegram_cannot_take_is_owed_and_the_payment_granted_once(stack: LocalStack) -> None:
    owner = person()
    mid = send(stack, owner, person(), TEXT)["message_id"]
    created = order(stack, owner, "unlock", mid).json()
    stack.bot_api.fail_next("sendMessage", 500, "Internal Server Error")
    paid = stack.pay_invoice(owner, created["invoice_link"])
    assert paid["webhook_status"] == 200  # granted; the "unlocked" notice is owed, not the payment
    assert not read(stack, owner, mid)["locked"]
    assert stack.webhook(paid["update"]).status == 200  # a redelivery changes nothing
    assert len(_ledger(stack, paid["charge_id"])) == 1
    stack.advance_clock(300)
    stack.run_cron()  # the outbox delivers what was owed, once it is due
    assert any("unlocked" in m["text"] for m in stack.bot_api.messages_to(owner["id"]))


def test_a_renewal_whose_write_fails_is_5xx_and_the_redelivery_renews_once(stack: LocalStack) -> None:
    owner = person()
    buy(stack, owner, "pro_month")
    before = stack.api("GET", "/api/me", user=owner).json()["plan"]["expires_at"]
    stack.advance_clock(30 * 86400 - 60)
    stack.aws.inject("TransactWriteItems", "InternalServerError", times=ATTEMPTS, function=WEBHOOK)
    try:
        renewal = stack.renew_subscription(owner)
    finally:
        stack.aws.clear_injected()
    assert renewal["webhook_status"] == 500
    assert stack.webhook(renewal["update"]).status == 200  # Telegram's redelivery
    assert stack.webhook(renewal["update"]).status == 200  # and once more: nothing twice
    after = stack.api("GET", "/api/me", user=owner).json()["plan"]
    assert after["kind"] == "pro" and after["active"] and after["expires_at"] > before
    assert len(_ledger(stack, renewal["charge_id"])) == 1
    stack.run_cron()  # reconciliation sees the renewal in Telegram's ledger: already there, nothing more
    assert stack.api("GET", "/api/me", user=owner).json()["plan"]["expires_at"] == after["expires_at"]


def test_an_admin_refund_whose_bookkeeping_fails_is_applied_once_by_the_cron(stack: LocalStack) -> None:
    owner = person()
    mid = send(stack, owner, person(), TEXT)["message_id"]
    paid = buy(stack, owner, "unlock", mid)
    # Telegram moves the Stars back; then our write of the refund fails for every attempt.
    stack.aws.inject("TransactWriteItems", "InternalServerError", times=ATTEMPTS * 3, function=WEBHOOK)
    try:
        stack.send_text(ALICE, f"/refund {paid['charge_id']}")
    finally:
        stack.aws.clear_injected()
    assert len(stack.bot_api.calls("refundStarPayment")) == 1
    assert _ledger(stack, paid["charge_id"])[0]["status"]["S"] == "paid"  # not booked yet
    stack.run_cron()  # reconciliation: Telegram's ledger shows the refund
    assert _ledger(stack, paid["charge_id"])[0]["status"]["S"] == "refunded"
    assert read(stack, owner, mid)["locked"]
    stack.send_text(ALICE, f"/refund {paid['charge_id']}")  # the admin tries again: nothing twice
    assert len([c for c in stack.bot_api.calls("refundStarPayment") if c.ok]) == 1


def test_a_gift_ordered_before_the_owner_blocked_its_sender_is_refused_at_pre_checkout(stack: LocalStack) -> None:
    owner, pest = person(), person()
    mid = send(stack, owner, pest, "first of many unwanted messages")["message_id"]
    code = stack.api("GET", "/api/me", user=owner).json()["link"]["code"]
    gift = stack.api(
        "POST", "/api/orders", user=pest, json={"product": "gift_heart", "message_id": mid, "link_code": code}
    )
    assert gift.status == 201, gift.body
    assert stack.api("POST", f"/api/messages/{mid}/block", user=owner).status < 300
    paid = stack.pay_invoice(pest, gift.json()["invoice_link"])
    assert paid["status"] == "failed"
    assert paid["error_message"] == "You cannot send gifts to this inbox."
    assert read(stack, owner, mid).get("gifts") == []
