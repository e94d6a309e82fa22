"""The cron's first runs after a first deploy are clean, before the stack has published the site URL.

On AWS the schedule exists (and fires) minutes before the stack's SiteUrlParameter does: the parameter waits for
the CloudFront distribution. A run that fails there parks a message in the failure queue, whose alarm stays red
until someone purges it. Here the stack runs as deployed (each function in its own process, its environment
and IAM policy from the template, secrets read from SSM), with the site URL not written yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from murmur.composition import Services
from murmur.config import Settings
from murmur.store.botocore_session import botocore_session
from sandbox.local_stack import LocalStack
from tests.functional.helpers import buy, person

DAY = 86400
SITE = "https://d111111abcdef8.cloudfront.net/"


def _ssm(stack: LocalStack) -> Any:
    """The operator's SSM (CloudFormation's rights), straight to moto."""
    return boto3.client(
        "ssm",
        endpoint_url=stack.moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stack_before_the_site_url() -> Iterator[tuple[LocalStack, str]]:
    with LocalStack() as stack:
        name = f"/{stack.stack_name}/site-url"
        _ssm(stack).delete_parameter(Name=name)  # the stack has not published it yet
        yield stack, name


def test_cron_runs_before_the_site_url_exists_are_clean_and_pick_it_up_once_published(
    stack_before_the_site_url: tuple[LocalStack, str],
) -> None:
    stack, name = stack_before_the_site_url
    # Given a fresh stack whose site URL is not published yet; When the schedule fires twice
    first, second = stack.run_cron(), stack.run_cron()

    # Then both runs succeed (nothing for the failure queue) and did what little was due
    assert first["failed_steps"] == [] and second["failed_steps"] == []
    assert stack.functions["SubscriptionsCronFunction"].container.cold_starts == 1  # the second ran warm

    # When the stack publishes the URL, and a Plus pass later comes near its end
    _ssm(stack).put_parameter(Name=name, Value=SITE, Type="String")
    owner = person()
    buy(stack, owner, "plus_week")
    stack.advance_clock(6 * DAY + 60)
    reminded = stack.run_cron()

    # Then the same warm container read the URL: the reminder's button opens the published Mini App
    assert reminded["failed_steps"] == [] and reminded["reminded"] >= 1
    assert stack.functions["SubscriptionsCronFunction"].container.cold_starts == 1
    buttons = [
        button["web_app"]["url"]
        for message in stack.bot_api.messages_to(owner["id"])
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in row
        if "web_app" in button
    ]
    assert buttons and all(url.startswith(SITE) for url in buttons[-1:])


TABLES = {
    k: "t" for k in ("USERS_TABLE", "LINKS_TABLE", "MESSAGES_TABLE", "ORDERS_TABLE", "PAYMENTS_TABLE", "STATE_TABLE")
}


def test_a_missing_site_url_is_asked_again_and_a_missing_secret_still_fails() -> None:
    """In one container: the secrets in one GetParameters; the site URL, while absent, asked for again on each
    use (one call), then kept; a missing secret is an error that names it, as before."""
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/murmur/bot-token", Value="1:tok", Type="SecureString")
        env = {
            **TABLES,
            "AWS_REGION": "us-east-1",
            "TELEGRAM_BOT_TOKEN_PARAM": "/murmur/bot-token",
            "MURMUR_WEBAPP_URL_PARAM": "/murmur/site-url",
        }
        calls: list[str] = []

        def count(model: Any, **_: Any) -> None:
            calls.append(model.name)

        session = botocore_session()
        session.register("before-call.ssm", count)
        try:
            services = Services(Settings.from_env(env))
            assert services.bot_token == "1:tok" and services.webapp_url == ""
            ssm.put_parameter(Name="/murmur/site-url", Value=SITE, Type="String")
            assert services.webapp_url == SITE
            before = len(calls)
            assert services.webapp_url == SITE and len(calls) == before  # kept once found
        finally:
            session.unregister("before-call.ssm", count)

        missing = Services(Settings.from_env({**env, "TELEGRAM_BOT_TOKEN_PARAM": "/murmur/not-there"}))
        with pytest.raises(RuntimeError, match="/murmur/not-there"):
            _ = missing.bot_token
