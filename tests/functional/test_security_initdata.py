"""The API's gate: `Authorization: tma <initData>` checked (HMAC, Ed25519 when sent, age, future) before routing.

The stack here is configured with our own stand-in for Telegram's Ed25519 key (TELEGRAM_INITDATA_PUBLIC_KEY),
because only Telegram holds the private half of the real one. Every refusal is a 401 in the error envelope
and writes nothing: the user the request claims to be does not appear in the Users table."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from nacl.signing import SigningKey

from sandbox.initdata_signer import sign_fields, sign_init_data
from sandbox.local_stack import LocalStack

TELEGRAM_STAND_IN_SEED = hashlib.sha256(b"murmur tests: Telegram's Ed25519 key").hexdigest()
OTHER_SEED = hashlib.sha256(b"murmur tests: somebody else's key").hexdigest()
KEY_VARIABLE = "TELEGRAM_INITDATA_PUBLIC_KEY"


@pytest.fixture(scope="module")
def signed_stack() -> Iterator[LocalStack]:
    """The stack trusts the stand-in key (it sets TELEGRAM_INITDATA_PUBLIC_KEY from the seed)."""
    with LocalStack(initdata_seed=TELEGRAM_STAND_IN_SEED) as stack:
        assert stack.env[KEY_VARIABLE] == SigningKey(bytes.fromhex(TELEGRAM_STAND_IN_SEED)).verify_key.encode().hex()
        yield stack


def person(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "first_name": f"Tester{user_id}", "language_code": "en", "allows_write_to_pm": True}


def init_data(stack: LocalStack, user_id: int, *, age: int = 0, seed: str | None = TELEGRAM_STAND_IN_SEED) -> str:
    return sign_init_data(
        stack.bot_token,
        person(user_id),
        auth_date=int(stack.now()) - age,
        query_id="AAHtestquery",
        extra={"chat_type": "private", "chat_instance": "4000000001"},
        ed25519_signing_key_hex=seed,
    )


def get_me(stack: LocalStack, authorization: str | None) -> Any:
    headers = {"Host": "127.0.0.1"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return stack.emulator.invoke("GET", "/api/me", headers, b"")


def user_exists(stack: LocalStack, user_id: int) -> bool:
    client = stack.dynamodb_client()
    try:
        item = client.get_item(
            TableName=stack.tables["USERS_TABLE"], Key={"user_id": {"N": str(user_id)}}, ConsistentRead=True
        )
    finally:
        client.close()
    return "Item" in item


def assert_refused(stack: LocalStack, response: Any, user_id: int | None) -> str:
    import json

    status, _, body = response
    assert status == 401, body
    error = json.loads(body)["error"]
    assert error["code"] == "unauthorized" and error["message"]
    if user_id is not None:
        assert not user_exists(stack, user_id)
    return str(error["message"])


def test_valid_initdata_with_telegram_signature_is_accepted(signed_stack: LocalStack) -> None:
    status, _, body = get_me(signed_stack, f"tma {init_data(signed_stack, 7001)}")
    assert status == 200, body
    assert user_exists(signed_stack, 7001)


def test_initdata_without_signature_is_refused_as_the_template_requires_it(signed_stack: LocalStack) -> None:
    # RequireInitDataSignature defaults to true: the HMAC alone (anyone with the bot token) is not enough.
    # With the requirement off it passes: tests/functional/test_trust_inputs.py.
    unsigned = init_data(signed_stack, 7002, seed=None)
    message = assert_refused(signed_stack, get_me(signed_stack, f"tma {unsigned}"), 7002)
    assert "signature" in message


def test_no_header_is_refused(signed_stack: LocalStack) -> None:
    assert_refused(signed_stack, get_me(signed_stack, None), None)


@pytest.mark.parametrize("scheme", ["Bearer", "Basic", "tma_", "", "tma"])
def test_wrong_scheme_is_refused(signed_stack: LocalStack, scheme: str) -> None:
    raw = init_data(signed_stack, 7003)
    header = f"{scheme} {raw}" if scheme != "tma" else "tma "
    assert_refused(signed_stack, get_me(signed_stack, header), 7003)


def test_tampered_user_is_refused(signed_stack: LocalStack) -> None:
    raw = init_data(signed_stack, 7004)
    forged = raw.replace("7004", "7005")
    assert forged != raw
    assert_refused(signed_stack, get_me(signed_stack, f"tma {forged}"), 7005)


def test_signature_by_another_key_is_refused_even_with_a_valid_hmac(signed_stack: LocalStack) -> None:
    # The hash is right (whoever signed knew the bot token) but the Ed25519 signature is not Telegram's.
    raw = init_data(signed_stack, 7006, seed=OTHER_SEED)
    message = assert_refused(signed_stack, get_me(signed_stack, f"tma {raw}"), 7006)
    assert "signature" in message


def test_hmac_with_another_bot_token_is_refused(signed_stack: LocalStack) -> None:
    raw = sign_fields(
        "999:other-bot-token",
        [("user", '{"id":7007,"first_name":"Eve"}'), ("auth_date", str(int(signed_stack.now())))],
    )
    assert_refused(signed_stack, get_me(signed_stack, f"tma {raw}"), 7007)


def test_expired_initdata_is_refused(signed_stack: LocalStack) -> None:
    raw = init_data(signed_stack, 7008, age=86400 + 5)
    assert "older" in assert_refused(signed_stack, get_me(signed_stack, f"tma {raw}"), 7008)


def test_initdata_from_the_future_is_refused(signed_stack: LocalStack) -> None:
    raw = init_data(signed_stack, 7009, age=-3600)
    assert "future" in assert_refused(signed_stack, get_me(signed_stack, f"tma {raw}"), 7009)


def test_refused_before_any_write_route_runs(signed_stack: LocalStack) -> None:
    """A forged sender cannot post: the 401 comes before validation and routing, and no message appears."""
    import json

    owner = get_me(signed_stack, f"tma {init_data(signed_stack, 7010)}")
    code = json.loads(owner[2])["link"]["code"]
    forged = init_data(signed_stack, 7011).replace("7011", "7012")
    status, _, body = signed_stack.emulator.invoke(
        "POST",
        f"/api/links/{code}/messages",
        {"Host": "127.0.0.1", "Authorization": f"tma {forged}", "Content-Type": "application/json"},
        json.dumps({"text": "hello"}).encode(),
    )
    assert status == 401, body
    inbox = signed_stack.emulator.invoke(
        "GET", "/api/inbox", {"Host": "127.0.0.1", "Authorization": f"tma {init_data(signed_stack, 7010)}"}, b""
    )
    assert json.loads(inbox[2])["messages"] == []
    assert not user_exists(signed_stack, 7012)


def test_the_default_key_is_telegrams_production_key(signed_stack: LocalStack) -> None:
    """Without configuration, a signature made by anyone but Telegram's production key is refused."""
    from murmur.config import PRODUCTION_INITDATA_KEY, Settings
    from murmur.initdata_keys import PRODUCTION_PUBLIC_KEY

    tables = {name: "t" for name in ("USERS_TABLE", "LINKS_TABLE", "MESSAGES_TABLE", "ORDERS_TABLE")}
    tables |= {"PAYMENTS_TABLE": "t", "STATE_TABLE": "t"}
    assert Settings.from_env(tables).initdata_public_key == PRODUCTION_PUBLIC_KEY == PRODUCTION_INITDATA_KEY
    assert Settings.from_env({**tables, "TELEGRAM_TEST_ENV": "true"}).initdata_public_key != PRODUCTION_PUBLIC_KEY
    with pytest.raises(ValueError):
        Settings.from_env({**tables, KEY_VARIABLE: "not-hex"})
