"""`make dev` honours AWS_ENDPOINT_URL_DYNAMODB and TELEGRAM_API_URL (ARCHITECTURE.md "Configuration")."""

from __future__ import annotations

import boto3
from moto.server import ThreadedMotoServer

from sandbox.fake_bot_api import FakeBotApi
from sandbox.local_stack import SANDBOX_BOT_TOKEN, LocalStack


def test_own_dynamodb_and_bot_api_replace_the_embedded_ones() -> None:
    own_dynamodb = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    own_dynamodb.start()
    host, port = own_dynamodb.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    own_bot_api = FakeBotApi(SANDBOX_BOT_TOKEN).start()
    try:
        with LocalStack(dynamodb_endpoint=endpoint, telegram_api_url=own_bot_api.base_url) as stack:
            assert stack.env["AWS_ENDPOINT_URL_DYNAMODB"] == endpoint
            code = stack.api("GET", "/api/me", user=1001).json()["link"]["code"]
            sent = stack.api("POST", f"/api/links/{code}/messages", user=1002, json={"text": "over there"})
            assert sent.status == 201
            client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
            tables = client.list_tables()["TableNames"]
            assert stack.env["MESSAGES_TABLE"] in tables
            stack.run_cron()  # the owner's announcement (ADR 0007)
            assert own_bot_api.calls("sendMessage", chat_id=1001)  # the notification went to our Bot API
            assert not stack.bot_api.calls("sendMessage")
    finally:
        own_bot_api.stop()
        own_dynamodb.stop()
        server = getattr(own_dynamodb, "_server", None)
        if server is not None:
            server.server_close()
