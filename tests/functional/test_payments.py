"""Stars payments through the real webhook and API: orders, pre-checkout, exactly-once fulfilment, refunds."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import buy, operator_services, order, payment_rows, person, read, send, services_as


def _stars(amount: int, payload: str, charge_id: str) -> dict[str, Any]:
    """The body of a successful_payment or refunded_payment in Stars (no provider: its id is empty)."""
    return {
        "currency": "XTR",
        "total_amount": amount,
        "invoice_payload": payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": "",
    }


def _invoice_params(stack: LocalStack) -> dict[str, Any]:
    return dict(stack.bot_api.calls("createInvoiceLink")[-1].params)


# ---------------------------------------------------------------------- orders
def test_order_is_priced_by_the_server_and_invoice_is_stars_only(stack: LocalStack) -> None:
    owner, sender = person("Olga"), person("Sam")
    mid = send(stack, owner, sender, "a secret you will want to read")["message_id"]
    created = order(stack, owner, "unlock", mid)
    assert created.status == 201
    body = created.json()
    assert (body["amount"], body["currency"], body["product"]) == (1, "XTR", "unlock")
    params = _invoice_params(stack)
    prices = params["prices"] if isinstance(params["prices"], list) else json.loads(params["prices"])
    assert params["currency"] == "XTR" and params.get("provider_token", "") == ""
    assert len(prices) == 1 and prices[0]["amount"] == 1
    assert params["payload"] == body["order_id"] and 1 <= len(params["payload"].encode()) <= 128
    assert stack.bot_api.calls("createInvoiceLink")[-1].ok


def test_a_price_from_the_client_is_not_even_accepted(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "hello there friend")["message_id"]
    r = stack.api("POST", "/api/orders", user=owner, json={"product": "unlock", "message_id": mid, "amount": 0})
    assert r.status == 422 and r.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("product", ["unknown", "gift_rose", ""])
def test_unknown_products_are_refused(stack: LocalStack, product: str) -> None:
    r = order(stack, person(), product)
    assert r.status == 422
    assert not stack.bot_api.calls("createInvoiceLink")


def test_orders_that_make_no_sense_are_refused(stack: LocalStack) -> None:
    owner, sender, stranger = person(), person(), person()
    mid = send(stack, owner, sender, "one two three four")["message_id"]
    assert order(stack, stranger, "unlock", mid).status == 404  # not your message
    assert order(stack, owner, "unlock").status == 404  # needs a message
    buy(stack, owner, "unlock", mid)
    again = order(stack, owner, "unlock", mid)
    assert again.status == 409 and "already readable" in again.json()["error"]["message"]
    for _ in range(3):
        buy(stack, owner, "hint", mid)
    exhausted = order(stack, owner, "hint", mid)
    assert exhausted.status == 409 and "no more hints" in exhausted.json()["error"]["message"]


# ---------------------------------------------------------------------- each product
def test_hint_ladder_reveals_what_the_sender_was_shown_one_by_one(stack: LocalStack) -> None:
    owner, sender = person("Olga"), person("Dmitri", lang="ru", premium=True)
    code = stack.api("GET", "/api/me", user=owner).json()["link"]["code"]
    ladder = stack.api("GET", f"/api/links/{code}", user=sender).json()["hint_ladder"]
    assert ladder == ["Язык их Telegram: русский", "Их имя начинается на «D»", "У них есть Telegram Premium"]
    mid = send(stack, owner, sender, "guess who this is")["message_id"]
    buy(stack, owner, "hint", mid)
    assert read(stack, owner, mid)["hints"] == ["Their Telegram is set to Russian"]
    buy(stack, owner, "hint", mid)
    msg = read(stack, owner, mid)
    assert msg["hints"][1] == "Their first name starts with “D”" and msg["hints_left"] == 1
    assert msg["locked"], "a hint does not unlock the text"


def test_plus_week_reads_everything_and_renewals_stack(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mids = [send(stack, owner, sender, f"message number {i} here")["message_id"] for i in range(3)]
    first = buy(stack, owner, "plus_week")
    inbox = stack.api("GET", "/api/inbox", user=owner).json()["messages"]
    assert all(not m["locked"] and m["text"] for m in inbox) and len(inbox) == len(mids)
    plan = stack.api("GET", "/api/me", user=owner).json()["plan"]
    assert plan["kind"] == "plus" and plan["active"]
    buy(stack, owner, "plus_week")
    stacked = stack.api("GET", "/api/me", user=owner).json()["plan"]
    assert stacked["expires_at"] - plan["expires_at"] == 7 * 86400
    assert "Plus is active until" in stack.bot_api.messages_to(owner["id"])[-1]["text"]
    assert first["charge_id"] != ""


def test_pro_is_a_native_subscription_that_renews_cancels_and_resumes(stack: LocalStack) -> None:
    owner = person()
    paid = buy(stack, owner, "pro_month")
    params = _invoice_params(stack)
    assert int(params["subscription_period"]) == 2592000 and params["currency"] == "XTR"
    me = stack.api("GET", "/api/me", user=owner).json()
    assert me["plan"]["kind"] == "pro" and me["plan"]["active"] and not me["plan"]["cancelled"]
    first_end = me["plan"]["expires_at"]

    # Telegram renews: same payload, a new charge, is_recurring without is_first_recurring.
    renewal = json.loads(json.dumps(paid["update"]))
    renewal["update_id"] += 10_000
    sp = renewal["message"]["successful_payment"]
    sp["telegram_payment_charge_id"] = stack.bot_api.record_star_payment(
        owner["id"], 50, sp["invoice_payload"], subscription_period=2592000
    )
    sp["is_first_recurring"] = False
    sp["subscription_expiration_date"] = first_end + 2592000
    assert stack.webhook(renewal).status == 200
    assert stack.api("GET", "/api/me", user=owner).json()["plan"]["expires_at"] == first_end + 2592000
    assert "renewed" in stack.bot_api.messages_to(owner["id"])[-1]["text"]

    cancelled = stack.api("POST", "/api/plan/pro/cancel", user=owner)
    assert cancelled.status == 200 and cancelled.json()["plan"]["cancelled"]
    edit = stack.bot_api.calls("editUserStarSubscription")[-1]
    assert edit.ok and edit.params["telegram_payment_charge_id"] == paid["charge_id"]
    assert stack.bot_api.subscription_canceled(owner["id"], paid["charge_id"])
    resumed = stack.api("POST", "/api/plan/pro/resume", user=owner)
    assert resumed.status == 200 and not resumed.json()["plan"]["cancelled"]
    assert not stack.bot_api.subscription_canceled(owner["id"], paid["charge_id"])
    assert order(stack, owner, "pro_month").status == 409


def test_gift_paid_by_the_sender_shows_with_the_message(stack: LocalStack) -> None:
    owner, sender = person(), person()
    sent = send(stack, owner, sender, "happy birthday to you", gift="crown")
    invoice = sent["gift_invoice"]
    assert invoice["amount"] == 50 and invoice["product"] == "gift_crown"
    # The message waits for its gift's payment (ADR 0011): the owner has nothing yet
    assert stack.api("GET", f"/api/messages/{sent['message_id']}", user=owner).status == 404
    paid = stack.pay_invoice(sender, invoice["invoice_link"])
    assert paid["status"] == "paid"
    assert read(stack, owner, sent["message_id"])["gifts"] == ["crown"]
    assert "gift is attached" in stack.bot_api.messages_to(sender["id"])[-1]["text"]


# ---------------------------------------------------------------------- pre-checkout


def _precheckout(stack: LocalStack, payer: dict[str, Any], payload: str, amount: int, currency: str = "XTR") -> Any:
    answer = stack.pre_checkout(payer, payload, amount, currency)
    assert answer is not None, "the bot did not answer within Telegram's 10 s"
    return answer


def test_pre_checkout_accepts_only_a_valid_pending_order_of_the_payer(stack: LocalStack) -> None:
    owner, sender, other = person(lang="es"), person(), person()
    mid = send(stack, owner, sender, "uno dos tres cuatro")["message_id"]
    oid = order(stack, owner, "unlock", mid).json()["order_id"]
    assert _precheckout(stack, owner, oid, 1)["ok"] is True
    wrong_payer = _precheckout(stack, other, oid, 1)
    assert wrong_payer["ok"] is False and wrong_payer["error_message"]
    assert _precheckout(stack, owner, oid, 2)["ok"] is False
    assert _precheckout(stack, owner, oid, 1, "USD")["ok"] is False
    unknown = _precheckout(stack, owner, "o_" + "x" * 24, 1)
    assert unknown["ok"] is False
    spanish = _precheckout(stack, {**owner, "language_code": "es"}, oid, 2)
    assert spanish["error_message"] == "El precio ha cambiado. Abre la factura de nuevo."


def test_pre_checkout_refuses_expired_orders_and_vanished_targets(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "this will expire soon enough")["message_id"]
    stale = order(stack, owner, "unlock", mid).json()
    fresh = order(stack, owner, "unlock", mid).json()
    stack.advance_clock(3601)  # the sandbox clock only moves forward; every test uses fresh people
    assert _precheckout(stack, owner, stale["order_id"], 1)["ok"] is False
    late = order(stack, owner, "unlock", mid).json()
    assert stack.pay_invoice(owner, late["invoice_link"])["status"] == "paid"
    # The message is unlocked now: a new unlock order is refused, and so is paying an older invoice.
    assert order(stack, owner, "unlock", mid).status == 409
    assert stack.pay_invoice(owner, fresh["invoice_link"])["status"] == "failed"


# ---------------------------------------------------------------------- exactly once
def test_redelivered_successful_payment_grants_once_and_confirms_once(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "do not double charge me")["message_id"]
    paid = buy(stack, owner, "hint", mid)
    receipts = len(stack.bot_api.messages_to(owner["id"]))
    for n in range(3):  # Telegram retries with the same update_id, or a new one
        update = json.loads(json.dumps(paid["update"]))
        update["update_id"] += n * 100_000
        assert stack.webhook(update).status == 200
    assert read(stack, owner, mid)["hints_left"] == 2
    assert len(stack.bot_api.messages_to(owner["id"])) == receipts
    assert len(payment_rows(stack, paid["charge_id"])) == 1


def test_concurrent_deliveries_of_one_payment_grant_once(stack: LocalStack) -> None:
    """Many Lambda containers at once: separate Services acting as the webhook's role, one charge id."""
    from murmur.orders import Outcome, SuccessfulPayment

    owner, sender = person(), person()
    mid = send(stack, owner, sender, "race me if you can")["message_id"]
    created = order(stack, owner, "hint", mid).json()
    charge = stack.bot_api.record_star_payment(owner["id"], 5, created["order_id"])
    workers = [services_as(stack, "WebhookFunction") for _ in range(50)]
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(len(workers))

    def deliver(services: Any) -> None:
        from murmur.errors import StorageUnavailableError

        barrier.wait()
        paid = SuccessfulPayment(owner["id"], "XTR", 5, created["order_id"], charge)
        try:
            result = services.orders.fulfil(paid)
        except StorageUnavailableError:
            # Out of its conflict budget among 50 at once: the webhook answers 5xx and Telegram redelivers.
            result = services.orders.fulfil(paid)
        outcomes.append(result.outcome)

    threads = [threading.Thread(target=deliver, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count(Outcome.GRANTED) == 1
    assert outcomes.count(Outcome.DUPLICATE) == len(workers) - 1
    assert read(stack, owner, mid)["hints_left"] == 2


def test_storage_failure_answers_5xx_and_the_retry_heals(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "storage is flaky today")["message_id"]
    created = order(stack, owner, "unlock", mid).json()
    # DynamoDB failing for every attempt of the fulfilment's transaction, botocore's own retries included.
    stack.aws.inject("TransactWriteItems", "InternalServerError", times=10, function="WebhookFunction")
    try:
        paid = stack.pay_invoice(owner, created["invoice_link"])
        assert paid["webhook_status"] == 500
        assert read(stack, owner, mid)["locked"]
    finally:
        stack.aws.clear_injected()
    assert stack.webhook(paid["update"]).status == 200  # Telegram's retry, same update_id
    assert not read(stack, owner, mid)["locked"]
    assert len(payment_rows(stack, paid["charge_id"])) == 1


def test_payment_for_an_unknown_order_is_recorded_and_flagged(stack: LocalStack) -> None:
    payer = person()
    stack.api("GET", "/api/me", user=payer)
    charge = stack.bot_api.record_star_payment(payer["id"], 15, "o_" + "z" * 24)
    update = stack.message_update(payer, successful_payment=_stars(15, "o_" + "z" * 24, charge))
    assert stack.webhook(update).status == 200
    (row,) = payment_rows(stack, charge)
    assert row["flag"]["S"] == "unknown_order" and row["amount"]["N"] == "15"
    assert "could not match" in stack.bot_api.messages_to(payer["id"])[-1]["text"]
    assert stack.api("GET", "/api/me", user=payer).json()["plan"]["kind"] == "free"


# ---------------------------------------------------------------------- refunds
def _admin_says(stack: LocalStack, text: str) -> str:
    stack.send_text(ALICE, text)
    return str(stack.bot_api.messages_to(ALICE)[-1]["text"])


def test_admin_refund_relocks_and_is_idempotent_with_telegrams_refunded_payment(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "refund me later please")["message_id"]
    paid = buy(stack, owner, "unlock", mid)
    assert not read(stack, owner, mid)["locked"]
    reply = _admin_says(stack, f"/refund {paid['charge_id']}")
    assert "Refunded 1" in reply and "relocked" in reply
    call = stack.bot_api.calls("refundStarPayment")[-1]
    assert call.ok and call.params["telegram_payment_charge_id"] == paid["charge_id"]
    assert read(stack, owner, mid)["locked"]
    assert _admin_says(stack, f"/refund {paid['charge_id']}") == "Already refunded."
    # Telegram then sends refunded_payment: nothing more happens.
    refunded = stack.message_update(owner, refunded_payment=_stars(1, paid["invoice_payload"], paid["charge_id"]))
    assert stack.webhook(refunded).status == 200
    assert read(stack, owner, mid)["locked"]
    assert len(stack.bot_api.calls("refundStarPayment")) == 1
    assert payment_rows(stack, paid["charge_id"])[0]["status"]["S"] == "refunded"


def test_refunded_payment_from_telegram_revokes_plus_and_gifts(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "gifts come and go", gift="heart")
    gift_paid = stack.pay_invoice(sender, mid["gift_invoice"]["invoice_link"])
    plus = buy(stack, owner, "plus_week")
    for who, paid, amount in ((sender, gift_paid, 3), (owner, plus, 15)):
        update = stack.message_update(who, refunded_payment=_stars(amount, paid["invoice_payload"], paid["charge_id"]))
        assert stack.webhook(update).status == 200
    msg = read(stack, owner, mid["message_id"])
    assert msg["gifts"] == [] and msg["locked"]
    assert stack.api("GET", "/api/me", user=owner).json()["plan"]["kind"] == "free"
    assert "refunded" in stack.bot_api.messages_to(owner["id"])[-1]["text"]


def test_refund_is_for_admins_only(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "not your refund to give")["message_id"]
    paid = buy(stack, owner, "unlock", mid)
    stack.send_text(owner, f"/refund {paid['charge_id']}")
    assert not stack.bot_api.calls("refundStarPayment")
    assert not read(stack, owner, mid)["locked"]


@pytest.mark.parametrize(("command", "words"), [("/paysupport", "refund"), ("/terms", "anonym")])
def test_paysupport_and_terms_answer_clearly(stack: LocalStack, command: str, words: str) -> None:
    stack.send_text(ALICE, command)
    assert words in stack.bot_api.messages_to(ALICE)[-1]["text"].lower()


def test_payments_emit_business_metrics_without_identities(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "count me in the dashboard")["message_id"]
    seen = len(stack.log_lines())
    buy(stack, owner, "unlock", mid)
    oid = order(stack, owner, "hint", mid).json()["order_id"]
    _precheckout(stack, owner, oid, 4)  # wrong amount: rejected
    # The functions' log lines, as CloudWatch receives them: metrics are embedded-metric-format lines.
    lines = [json.loads(x) for x in stack.log_lines()[seen:] if x.startswith('{"_aws"')]
    named = {
        (d["Name"], m.get("product") or m.get("reason"))
        for m in lines
        for d in m["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    assert ("StarsEarned", "unlock") in named
    assert ("PaymentRejected", "wrong_amount") in named
    assert ("MessagesUnlocked", None) in named
    stars = next(m for m in lines if m.get("product") == "unlock")
    assert stars["StarsEarned"] in (1, 1.0, [1.0])
    assert all(str(owner["id"]) not in json.dumps(m) and str(sender["id"]) not in json.dumps(m) for m in lines)


def test_admin_stats_show_revenue_by_product_and_affiliate_commissions(stack: LocalStack) -> None:
    """Counted from Telegram's ledger by the cron, each transaction once (not on the payment path)."""
    stack.run_cron()  # what earlier tests paid is counted now, so the deltas below are this test's own
    operator = operator_services(stack)
    before = operator.admin_stats.totals().revenue
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "statistics are fun to read")["message_id"]
    buy(stack, owner, "unlock", mid)
    buy(stack, owner, "hint", mid)
    refunded = buy(stack, owner, "hint", mid)
    stack.send_text(ALICE, f"/refund {refunded['charge_id']}")
    # A payment that came through an affiliate link: Telegram pays the affiliate and tells us in the ledger.
    created = order(stack, owner, "plus_week").json()
    lost = stack.pay_invoice(owner, created["invoice_link"], deliver=False)
    assert lost["status"] == "paid"
    stack.bot_api.record_star_payment(
        owner["id"], 15, created["order_id"] + "x", affiliate={"commission_per_mille": 200, "amount": 3}
    )
    unreconciled = operator.admin_stats.totals().revenue
    assert unreconciled == before  # paying writes nothing to the summary: no shared item on the money path
    stack.run_cron()
    stack.run_cron()  # a second run finds nothing new and counts nothing twice
    after = operator.admin_stats.totals().revenue

    def delta(key: str) -> int:
        return after.get(key, 0) - before.get(key, 0)

    assert (delta("stars_unlock"), delta("count_unlock")) == (1, 1)
    assert (delta("stars_hint"), delta("count_hint")) == (5, 1)  # two bought, one refunded
    assert delta("stars_plus_week") == 15  # the lost update, repaired by reconciliation
    assert (delta("affiliate_stars"), delta("affiliate_transactions")) == (3, 1)
    stack.send_text(ALICE, "/stats")
    report = stack.bot_api.messages_to(ALICE)[-1]["text"]
    assert "Revenue" in report and "unlock:" in report and "Affiliate commissions seen" in report


def test_successful_payment_without_a_pre_checkout_is_still_honoured_once(stack: LocalStack) -> None:
    """Telegram took the Stars: a valid pending order is fulfilled even if we never saw its pre-checkout."""
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "skip the checkout please")["message_id"]
    created = order(stack, owner, "unlock", mid).json()
    charge = stack.bot_api.record_star_payment(owner["id"], 1, created["order_id"])
    update = stack.message_update(owner, successful_payment=_stars(1, created["order_id"], charge))
    assert stack.webhook(update).status == 200
    assert not read(stack, owner, mid)["locked"]
    assert not stack.bot_api.calls("answerPreCheckoutQuery")


def test_refunds_of_hint_and_pro_take_back_exactly_what_was_bought(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "hints and pro refunded")["message_id"]
    buy(stack, owner, "hint", mid)
    second = buy(stack, owner, "hint", mid)
    stack.send_text(ALICE, f"/refund {second['charge_id']}")
    assert read(stack, owner, mid)["hints_left"] == 2
    pro = buy(stack, owner, "pro_month")
    assert not read(stack, owner, mid)["locked"]
    stack.send_text(ALICE, f"/refund {pro['charge_id']}")
    assert "Pro ended" in stack.bot_api.messages_to(ALICE)[-1]["text"]
    assert read(stack, owner, mid)["locked"]
    assert stack.api("GET", "/api/me", user=owner).json()["plan"]["kind"] == "free"


def test_an_update_the_bot_cannot_read_is_acknowledged_and_the_cron_repairs_the_payment(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "mangled by a proxy somewhere")["message_id"]
    created = order(stack, owner, "unlock", mid).json()
    charge = stack.bot_api.record_star_payment(owner["id"], 1, created["order_id"])
    body = _stars(1, created["order_id"], charge)
    del body["currency"]  # a required field missing: PTB cannot build the Update
    assert stack.webhook(stack.message_update(owner, successful_payment=body)).status == 200
    assert read(stack, owner, mid)["locked"]
    assert stack.run_cron()["payments_repaired"] == 1
    assert not read(stack, owner, mid)["locked"]
