"""Real Telegram gifts (ADR 0014): a sender adds one of Telegram's own gifts to a message, pays for it in Stars, and
the bot sends it to the message's recipient with sendGift, exactly once, or gives the Stars back exactly once."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from bench import prices
from murmur import catalog, texts
from murmur.delivery import LEASE_SECONDS
from murmur.errors import TelegramRefusedError
from murmur.gift_delivery import CONFIRM_AFTER_SECONDS
from murmur.real_gifts import gift_text
from murmur.telegram.gateway import HttpGateway
from sandbox.fake_bot_api_gifts import GIFT_CATALOGUE
from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import link_code, payment_rows, person

TEDDY = next(g for g in GIFT_CATALOGUE if g["sticker"]["emoji"] == "🧸")
ROSE = next(g for g in GIFT_CATALOGUE if g["sticker"]["emoji"] == "🌹")
LONG = (
    "You carried my bags up four floors without a word and then vanished before I could thank you, so thank you "
    "now, whoever you are, from the whole fifth floor 🙂"
)


@pytest.fixture
def gifts(stack: LocalStack) -> LocalStack:
    """The stack with Telegram's gift catalogue cached (the cron fetches it) and Stars on the bot's balance."""
    stack.bot_api.set_star_balance(1000)
    stack.run_cron()
    return stack


def _offer(stack: LocalStack, sender: dict[str, Any], code: str, gift: dict[str, Any]) -> dict[str, Any]:
    page = stack.api("GET", f"/api/links/{code}", user=sender)
    assert page.status == 200, page.body
    return next(g for g in page.json()["telegram_gifts"] if g["id"] == gift["id"])


def _send(stack: LocalStack, owner: dict[str, Any], sender: dict[str, Any], text: str, gift: dict[str, Any]) -> Any:
    code = link_code(stack, owner)
    body = {"text": text, "telegram_gift": gift["id"]}
    return stack.api("POST", f"/api/links/{code}/messages", user=sender, json=body)


def _paid(stack: LocalStack, sender: dict[str, Any], sent: Any, *, deliver: bool = True) -> dict[str, Any]:
    assert sent.status == 201, sent.body
    paid = stack.pay_invoice(sender, sent.json()["gift_invoice"]["invoice_link"], deliver=deliver)
    assert paid["status"] == "paid", paid
    return paid


def _inbox(stack: LocalStack, owner: dict[str, Any]) -> list[dict[str, Any]]:
    got = stack.api("GET", "/api/inbox", user=owner)
    assert got.status == 200, got.body
    return list(got.json()["messages"])


def _said_to(stack: LocalStack, user: dict[str, Any]) -> list[str]:
    return [m.get("text", "") for m in stack.bot_api.messages_to(user["id"])]


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_real_gift_is_priced_paid_sent_once_from_the_bot_and_shown_in_the_inbox(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person("Olga"), person("Samuel", lang="es")
    offer = _offer(stack, sender, link_code(stack, owner), TEDDY)
    # What the bot keeps of the price covers the gift, at Telegram's share as the repo's payout figures put it.
    kept, paid_for = catalog.STARS_KEPT
    assert kept / paid_for <= round(prices.USD_PER_STAR_TO_DEVELOPER / prices.USD_PER_STAR_TO_BUYER, 9)
    assert offer == {"id": TEDDY["id"], "emoji": "🧸", "stars": 24} and 24 * kept // paid_for >= 15

    sent = _send(stack, owner, sender, LONG, TEDDY)
    invoice = sent.json()["gift_invoice"]
    assert (invoice["product"], invoice["amount"]) == ("telegram_gift", 24)
    (made,) = stack.bot_api.calls("createInvoiceLink", payload=invoice["order_id"])
    assert made.params["title"] == texts.text("invoice_title_telegram_gift", "es")
    balance = stack.bot_api.star_balance
    paid = _paid(stack, sender, sent)
    assert paid["webhook_status"] == 200

    (call,) = stack.bot_api.calls("sendGift")
    assert call.ok and call.params["user_id"] == owner["id"] and call.params["gift_id"] == TEDDY["id"]
    text = call.params["text"]
    assert text == gift_text(LONG) and text.endswith("…") and len(text.encode("utf-16-le")) // 2 <= 128
    assert LONG.startswith(text[:-1]) and "text_parse_mode" not in call.params
    assert str(sender["id"]) not in str(call.params) and "Samuel" not in str(call.params)
    assert stack.bot_api.star_balance == balance + 24 - 15  # the payment in, the gift out: the bot gains
    # The receiver's chat with the bot shows the gift arriving, from the bot, with the message's start.
    arrived = stack.bot_api.messages_to(owner["id"])[-1]
    assert arrived["from"]["is_bot"] and arrived["gift"]["gift"]["id"] == TEDDY["id"]
    assert arrived["gift"]["text"] == text
    # The sender is told it is on its way, then that it arrived, in their language.
    said = _said_to(stack, sender)
    assert texts.text("paid_telegram_gift", "es", stars=24) in said
    assert said[-1] == texts.text("gift_delivered", "es", emoji="🧸")
    # The owner's inbox shows the message with its gift, readable in full (the gift's text showed it already).
    (message,) = _inbox(stack, owner)
    assert message["telegram_gifts"] == ["🧸"] and message["gifts"] == [] and message["text"] == LONG

    # Telegram redelivers the payment, and the cron runs past the webhook's hold: nothing is sent again.
    assert stack.webhook(paid["update"]).status == 200
    stack.advance_clock(LEASE_SECONDS + 1)
    stack.run_cron()
    assert len(stack.bot_api.calls("sendGift")) == 1
    assert not stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])


def test_a_gift_telegram_refuses_is_refunded_once_and_the_sender_told_why(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person(lang="ru")
    sent = _send(stack, owner, sender, "a rose for the quiet one", ROSE)
    stack.bot_api.fail_next("sendGift", 400, "Bad Request: BALANCE_TOO_LOW")
    paid = _paid(stack, sender, sent)

    (refund,) = stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])
    assert refund.ok and refund.params["user_id"] == sender["id"]
    (row,) = payment_rows(stack, paid["charge_id"])
    assert row["status"]["S"] == "refunded"
    order = stack.api("GET", f"/api/orders/{sent.json()['gift_invoice']['order_id']}", user=sender).json()
    assert order["status"] == "refunded"
    reason = texts.text("refund_reason_gift_unaffordable", "ru")
    assert _said_to(stack, sender)[-1] == texts.text("gift_refunded", "ru", emoji="🌹", stars=39, reason=reason)
    (message,) = _inbox(stack, owner)  # the message itself was delivered; only the gift was not
    assert message["telegram_gifts"] == []

    assert stack.webhook(paid["update"]).status == 200
    stack.advance_clock(LEASE_SECONDS + CONFIRM_AFTER_SECONDS + 1)
    stack.run_cron()
    stack.run_cron()
    assert len(stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])) == 1
    assert len(stack.bot_api.calls("sendGift")) == 1
    assert sum(1 for said in _said_to(stack, sender) if said.startswith("↩️")) == 1


def test_a_timed_out_send_gift_is_never_sent_again_and_is_confirmed_from_the_stars_ledger(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person()
    sent = _send(stack, owner, sender, "did it arrive?", TEDDY)
    stack.bot_api.delay_next("sendGift", 6)  # Telegram sends it, after the bot stopped waiting (5 s)
    paid = _paid(stack, sender, sent)
    assert paid["webhook_status"] == 200
    _wait_for(lambda: len(stack.bot_api.calls("sendGift")) == 1)
    assert len(stack.bot_api.gifts_received(owner["id"])) == 1
    assert _inbox(stack, owner)[0]["telegram_gifts"] == []  # not known to be sent yet

    stack.run_cron()  # too early to trust the ledger: nothing happens
    stack.advance_clock(CONFIRM_AFTER_SECONDS + 1)
    stack.run_cron()
    stack.run_cron()

    assert len(stack.bot_api.calls("sendGift")) == 1, "sendGift has no idempotency key: it is never called again"
    assert len(stack.bot_api.gifts_received(owner["id"])) == 1
    assert not stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])
    assert _inbox(stack, owner)[0]["telegram_gifts"] == ["🧸"]
    assert _said_to(stack, sender)[-1] == texts.text("gift_delivered", "en", emoji="🧸")


def test_a_send_gift_telegram_failed_without_sending_is_refunded_once_and_never_retried(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person()
    sent = _send(stack, owner, sender, "is anyone there", TEDDY)
    stack.bot_api.fail_next("sendGift", 500, "Internal Server Error")  # unknown to the bot: sent or not?
    paid = _paid(stack, sender, sent)
    assert not stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])

    stack.advance_clock(CONFIRM_AFTER_SECONDS + 1)
    stack.run_cron()  # the ledger shows no such gift since the call: it was not sent
    stack.run_cron()

    assert len(stack.bot_api.calls("sendGift")) == 1
    assert not stack.bot_api.gifts_received(owner["id"])
    (refund,) = stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])
    assert refund.ok and refund.params["user_id"] == sender["id"]
    reason = texts.text("refund_reason_gift_not_sent", "en")
    assert _said_to(stack, sender)[-1] == texts.text("gift_refunded", "en", emoji="🧸", stars=24, reason=reason)


def test_a_gift_telegram_turned_away_unprocessed_is_sent_by_the_cron_once(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person()
    sent = _send(stack, owner, sender, "third time lucky", TEDDY)
    stack.bot_api.fail_next("sendGift", 429, "Too Many Requests: retry after 7", retry_after=7)  # nothing was done
    paid = _paid(stack, sender, sent)
    assert not stack.bot_api.gifts_received(owner["id"])

    stack.advance_clock(8)
    stack.run_cron()  # the cron's own container sends it: its role reads the message, the recipient and the offset
    stack.run_cron()

    assert [call.ok for call in stack.bot_api.calls("sendGift")] == [False, True]
    assert len(stack.bot_api.gifts_received(owner["id"])) == 1
    assert _inbox(stack, owner)[0]["telegram_gifts"] == ["🧸"]
    assert not stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])


def test_no_invoice_is_made_while_the_bot_cannot_afford_the_gift(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person(lang="es")
    stack.bot_api.set_star_balance(14)
    invoices = len(stack.bot_api.calls("createInvoiceLink"))

    refused = _send(stack, owner, sender, "a teddy for you", TEDDY)

    assert refused.status == 409 and refused.json()["error"]["code"] == "gift_unaffordable"
    assert len(stack.bot_api.calls("createInvoiceLink")) == invoices
    assert _inbox(stack, owner) == []  # nothing written
    stack.bot_api.set_star_balance(15)
    assert _send(stack, owner, sender, "a teddy for you", TEDDY).status == 201


def test_a_gift_and_a_telegram_gift_together_or_an_unknown_gift_are_refused(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person()
    code = link_code(stack, owner)
    both = {"text": "two gifts", "gift": "heart", "telegram_gift": TEDDY["id"]}
    assert stack.api("POST", f"/api/links/{code}/messages", user=sender, json=both).status == 422
    unknown = _send(stack, owner, sender, "a gift Telegram never made", {"id": "123"})
    assert unknown.status == 409 and unknown.json()["error"]["code"] == "gift_unavailable"
    assert _inbox(stack, owner) == []


def test_one_payment_delivered_twice_at_once_sends_one_gift(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person()
    paid = _paid(stack, sender, _send(stack, owner, sender, "just one, please", TEDDY), deliver=False)
    again = {**paid["update"], "update_id": paid["update"]["update_id"] + 10_000_000}  # the same payment, new update

    statuses: list[int] = []
    deliveries = [
        threading.Thread(target=lambda update=update: statuses.append(stack.webhook(update).status))
        for update in (paid["update"], paid["update"], again)
    ]
    for delivery in deliveries:
        delivery.start()
    for delivery in deliveries:
        delivery.join()

    assert statuses == [200, 200, 200]  # the ledger's conditional row: one of them recorded it, the others found it
    assert len(stack.bot_api.calls("sendGift")) == 1
    assert len(stack.bot_api.gifts_received(owner["id"])) == 1
    assert not stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])


def test_stats_show_the_stars_spent_on_gifts_and_how_many(gifts: LocalStack) -> None:
    stack, owner, sender = gifts, person(), person()

    def spent() -> tuple[int, int]:
        stack.run_cron()  # reconciliation reads Telegram's ledger, gift purchases included
        stack.send_text(ALICE, "/stats")
        report = stack.bot_api.messages_to(ALICE)[-1]["text"]
        found = re.search(r"Spent on Telegram gifts: (-?\d+) ⭐ for (\d+) gifts", report)
        assert found, report
        return int(found[1]), int(found[2])

    stars, count = spent()
    _paid(stack, sender, _send(stack, owner, sender, "roses are red", ROSE))
    assert spent() == (stars + ROSE["star_count"], count + 1)
    stack.send_text(ALICE, "/stats")
    assert "telegram_gift:" in stack.bot_api.messages_to(ALICE)[-1]["text"]


def test_the_fake_bot_api_checks_and_books_gifts_as_telegram_does(stack: LocalStack) -> None:
    gateway = HttpGateway(stack.bot_token, stack.bot_api.base_url)
    receiver = person()
    stack.bot_api.set_star_balance(20)

    def refusal(**params: Any) -> str:
        with pytest.raises(TelegramRefusedError) as refused:
            gateway.call("sendGift", **params)
        return refused.value.message

    assert refusal(gift_id=TEDDY["id"]).endswith("user_id or chat_id must be specified")
    assert refusal(user_id=receiver["id"], gift_id="1").endswith("STARGIFT_INVALID")
    assert refusal(user_id=receiver["id"], gift_id=ROSE["id"]).endswith("BALANCE_TOO_LOW")  # 25 > 20
    assert refusal(user_id=receiver["id"], gift_id=TEDDY["id"], text="x" * 129).endswith("STARGIFT_MESSAGE_TOO_LONG")
    assert "not emulated" in refusal(user_id=receiver["id"], gift_id=TEDDY["id"], text="<b>x", text_parse_mode="HTML")
    assert stack.bot_api.star_balance == 20 and not stack.bot_api.gifts_received(receiver["id"])

    gateway.send_gift(receiver["id"], TEDDY["id"], "<b>" + "x" * 125)  # no parse mode: sent as written
    assert gateway.star_balance() == 5
    (received,) = stack.bot_api.gifts_received(receiver["id"])
    assert received["gift"]["id"] == TEDDY["id"] and received["text"] == "<b>" + "x" * 125
    spend = gateway.star_transactions(0, 100)[-1]
    assert spend.is_gift_purchase and (spend.user_id, spend.gift_id, spend.amount) == (receiver["id"], TEDDY["id"], 15)
    catalogue = {gift.gift_id: gift for gift in gateway.available_gifts()}
    assert catalogue[TEDDY["id"]].emoji == "🧸" and catalogue[TEDDY["id"]].star_count == 15
    gateway.close()
