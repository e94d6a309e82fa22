"""Settings: the only module that reads the environment. Parsed once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from murmur.initdata_keys import PRODUCTION_PUBLIC_KEY as PRODUCTION_INITDATA_KEY
from murmur.initdata_keys import TEST_PUBLIC_KEY as TEST_ENV_INITDATA_KEY

DEFAULT_API_URL = "https://api.telegram.org/bot"


def bot_api_base(url: str | None) -> str:
    """The Bot API base the token is appended to (`…/bot`), from TELEGRAM_API_URL as a person writes it: a
    server's root as its documentation gives it (`http://localhost:8081`, a local telegram-bot-api; the
    fake's), or the base itself (`https://api.telegram.org/bot`). Anything else is an error now, at start,
    not a LocationParseError on the first call."""
    if not url:
        return DEFAULT_API_URL
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"TELEGRAM_API_URL must be an http(s) URL like http://localhost:8081, not {url!r}")
    path = parts.path.rstrip("/")
    if path == "":
        return f"{parts.scheme}://{parts.netloc}/bot"
    if path.endswith("/bot"):
        return f"{parts.scheme}://{parts.netloc}{path}"
    raise ValueError(
        f"TELEGRAM_API_URL is {url!r}: give the server's root (http://localhost:8081) or its …/bot base, "
        "without the token"
    )


def _initdata_key(e: Mapping[str, str]) -> str:
    """`TELEGRAM_INITDATA_PUBLIC_KEY` (hex) wins; `TELEGRAM_TEST_ENV=true` picks Telegram's test key."""
    explicit = (e.get("TELEGRAM_INITDATA_PUBLIC_KEY") or "").strip()
    if explicit:
        if len(explicit) != 64 or any(c not in "0123456789abcdefABCDEF" for c in explicit):
            raise ValueError("TELEGRAM_INITDATA_PUBLIC_KEY must be 64 hex characters")
        return explicit.lower()
    test_env = (e.get("TELEGRAM_TEST_ENV") or "").strip().lower() in ("1", "true", "yes")
    return TEST_ENV_INITDATA_KEY if test_env else PRODUCTION_INITDATA_KEY


def _flag(e: Mapping[str, str], name: str, default: bool) -> bool:
    """A "true" / "false" variable (as a CloudFormation parameter passes it); unset or empty is `default`."""
    raw = (e.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ValueError(f"{name} must be true or false, not {raw!r}")
    return raw == "true"


def _ids(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.replace(" ", "").split(",") if part)


def _on_lambda(e: Mapping[str, str]) -> bool:
    """Whether this is a Lambda container (the runtime names the function; the local stack's containers too)."""
    return bool(e.get("AWS_LAMBDA_FUNCTION_NAME"))


# What every function needs on Lambda, and the variables that give it (the value, or the SSM parameter naming it).
# Unset there, each would be a silent stand-in: a pseudonym key derived per function (blocks and bans looked up
# under another key than the one that wrote them), personal links to no bot, buttons to no Mini App.
_REQUIRED_ON_LAMBDA = (
    ("the bot token", ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_PARAM")),
    ("the pseudonym secret", ("MURMUR_PSEUDONYM_SECRET", "MURMUR_PSEUDONYM_SECRET_PARAM")),
    ("the bot's username", ("MURMUR_BOT_USERNAME",)),
    ("the Mini App URL", ("MURMUR_WEBAPP_URL", "MURMUR_WEBAPP_URL_PARAM")),
)


def _check_lambda_environment(e: Mapping[str, str]) -> None:
    """On Lambda a missing setting fails the container's start (the init error names it), never a first request."""
    missing = [
        f"{what} ({' or '.join(names)})"
        for what, names in _REQUIRED_ON_LAMBDA
        if not any((e.get(name) or "").strip() for name in names)
    ]
    if missing:
        raise ValueError(f"this function is not configured with {', '.join(missing)}")


@dataclass(frozen=True, slots=True)
class Limits:
    """Explicit limits on what one request or one person may do."""

    message_chars: int = 1000
    reply_chars: int = 1000
    report_chars: int = 300
    body_bytes: int = 16 * 1024
    webhook_body_bytes: int = 64 * 1024
    # Per sender (all inboxes), a fixed window. There is no limit per recipient: a popular owner sets their
    # own (slow mode, a daily cap; see docs/decisions/0007).
    sender_per_window: int = 20
    window_seconds: int = 3600
    inbox_page: int = 20
    # Per reporter: reports reach every admin (in a digest), so one person cannot make them their inbox.
    reports_per_hour: int = 5
    reports_per_day: int = 20


@dataclass(frozen=True, slots=True)
class Settings:
    users_table: str
    links_table: str
    messages_table: str
    orders_table: str
    payments_table: str
    state_table: str
    # Secrets: either the value (local stack, tests) or the SSM parameter that holds it (AWS).
    bot_token: str | None = None
    bot_token_param: str | None = None
    webhook_secret: str | None = None
    webhook_secret_param: str | None = None
    pseudonym_secret: str | None = None
    pseudonym_secret_param: str | None = None
    telegram_api_url: str = DEFAULT_API_URL
    dynamodb_endpoint: str | None = None
    region: str = "us-east-1"
    admin_ids: frozenset[int] = frozenset()
    # The deployment's own bot (the template requires BotUsername); no fallback to someone else's bot.
    bot_username: str = ""
    webapp_url: str = ""
    webapp_url_param: str | None = None
    initdata_max_age: int = 86400
    metrics_namespace: str = "Murmur"
    service_name: str = "murmur"
    # Which Telegram Ed25519 key checks initData's `signature`: production unless told otherwise
    # (Telegram's test environment has its own key; the sandbox and tests may bring their own).
    initdata_public_key: str = PRODUCTION_INITDATA_KEY
    # initData must carry Telegram's Ed25519 `signature` (Bot API 8.0): then the bot token alone, if it leaks,
    # cannot mint initData. Off only for clients older than Bot API 8.0 (docs/deploy.md).
    require_initdata_signature: bool = True
    order_ttl_seconds: int = 3600
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        if _on_lambda(e):
            _check_lambda_environment(e)
        return cls(
            users_table=e["USERS_TABLE"],
            links_table=e["LINKS_TABLE"],
            messages_table=e["MESSAGES_TABLE"],
            orders_table=e["ORDERS_TABLE"],
            payments_table=e["PAYMENTS_TABLE"],
            state_table=e["STATE_TABLE"],
            bot_token=e.get("TELEGRAM_BOT_TOKEN") or None,
            bot_token_param=e.get("TELEGRAM_BOT_TOKEN_PARAM") or None,
            webhook_secret=e.get("TELEGRAM_WEBHOOK_SECRET") or None,
            webhook_secret_param=e.get("TELEGRAM_WEBHOOK_SECRET_PARAM") or None,
            pseudonym_secret=e.get("MURMUR_PSEUDONYM_SECRET") or None,
            pseudonym_secret_param=e.get("MURMUR_PSEUDONYM_SECRET_PARAM") or None,
            telegram_api_url=bot_api_base(e.get("TELEGRAM_API_URL")),
            dynamodb_endpoint=e.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
            admin_ids=_ids(e.get("MURMUR_ADMIN_IDS", "")),
            bot_username=e.get("MURMUR_BOT_USERNAME", ""),
            webapp_url=e.get("MURMUR_WEBAPP_URL", ""),
            webapp_url_param=e.get("MURMUR_WEBAPP_URL_PARAM") or None,
            initdata_max_age=int(e.get("MURMUR_INITDATA_MAX_AGE", "86400")),
            metrics_namespace=e.get("POWERTOOLS_METRICS_NAMESPACE") or "Murmur",
            service_name=e.get("POWERTOOLS_SERVICE_NAME") or "murmur",
            initdata_public_key=_initdata_key(e),
            require_initdata_signature=_flag(e, "MURMUR_REQUIRE_INITDATA_SIGNATURE", default=True),
        )


@dataclass(frozen=True, slots=True)
class SetupEnvironment:
    """What `make setup-bot` hands to `python -m murmur.telegram.setup` (an operator's command, not a Lambda)."""

    site_url: str = ""
    webhook_url: str = ""
    bot_token: str = ""
    bot_token_param: str = ""
    webhook_secret: str = ""
    webhook_secret_param: str = ""
    region: str = ""
    telegram_api_url: str = DEFAULT_API_URL
    stack: str = ""
    # The stack's BotUsername parameter: the token must belong to that bot.
    bot_username: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SetupEnvironment:
        e = os.environ if env is None else env
        return cls(
            site_url=e.get("MURMUR_SITE_URL", "").strip(),
            webhook_url=e.get("MURMUR_WEBHOOK_URL", "").strip(),
            bot_token=e.get("TELEGRAM_BOT_TOKEN", "").strip(),
            bot_token_param=e.get("TELEGRAM_BOT_TOKEN_PARAM", "").strip(),
            webhook_secret=e.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            webhook_secret_param=e.get("TELEGRAM_WEBHOOK_SECRET_PARAM", "").strip(),
            region=(e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "").strip(),
            telegram_api_url=bot_api_base(e.get("TELEGRAM_API_URL")),
            stack=e.get("MURMUR_STACK", "").strip(),
            bot_username=e.get("MURMUR_BOT_USERNAME", "").strip(),
        )
