"""The anonymity promise and erasure, proven on everything that leaves the backend and everything it stores.

1. A full product flow while capturing every API answer to the owner, every Bot API call to anyone but the
   sender (owner and admins), and all output of the process (file descriptors 1 and 2, where Powertools'
   Logger writes JSON, and every logging record): the sender's id, names and username appear nowhere.
2. `DELETE /api/me` and `/deleteme`: afterwards a Scan of every table (allowed in a test, never in the app)
   finds the person only in what docs/anonymity.md says stays: anonymized ledger rows (no user_id),
   rate-limit windows that expire within the hour and, for the refund window, who paid each charge.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.local_stack import ApiResponse, LocalStack
from tests.functional.conftest import ALICE, BOB, CARLA

SENDER = {
    "id": 7_350_919_264,
    "is_bot": False,
    "first_name": "Zebulon",
    "last_name": "Quillfeather",
    "username": "zq_hidden_writer",
    "language_code": "en",
    "is_premium": True,
}
SECRETS = (str(SENDER["id"]), "Zebulon", "Quillfeather", "zq_hidden_writer")


class Everything(logging.Handler):
    """Every log record of every logger, formatted with its arguments and exception."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {self.format(record)} {record.__dict__!r}")


@pytest.fixture
def capture_logs() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # what Lambda runs with; botocore's DEBUG wire dumps are not on in production
    logging.getLogger("murmur").setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        logging.getLogger("murmur").setLevel(logging.NOTSET)


def test_the_sender_is_never_revealed_to_the_owner_admins_or_logs(
    capfd: pytest.CaptureFixture[str], capture_logs: Everything
) -> None:
    owner_answers: list[ApiResponse] = []
    with LocalStack() as stack:
        stack.bot_api.register_user(SENDER["id"], SENDER["first_name"], username=SENDER["username"], language_code="en")

        def as_owner(method: str, path: str, body: Any = None) -> Any:
            response = stack.api(method, path, user=BOB, json=body)
            owner_answers.append(response)
            assert response.status < 300, response.body
            return response.json()

        code = as_owner("GET", "/api/me")["link"]["code"]
        # The sender: sees the hint ladder, writes with a gift and a nickname, pays for the gift.
        assert stack.api("GET", f"/api/links/{code}", user=SENDER).status == 200
        sent = stack.api(
            "POST",
            f"/api/links/{code}/messages",
            user=SENDER,
            json={"text": "I always liked your laugh at lunch", "gift": "heart", "show_nickname": True},
        )
        assert sent.status == 201, sent.body
        message_id = sent.json()["message_id"]
        assert stack.pay_invoice(SENDER, sent.json()["gift_invoice"]["invoice_link"])["status"] == "paid"

        # The owner: inbox, read, unlock, three hints, reply, report; the admin refunds a hint.
        as_owner("GET", "/api/inbox")
        as_owner("GET", f"/api/messages/{message_id}")
        charges = []
        for product in ("unlock", "hint", "hint", "hint"):
            order = as_owner("POST", "/api/orders", {"product": product, "message_id": message_id})
            paid = stack.pay_invoice(BOB, order["invoice_link"])
            assert paid["status"] == "paid", paid
            charges.append(paid["charge_id"])
            as_owner("GET", f"/api/orders/{order['order_id']}")
        read = as_owner("GET", f"/api/messages/{message_id}")
        assert read["text"] == "I always liked your laugh at lunch" and read["hints_left"] == 0
        as_owner("POST", f"/api/messages/{message_id}/reply", {"text": "who is this?"})
        as_owner("POST", f"/api/messages/{message_id}/report", {"reason": "just checking"})
        stack.send_text(ALICE, f"/refund {charges[-1]}")
        stack.run_cron()
        stack.send_text(BOB, "/start")
        stack.send_text(BOB, "/terms")
        as_owner("GET", "/api/inbox")
        as_owner("GET", "/api/me")

        # The flow really happened: the reply reached the sender, the report the admin, the refund the owner.
        assert any("who is this?" in m.get("text", "") for m in stack.bot_api.messages_to(SENDER["id"]))
        assert any("I always liked" in m.get("text", "") for m in stack.bot_api.messages_to(ALICE))
        assert stack.bot_api.calls("refundStarPayment")
        towards_others = [
            json.dumps(call.params, ensure_ascii=False, default=str)  # what the backend sent, not Telegram's answer
            for call in stack.bot_api.calls()
            if str(call.params.get("chat_id")) != str(SENDER["id"])
        ]
        function_logs = stack.log_lines()  # everything the containers wrote: what CloudWatch Logs would keep
    out, err = capfd.readouterr()

    assert len(owner_answers) >= 15 and len(towards_others) >= 10
    assert any('"level"' in line for line in function_logs)  # the functions' logging was seen
    places = {
        "API answers to the owner": "\n".join(r.body.decode() for r in owner_answers),
        "Bot API calls to the owner and admins": "\n".join(towards_others),
        "function logs": "\n".join(function_logs),
        "stdout": out,
        "stderr": err,
        "log records": "\n".join(capture_logs.lines),
    }
    for where, text in places.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in {where}"


# ---------------------------------------------------------------------- erasure
def every_item(stack: LocalStack) -> Iterator[tuple[str, dict[str, Any]]]:
    client = stack.dynamodb_client()
    try:
        for variable, table in stack.tables.items():
            for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                for item in page["Items"]:
                    yield variable, item
    finally:
        client.close()


def items_naming(stack: LocalStack, *needles: str) -> list[tuple[str, dict[str, Any]]]:
    return [(t, i) for t, i in every_item(stack) if any(n in json.dumps(i, ensure_ascii=False) for n in needles)]


def build_a_life(stack: LocalStack, person: dict[str, Any]) -> dict[str, Any]:
    """Everything a person can leave behind: an inbox, messages read and bought, blocks, sent messages,
    a paid plan, a pending order, a referral."""
    stack.bot_api.register_user(person["id"], person["first_name"], language_code="en")
    code = stack.api("GET", "/api/me", user=person).json()["link"]["code"]
    ids = []
    for sender in (BOB, CARLA):
        text = f"hi there, this one is from {sender}"
        sent = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": text})
        assert sent.status == 201, sent.body
        ids.append(sent.json()["message_id"])
    order = stack.api("POST", "/api/orders", user=person, json={"product": "unlock", "message_id": ids[0]}).json()
    assert stack.pay_invoice(person, order["invoice_link"])["status"] == "paid"
    plus = stack.api("POST", "/api/orders", user=person, json={"product": "plus_week"}).json()
    assert stack.pay_invoice(person, plus["invoice_link"])["status"] == "paid"
    assert stack.api("POST", "/api/orders", user=person, json={"product": "hint", "message_id": ids[1]}).status == 201
    assert stack.api("POST", f"/api/messages/{ids[1]}/block", user=person).status == 200
    assert stack.api("POST", f"/api/messages/{ids[0]}/report", user=person, json={}).status == 202
    carla_code = stack.api("GET", "/api/me", user=CARLA).json()["link"]["code"]
    to_carla = stack.api(
        "POST",
        f"/api/links/{carla_code}/messages",
        user=person,
        json={"text": "a message Carla keeps", "show_nickname": True},
    )
    assert to_carla.status == 201, to_carla.body
    referred = {"id": person["id"] + 1, "is_bot": False, "first_name": "Invitee", "language_code": "en"}
    assert stack.api("GET", "/api/me", user=referred, start_param=f"ref_{code}").status == 200
    needles = (str(person["id"]), person["first_name"], code)
    assert {t for t, _ in items_naming(stack, *needles)} >= {
        "USERS_TABLE",
        "LINKS_TABLE",
        "MESSAGES_TABLE",
        "ORDERS_TABLE",
        "PAYMENTS_TABLE",
        "STATE_TABLE",
    }
    return {"code": code, "to_carla": to_carla.json()["message_id"], "referred": referred}


def assert_erased(stack: LocalStack, person: dict[str, Any], life: dict[str, Any]) -> None:
    needles = (str(person["id"]), person["first_name"], life["code"])
    remaining = items_naming(stack, *needles)
    unexpected = []
    ledger = 0
    for table, item in remaining:
        pk = item.get("pk", {}).get("S", "")
        if table == "STATE_TABLE" and pk.startswith("rate#") and "ttl" in item:
            continue  # rate windows: expire within the hour; kept so erasing cannot reset a limit
        if table == "STATE_TABLE" and pk.startswith("refund#") and "ttl" in item:
            continue  # who paid a charge, for its refund window only: Telegram refunds to a user id
        unexpected.append((table, item))
    for table, item in every_item(stack):
        if table == "PAYMENTS_TABLE" and item.get("anonymized", {}).get("BOOL"):
            assert "user_id" not in item and "order_id" not in item
            ledger += 1
    assert not unexpected, unexpected
    assert ledger >= 2  # the unlock and the Plus week, kept as the anonymized ledger

    # The message the person sent stays with Carla, without any way back to them.
    kept = stack.api("GET", f"/api/messages/{life['to_carla']}", user=CARLA).json()
    assert kept["nickname"] is None and kept["hints_left"] == 0
    reply = stack.api("POST", f"/api/messages/{life['to_carla']}/reply", user=CARLA, json={"text": "hello?"})
    assert reply.status == 409
    # The link is gone.
    assert stack.api("GET", f"/api/links/{life['code']}", user=BOB).status == 404


def test_delete_me_erases_everything_but_the_anonymized_ledger(stack: LocalStack) -> None:
    person = {"id": 7_100_000_001, "is_bot": False, "first_name": "Xanthippe", "language_code": "en"}
    life = build_a_life(stack, person)
    erased = stack.api("DELETE", "/api/me", user=person)
    assert erased.status == 200 and erased.json()["erased"] is True
    assert_erased(stack, person, life)
    # Erasing twice is fine.
    assert stack.api("DELETE", "/api/me", user=person).status == 200


def test_deleteme_in_the_bot_erases_everything_but_the_anonymized_ledger(stack: LocalStack) -> None:
    person = {"id": 7_200_000_001, "is_bot": False, "first_name": "Ottoline", "language_code": "en"}
    life = build_a_life(stack, person)
    assert stack.send_text(person, "/deleteme").status == 200
    assert stack.bot_api.messages_to(person["id"])[-1]["text"]  # told it is done
    # /deleteme answers with a message, and sending it again creates nothing new but that answer.
    assert_erased(stack, person, life)
