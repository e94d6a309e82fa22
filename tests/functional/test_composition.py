"""On AWS the secrets and the site URL come from SSM, read once per container (moto plays SSM)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from murmur.composition import Services
from murmur.config import Settings
from murmur.store.botocore_session import botocore_session

TABLES = {
    k: "t" for k in ("USERS_TABLE", "LINKS_TABLE", "MESSAGES_TABLE", "ORDERS_TABLE", "PAYMENTS_TABLE", "STATE_TABLE")
}


def test_secrets_and_site_url_come_from_ssm_once() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/murmur/bot-token", Value="1:tok", Type="SecureString")
        ssm.put_parameter(Name="/murmur/webhook-secret", Value="sec", Type="SecureString")
        ssm.put_parameter(Name="/murmur/pseudonym-secret", Value="pse", Type="SecureString")
        ssm.put_parameter(Name="/murmur/site-url", Value="https://d123.cloudfront.net/", Type="String")
        env = {
            **TABLES,
            "AWS_REGION": "us-east-1",
            "TELEGRAM_BOT_TOKEN_PARAM": "/murmur/bot-token",
            "TELEGRAM_WEBHOOK_SECRET_PARAM": "/murmur/webhook-secret",
            "MURMUR_PSEUDONYM_SECRET_PARAM": "/murmur/pseudonym-secret",
            "MURMUR_WEBAPP_URL_PARAM": "/murmur/site-url",
        }
        calls: list[str] = []
        session = botocore_session()

        def count(model: Any, **_: Any) -> None:
            calls.append(model.name)

        session.register("before-call.ssm", count)
        try:
            services = Services(Settings.from_env(env))
            values = (services.bot_token, services.webhook_secret, services.pseudonym_secret, services.webapp_url)
        finally:
            session.unregister("before-call.ssm", count)
        assert calls == ["GetParameters"]  # all four in one round trip on the cold start
        assert values == ("1:tok", "sec", b"pse", "https://d123.cloudfront.net/")
        assert services.bot_token == "1:tok"
        assert services.webhook_secret == "sec"
        assert services.pseudonym_secret == b"pse"
        assert services.webapp_url == "https://d123.cloudfront.net/"
        ssm.put_parameter(Name="/murmur/bot-token", Value="2:new", Type="SecureString", Overwrite=True)
        assert services.bot_token == "1:tok"  # cached for the container's life


def test_a_missing_parameter_is_named_in_the_error() -> None:
    with mock_aws():
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/murmur/bot-token", Value="1:tok", Type="SecureString"
        )
        env = {**TABLES, "AWS_REGION": "us-east-1", "TELEGRAM_BOT_TOKEN_PARAM": "/murmur/bot-token"}
        env["TELEGRAM_WEBHOOK_SECRET_PARAM"] = "/murmur/not-there"
        services = Services(Settings.from_env(env))
        with pytest.raises(RuntimeError, match="/murmur/not-there"):
            _ = services.bot_token


def test_botocore_is_told_which_services_exist() -> None:
    """The loader skips botocore's walk of ~420 service directories; the two services we use still load."""
    from botocore.exceptions import UnknownServiceError

    session = botocore_session()
    for service in ("dynamodb", "ssm"):
        assert session.create_client(service, region_name="us-east-1").meta.service_model.service_name == service
    with pytest.raises(UnknownServiceError, match="dynamodb, ssm"):
        session.create_client("s3", region_name="us-east-1")
