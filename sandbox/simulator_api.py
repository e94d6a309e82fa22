"""JSON endpoints under /sandbox/ that let the simulator page play the Telegram app.

Each endpoint is one `LocalStack` method; this module only parses and checks the request and
shapes the answer. Bad input is a 4xx with `{"error": {"code", "message"}}`, as in the real API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from sandbox.http_api import HttpResponse
from sandbox.lambda_runtime import FunctionInvokeError
from sandbox.local_stack import DEMO_USERS, LocalStack, SandboxError, demo_user

PREFIX = "/sandbox/"
MAX_BODY_BYTES = 64 * 1024


class SimulatorInputError(ValueError):
    """The simulator page sent a request this API cannot serve."""

    def __init__(self, message: str, *, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _reply(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return status, [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")], body


class SimulatorApi:
    """Serves `/sandbox/*` for one running `LocalStack`."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self._routes: dict[tuple[str, str], Callable[[dict[str, list[str]], dict[str, Any]], Any]] = {
            ("GET", "users"): self._users,
            ("GET", "initdata"): self._initdata,
            ("GET", "chat"): self._chat,
            ("GET", "clock"): self._clock,
            ("GET", "invoice"): self._invoice,
            ("POST", "clock"): self._advance_clock,
            ("POST", "send"): self._send,
            ("POST", "press"): self._press,
            ("POST", "pay"): self._pay,
            ("POST", "cron"): self._cron,
            ("POST", "subscription"): self._subscription,
            ("POST", "inline"): self._inline,
            ("GET", "prepared"): self._prepared,
            ("POST", "star-balance"): self._star_balance,
        }

    def handle(self, method: str, target: str, body: bytes = b"") -> HttpResponse:
        """Answer one request; `target` is the path with its query string."""
        path, _, query = target.partition("?")
        name = path[len(PREFIX) :].strip("/") if path.startswith(PREFIX) else None
        route = self._routes.get((method.upper(), name or ""))
        if route is None:
            known = {n for _, n in self._routes}
            if name in known:
                return _reply(405, {"error": {"code": "method_not_allowed", "message": f"{method} {path}"}})
            return _reply(404, {"error": {"code": "not_found", "message": f"no sandbox endpoint {path}"}})
        try:
            return _reply(200, route(parse_qs(query, keep_blank_values=True), self._json_body(method, body)))
        except SimulatorInputError as exc:
            return _reply(exc.status, {"error": {"code": exc.code, "message": str(exc)}})
        except SandboxError as exc:
            return _reply(400, {"error": {"code": "bad_request", "message": str(exc)}})

    @staticmethod
    def _json_body(method: str, body: bytes) -> dict[str, Any]:
        if method.upper() != "POST" or not body:
            return {}
        if len(body) > MAX_BODY_BYTES:
            raise SimulatorInputError("request body too large", status=413, code="too_large")
        try:
            value = json.loads(body)
        except ValueError as exc:
            raise SimulatorInputError(f"body is not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise SimulatorInputError("body must be a JSON object")
        return value

    # ------------------------------------------------------------------ endpoints

    def _users(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        admins = [int(part) for part in self.stack.admin_ids.split(",") if part.strip()]
        bot = self.stack.bot_api.bot_user
        return {
            "users": [dict(u) for u in DEMO_USERS],
            "admin_ids": admins,
            "bot": {"username": bot["username"], "supports_inline_queries": bot["supports_inline_queries"]},
        }

    def _initdata(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        user = demo_user(_user_id(_query_one(query, "user")))
        start_param = _query_one(query, "start_param", required=False) or None
        return {"user": user, "init_data": self.stack.init_data(user, start_param=start_param)}

    def _chat(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        user = demo_user(_user_id(_query_one(query, "user")))
        return {"user": user, "messages": self.stack.bot_api.messages_to(user["id"])}

    def _clock(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        return {"now": self.stack.now()}

    def _advance_clock(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        """Time passes as it does in Telegram: the clock moves, and every Pro subscription whose period ended on the
        way is renewed (or, with `renewals_fail`, its renewal fails), as Telegram would have done by then."""
        seconds = body.get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise SimulatorInputError("advance_seconds must be a number")
        fail = body.get("renewals_fail", False)
        if not isinstance(fail, bool):
            raise SimulatorInputError("renewals_fail must be true or false")
        now = self.stack.advance_clock(seconds)
        return {"now": now, "renewals": self.stack.renew_due_subscriptions(fail=fail)}

    def _send(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        user = demo_user(_user_id(body.get("user")))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 4096:
            raise SimulatorInputError("text must be 1 to 4096 characters")
        return {"webhook_status": self.stack.send_text(user, text).status}

    def _press(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        user = demo_user(_user_id(body.get("user")))
        message_id = body.get("message_id")
        data = body.get("callback_data")
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            raise SimulatorInputError("message_id must be an integer")
        if not isinstance(data, str) or not data:
            raise SimulatorInputError("callback_data must be a non-empty string")
        message = next(
            (m for m in self.stack.bot_api.messages_to(user["id"]) if m.get("message_id") == message_id), None
        )
        if message is None:
            raise SimulatorInputError(
                f"the bot sent no message {message_id} to {user['id']}", status=404, code="not_found"
            )
        return {"webhook_status": self.stack.press_button(user, message, data).status}

    def _invoice(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        """What the Stars sheet shows for an invoice link's slug: title, description, amount."""
        slug = _query_one(query, "slug")
        try:
            invoice = self.stack.bot_api.invoice(slug)
        except KeyError as exc:
            raise SimulatorInputError(f"no invoice {slug!r}", status=404, code="not_found") from exc
        return {
            "slug": slug,
            "title": invoice["title"],
            "description": invoice["description"],
            "currency": invoice["currency"],
            "amount": sum(int(price["amount"]) for price in invoice["prices"] or []),
            "subscription_period": invoice.get("subscription_period"),
        }

    def _pay(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        user = demo_user(_user_id(body.get("user")))
        slug = body.get("slug")
        if not isinstance(slug, str) or not slug:
            raise SimulatorInputError("slug must be a non-empty string")
        confirm = body.get("confirm", True)
        if not isinstance(confirm, bool):
            raise SimulatorInputError("confirm must be true or false")
        try:
            outcome = self.stack.pay_invoice(user, slug, confirm=confirm)
        except KeyError as exc:
            raise SimulatorInputError(f"no invoice {slug!r}", status=404, code="not_found") from exc
        outcome.pop("update", None)
        return outcome

    def _subscription(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        """What Telegram does to the user's latest subscription: renews it ("renewal"), fails to charge it
        ("failed"), or the user cancels ("canceled") or re-enables ("active") it in Telegram."""
        user = demo_user(_user_id(body.get("user")))
        event = body.get("event")
        if event == "renewal":
            outcome = self.stack.renew_subscription(user)
            outcome.pop("update", None)
            return outcome
        if event in ("failed", "canceled", "active"):
            return {"status": event, "webhook_status": self.stack.change_subscription(user, event).status}
        raise SimulatorInputError("event must be one of renewal, failed, canceled, active")

    def _inline(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        """The user typed `@<bot> <query>` in a chat: the inline_query goes through the webhook, and the answer is
        what the bot gave answerInlineQuery (None if it gave none in time)."""
        user = demo_user(_user_id(body.get("user")))
        text = body.get("query")
        if not isinstance(text, str) or len(text) > 256:
            raise SimulatorInputError("query must be a string of at most 256 characters")
        return {"answer": self.stack.inline_query(user, text)}

    def _prepared(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        """A prepared message as Telegram's share sheet shows it (WebApp.shareMessage): only to the user it was
        prepared for, and only until it expires; otherwise 404, which the sheet answers MESSAGE_EXPIRED."""
        user = demo_user(_user_id(_query_one(query, "user")))
        prepared_id = _query_one(query, "id")
        try:
            prepared = self.stack.bot_api.prepared_message(prepared_id)
        except KeyError:
            prepared = None
        if prepared is None or prepared["user_id"] != user["id"] or prepared["expiration_date"] <= self.stack.now():
            raise SimulatorInputError("no such prepared message for this user", status=404, code="not_found")
        return prepared

    def _star_balance(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        """Set the bot's Star balance, which real Telegram gifts are bought from (as buying Stars for the bot would):
        the sandbox's bot starts with none, and grows only with the payments it receives."""
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= 1_000_000:
            raise SimulatorInputError("amount must be a number of Stars from 0 to 1000000")
        self.stack.bot_api.set_star_balance(amount)
        return {"star_balance": self.stack.bot_api.star_balance}

    def _cron(self, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        try:
            return {"result": self.stack.run_cron()}
        except FunctionInvokeError as exc:  # the run failed as a Lambda fails: say so, its log has the rest
            raise SimulatorInputError(f"the cron run failed: {exc}", status=502, code="cron_failed") from exc


def _query_one(query: Mapping[str, list[str]], name: str, *, required: bool = True) -> str:
    values = query.get(name) or []
    if len(values) > 1:
        raise SimulatorInputError(f"give {name} once")
    if not values:
        if required:
            raise SimulatorInputError(f"missing query parameter {name}")
        return ""
    return values[0]


def _user_id(value: Any) -> int:
    """A demo user's id from JSON (int) or a query string (digits)."""
    if isinstance(value, bool):
        raise SimulatorInputError("user must be a Telegram user id")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise SimulatorInputError("user must be a Telegram user id")
