"""The product's operations as the bench drives them, through the real handlers of a running LocalStack:
the Mini App's HTTP calls (`stack.api`) and Telegram's updates (`stack.webhook`), each checked for success
so that a broken operation fails the bench instead of timing an error page."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.dynamodb_server import dynamodb_server
from sandbox.local_stack import ApiResponse, LocalStack


class BenchError(RuntimeError):
    """An operation the bench drives did not do what it should (so its timing would be meaningless)."""


def person(user_id: int, first_name: str | None = None) -> dict[str, Any]:
    """A Telegram user as initData and updates carry it."""
    return {"id": user_id, "is_bot": False, "first_name": first_name or f"U{user_id}", "language_code": "en"}


@contextmanager
def quiet_stack() -> Iterator[LocalStack]:
    """A LocalStack with its DynamoDB in a process of its own (`bench.dynamodb_server`); INFO lines stay out
    of the bench's output."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with dynamodb_server() as endpoint, LocalStack(dynamodb_endpoint=endpoint) as stack:
        for function in stack.functions.values():
            logger = getattr(function.module, "logger", None)
            if logger is not None and hasattr(logger, "setLevel"):
                logger.setLevel("WARNING")
        yield stack


def _expect(response: ApiResponse, status: int, what: str) -> ApiResponse:
    if response.status != status:
        raise BenchError(f"{what}: HTTP {response.status} {response.body[:300]!r}")
    return response


class World:
    """Users, links and payments on one stack. Ids are its own (from 5,000,000), apart from the demo users."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self._ids = itertools.count(5_000_000)

    def next_id(self) -> int:
        return next(self._ids)

    # ------------------------------------------------------------------ the Mini App
    def register(self, user_id: int, first_name: str | None = None) -> str:
        """Open the Mini App once (creates the user); returns their link code."""
        me = _expect(self.stack.api("GET", "/api/me", user=person(user_id, first_name)), 200, "GET /api/me")
        return str(me.json()["link"]["code"])

    def send(self, code: str, sender_id: int, text: str = "You make every day brighter, thank you") -> str:
        response = self.stack.api("POST", f"/api/links/{code}/messages", user=person(sender_id), json={"text": text})
        return str(_expect(response, 201, "send").json()["message_id"])

    def inbox(self, owner_id: int) -> list[dict[str, Any]]:
        return list(
            _expect(self.stack.api("GET", "/api/inbox", user=person(owner_id)), 200, "inbox").json()["messages"]
        )

    def read(self, owner_id: int, message_id: str) -> dict[str, Any]:
        response = self.stack.api("GET", f"/api/messages/{message_id}", user=person(owner_id))
        return dict(_expect(response, 200, "read").json())

    def create_order(self, owner_id: int, message_id: str, product: str = "unlock") -> dict[str, Any]:
        response = self.stack.api(
            "POST", "/api/orders", user=person(owner_id), json={"product": product, "message_id": message_id}
        )
        return dict(_expect(response, 201, "create order").json())

    # ------------------------------------------------------------------ Telegram's side
    def pre_checkout(self, payer_id: int, order: dict[str, Any]) -> None:
        """Telegram asks the bot to confirm the order; the bot must say ok."""
        query_id = str(self.next_id())
        update = {
            "update_id": self.next_id(),
            "pre_checkout_query": {
                "id": query_id,
                "from": person(payer_id),
                "currency": "XTR",
                "total_amount": int(order["amount"]),
                "invoice_payload": str(order["order_id"]),
            },
        }
        _expect(self.stack.webhook(update), 200, "pre_checkout_query")
        answers = self.stack.bot_api.calls("answerPreCheckoutQuery", pre_checkout_query_id=query_id)
        if not answers or answers[-1].params.get("ok") is not True:
            raise BenchError(f"pre-checkout was not accepted: {[a.params for a in answers]}")

    def fulfil(self, payer_id: int, order: dict[str, Any]) -> None:
        """Telegram reports the payment (successful_payment); the bot records it and grants the unlock."""
        amount, payload = int(order["amount"]), str(order["order_id"])
        charge_id = self.stack.bot_api.record_star_payment(payer_id, amount, payload)
        user = person(payer_id)
        update = {
            "update_id": self.next_id(),
            "message": {
                "message_id": self.stack.bot_api.allocate_message_id(payer_id),
                "from": user,
                "chat": {"id": payer_id, "type": "private", "first_name": user["first_name"]},
                "date": int(self.stack.now()),
                "successful_payment": {
                    "currency": "XTR",
                    "total_amount": amount,
                    "invoice_payload": payload,
                    "telegram_payment_charge_id": charge_id,
                    "provider_payment_charge_id": "",
                },
            },
        }
        _expect(self.stack.webhook(update), 200, "successful_payment")

    def cron(self) -> dict[str, Any]:
        result = self.stack.run_cron()
        if not isinstance(result, dict):
            raise BenchError(f"the cron answered {result!r}")
        return result
