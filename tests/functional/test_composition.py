"""On AWS the secrets and the site URL come from SSM, read once per container (moto plays SSM)."""

from __future__ import annotations

import boto3
from moto import mock_aws

from murmur.composition import Services
from murmur.config import Settings

TABLES = {
    k: "t"
    for k in ("USERS_TABLE", "LINKS_TABLE", "MESSAGES_TABLE", "ORDERS_TABLE", "PAYMENTS_TABLE", "STATE_TABLE")
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
        services = Services(Settings.from_env(env))
        assert services.bot_token == "1:tok"
        assert services.webhook_secret == "sec"
        assert services.pseudonym_secret == b"pse"
        assert services.webapp_url == "https://d123.cloudfront.net/"
        ssm.put_parameter(Name="/murmur/bot-token", Value="2:new", Type="SecureString", Overwrite=True)
        assert services.bot_token == "1:tok"  # cached for the container's life
