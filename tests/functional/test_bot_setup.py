"""`python -m murmur.telegram.setup` against the fake Bot API, which checks every call as Telegram does.

Given the stack's URLs and the secrets in the environment, when main() runs, then the fake recorded
exactly the planned calls (after PTB's getMe), all accepted, and holds the webhook, menu button,
commands and descriptions we meant; the token and the webhook secret never reach the output.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
)

from murmur.telegram import setup
from murmur.telegram.bot import SubscriptionHandler, build_application
from murmur.telegram.gateway import BotApiPool
from sandbox.fake_bot_api import FakeBotApi

SITE = "https://d111111abcdef8.cloudfront.net/"
WEBHOOK = "https://d111111abcdef8.cloudfront.net/webhook"
SECRET = "s3cr3t-Webhook_Token-0123456789abcdefghij"


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


def environment(fake: FakeBotApi, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": fake.base_url,
        "MURMUR_SITE_URL": SITE,
        "MURMUR_WEBHOOK_URL": WEBHOOK,
        "MURMUR_STACK": "murmur",
        "MURMUR_BOT_USERNAME": fake.bot_user["username"],
        **extra,
    }


def recorded(fake: FakeBotApi) -> list[tuple[str, dict[str, Any], bool]]:
    return [(call.method, call.params, call.ok) for call in fake.calls()]


def test_setup_makes_exactly_the_planned_calls_and_telegram_accepts_them(
    fake: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the stack's URLs and secrets; When the setup runs with --drop-pending-updates
    assert setup.main(["--drop-pending-updates"], environment(fake)) == 0

    # Then every planned call was made in order, as planned, and accepted
    plan = setup.setup_calls(setup.BotSetup(SITE, WEBHOOK, SECRET, drop_pending_updates=True))
    assert recorded(fake) == [("getMe", {}, True)] + [(c.method, c.params, True) for c in plan]
    assert [c.method for c in plan].count("setMyCommands") == 3

    # And the webhook takes exactly the updates the bot handles
    webhook = fake.webhook
    assert webhook["url"] == WEBHOOK
    assert webhook["secret_token"] == SECRET
    assert webhook["max_connections"] == 40
    assert webhook["allowed_updates"] == [
        "message",
        "callback_query",
        "pre_checkout_query",
        "my_chat_member",
        "subscription",  # Bot API 10.2
        "inline_query",  # @bot in any chat offers the owner's cards
    ]
    [set_webhook] = fake.calls("setWebhook")
    assert set_webhook.params["drop_pending_updates"] is True

    # And the commands are localized, the same five everywhere
    for language in ("", "ru", "es"):
        commands = fake.commands(language_code=language)
        assert [c["command"] for c in commands] == ["start", "help", "paysupport", "terms", "deleteme"]
    assert fake.commands(language_code="ru")[0]["description"] != fake.commands()[0]["description"]
    assert fake.commands(language_code="fr") == []

    # And the output says what was set, never the token or the secret
    out, err = capsys.readouterr()
    assert "setWebhook " + WEBHOOK in out and "secret_token=(set)" in out
    assert "setMyCommands [ru] /start /help /paysupport /terms /deleteme: ok" in out
    assert fake.token not in out + err and SECRET not in out + err


def test_menu_button_opens_the_site_and_descriptions_are_honest_in_every_language(fake: FakeBotApi) -> None:
    assert setup.main([], environment(fake)) == 0

    [menu] = fake.calls("setChatMenuButton")
    assert "chat_id" not in menu.params  # one button for everyone
    assert menu.params["menu_button"] == {"type": "web_app", "text": "Inbox", "web_app": {"url": SITE}}
    [set_webhook] = fake.calls("setWebhook")
    assert set_webhook.params["drop_pending_updates"] is False
    descriptions = {c.params.get("language_code", ""): c.params["description"] for c in fake.calls("setMyDescription")}
    shorts = {
        c.params.get("language_code", ""): c.params["short_description"] for c in fake.calls("setMyShortDescription")
    }
    assert set(descriptions) == set(shorts) == {"", "ru", "es"}
    # The service knows who wrote (moderation); recipients do not. Each text says both.
    assert "knows who sent" in descriptions[""] and "never shows it to the recipient" in descriptions[""]
    assert "знает отправителя" in descriptions["ru"] and "sabe quién envió" in descriptions["es"]
    assert "we do" in shorts[""]


def handled_updates_and_commands() -> tuple[set[str], set[str]]:
    """What the real bot registers: the update types its handlers consume, and its commands."""
    services = SimpleNamespace(settings=SimpleNamespace(admin_ids=frozenset({1})), bot_api_pool=BotApiPool())
    application = build_application(cast(Any, services), "1:unused", "http://127.0.0.1:9/bot")
    kinds: list[tuple[type[BaseHandler[Any, Any, Any]], str]] = [
        (CommandHandler, "message"),
        (MessageHandler, "message"),
        (CallbackQueryHandler, "callback_query"),
        (PreCheckoutQueryHandler, "pre_checkout_query"),
        (SubscriptionHandler, "subscription"),
        (InlineQueryHandler, "inline_query"),
    ]
    updates: set[str] = set()
    commands: set[str] = set()
    for handler in (h for group in application.handlers.values() for h in group):
        if isinstance(handler, ChatMemberHandler):
            mine = handler.chat_member_types == ChatMemberHandler.MY_CHAT_MEMBER
            updates.add("my_chat_member" if mine else "chat_member")
            continue
        updates.add(next(kind for cls, kind in kinds if isinstance(handler, cls)))
        if isinstance(handler, CommandHandler):
            commands |= set(handler.commands)
    return updates, commands


def test_the_webhook_and_the_command_list_match_what_the_bot_handles() -> None:
    """A handler added without its update type in allowed_updates would never be called."""
    updates, commands = handled_updates_and_commands()
    assert updates == set(setup.ALLOWED_UPDATES)
    listed = {name for name, _ in setup.COMMANDS[""]}
    assert listed <= commands
    assert commands - listed == {"refund", "ban", "unban", "stats"}  # admin commands stay unlisted
    for language in setup.LANGUAGES:
        assert [name for name, _ in setup.COMMANDS[language]] == [name for name, _ in setup.COMMANDS[""]]


def test_a_rejected_token_is_reported_without_showing_it(fake: FakeBotApi, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "987654321:AAWrongTokenWrongTokenWrongToken00"
    assert setup.main([], environment(fake, TELEGRAM_BOT_TOKEN=wrong)) == 1

    out, err = capsys.readouterr()
    assert "error:" in err
    assert wrong not in out + err and SECRET not in out + err
    assert [c.method for c in fake.calls()] == ["getMe"]  # nothing was changed
    assert fake.webhook == {"url": ""}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MURMUR_SITE_URL": "http://insecure.example/"}, "site URL must be an https:// URL"),
        ({"MURMUR_WEBHOOK_URL": ""}, "webhook URL must be an https:// URL"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces in it"}, "webhook secret must be 1-256 characters"),
        ({"TELEGRAM_BOT_TOKEN": ""}, "set TELEGRAM_BOT_TOKEN, or TELEGRAM_BOT_TOKEN_PARAM"),
        (
            {"TELEGRAM_WEBHOOK_SECRET": "", "TELEGRAM_WEBHOOK_SECRET_PARAM": "/murmur/webhook-secret"},
            "set AWS_REGION",
        ),
    ],
)
def test_bad_input_is_refused_before_any_call(
    fake: FakeBotApi, capsys: pytest.CaptureFixture[str], change: dict[str, str], message: str
) -> None:
    assert setup.main([], environment(fake, **change)) == 1
    assert message in capsys.readouterr().err
    assert fake.calls() == []


def test_a_token_of_another_bot_is_refused_before_anything_changes(
    fake: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stack builds every personal link as t.me/<BotUsername>: a webhook for another bot would hand out
    links to a bot that is not this deployment (or to a stranger's)."""
    assert setup.main([], environment(fake, MURMUR_BOT_USERNAME="someone_elses_bot")) == 1

    err = capsys.readouterr().err
    assert "BotUsername=someone_elses_bot" in err and f"@{fake.bot_user['username']}" in err
    assert [c.method for c in fake.calls()] == ["getMe"]
    assert fake.webhook == {"url": ""}


def test_the_username_is_matched_as_telegram_does_regardless_of_case(fake: FakeBotApi) -> None:
    assert setup.main([], environment(fake, MURMUR_BOT_USERNAME=fake.bot_user["username"].upper())) == 0


def test_without_a_main_mini_app_the_setup_names_the_botfather_step_and_fails_until_it_is_done(
    fake: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """Personal links are `t.me/<bot>?startapp=<code>`, which opens the bot's main Mini App and nothing else.
    Only BotFather can set one; getMe says whether it is set (Bot API 8.0 `has_main_web_app`)."""
    # Given a bot for which BotFather has no main Mini App (the fake plays Telegram's getMe)
    fake._bot_user.pop("has_main_web_app")  # Telegram leaves the field out when it is false

    # When the setup runs, Then it still sets everything else, and fails with the exact step to take
    assert setup.main([], environment(fake)) == 1
    err = capsys.readouterr().err
    assert "Configure Mini App" in err and SITE in err and "make setup-bot" in err
    assert fake.webhook["url"] == WEBHOOK
    assert [c.method for c in fake.calls()][-1] == "setWebhook"

    # When the operator has done it in BotFather, Then the next run passes
    fake._bot_user["has_main_web_app"] = True
    assert setup.main([], environment(fake)) == 0
    assert "done: open https://t.me/" in capsys.readouterr().out


def test_no_setting_falls_back_to_someone_elses_bot() -> None:
    """Without MURMUR_BOT_USERNAME the links have no bot name rather than a stranger's (the template requires
    BotUsername, so a deployed function always has it)."""
    from murmur.config import Settings

    tables = {k: "t" for k in ("USERS_TABLE", "LINKS_TABLE", "MESSAGES_TABLE", "ORDERS_TABLE", "PAYMENTS_TABLE")}
    assert Settings.from_env({**tables, "STATE_TABLE": "t"}).bot_username == ""


def test_without_inline_mode_the_setup_warns_with_the_botfather_step_and_still_succeeds(
    fake: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inline mode (`@bot` in any chat offers the owner's cards; WebApp.switchInlineQuery) is BotFather's to switch
    on (/setinline), which the Bot API cannot do; getMe says whether it is (`supports_inline_queries`)."""
    # Given a bot whose inline mode is off (the fake's getMe says so by default)
    assert fake.bot_user["supports_inline_queries"] is False

    # When the setup runs, Then it succeeds (nothing else needs inline mode) and names the step to take
    assert setup.main([], environment(fake)) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "/setinline" in err and "make setup-bot" in err

    # When the operator has switched it on, Then no warning is left
    with FakeBotApi(supports_inline_queries=True) as inline_on:
        assert setup.main([], environment(inline_on)) == 0
    assert "/setinline" not in capsys.readouterr().err
