"""One-step bot setup after a deploy: the bot's profile, commands, menu button and webhook.

    python -m murmur.telegram.setup [--drop-pending-updates]      # what `make setup-bot` runs

Without it, a new deployment needs a dozen hand-made Bot API calls, and a webhook whose
`allowed_updates` drifts from what the bot handles silently loses updates. `setup_calls` is pure:
it turns the inputs into the exact list of Bot API calls, so a test can read the plan and run it
against the fake Bot API. `apply` is the thin runner that makes them with python-telegram-bot.

Inputs (flags win over the environment; `mk/deploy.mk` sets the environment from the stack):

| flag                     | environment                                                  |
|--------------------------|--------------------------------------------------------------|
| `--site-url`             | `MURMUR_SITE_URL`: the Mini App (stack output `SiteUrl`)     |
| `--webhook-url`          | `MURMUR_WEBHOOK_URL`: stack output `WebhookUrl`              |
|                          | `TELEGRAM_BOT_TOKEN`, or SSM `TELEGRAM_BOT_TOKEN_PARAM`      |
|                          | `TELEGRAM_WEBHOOK_SECRET`, or SSM `TELEGRAM_WEBHOOK_SECRET_PARAM` |
|                          | `MURMUR_BOT_USERNAME`: the stack's `BotUsername` (checked against getMe) |
|                          | `TELEGRAM_API_URL` (default api.telegram.org), `MURMUR_STACK` (shown only) |

Two things only BotFather can set are checked through getMe, since personal links depend on them:
the token must belong to the bot the stack was deployed for (its links say `t.me/<BotUsername>`), checked
before anything changes; and the bot must have a main Mini App (`t.me/<bot>?startapp=<code>` opens only
that), reported after the calls with the exact BotFather steps, and the exit status is 1 until it is set.
Inline mode (`/setinline`: `@bot` in any chat offers the owner's cards) is checked the same way, as a warning only:
everything else works without it.

This is an operator's command, not Lambda code: its inputs come through `config.SetupEnvironment`, it
speaks to the Bot API through the same plain client as the API and the cron, and it never prints the
token or the webhook secret (not even in Telegram's errors).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from murmur.config import DEFAULT_API_URL, SetupEnvironment
from murmur.errors import MurmurError
from murmur.store.parameters import read_parameters
from murmur.telegram.gateway import BotApiPool, HttpGateway

# Exactly the updates the bot's handlers consume (murmur.telegram.bot.build_application):
# commands, successful_payment and refunded_payment arrive inside `message`; report buttons are
# `callback_query`; invoices need `pre_checkout_query`; blocking the bot is `my_chat_member`; a Pro
# subscription cancelled, re-enabled or failed in Telegram is `subscription` (Bot API 10.2); `@bot` typed in
# any chat is `inline_query` (not `chosen_inline_result`: nothing uses it, and it needs inline feedback on).
ALLOWED_UPDATES = (
    "message",
    "callback_query",
    "pre_checkout_query",
    "my_chat_member",
    "subscription",
    "inline_query",
)
# Telegram opens at most this many connections at once (its default), so at most this many webhook containers
# run at once; with ReserveConcurrency=true the template reserves exactly this many for the webhook.
MAX_CONNECTIONS = 40
# The menu button is one for every user (no per-language variant without per-chat calls).
MENU_BUTTON_TEXT = "Inbox"
# "" is the default language (anyone without a more specific list); English lives there.
LANGUAGES = ("", "ru", "es")

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")

COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        ("start", "Your personal link and inbox"),
        ("help", "What Murmur is and what it costs"),
        ("paysupport", "Help with a Stars payment"),
        ("terms", "Terms, privacy and refunds"),
        ("deleteme", "Erase your data"),
    ),
    "ru": (
        ("start", "Ваша личная ссылка и входящие"),
        ("help", "Что такое Murmur и сколько это стоит"),
        ("paysupport", "Помощь с оплатой в Stars"),
        ("terms", "Условия, приватность и возвраты"),
        ("deleteme", "Удалить ваши данные"),
    ),
    "es": (
        ("start", "Tu enlace personal y tu bandeja"),
        ("help", "Qué es Murmur y cuánto cuesta"),
        ("paysupport", "Ayuda con un pago en Stars"),
        ("terms", "Términos, privacidad y reembolsos"),
        ("deleteme", "Borrar tus datos"),
    ),
}

# Honest about anonymity: recipients never learn who wrote; the service does (for moderation).
DESCRIPTIONS: dict[str, str] = {
    "": (
        "Murmur is your anonymous inbox. Share your personal link: anyone who opens it can send you a"
        " message without showing their name. Read a free three-word preview, then unlock messages,"
        " hints or Plus with Telegram Stars.\n\n"
        "Anonymous to you, not to us: Murmur knows who sent each message so it can stop abuse, but"
        " never shows it to the recipient. /terms explains the details."
    ),
    "ru": (
        "Murmur — ваши анонимные входящие. Поделитесь личной ссылкой: любой, кто её откроет, сможет"
        " написать вам, не показывая имени. Бесплатно видно превью из трёх слов; сообщения, подсказки"
        " и Plus открываются за Telegram Stars.\n\n"
        "Анонимно для получателя, но не для сервиса: Murmur знает отправителя, чтобы бороться со"
        " злоупотреблениями, но никогда не показывает его получателю. Подробности — /terms."
    ),
    "es": (
        "Murmur es tu buzón anónimo. Comparte tu enlace personal: quien lo abra puede escribirte sin"
        " mostrar su nombre. Lee gratis una vista previa de tres palabras y desbloquea mensajes, pistas"
        " o Plus con Telegram Stars.\n\n"
        "Anónimo para ti, no para nosotros: Murmur sabe quién envió cada mensaje para frenar abusos,"
        " pero nunca se lo muestra al destinatario. Detalles en /terms."
    ),
}

SHORT_DESCRIPTIONS: dict[str, str] = {
    "": "Anonymous messages from your friends. Recipients never see who wrote; we do, to stop abuse.",
    "ru": "Анонимные сообщения от друзей. Получатель не видит автора; сервис видит — против спама.",
    "es": "Mensajes anónimos de tus amigos. Quien recibe no ve al autor; nosotros sí, contra abusos.",
}


class BotSetupError(Exception):
    """The setup cannot start: a missing or malformed input; the message says which."""


@dataclass(frozen=True, slots=True)
class BotProfile:
    """What getMe says about the bot that the token belongs to."""

    username: str
    # Bot API 8.0: true once BotFather has a main Mini App for the bot; `?startapp=` links open only that.
    has_main_web_app: bool
    # True once inline mode is on in BotFather (/setinline): `@bot` in any chat, and WebApp.switchInlineQuery.
    supports_inline_queries: bool = False


def main_mini_app_step(username: str, site_url: str) -> str:
    """The one step Telegram lets only BotFather do, worded for the operator."""
    return (
        f"@{username} has no main Mini App, so personal links (t.me/{username}?startapp=...) open nothing.\n"
        f"In @BotFather: /mybots -> @{username} -> Bot Settings -> Configure Mini App -> Enable Mini App,\n"
        f"and send this URL: {site_url}\n"
        "Then run `make setup-bot` again: it checks this through getMe."
    )


def inline_mode_step(username: str) -> str:
    """Inline mode is BotFather's to switch on, like the main Mini App; worded for the operator."""
    return (
        f"@{username} has inline mode off, so typing @{username} in a chat offers no cards\n"
        "and the app cannot open a chat with them (WebApp.switchInlineQuery).\n"
        f"In @BotFather: /setinline -> @{username} -> send a placeholder such as: your question cards\n"
        "Then run `make setup-bot` again: it checks this through getMe."
    )


@dataclass(frozen=True, slots=True)
class BotSetup:
    """What the calls depend on: where the Mini App and the webhook live, and the webhook's secret."""

    site_url: str
    webhook_url: str
    webhook_secret: str = field(repr=False)
    drop_pending_updates: bool = False

    def __post_init__(self) -> None:
        for name, url in (("site URL", self.site_url), ("webhook URL", self.webhook_url)):
            if not url.startswith("https://") or len(url) <= len("https://"):
                raise BotSetupError(f"the {name} must be an https:// URL (Telegram refuses others): {url!r}")
        if not _SECRET_TOKEN.fullmatch(self.webhook_secret):
            raise BotSetupError("the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -")


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API call: the method's name and its parameters as the Bot API names them."""

    method: str
    params: dict[str, Any]

    def describe(self) -> str:
        """One line for the operator; never the secret token's value."""
        p = self.params
        language = p.get("language_code") or "default"
        if self.method == "setWebhook":
            return (
                f"setWebhook {p['url']} allowed_updates={','.join(p['allowed_updates'])}"
                f" max_connections={p['max_connections']}"
                f" drop_pending_updates={str(p['drop_pending_updates']).lower()} secret_token=(set)"
            )
        if self.method == "setChatMenuButton":
            button = p["menu_button"]
            return f"setChatMenuButton web_app {button['text']!r} -> {button['web_app']['url']}"
        if self.method == "setMyCommands":
            names = " ".join(f"/{c['command']}" for c in p["commands"])
            return f"setMyCommands [{language}] {names}"
        if self.method in ("setMyDescription", "setMyShortDescription"):
            text = p.get("description", p.get("short_description", ""))
            return f"{self.method} [{language}] {len(text)} characters"
        return self.method


def _localized(language: str) -> dict[str, str]:
    return {"language_code": language} if language else {}


def setup_calls(setup: BotSetup) -> list[ApiCall]:
    """Every call, in order: the profile first, the webhook last, so updates arrive to a ready bot."""
    calls: list[ApiCall] = []
    for language in LANGUAGES:
        commands = [{"command": name, "description": text} for name, text in COMMANDS[language]]
        calls.append(ApiCall("setMyCommands", {"commands": commands, **_localized(language)}))
    for language in LANGUAGES:
        calls.append(ApiCall("setMyDescription", {"description": DESCRIPTIONS[language], **_localized(language)}))
        calls.append(
            ApiCall(
                "setMyShortDescription",
                {"short_description": SHORT_DESCRIPTIONS[language], **_localized(language)},
            )
        )
    menu_button = {"type": "web_app", "text": MENU_BUTTON_TEXT, "web_app": {"url": setup.site_url}}
    calls.append(ApiCall("setChatMenuButton", {"menu_button": menu_button}))
    calls.append(
        ApiCall(
            "setWebhook",
            {
                "url": setup.webhook_url,
                "secret_token": setup.webhook_secret,
                "allowed_updates": list(ALLOWED_UPDATES),
                "max_connections": MAX_CONNECTIONS,
                "drop_pending_updates": setup.drop_pending_updates,
            },
        )
    )
    return calls


def apply(
    calls: Sequence[ApiCall], token: str, base_url: str = DEFAULT_API_URL, expected_username: str = ""
) -> BotProfile:
    """Make the calls in order, printing each; stops at the first refusal. Returns what getMe said.

    getMe comes first: it checks the token, and that it is the token of `expected_username` (the stack's
    BotUsername), before anything changes. Through the project's plain Bot API client (the one the API and
    the cron use): the plan's parameters are already the Bot API's JSON, and an operator's command needs no
    event loop."""
    gateway = HttpGateway(token, base_url, BotApiPool(read_timeout=15))
    try:
        me = gateway.call("getMe")
        profile = BotProfile(
            str(me["username"]), me.get("has_main_web_app") is True, me.get("supports_inline_queries") is True
        )
        if expected_username and expected_username.lower() != profile.username.lower():
            raise BotSetupError(
                f"the stack was deployed with BotUsername={expected_username}, but the token is @{profile.username}'s:"
                f" its links would lead to another bot. Redeploy with BotUsername={profile.username}"
                " (make deploy GUIDED=1), or store this bot's token (make secrets)"
            )
        for call in calls:
            ok = gateway.call(call.method, **call.params)
            print(f"{call.describe()}: {'ok' if ok else 'refused'}")
            if ok is not True:
                raise BotSetupError(f"Telegram answered {ok!r} to {call.method}")
        return profile
    finally:
        gateway.close()


def _secret(value: str, param: str, region: str, names: tuple[str, str], what: str) -> str:
    """A secret given directly, or read from the SSM SecureString that the environment names."""
    if value:
        return value
    if not param:
        raise BotSetupError(f"set {names[0]}, or {names[1]} to the SSM parameter holding {what}")
    if not region:
        raise BotSetupError(f"set AWS_REGION (the stack's region) to read {what} from {param}")
    try:
        return read_parameters([param], region)[param].strip()
    except Exception as error:  # botocore's many errors (credentials, access, missing parameter)
        raise BotSetupError(f"could not read {what} from SSM {param} in {region}: {error}") from error


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Read the inputs, print the plan as it runs; 0 when every call was accepted."""
    given = SetupEnvironment.from_env(env)
    parser = argparse.ArgumentParser(
        prog="python -m murmur.telegram.setup",
        description="Set the bot's webhook, menu button, commands and descriptions.",
    )
    parser.add_argument("--site-url", default=given.site_url)
    parser.add_argument("--webhook-url", default=given.webhook_url)
    parser.add_argument(
        "--drop-pending-updates",
        action="store_true",
        help="discard updates Telegram queued while no webhook answered",
    )
    args = parser.parse_args(argv)
    secrets: list[str] = []
    try:
        token = _secret(
            given.bot_token,
            given.bot_token_param,
            given.region,
            ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_PARAM"),
            "the bot token",
        )
        secrets.append(token)
        webhook_secret = _secret(
            given.webhook_secret,
            given.webhook_secret_param,
            given.region,
            ("TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_SECRET_PARAM"),
            "the webhook secret",
        )
        secrets.append(webhook_secret)
        setup = BotSetup(args.site_url.strip(), args.webhook_url.strip(), webhook_secret, args.drop_pending_updates)
        stack = given.stack
        print(f"setting up the bot{f' for stack {stack}' if stack else ''} through {given.telegram_api_url}")
        profile = apply(setup_calls(setup), token, given.telegram_api_url, given.bot_username)
    except (BotSetupError, MurmurError) as error:
        print(f"error: {_redact(str(error), secrets)}", file=sys.stderr)
        return 1
    if not profile.supports_inline_queries:
        # A warning, not a failure: links, the inbox and payments work without inline mode.
        print(f"warning: {inline_mode_step(profile.username)}", file=sys.stderr)
    if not profile.has_main_web_app:
        print(f"one step left: {main_mini_app_step(profile.username, setup.site_url)}", file=sys.stderr)
        return 1
    print(f"done: open https://t.me/{profile.username} and press {MENU_BUTTON_TEXT!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
