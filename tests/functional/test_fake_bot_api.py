"""The fake Bot API, driven over HTTP by real python-telegram-bot and by plain urllib.

PTB sends urlencoded forms (multipart when a file is attached); urllib covers JSON bodies and the
query string. Each bad call below is one the real Bot API rejects, so the fake must reject it too.
Flood control and query deadlines run on an injected monotonic clock (`Ticker`): no test sleeps.
The last part checks the fake against the Bot API's own description (`sandbox/bot_api_spec.json`),
and the product's calls against the fake, over a short journey through the local stack.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    MenuButtonWebApp,
    MessageEntity,
    WebAppInfo,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from sandbox.fake_bot_api import (
    CALLBACK_ANSWER_SECONDS,
    PRE_CHECKOUT_ANSWER_SECONDS,
    QUERY_TOO_OLD,
    FakeBotApi,
    FloodLimits,
)
from sandbox.fake_bot_api_methods import IMPLEMENTED, SPEC
from sandbox.fake_bot_api_spec import PATCH_FILE, SPEC_FILE
from sandbox.local_stack import LocalStack
from tests.functional import helpers
from tests.functional.conftest import ALICE

T = TypeVar("T")
USER = 4242
GROUP = -1001234567890


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def timed(ticker: Ticker) -> Iterator[FakeBotApi]:
    """A fake with Telegram's default flood limits, on the test's monotonic clock."""
    with FakeBotApi(monotonic=ticker) as api:
        yield api


def with_bot(fake: FakeBotApi, scenario: Callable[[telegram.Bot], Awaitable[T]], token: str | None = None) -> T:
    """Run `scenario` with a PTB Bot pointed at the fake, in a loop of its own."""

    async def main() -> T:
        async with telegram.Bot(token or fake.token, base_url=fake.base_url) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def post_json(fake: FakeBotApi, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST a JSON body with urllib, as a client other than PTB would."""
    request = urllib.request.Request(
        f"{fake.base_url}{fake.token}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def xtr_invoice(**overrides: Any) -> dict[str, Any]:
    """Arguments of a valid Stars invoice, as our orders create them."""
    return {
        "title": "Unlock message",
        "description": "Read the whole anonymous message",
        "payload": "order-01J0000000000000000000000",
        "currency": "XTR",
        "prices": [LabeledPrice("Unlock", 1)],
        **overrides,
    }


def test_send_message_answers_a_message_and_records_the_call(fake: FakeBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Read", callback_data="read:1")]])

    async def scenario(bot: telegram.Bot) -> list[telegram.Message]:
        bold = [MessageEntity(MessageEntity.BOLD, 0, 3)]
        first = await bot.send_message(USER, "New message", entities=bold, reply_markup=keyboard)
        second = await bot.send_message(USER, "second")
        other_chat = await bot.send_message(USER + 1, "elsewhere")
        return [first, second, other_chat]

    first, second, other_chat = with_bot(fake, scenario)

    assert (first.message_id, second.message_id, other_chat.message_id) == (1, 2, 1)
    assert first.text == "New message"
    assert first.entities[0].type == "bold"
    assert first.chat.id == USER and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.is_bot
    assert first.reply_markup == keyboard
    (call,) = fake.calls("sendMessage", chat_id=USER, text="New message")
    assert call.ok and call.valid
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "Read", "callback_data": "read:1"}]]}
    assert [m["text"] for m in fake.messages_to(USER)] == ["New message", "second"]
    assert fake.calls("getMe")[0].response["result"]["username"] == fake.bot_user["username"]


def test_edits_show_in_the_chat() -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Open", url="https://example.com")]])

    async def scenario(bot: telegram.Bot) -> None:
        kept = await bot.send_message(USER, "kept", reply_markup=keyboard)
        await bot.edit_message_text("kept, edited", USER, kept.message_id, reply_markup=keyboard)
        await bot.edit_message_reply_markup(USER, kept.message_id)  # no markup: the keyboard goes
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("kept, edited", USER, kept.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_reply_markup(USER, kept.message_id + 1)

    # Sends and edits in one chat in a row: more than a burst, and not what this test is about.
    with FakeBotApi(flood_control=False) as fake:
        with_bot(fake, scenario)
        (message,) = fake.messages_to(USER)

    assert message["text"] == "kept, edited"
    assert "reply_markup" not in message
    assert "edit_date" in message


@pytest.mark.parametrize(
    ("bad_call", "reason"),
    [
        pytest.param(
            lambda bot: bot.create_invoice_link(**xtr_invoice(provider_token="284685063:TEST:abc")),
            "STARS_INVOICE_INVALID",
            id="xtr-with-provider-token",
        ),
        pytest.param(
            lambda bot: bot.create_invoice_link(**xtr_invoice(prices=[LabeledPrice("a", 1), LabeledPrice("b", 1)])),
            "STARS_INVOICE_INVALID",
            id="xtr-with-two-prices",
        ),
        pytest.param(
            lambda bot: bot.create_invoice_link(**xtr_invoice(prices=[LabeledPrice("free", 0)])),
            "STARS_INVOICE_INVALID",
            id="xtr-zero-amount",
        ),
        pytest.param(
            lambda bot: bot.create_invoice_link(**xtr_invoice(payload="é" * 64 + "x")),
            "INVOICE_PAYLOAD_INVALID",
            id="payload-129-bytes",
        ),
        pytest.param(
            lambda bot: bot.create_invoice_link(**xtr_invoice(title="t" * 33)),
            "INVOICE_TITLE_INVALID",
            id="title-33-chars",
        ),
        pytest.param(
            lambda bot: bot.create_invoice_link(**xtr_invoice(subscription_period=604800)),
            "SUBSCRIPTION_PERIOD_INVALID",
            id="weekly-subscription",
        ),
        pytest.param(
            lambda bot: bot.create_invoice_link(
                **xtr_invoice(prices=[LabeledPrice("Pro", 10001)], subscription_period=2592000)
            ),
            "SUBSCRIPTION_PRICE_INVALID",
            id="subscription-over-10000-stars",
        ),
        pytest.param(
            lambda bot: bot.send_message(
                USER,
                "hi",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]]),
            ),
            "BUTTON_DATA_INVALID",
            id="callback-data-65-bytes",
        ),
        pytest.param(
            lambda bot: bot.send_message(
                USER,
                "hi",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("app", web_app=WebAppInfo("http://example.org/"))]]
                ),
            ),
            "Only HTTPS links are allowed",
            id="web-app-over-http",
        ),
        pytest.param(lambda bot: bot.send_message(USER, "x" * 4097), "message is too long", id="text-4097"),
        pytest.param(lambda bot: bot.send_message(USER, "   "), "message text is empty", id="blank-text"),
        pytest.param(
            lambda bot: bot.send_message(USER, "<b>Price</b>: 5 stars.", parse_mode="HTML"),
            'parse_mode "HTML" is not emulated by the fake Bot API',
            id="parse-mode-the-product-does-not-use",
        ),
        pytest.param(
            lambda bot: bot.set_webhook("https://example.com/webhook", secret_token="bad:secret"),
            "secret token contains unallowed characters",
            id="secret-token-with-colon",
        ),
        pytest.param(
            lambda bot: bot.set_webhook("http://example.com/webhook"),
            "An HTTPS URL must be provided",
            id="webhook-over-http",
        ),
        pytest.param(
            lambda bot: bot.set_my_commands([("Start", "Begin")]),
            "BOT_COMMAND_INVALID",
            id="uppercase-command",
        ),
        pytest.param(
            lambda bot: bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp("Open", WebAppInfo("http://example.com"))
            ),
            "Only HTTPS links are allowed",
            id="menu-button-over-http",
        ),
        pytest.param(
            lambda bot: bot.set_my_short_description("s" * 121),
            "BOT_ABOUT_INVALID",
            id="short-description-121",
        ),
        pytest.param(
            lambda bot: bot.answer_pre_checkout_query("query-1", ok=False),
            "error_message is required",
            id="pre-checkout-refusal-without-reason",
        ),
        pytest.param(lambda bot: bot.get_star_transactions(limit=101), "limit", id="transactions-limit-101"),
        pytest.param(
            lambda bot: bot.send_chat_action(USER, "typing"),
            "method not implemented by the fake: sendChatAction",
            id="method-the-product-does-not-call",
        ),
    ],
)
def test_bad_calls_are_rejected_like_telegram(
    fake: FakeBotApi, bad_call: Callable[[telegram.Bot], Awaitable[Any]], reason: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)" + re.escape(reason)):
        with_bot(fake, bad_call)

    last = fake.calls()[-1]
    assert not last.ok
    assert last.response["error_code"] == 400
    assert last.response["description"].startswith("Bad Request: ")


def test_stars_invoice_link_keeps_what_the_payer_will_see(fake: FakeBotApi) -> None:
    link = with_bot(
        fake,
        lambda bot: bot.create_invoice_link(
            **xtr_invoice(payload="é" * 64, prices=[LabeledPrice("Pro", 50)], subscription_period=2592000)
        ),
    )

    assert link.startswith("https://t.me/$")
    assert fake.invoice(link.removeprefix("https://t.me/$")) == fake.invoice(link)
    assert fake.invoice(link) == {
        "title": "Unlock message",
        "description": "Read the whole anonymous message",
        "payload": "é" * 64,
        "currency": "XTR",
        "prices": [{"label": "Pro", "amount": 50}],
        "subscription_period": 2592000,
    }
    with pytest.raises(KeyError):
        fake.invoice("no-such-slug")


def test_wrong_token_is_unauthorized(fake: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        with_bot(fake, lambda bot: bot.get_me(), token="987654321:AAWrongTokenWrongTokenWrongToken000")

    assert fake.calls()[-1].response == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_injected_failures_fail_the_next_calls_only(fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.8 warns when it builds RetryAfter unless time periods are opted in as timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake.callback_query_sent("query-1")
    fake.fail_next("sendMessage", times=2)
    fake.fail_next("answerCallbackQuery", 429, "Too Many Requests: retry after 3", retry_after=3)

    async def scenario(bot: telegram.Bot) -> telegram.Message:
        for _ in range(2):
            with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
                await bot.send_message(USER, "hello")
        with pytest.raises(RetryAfter) as flood:
            await bot.answer_callback_query("query-1")
        assert flood.value.retry_after == dt.timedelta(seconds=3)
        assert await bot.answer_callback_query("query-1")
        return await bot.send_message(USER, "hello")

    message = with_bot(fake, scenario)

    assert message.text == "hello"
    assert [call.ok for call in fake.calls("sendMessage")] == [False, False, True]


def test_a_user_who_blocked_the_bot_cannot_be_messaged(fake: FakeBotApi) -> None:
    fake.blocked_by(USER)

    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        with_bot(fake, lambda bot: bot.send_message(USER, "hello"))

    assert fake.messages_to(USER) == []
    assert fake.calls("sendMessage")[-1].response["error_code"] == 403


def test_star_transactions_come_in_chronological_pages(fake: FakeBotApi) -> None:
    fake.register_user(USER, "Ann", username="ann")
    charges = [fake.record_star_payment(USER, amount, f"order-{amount}") for amount in (1, 5, 15, 50)]

    async def scenario(bot: telegram.Bot) -> list[telegram.StarTransactions]:
        return [
            await bot.get_star_transactions(offset=0, limit=3),
            await bot.get_star_transactions(offset=3, limit=3),
            await bot.get_star_transactions(offset=4),
        ]

    first, second, empty = with_bot(fake, scenario)

    # The Bot API: "in chronological order"; offset skips the oldest.
    assert [t.id for t in first.transactions] == charges[:3]
    assert [t.id for t in second.transactions] == [charges[3]]
    assert empty.transactions == ()
    newest = second.transactions[0]
    assert newest.amount == 50
    assert isinstance(newest.source, telegram.TransactionPartnerUser)
    assert newest.source.invoice_payload == "order-50"
    assert newest.source.user.username == "ann"
    assert charges[0].startswith("stx")


def test_refund_succeeds_once(fake: FakeBotApi) -> None:
    charge = fake.record_star_payment(USER, 5, "order-hint", charge_id="stxREFUNDME")

    async def scenario(bot: telegram.Bot) -> telegram.StarTransactions:
        assert await bot.refund_star_payment(USER, charge)
        with pytest.raises(BadRequest, match=r"(?i)CHARGE_ALREADY_REFUNDED"):
            await bot.refund_star_payment(USER, charge)
        with pytest.raises(BadRequest, match=r"(?i)CHARGE_NOT_FOUND"):
            await bot.refund_star_payment(USER, "stxUNKNOWN")
        with pytest.raises(BadRequest, match=r"(?i)CHARGE_NOT_FOUND"):
            await bot.refund_star_payment(USER + 1, charge)
        return await bot.get_star_transactions()

    payment, refund = with_bot(fake, scenario).transactions  # chronological

    assert (refund.id, refund.amount, payment.id) == (charge, 5, charge)
    assert refund.source is None
    assert isinstance(refund.receiver, telegram.TransactionPartnerUser)
    assert refund.receiver.user.id == USER


def test_subscriptions_can_be_canceled_and_renewed(fake: FakeBotApi) -> None:
    subscription = fake.record_star_payment(USER, 50, "order-pro", subscription_period=2592000)
    one_off = fake.record_star_payment(USER, 1, "order-unlock")

    async def scenario(bot: telegram.Bot) -> None:
        assert await bot.edit_user_star_subscription(USER, subscription, is_canceled=True)
        with pytest.raises(BadRequest):
            await bot.edit_user_star_subscription(USER, one_off, is_canceled=True)

    with_bot(fake, scenario)
    assert fake.subscription_canceled(USER, subscription)

    with_bot(fake, lambda bot: bot.edit_user_star_subscription(USER, subscription, is_canceled=False))
    assert not fake.subscription_canceled(USER, subscription)


def test_pre_checkout_answers_are_recorded(fake: FakeBotApi) -> None:
    fake.pre_checkout_sent("q-ok")
    fake.pre_checkout_sent("q-no")

    async def scenario(bot: telegram.Bot) -> None:
        await bot.answer_pre_checkout_query("q-ok", ok=True)
        await bot.answer_pre_checkout_query("q-no", ok=False, error_message="This order has expired.")

    with_bot(fake, scenario)

    answers = [(c.params["pre_checkout_query_id"], c.params["ok"]) for c in fake.calls("answerPreCheckoutQuery")]
    assert answers == [("q-ok", True), ("q-no", False)]


def test_webhook_with_certificate_is_sent_as_multipart(fake: FakeBotApi) -> None:
    assert with_bot(
        fake,
        lambda bot: bot.set_webhook(
            "https://murmur.example/webhook",
            certificate=b"-----BEGIN CERTIFICATE-----",
            secret_token="s3cret_-token",
            allowed_updates=["message", "callback_query", "pre_checkout_query", "subscription"],  # 10.2's too
            max_connections=10,
        ),
    )

    webhook = fake.webhook
    assert webhook["url"] == "https://murmur.example/webhook"
    assert webhook["has_custom_certificate"]
    assert webhook["allowed_updates"] == ["message", "callback_query", "pre_checkout_query", "subscription"]
    assert webhook["max_connections"] == 10
    assert webhook["secret_token"] == "s3cret_-token"
    assert fake.calls("setWebhook")[0].params["certificate"]["size"] == len(b"-----BEGIN CERTIFICATE-----")
    with pytest.raises(BadRequest, match=r'(?i)unknown update type "subscriptions"'):
        with_bot(fake, lambda bot: bot.set_webhook("https://murmur.example/webhook", allowed_updates=["subscriptions"]))

    with_bot(fake, lambda bot: bot.set_webhook(""))
    assert fake.webhook == {"url": ""}


def test_bot_profile_setters(fake: FakeBotApi) -> None:
    async def scenario(bot: telegram.Bot) -> None:
        await bot.set_my_commands([("start", "Open your inbox"), ("paysupport", "Help with payments")])
        await bot.set_my_commands([("start", "Открыть")], language_code="ru")
        await bot.set_my_description("d" * 512)
        await bot.set_my_short_description("s" * 120, language_code="es")
        await bot.set_chat_menu_button(
            chat_id=USER, menu_button=MenuButtonWebApp("Inbox", WebAppInfo("https://murmur.example/app"))
        )

    with_bot(fake, scenario)

    assert [c["command"] for c in fake.commands()] == ["start", "paysupport"]
    assert fake.commands(language_code="ru") == [{"command": "start", "description": "Открыть"}]
    assert fake.calls("setMyDescription")[-1].params["description"] == "d" * 512
    (menu,) = fake.calls("setChatMenuButton")
    assert menu.params["menu_button"] == {
        "type": "web_app", "text": "Inbox", "web_app": {"url": "https://murmur.example/app"}
    }  # fmt: skip
    assert all(call.ok and call.valid for call in fake.calls())


def test_plain_http_clients_json_body_query_string_and_errors(fake: FakeBotApi) -> None:
    markup = {"inline_keyboard": [[{"text": "Read", "callback_data": "read:7"}]]}

    status, body = post_json(fake, "SENDMESSAGE", {"chat_id": str(USER), "text": "from json", "reply_markup": markup})
    assert status == 200 and body["ok"]
    assert body["result"]["reply_markup"] == markup
    assert fake.calls("sendMessage")[-1].params["chat_id"] == USER

    query = f"{fake.base_url}{fake.token}/sendMessage?chat_id={USER}&text=from%20query"
    with urllib.request.urlopen(query) as response:
        assert json.load(response)["result"]["text"] == "from query"

    assert post_json(fake, "sendMessage", {"chat_id": USER}) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
    )
    assert (
        post_json(fake, "sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": "{not json"})[1]["description"]
        == "Bad Request: can't parse reply keyboard markup JSON object"
    )
    assert post_json(fake, "noSuchMethod", {}) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert [m["text"] for m in fake.messages_to(USER)] == ["from json", "from query"]


def test_clear_forgets_calls_but_keeps_chats(fake: FakeBotApi) -> None:
    with_bot(fake, lambda bot: bot.send_message(USER, "hello"))

    fake.clear()

    assert fake.calls() == []
    assert len(fake.messages_to(USER)) == 1


def test_web_app_buttons_may_use_loopback_http_like_the_test_environment(fake: FakeBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("app", web_app=WebAppInfo("http://127.0.0.1:8080/#/"))]])
    with_bot(fake, lambda bot: bot.send_message(USER, "hi", reply_markup=markup))
    assert fake.calls("sendMessage")[-1].ok


# --- flood control ---------------------------------------------------------------------------------


def send(fake: FakeBotApi, chat_id: int | str, text: str = "hi") -> tuple[int, dict[str, Any]]:
    return post_json(fake, "sendMessage", {"chat_id": chat_id, "text": text})


def flood_answer(retry_after: int) -> tuple[int, dict[str, Any]]:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def test_a_burst_into_one_chat_is_throttled_until_retry_after(timed: FakeBotApi, ticker: Ticker) -> None:
    assert [send(timed, USER, f"m{i}")[0] for i in range(3)] == [200, 200, 200]  # the burst

    assert send(timed, USER, "too soon") == flood_answer(1)
    assert send(timed, USER + 1, "another chat")[0] == 200  # the limit is per chat
    ticker.advance(0.5)
    assert send(timed, USER, "still too soon") == flood_answer(1)  # whole seconds, at least 1
    ticker.advance(0.5)
    assert send(timed, USER, "m3")[0] == 200  # one slot a second after retry_after
    assert send(timed, USER, "m4") == flood_answer(1)

    # A refused message never reaches the chat; it is a failed call the test can count.
    assert [m["text"] for m in timed.messages_to(USER)] == ["m0", "m1", "m2", "m3"]
    throttled = timed.throttled(USER)
    assert [c.params["text"] for c in throttled] == ["too soon", "still too soon", "m4"]
    assert not any(c.ok for c in throttled)
    assert timed.throttled(USER + 1) == []
    assert timed.throttled() == throttled


def test_ptb_sees_retry_after_and_succeeds_after_waiting_it(
    timed: FakeBotApi, ticker: Ticker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")

    async def scenario(bot: telegram.Bot) -> telegram.Message:
        for _ in range(3):
            await bot.send_message(USER, "hello")
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(USER, "hello")
        ticker.advance(flood.value.retry_after.total_seconds())
        return await bot.send_message(USER, "after the wait")

    assert with_bot(timed, scenario).text == "after the wait"


def test_edits_take_flood_slots_and_a_throttled_edit_changes_nothing(timed: FakeBotApi) -> None:
    _, sent = send(timed, USER, "v0")
    message_id = sent["result"]["message_id"]
    for version in ("v1", "v2"):
        edit = {"chat_id": USER, "message_id": message_id, "text": version}
        assert post_json(timed, "editMessageText", edit)[0] == 200

    edit = {"chat_id": USER, "message_id": message_id, "text": "v3"}
    assert post_json(timed, "editMessageText", edit) == flood_answer(1)
    assert [m["text"] for m in timed.messages_to(USER)] == ["v2"]


def test_what_does_not_send_a_message_takes_no_slot(timed: FakeBotApi) -> None:
    timed.blocked_by(USER)
    for _ in range(5):
        assert send(timed, USER)[0] == 403  # refused calls cost nothing
    timed.blocked_by(USER, blocked=False)
    for _ in range(5):
        assert post_json(timed, "getMe", {})[0] == 200
        assert post_json(timed, "getStarTransactions", {"limit": 1})[0] == 200

    assert [send(timed, USER)[0] for _ in range(3)] == [200, 200, 200]
    assert send(timed, USER)[0] == 429


def test_a_group_gets_at_most_20_messages_a_minute(timed: FakeBotApi, ticker: Ticker) -> None:
    for i in range(20):  # one a second: within the per-chat limit
        assert send(timed, GROUP, f"g{i}")[0] == 200
        assert send(timed, USER, f"p{i}")[0] == 200  # a private chat has no per-minute cap
        ticker.advance(1)

    assert send(timed, GROUP, "g20") == flood_answer(40)  # the first left at 0 s, frees at 60 s
    assert send(timed, USER, "p20")[0] == 200
    ticker.advance(39)
    assert send(timed, GROUP, "g20") == flood_answer(1)
    ticker.advance(1)
    assert send(timed, GROUP, "g20")[0] == 200
    assert send(timed, GROUP, "g21") == flood_answer(1)  # the second frees at 61 s

    assert len(timed.messages_to(GROUP)) == 21
    assert len(timed.throttled(GROUP)) == 3


def test_the_bot_sends_at_most_30_messages_a_second_overall(timed: FakeBotApi, ticker: Ticker) -> None:
    assert {send(timed, USER + i)[0] for i in range(30)} == {200}

    assert send(timed, USER + 30) == flood_answer(1)
    assert timed.messages_to(USER + 30) == []
    ticker.advance(1)
    assert send(timed, USER + 30)[0] == 200


def test_flood_windows_run_on_the_monotonic_clock_not_the_business_clock(ticker: Ticker) -> None:
    business = [1_790_000_000.0]
    with FakeBotApi(clock=lambda: business[0], monotonic=ticker) as fake:
        for _ in range(3):
            send(fake, USER)
        business[0] += 3 * 86400  # the sandbox jumps days ahead
        assert send(fake, USER) == flood_answer(1)


def test_flood_control_can_be_loosened_or_turned_off(ticker: Ticker) -> None:
    with FakeBotApi(flood_control=False, monotonic=ticker) as off:
        assert {send(off, USER)[0] for _ in range(50)} == {200}
        assert off.flood_limits is None
        assert off.throttled() == []

    with FakeBotApi(flood_control=FloodLimits(per_chat_burst=10, global_per_second=None), monotonic=ticker) as loose:
        assert {send(loose, USER)[0] for _ in range(10)} == {200}
        assert send(loose, USER) == flood_answer(1)
        assert {send(loose, USER + i)[0] for i in range(1, 60)} == {200}  # no overall limit left
        loose.flood_limits = None
        assert send(loose, USER)[0] == 200
        loose.flood_limits = FloodLimits()
        assert loose.flood_limits == FloodLimits()
        assert {send(loose, USER)[0] for _ in range(3)} == {200}  # windows start afresh
        assert send(loose, USER)[0] == 429

    with pytest.raises(ValueError):
        FloodLimits(group_per_minute=0)


def test_injected_failures_come_before_flood_control(timed: FakeBotApi) -> None:
    timed.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)

    assert send(timed, USER) == flood_answer(7)
    assert [send(timed, USER)[0] for _ in range(3)] == [200, 200, 200]  # the injected one took no slot
    assert [c.response["parameters"]["retry_after"] for c in timed.throttled(USER)] == [7]


# --- query deadlines -------------------------------------------------------------------------------


def query_too_old() -> tuple[int, dict[str, Any]]:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {QUERY_TOO_OLD}"}


def test_a_pre_checkout_query_must_be_answered_within_10_seconds(timed: FakeBotApi, ticker: Ticker) -> None:
    assert PRE_CHECKOUT_ANSWER_SECONDS == 10
    timed.pre_checkout_sent("q-in-time")
    timed.pre_checkout_sent("q-late")
    ticker.advance(10)
    in_time = {"pre_checkout_query_id": "q-in-time", "ok": True}
    assert post_json(timed, "answerPreCheckoutQuery", in_time) == (200, {"ok": True, "result": True})
    assert post_json(timed, "answerPreCheckoutQuery", in_time) == query_too_old()  # answered once already
    ticker.advance(0.5)
    assert (
        post_json(timed, "answerPreCheckoutQuery", {"pre_checkout_query_id": "q-late", "ok": True}) == query_too_old()
    )
    assert (
        post_json(timed, "answerPreCheckoutQuery", {"pre_checkout_query_id": "q-unknown", "ok": True})
        == query_too_old()
    )


def test_a_late_pre_checkout_answer_fails_in_ptb_too(timed: FakeBotApi, ticker: Ticker) -> None:
    timed.pre_checkout_sent("q-1")
    ticker.advance(11)

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        with_bot(timed, lambda bot: bot.answer_pre_checkout_query("q-1", ok=True))


def test_a_callback_query_must_be_answered_in_time_and_once(timed: FakeBotApi, ticker: Ticker) -> None:
    timed.callback_query_sent("cb-in-time")
    timed.callback_query_sent("cb-late")
    ticker.advance(CALLBACK_ANSWER_SECONDS)
    assert post_json(timed, "answerCallbackQuery", {"callback_query_id": "cb-in-time"})[0] == 200
    assert post_json(timed, "answerCallbackQuery", {"callback_query_id": "cb-in-time"}) == query_too_old()
    ticker.advance(0.5)
    assert post_json(timed, "answerCallbackQuery", {"callback_query_id": "cb-late"}) == query_too_old()
    assert post_json(timed, "answerCallbackQuery", {"callback_query_id": "cb-unknown"}) == query_too_old()


def test_reset_forgets_pending_queries_and_flood_windows(timed: FakeBotApi) -> None:
    timed.pre_checkout_sent("q-1")
    for _ in range(3):
        send(timed, USER)

    timed.reset()

    answer = {"pre_checkout_query_id": "q-1", "ok": True}
    assert post_json(timed, "answerPreCheckoutQuery", answer) == query_too_old()
    assert send(timed, USER)[0] == 200
    assert timed.flood_limits == FloodLimits()


# --- lengths and sizes, in Telegram's words ---------------------------------------------------------


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


def invoice(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Unlock message",
        "description": "Read the whole anonymous message",
        "payload": "order-1",
        "currency": "XTR",
        "prices": [{"label": "Unlock", "amount": 1}],
        **overrides,
    }


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        pytest.param("sendMessage", {"chat_id": USER, "text": "x" * 4097}, "message is too long", id="text-4097"),
        pytest.param(
            "editMessageText", {"chat_id": USER, "message_id": 1, "text": "x" * 4097},
            "message is too long", id="edit-text-4097",
        ),
        pytest.param("sendMessage", {"chat_id": USER, "text": ""}, "message text is empty", id="text-empty"),
        pytest.param("sendMessage", {"chat_id": USER, "text": " \n "}, "message text is empty", id="text-blank"),
        pytest.param(
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": keyboard({"text": "x", "callback_data": "é" * 32 + "x"})},
            "BUTTON_DATA_INVALID", id="callback-data-65-bytes",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": keyboard({"text": "x", "callback_data": ""})},
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
            id="callback-data-empty-is-no-action",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": keyboard({"text": "  ", "callback_data": "d"})},
            "BUTTON_TEXT_INVALID", id="button-text-blank",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": keyboard({"text": "x", "url": "ftp://example.com/f"})},
            "inline keyboard button URL 'ftp://example.com/f' is invalid: Unsupported URL protocol",
            id="url-button-ftp",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": keyboard({"text": "x", "url": "javascript:alert(1)"})},
            "BUTTON_URL_INVALID", id="url-button-javascript",
        ),
        pytest.param("createInvoiceLink", invoice(payload=""), "INVOICE_PAYLOAD_INVALID", id="payload-empty"),
        pytest.param(
            "createInvoiceLink", invoice(payload="é" * 64 + "x"), "INVOICE_PAYLOAD_INVALID", id="payload-129-bytes"
        ),
        pytest.param("createInvoiceLink", invoice(title=""), "INVOICE_TITLE_INVALID", id="title-empty"),
        pytest.param("createInvoiceLink", invoice(title="t" * 33), "INVOICE_TITLE_INVALID", id="title-33"),
        pytest.param(
            "createInvoiceLink", invoice(description=""), "INVOICE_DESCRIPTION_INVALID", id="description-empty"
        ),
        pytest.param(
            "createInvoiceLink", invoice(description="d" * 256), "INVOICE_DESCRIPTION_INVALID", id="description-256"
        ),
        pytest.param(
            "answerCallbackQuery", {"callback_query_id": "cb", "text": "a" * 201}, "MESSAGE_TOO_LONG",
            id="callback-answer-text-201",
        ),
    ],
)  # fmt: skip
def test_lengths_and_sizes_are_refused_in_telegrams_words(
    fake: FakeBotApi, method: str, params: dict[str, Any], description: str
) -> None:
    assert post_json(fake, method, params) == (
        400,
        {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"},
    )
    assert fake.messages_to(USER) == []


def test_values_at_the_limits_are_accepted(fake: FakeBotApi) -> None:
    fake.callback_query_sent("cb")
    visible_4096 = {"chat_id": USER, "text": "x" * 4096}
    markup = keyboard({"text": "x", "callback_data": "é" * 32}, {"text": "y", "url": "tg://resolve?domain=murmur"})

    assert post_json(fake, "sendMessage", visible_4096)[0] == 200
    assert post_json(fake, "sendMessage", {"chat_id": USER + 1, "text": "hi", "reply_markup": markup})[0] == 200
    limits = invoice(payload="é" * 64, title="t" * 32, description="d" * 255)
    assert post_json(fake, "createInvoiceLink", limits)[0] == 200
    assert post_json(fake, "answerCallbackQuery", {"callback_query_id": "cb", "text": "a" * 200})[0] == 200


def test_buttons_with_empty_text_are_dropped_like_tdlib_does(fake: FakeBotApi) -> None:
    read = {"text": "Read", "callback_data": "read:1"}
    gone = [{"text": "", "callback_data": "gone"}, {"text": "", "url": "https://x.org"}]
    markup = {"inline_keyboard": [[gone[0], read], [gone[1]]]}

    status, body = post_json(fake, "sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": markup})
    assert status == 200
    assert body["result"]["reply_markup"] == {"inline_keyboard": [[read]]}
    only_empty = {"chat_id": USER + 1, "text": "hi", "reply_markup": keyboard(gone[0])}
    _, body = post_json(fake, "sendMessage", only_empty)
    assert "reply_markup" not in body["result"]
    assert fake.messages_to(USER)[0]["reply_markup"] == {"inline_keyboard": [[read]]}


# --- the Bot API's own description -----------------------------------------------------------------


def refused(fake: FakeBotApi, method: str, params: dict[str, Any]) -> str:
    """Post a call that must be refused with 400; its description, after the record says it was not valid."""
    status, body = post_json(fake, method, params)
    assert (status, body["ok"], body["error_code"]) == (400, False, 400), body
    assert not fake.calls()[-1].valid
    return str(body["description"])


def test_an_unknown_method_is_404_and_names_match_in_any_case(fake: FakeBotApi) -> None:
    assert post_json(fake, "sendMesage", {"chat_id": USER, "text": "hi"}) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert not fake.calls()[-1].valid
    assert post_json(fake, "GETME", {})[0] == 200  # Telegram matches method names case-insensitively
    assert fake.calls()[-1].method == "getMe" and fake.calls()[-1].valid


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        pytest.param(
            "refundStarPayment", {"user_id": USER}, 'parameter "telegram_payment_charge_id" is required',
            id="required-string",
        ),
        pytest.param("sendMessage", {"text": "hi"}, "chat_id is empty", id="chat-id"),
        pytest.param("sendMessage", {"chat_id": USER}, "message text is empty", id="text"),
        pytest.param(
            "answerPreCheckoutQuery", {"pre_checkout_query_id": "q"}, 'parameter "ok" is required', id="boolean"
        ),
        pytest.param(
            "createInvoiceLink", {k: v for k, v in invoice().items() if k != "prices"},
            'parameter "prices" is required', id="array",
        ),
        pytest.param(
            "sendPhoto", {"chat_id": USER}, 'parameter "photo" is required', id="a-method-the-product-does-not-call"
        ),
    ],
)  # fmt: skip
def test_a_missing_required_parameter_is_400_in_telegrams_words(
    fake: FakeBotApi, method: str, params: dict[str, Any], description: str
) -> None:
    assert refused(fake, method, params) == f"Bad Request: {description}"
    assert fake.messages_to(USER) == []


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        pytest.param("getStarTransactions", {"limit": "ten"}, 'parameter "limit" must be an Integer', id="integer"),
        pytest.param(
            "editUserStarSubscription",
            {"user_id": USER, "telegram_payment_charge_id": "stx1", "is_canceled": "maybe"},
            'parameter "is_canceled" must be a Boolean', id="boolean",
        ),
        pytest.param(
            "sendMessage", {"chat_id": [USER], "text": "hi"}, 'parameter "chat_id" must be an Integer or a String',
            id="integer-or-string",
        ),
        pytest.param(
            "sendMessage", {"chat_id": USER, "text": {"t": 1}}, 'parameter "text" must be a String', id="string"
        ),
        pytest.param(
            "setMyCommands", {"commands": {"command": "start", "description": "Open"}},
            'parameter "commands" must be an Array of BotCommand', id="array-of-objects",
        ),
        pytest.param(
            "setWebhook", {"url": "https://murmur.example/webhook", "certificate": "-----BEGIN CERTIFICATE-----"},
            'parameter "certificate" must be an InputFile', id="input-file",
        ),
        pytest.param(
            "createInvoiceLink", invoice(prices="[{"), "can't parse prices JSON object", id="json-serialized-array"
        ),
    ],
)  # fmt: skip
def test_a_parameter_of_the_wrong_type_is_400(
    fake: FakeBotApi, method: str, params: dict[str, Any], description: str
) -> None:
    assert refused(fake, method, params) == f"Bad Request: {description}"


ARTICLE = {"type": "article", "id": "a", "title": "Rate me", "input_message_content": {"message_text": "Rate me"}}


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        pytest.param(
            "sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": keyboard({"text": 5, "callback_data": "d"})},
            'can\'t parse inline keyboard button: Field "text" must be of type String', id="button-text",
        ),
        pytest.param(
            "sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": {"inline_keyboard": [{"text": "x"}]}},
            'can\'t parse inline keyboard markup: Field "inline_keyboard" must be of type Array', id="rows",
        ),
        pytest.param(
            "createInvoiceLink", invoice(prices=json.dumps([{"label": "Unlock", "amount": "1"}])),
            'can\'t parse labeled price: Field "amount" must be of type Number', id="price-amount-as-json-text",
        ),
        pytest.param(
            "createInvoiceLink", invoice(prices=[{"label": "Unlock"}]),
            'can\'t parse labeled price: Can\'t find field "amount"', id="price-without-amount",
        ),
        pytest.param(
            "setChatMenuButton", {"menu_button": {"type": "web_app", "text": "Inbox", "web_app": {"url": 5}}},
            'can\'t parse WebAppInfo: Field "url" must be of type String', id="menu-button-web-app",
        ),
        pytest.param(
            "setMyCommands", {"commands": [{"command": "start", "description": "Open"}], "scope": {"type": "chat"}},
            'can\'t parse BotCommandScope: Can\'t find field "chat_id"', id="union-member-field-missing",
        ),
        pytest.param(
            "savePreparedInlineMessage", {"user_id": USER, "result": {**ARTICLE, "title": 7}, "allow_user_chats": True},
            'can\'t parse inline query result: Field "title" must be of type String', id="union-member-field-type",
        ),
        pytest.param(
            "savePreparedInlineMessage", {"user_id": USER, "result": {"type": "hologram", "id": "h"}},
            'can\'t parse inline query result: unsupported type "hologram"', id="union-member-unknown",
        ),
        pytest.param(
            "savePreparedInlineMessage",
            {"user_id": USER, "result": {**ARTICLE, "input_message_content": {"message_text": ["Rate", "me"]}}},
            'can\'t parse input message content: Field "message_text" must be of type String',
            id="union-without-a-type-field",
        ),
    ],
)  # fmt: skip
def test_a_nested_object_is_checked_field_by_field_from_the_types(
    fake: FakeBotApi, method: str, params: dict[str, Any], description: str
) -> None:
    assert refused(fake, method, params) == f"Bad Request: {description}"
    assert fake.messages_to(USER) == [] and fake.commands() == []


def test_unknown_parameters_and_fields_are_refused_though_telegram_ignores_them(fake: FakeBotApi) -> None:
    # Telegram would drop a misspelt subscription_period and sell a one-off payment: the fake says so instead.
    typo = refused(fake, "createInvoiceLink", invoice(subscription_periods=2592000))
    assert typo.startswith('Bad Request: unknown parameter "subscription_periods" of createInvoiceLink')
    button = {"text": "Read", "callback_data": "read:1", "callback_date": "x"}
    field = refused(fake, "sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": keyboard(button)})
    assert field.startswith('Bad Request: can\'t parse inline keyboard button: unknown field "callback_date"')
    assert fake.messages_to(USER) == []


def test_a_method_the_product_does_not_call_is_checked_then_refused(fake: FakeBotApi) -> None:
    photo = {"chat_id": USER, "photo": "https://murmur.example/card.jpg", "caption": "x" * 1025}
    assert refused(fake, "sendPhoto", photo) == 'Bad Request: parameter "caption" must be 0-1024 characters'
    assert refused(fake, "sendPhoto", {**photo, "caption": "a card"}).startswith(
        "Bad Request: method not implemented by the fake: sendPhoto is in Bot API 10.1"
    )
    assert fake.messages_to(USER) == []


def test_the_spec_is_bot_api_10_1_with_the_10_2_patch_and_has_every_method_the_product_calls() -> None:
    document, patch = (json.loads(path.read_text(encoding="utf-8")) for path in (SPEC_FILE, PATCH_FILE))
    assert (document["version"], patch["base"], patch["version"]) == ("10.1", "10.1", "10.2")
    assert re.fullmatch(r"[0-9a-f]{40}", document["source"]["commit"]) and document["source"]["license"] == "MIT"
    assert (SPEC.version, SPEC.patch_version) == ("10.1", "10.2")
    assert len(SPEC.methods) >= 180 and "subscription" in SPEC.update_types()
    assert set(SPEC.types["BotSubscriptionUpdated"].fields) == {"user", "invoice_payload", "state"}
    assert not any("description" in entry for entry in document["methods"].values())  # facts, not prose

    # The names the product passes to the Bot API itself (HttpGateway.call, the setup's ApiCall), and the methods
    # the fake carries out: all in the description, under the same spelling.
    source = Path(__file__).parents[2] / "src" / "murmur"
    named = {
        name
        for path in source.rglob("*.py")
        for name in re.findall(r'(?:call|ApiCall)\(\s*"([a-z]+[A-Z][A-Za-z]*)"', path.read_text(encoding="utf-8"))
    }
    assert len(named) >= 12, named
    spelled = {method.name for method in SPEC.methods.values()}
    assert named <= IMPLEMENTED <= spelled, (named - IMPLEMENTED, IMPLEMENTED - spelled)


def test_every_call_of_a_journey_passes_the_checks_and_every_answer_has_its_documented_type(
    stack: LocalStack,
) -> None:
    """Send, unlock, refund, the cron's reconciliation and an inline query, through the real functions: every Bot
    API call they make is one the fake carries out, with parameters as the description wants them, and the fake's
    answers are of the types the description gives the methods' results."""
    owner, sender = helpers.person("Olga"), helpers.person("Sam")
    stack.send_text(owner, "/start")
    message_id = helpers.send(stack, owner, sender, "read me, then give it back")["message_id"]
    paid = helpers.buy(stack, owner, "unlock", message_id)
    assert not helpers.read(stack, owner, message_id)["locked"]
    stack.send_text(ALICE, f"/refund {paid['charge_id']}")
    assert helpers.read(stack, owner, message_id)["locked"]
    stack.run_cron()
    stack.inline_query(owner, "")

    calls = stack.bot_api.calls()
    methods = {call.method for call in calls}
    assert {"sendMessage", "createInvoiceLink", "answerPreCheckoutQuery", "refundStarPayment"} <= methods, methods
    assert {"getStarTransactions", "answerInlineQuery"} <= methods, methods
    for call in calls:
        assert call.valid and call.method in IMPLEMENTED, (call.method, call.params, call.response)
        method = SPEC.method(call.method)
        assert method is not None
        if call.ok:
            SPEC.check_value(call.response["result"], method.returns)
