"""Purchases that can no longer give anything, through the real webhook, fake Bot API and cron: pre-checkout
refuses them with a reason in the payer's language; one that still gets through (its pre-checkout passed before
another purchase made it pointless) is recorded flagged and refunded automatically, exactly once, whatever
fails on the way."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from murmur import texts
from sandbox.local_stack import LocalStack
from tests.functional.helpers import order, payment_rows, payments_table, person, read, send

LEASE = 120  # murmur.delivery.LEASE_SECONDS: how long the webhook that recorded a flagged payment holds its refund
TEXT = "this secret is long enough to be locked"


def _created(stack: LocalStack, buyer: dict[str, Any], product: str, message_id: str | None = None) -> dict[str, Any]:
    created = order(stack, buyer, product, message_id)
    assert created.status == 201, created.body
    return dict(created.json())


def _refused(stack: LocalStack, buyer: dict[str, Any], created: dict[str, Any]) -> str:
    """Pay an order as the Telegram app does; the pre-checkout must refuse it. Its reason, as shown."""
    paid = stack.pay_invoice(buyer, created["invoice_link"])
    assert paid["status"] == "failed", paid
    return str(paid["error_message"])


def _slipped_through(stack: LocalStack, buyer: dict[str, Any], created: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A payment whose pre-checkout passed while it still made sense: Telegram charged it, and its
    successful_payment (returned, with the charge id) reaches the bot only after another purchase landed."""
    invoice = stack.bot_api.invoice(created["invoice_link"])
    amount = sum(int(price["amount"]) for price in invoice["prices"])
    answer = stack.pre_checkout(buyer, invoice["payload"], amount)
    assert answer is not None and answer["ok"] is True, answer
    period = invoice.get("subscription_period")
    charge = stack.bot_api.record_star_payment(buyer["id"], amount, invoice["payload"], subscription_period=period)
    payment: dict[str, Any] = {
        "currency": "XTR",
        "total_amount": amount,
        "invoice_payload": invoice["payload"],
        "telegram_payment_charge_id": charge,
        "provider_payment_charge_id": "",
    }
    if period:
        payment.update(
            subscription_expiration_date=int(stack.now()) + int(period), is_recurring=True, is_first_recurring=True
        )
    return stack.message_update(buyer, successful_payment=payment), charge


def _paid(stack: LocalStack, buyer: dict[str, Any], created: dict[str, Any]) -> dict[str, Any]:
    paid = stack.pay_invoice(buyer, created["invoice_link"])
    assert paid["status"] == "paid" and paid["webhook_status"] == 200, paid
    return paid


def _two_unlocks_one_slipped_through(stack: LocalStack, owner: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """A message, two unlock orders for it; the second's payment passed pre-checkout before the first was paid."""
    mid = send(stack, owner, person(), TEXT)["message_id"]
    first, second = _created(stack, owner, "unlock", mid), _created(stack, owner, "unlock", mid)
    update, charge = _slipped_through(stack, owner, second)
    _paid(stack, owner, first)
    return mid, update, charge


def _status(stack: LocalStack, charge: str) -> str:
    (row,) = payment_rows(stack, charge)
    return str(row["status"]["S"])


def _refund_notices(stack: LocalStack, owner: dict[str, Any], since: int) -> list[str]:
    return [m["text"] for m in stack.bot_api.messages_to(owner["id"])[since:] if m["text"].startswith("↩️")]


# ---------------------------------------------------------------------- refused before Telegram charges
@pytest.mark.parametrize("lang", ["en", "ru", "es"])
def test_a_second_pro_order_made_before_the_first_was_paid_is_refused_at_pre_checkout(
    stack: LocalStack, lang: str
) -> None:
    owner = person(lang=lang)
    first, second = _created(stack, owner, "pro_month"), _created(stack, owner, "pro_month")
    _paid(stack, owner, first)
    assert _refused(stack, owner, second) == texts.text("reject_already_pro", lang)
    assert len(stack.bot_api.calls("answerPreCheckoutQuery", ok=False)) == 1


def test_a_second_unlock_of_one_message_is_refused_at_pre_checkout(stack: LocalStack) -> None:
    owner = person(lang="ru")
    mid = send(stack, owner, person(), TEXT)["message_id"]
    first, second = _created(stack, owner, "unlock", mid), _created(stack, owner, "unlock", mid)
    _paid(stack, owner, first)
    assert _refused(stack, owner, second) == texts.text("reject_already_readable", "ru")


def test_plus_while_pro_is_active_and_a_hint_when_none_is_left_are_refused_at_pre_checkout(stack: LocalStack) -> None:
    owner = person(lang="es")
    plus = _created(stack, owner, "plus_week")
    _paid(stack, owner, _created(stack, owner, "pro_month"))
    assert _refused(stack, owner, plus) == texts.text("reject_pro_includes_plus", "es")

    mid = send(stack, owner, person(), TEXT)["message_id"]
    hints = [_created(stack, owner, "hint", mid) for _ in range(4)]  # the ladder has three rungs
    for hint in hints[:3]:
        _paid(stack, owner, hint)
    assert _refused(stack, owner, hints[3]) == texts.text("reject_no_hints_left", "es")
    assert read(stack, owner, mid)["hints_left"] == 0


# ---------------------------------------------------------------------- got through: refunded, once
def test_an_unlock_that_got_through_delivered_twice_at_once_is_refunded_once(stack: LocalStack) -> None:
    owner = person()
    mid, update, charge = _two_unlocks_one_slipped_through(stack, owner)
    before = len(stack.bot_api.messages_to(owner["id"]))

    statuses: list[int] = []
    deliveries = [threading.Thread(target=lambda: statuses.append(stack.webhook(update).status)) for _ in range(2)]
    for delivery in deliveries:
        delivery.start()
    for delivery in deliveries:
        delivery.join()

    assert statuses == [200, 200]
    (refund,) = stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)
    assert refund.ok and refund.params["user_id"] == owner["id"]
    (row,) = payment_rows(stack, charge)
    assert row["flag"]["S"] == "already_unlocked" and row["status"]["S"] == "refunded"
    assert not read(stack, owner, mid)["locked"], "the unlock that was paid first stands"
    reason = texts.text("refund_reason_already_unlocked", "en")
    assert _refund_notices(stack, owner, before) == [texts.text("auto_refunded", "en", stars=1, reason=reason)]

    stack.advance_clock(LEASE + 1)  # past the webhook's hold: the cron finds nothing left to refund
    stack.run_cron()
    assert len(stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)) == 1
    assert len(_refund_notices(stack, owner, before)) == 1


def test_a_refund_telegram_fails_once_is_made_by_the_next_cron_run(stack: LocalStack) -> None:
    owner = person(lang="ru")
    _, update, charge = _two_unlocks_one_slipped_through(stack, owner)
    before = len(stack.bot_api.messages_to(owner["id"]))
    stack.bot_api.fail_next("refundStarPayment", 500)

    assert stack.webhook(update).status == 200
    assert _status(stack, charge) == "paid" and not _refund_notices(stack, owner, before)
    stack.run_cron()
    assert len(stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)) == 1, "not due yet"

    stack.advance_clock(31)  # the first backoff after a 5xx
    stack.run_cron()
    assert [c.ok for c in stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)] == [False, True]
    assert _status(stack, charge) == "refunded"
    assert len(_refund_notices(stack, owner, before)) == 1

    stack.advance_clock(3600)
    stack.run_cron()
    assert len(stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)) == 2
    assert len(_refund_notices(stack, owner, before)) == 1


def test_a_refund_storage_fails_on_is_made_by_the_cron_once_the_webhooks_hold_ends(stack: LocalStack) -> None:
    owner = person()
    _, update, charge = _two_unlocks_one_slipped_through(stack, owner)
    # The refund's first read of the ledger fails, botocore's retries included (the payment is recorded).
    stack.aws.inject("GetItem", "InternalServerError", times=4, table=payments_table(stack), function="WebhookFunction")
    try:
        assert stack.webhook(update).status == 200
    finally:
        stack.aws.clear_injected()
    assert _status(stack, charge) == "paid"
    assert not stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)

    stack.advance_clock(LEASE + 1)
    stack.run_cron()
    (refund,) = stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)
    assert refund.ok and _status(stack, charge) == "refunded"


def test_a_second_pro_subscription_that_got_through_is_refunded_and_cancelled(stack: LocalStack) -> None:
    owner = person()
    first, second = _created(stack, owner, "pro_month"), _created(stack, owner, "pro_month")
    update, charge = _slipped_through(stack, owner, second)
    kept = _paid(stack, owner, first)["charge_id"]
    before = len(stack.bot_api.messages_to(owner["id"]))

    assert stack.webhook(update).status == 200
    (row,) = payment_rows(stack, charge)
    assert row["flag"]["S"] == "duplicate_subscription" and row["status"]["S"] == "refunded"
    assert stack.bot_api.subscription_canceled(owner["id"], charge), "Telegram must not renew the second one"
    assert not stack.bot_api.subscription_canceled(owner["id"], kept)
    reason = texts.text("refund_reason_duplicate_subscription", "en")
    assert _refund_notices(stack, owner, before) == [texts.text("auto_refunded", "en", stars=50, reason=reason)]
    # Pro runs on the first subscription, untouched.
    assert stack.api("POST", "/api/plan/pro/cancel", user=owner).status == 200
    edit = stack.bot_api.calls("editUserStarSubscription", user_id=owner["id"])[-1]
    assert edit.params["telegram_payment_charge_id"] == kept
