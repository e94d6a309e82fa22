"""The product's operations as the bench drives them, through the real handlers of a running LocalStack:
the Mini App's HTTP calls (`stack.api`) and Telegram's updates (`stack.webhook`), each checked for success
so that a broken operation fails the bench instead of timing an error page."""

from __future__ import annotations

import itertools
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.dynamodb_server import dynamodb_server
from bench.probe import ProbeControl, probe_environment
from sandbox.local_stack import ApiResponse, LocalStack

# How many containers of one function may run at once in the bench (the template reserves 40 and 50 for the
# webhook and the API; this machine has a few cores): the load step's concurrency.
BENCH_MAX_CONTAINERS = 4


class BenchError(RuntimeError):
    """An operation the bench drives did not do what it should (so its timing would be meaningless)."""


def person(user_id: int, first_name: str | None = None) -> dict[str, Any]:
    """A Telegram user as initData and updates carry it."""
    return {"id": user_id, "is_bot": False, "first_name": first_name or f"U{user_id}", "language_code": "en"}


@dataclass(frozen=True)
class BenchStack:
    stack: LocalStack
    probe: ProbeControl


@contextmanager
def quiet_stack(max_containers: int = BENCH_MAX_CONTAINERS) -> Iterator[BenchStack]:
    """A LocalStack with its DynamoDB in a process of its own (`bench.dynamodb_server`), the probe as every
    container's invocation hook (`bench.probe`), and Powertools at WARNING in the functions (their INFO
    lines are not what is measured; production logs at INFO). Otherwise the stack is as strict as the tests
    run it: IAM per function, transaction conflicts, Telegram's flood control."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with (
        dynamodb_server() as endpoint,
        tempfile.TemporaryDirectory(prefix="murmur-bench-probe-") as tmp,
    ):
        control = ProbeControl(Path(tmp) / "probe.json")
        env = {"POWERTOOLS_LOG_LEVEL": "WARNING", **probe_environment(endpoint, control)}
        with LocalStack(dynamodb_endpoint=endpoint, extra_function_env=env, max_containers=max_containers) as stack:
            yield BenchStack(stack, control)


class ChatPacer:
    """Keeps the bench's own notifications to one chat inside Telegram's flood limits (the fake Bot API's
    per-chat bucket: `per_chat_burst` messages, refilled at `per_chat_per_second`), so that a warm sample
    measures the usual path (Telegram takes the notice) and not the flood path (the notice is owed). The
    model is conservative: a message counts from the end of the action that sent it."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self._tokens: dict[int, tuple[float, float]] = {}  # chat -> (tokens, at)

    def before(self, chat_id: int) -> float:
        """Wait until a message to `chat_id` would be taken; returns the seconds waited."""
        limits = self.stack.bot_api.flood_limits
        if limits is None or limits.per_chat_per_second is None:
            return 0.0
        now = time.monotonic()
        tokens, at = self._tokens.get(chat_id, (0.0, now))  # unknown chat: assume its bucket empty
        tokens = min(float(limits.per_chat_burst), tokens + (now - at) * limits.per_chat_per_second)
        waited = 0.0
        if tokens < 1.0:
            waited = (1.0 - tokens) / limits.per_chat_per_second + 0.05
            time.sleep(waited)
            tokens = 1.0
        self._tokens[chat_id] = (tokens, time.monotonic())
        return waited

    def after(self, chat_id: int) -> None:
        """The action that sent one message to `chat_id` has ended."""
        tokens, _ = self._tokens.get(chat_id, (1.0, 0.0))
        self._tokens[chat_id] = (max(0.0, tokens - 1.0), time.monotonic())


def _expect(response: ApiResponse, status: int, what: str) -> ApiResponse:
    if response.status != status:
        raise BenchError(f"{what}: HTTP {response.status} {response.body[:300]!r}")
    return response


class World:
    """Users, links and payments on one stack. Ids are its own (from 5,000,000), apart from the demo users."""

    def __init__(self, stack: LocalStack, probe: ProbeControl) -> None:
        self.stack = stack
        self.probe = probe
        self.chats = ChatPacer(stack)
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
