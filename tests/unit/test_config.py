"""Settings on Lambda: what every function needs is there at start, or the container does not start; nothing is
stood in for silently (issue 15, "Silent fallbacks")."""

from __future__ import annotations

import re

import pytest

from murmur.composition import Services
from murmur.config import Settings

TABLES = {
    k: "t" for k in ("USERS_TABLE", "LINKS_TABLE", "MESSAGES_TABLE", "ORDERS_TABLE", "PAYMENTS_TABLE", "STATE_TABLE")
}
# What the template gives every function (names of SSM parameters, not values).
ON_LAMBDA = {
    **TABLES,
    "AWS_LAMBDA_FUNCTION_NAME": "murmur-MiniAppApiFunction",
    "TELEGRAM_BOT_TOKEN_PARAM": "/murmur/bot-token",
    "MURMUR_PSEUDONYM_SECRET_PARAM": "/murmur/pseudonym-secret",
    "MURMUR_BOT_USERNAME": "murmur_bot",
    "MURMUR_WEBAPP_URL_PARAM": "/murmur/site-url",
}


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (("MURMUR_PSEUDONYM_SECRET_PARAM",), "the pseudonym secret (MURMUR_PSEUDONYM_SECRET or"),
        (("TELEGRAM_BOT_TOKEN_PARAM",), "the bot token (TELEGRAM_BOT_TOKEN or"),
        (("MURMUR_BOT_USERNAME",), "the bot's username (MURMUR_BOT_USERNAME)"),
        (("MURMUR_WEBAPP_URL_PARAM",), "the Mini App URL (MURMUR_WEBAPP_URL or"),
    ],
)
def test_on_lambda_a_missing_setting_fails_at_start_and_is_named(unset: tuple[str, ...], named: str) -> None:
    # Configured as the template configures every function, it starts.
    settings = Settings.from_env(ON_LAMBDA)
    assert settings.pseudonym_secret_param == "/murmur/pseudonym-secret" and settings.bot_username == "murmur_bot"
    for value in (None, "", "  "):  # unset, or set to nothing (an empty CloudFormation parameter)
        env = {k: v for k, v in ON_LAMBDA.items() if k not in unset}
        if value is not None:
            env.update(dict.fromkeys(unset, value))
        with pytest.raises(ValueError, match=re.escape(f"not configured with {named}")):
            Settings.from_env(env)


def test_off_lambda_nothing_is_required_at_start_but_no_pseudonym_key_is_made_up() -> None:
    """Tests and tools build Settings from a few variables; a secret they did not give is an error when used,
    never a key derived from the bot token (which another process would not derive alike)."""
    services = Services(Settings.from_env({**TABLES, "TELEGRAM_BOT_TOKEN": "1:token"}))
    assert services.bot_token == "1:token"
    with pytest.raises(RuntimeError, match="the pseudonym secret is not configured"):
        _ = services.pseudonym_secret
    given = Services(Settings.from_env({**TABLES, "MURMUR_PSEUDONYM_SECRET": "one key"}))
    assert given.pseudonym_secret == b"one key"
    # On Lambda too, the value itself does as well as the parameter naming it.
    env = {k: v for k, v in ON_LAMBDA.items() if k != "MURMUR_PSEUDONYM_SECRET_PARAM"}
    assert Settings.from_env({**env, "MURMUR_PSEUDONYM_SECRET": "s"}).pseudonym_secret == "s"
