"""POST /webhook: secret check, size limit, update de-duplication, then PTB processes the update.

One event loop for the container's life: PTB's HTTP client is bound to it, so it is never closed between
warm invocations (asyncio.run would close it)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import BadRequest, NetworkError

from murmur.store.dynamo import storage_errors
from murmur.telegram.bot import build_application

if TYPE_CHECKING:
    from telegram.ext import Application

    from murmur.composition import Services

log = logging.getLogger(__name__)
SECRET_HEADER = "x-telegram-bot-api-secret-token"
DEDUPE_SECONDS = 2 * 86400  # Telegram gives up on an update well within a day
LEASE_MARGIN_SECONDS = 5  # past the invocation's own deadline, so a live container's lease never runs out


def _reply(status: int, message: str = "") -> dict[str, Any]:
    body = json.dumps({"error": {"code": str(status), "message": message}}) if message else ""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def _retryable(exc: BaseException) -> bool:
    """Failures where Telegram's retry can help: storage, or the Bot API being unreachable. PTB's BadRequest
    is a NetworkError too, but a request Telegram refused is refused again on every retry."""
    return isinstance(exc, (*storage_errors(), NetworkError)) and not isinstance(exc, BadRequest)


def _idempotent_by_itself(data: dict[str, Any]) -> bool:
    """Payment updates need no update-id claim (one write saved on the money path): a pre-checkout answer
    can be repeated, and successful / refunded payments are exactly-once by the Payments ledger itself. Nor do
    inline queries (one per pause in typing): answering one only reads, and a second answer is refused by
    Telegram, so a write per keystroke would buy nothing."""
    message = data.get("message") or {}
    return (
        "pre_checkout_query" in data
        or "inline_query" in data
        or "successful_payment" in message
        or "refunded_payment" in message
    )


def _remaining_seconds(context: Any) -> int:
    """What is left of this invocation (Lambda's context), rounded up; the template's 10 s without one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return -(-int(remaining()) // 1000) if callable(remaining) else 10


class Webhook:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.loop = asyncio.new_event_loop()
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None

    def application(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._app is None:
            app = build_application(self.services, self.services.bot_token, self.services.settings.telegram_api_url)
            self.loop.run_until_complete(app.initialize())
            self._app = app
        return self._app

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return self._handle(event, _remaining_seconds(context))
        finally:
            self.services.metrics.flush()

    def _handle(self, event: dict[str, Any], remaining: int) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        given = headers.get(SECRET_HEADER)
        if not given:
            return _reply(401, "missing secret token")
        if not hmac.compare_digest(given.encode(), self.services.webhook_secret.encode()):
            return _reply(403, "wrong secret token")
        body = event.get("body") or ""
        if len(body) > self.services.settings.limits.webhook_body_bytes:
            return _reply(413, "update too large")
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        try:
            data = json.loads(body)
            update_id = int(data["update_id"])
        except (ValueError, KeyError, TypeError):
            return _reply(400, "not a Telegram update")
        if _idempotent_by_itself(data):
            return self._process(data, None)
        key = f"update#{update_id}"
        now = int(self.services.clock.now())
        state = self.services.repos.state
        holder = state.claim_update(key, now, now + remaining + LEASE_MARGIN_SECONDS, now + DEDUPE_SECONDS)
        if holder == "done":
            return _reply(200)  # redelivered: its effects already happened
        if holder is not None:
            # Another container is on it now; if it fails, only Telegram's next redelivery can still help.
            return _reply(503, "update in progress")
        reply = self._process(data, key)
        if reply["statusCode"] == 200:
            state.finish_update(key)
        return reply

    def _process(self, data: dict[str, Any], key: str | None) -> dict[str, Any]:
        app = self.application()
        failures: list[BaseException] = []
        app.bot_data["failures"] = failures
        try:
            update = Update.de_json(data, app.bot)
        except (KeyError, TypeError, ValueError) as exc:
            # Unreadable by PTB: a retry would fail the same way. Payments in it are not lost: the cron's
            # reconciliation finds them in getStarTransactions.
            log.error("update %s not understood: %s", data.get("update_id"), type(exc).__name__)
            return _reply(200)
        try:
            self.loop.run_until_complete(app.process_update(update))
        finally:
            app.bot_data["failures"] = None
        if not failures:
            return _reply(200)
        if "successful_payment" in (data.get("message") or {}):
            self.services.metrics.count("FulfilmentFailed")
        if any(_retryable(f) for f in failures):
            log.warning("update failed, asking Telegram to retry: %s", type(failures[0]).__name__)
            if key is not None:
                self.services.repos.state.release(key)
            return _reply(500, "temporary failure")
        log.error("update failed: %s", type(failures[0]).__name__, exc_info=failures[0])
        return _reply(200)

    def shutdown(self) -> None:
        if self._app is not None:
            self.loop.run_until_complete(self._app.shutdown())
        self.loop.close()
