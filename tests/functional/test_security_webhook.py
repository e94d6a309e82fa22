"""POST /webhook: only Telegram (who knows the secret token) gets in, bodies are bounded, redeliveries are no-ops."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.local_stack import LocalStack
from tests.functional.conftest import CARLA


def post_webhook(stack: LocalStack, body: bytes, secret: str | None) -> tuple[int, Any]:
    headers = {"Host": "127.0.0.1", "Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    status, _, data = stack.emulator.invoke("POST", "/webhook", headers, body)
    return status, data


def start_update(stack: LocalStack, update_id: int, user_id: int = CARLA) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Carla", "language_code": "es"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": stack.bot_api.allocate_message_id(user_id),
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Carla"},
            "date": int(stack.now()),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def test_missing_secret_is_401_and_has_no_effect(stack: LocalStack) -> None:
    status, data = post_webhook(stack, json.dumps(start_update(stack, 91_001)).encode(), None)
    assert status == 401 and json.loads(data)["error"]["message"]
    assert stack.bot_api.calls("sendMessage") == []


WRONG_SECRETS = ["nope", "sandbox-webhook-secret-not-secreT", "sandbox-webhook-secret-not-secret-", "sandbox-webhook"]


@pytest.mark.parametrize("wrong", WRONG_SECRETS)
def test_wrong_secret_is_403_and_has_no_effect(stack: LocalStack, wrong: str) -> None:
    update_id = 92_000 + WRONG_SECRETS.index(wrong)
    status, _ = post_webhook(stack, json.dumps(start_update(stack, update_id)).encode(), wrong)
    assert status == 403
    assert stack.bot_api.calls("sendMessage") == []
    # The refused update id was not consumed: Telegram's real delivery of it still works.
    assert post_webhook(stack, json.dumps(start_update(stack, update_id)).encode(), stack.webhook_secret)[0] == 200
    assert len(stack.bot_api.succeeded("sendMessage", chat_id=CARLA)) == 1


def test_the_secret_is_compared_in_constant_time() -> None:
    """The comparison is hmac.compare_digest (timing cannot be asserted without flakiness; the code can)."""
    import inspect

    from murmur.telegram import webhook

    source = inspect.getsource(webhook)
    assert "hmac.compare_digest(" in source
    assert "== self.services.webhook_secret" not in source and "webhook_secret ==" not in source


def test_body_over_64_kib_is_413_and_has_no_effect(stack: LocalStack) -> None:
    update = start_update(stack, 91_003)
    update["message"]["padding"] = "x" * (64 * 1024)
    status, _ = post_webhook(stack, json.dumps(update).encode(), stack.webhook_secret)
    assert status == 413
    assert stack.bot_api.calls("sendMessage") == []


def test_non_update_body_is_400(stack: LocalStack) -> None:
    for body in (b"not json", b"[]", b'{"message": {}}', b'{"update_id": "x"}'):
        assert post_webhook(stack, body, stack.webhook_secret)[0] == 400, body


def test_a_redelivered_update_has_no_second_effect(stack: LocalStack) -> None:
    update = start_update(stack, 91_004)
    first = stack.webhook(update)
    again = stack.webhook(update)
    assert first.status == again.status == 200
    welcomes = stack.bot_api.succeeded("sendMessage", chat_id=CARLA)
    assert len(welcomes) == 1, welcomes
    # A new update id is a new /start: it is answered.
    stack.webhook(start_update(stack, 91_005))
    assert len(stack.bot_api.succeeded("sendMessage", chat_id=CARLA)) == 2
