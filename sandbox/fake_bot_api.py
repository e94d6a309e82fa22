"""A fake Telegram Bot API over real HTTP on loopback, for the tests and `make dev`.

PTB (or anything else) talks to it exactly as to api.telegram.org: `Bot(token, base_url=fake.base_url)`.
Every call is checked against the official Bot API description (`sandbox/bot_api_spec.json`, Bot API 10.1 plus the
10.2 patch, applied by `sandbox.fake_bot_api_spec`) and the rules Telegram adds to it for the methods the product calls
(`sandbox.fake_bot_api_methods`), answered with a realistic result or Telegram's error shape, and recorded (with
whether it passed those checks: `Call.valid`), so a test asserts what was sent and a bad call fails the test instead
of failing in production. Only the methods the product calls are carried out; any other method of the description is
checked, then refused with 400 "method not implemented by the fake", so a product change that calls a new method
fails loudly in the tests.

It also keeps what the simulator page needs to play the Telegram app: the bot's messages per chat
(after edits and deletions), invoices behind the links it made, a Stars ledger that
`getStarTransactions`, `refundStarPayment` and `editUserStarSubscription` work on, and the bot's Star balance that
real gifts are bought from (`sandbox.fake_bot_api_gifts`).

It is as strict as Telegram by default, and in places stricter. Flood control follows the Bots FAQ
("My bot is hitting limits"): in one chat about one message a second after a short burst, 20 a minute
in a group, about 30 a second overall; past a limit the call is answered 429 "Too Many Requests: retry
after N" and nothing reaches the chat (`FloodLimits` says exactly what is counted; `flood_control=False`
or looser limits turn it off on purpose). Flood windows run on a real monotonic clock, never on the
business `clock` that the sandbox may move by days. answerPreCheckoutQuery must come within 10 s of
the query (the Bot API reference) and answerCallbackQuery within `CALLBACK_ANSWER_SECONDS` (no number
is documented), each once, for a query the fake was told about (`pre_checkout_sent`,
`callback_query_sent`); otherwise "query is too old and response timeout expired or query ID is invalid".
Inline mode (answerInlineQuery once per `inline_query_sent`, savePreparedInlineMessage) lives in
`sandbox.fake_bot_api_inline`.
Still kinder than Telegram: the limits are exact numbers where Telegram's move with load, message length
and the bot's history (no longer penalties after repeated 429s, no 30/s that only holds "or so"); a
refused call costs nothing; other methods (getMe, setMyCommands...) are never throttled;
edits by inline_message_id count only against the global limit; no slow mode, no paid broadcasts.

    with FakeBotApi() as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import json
import math
import re
import secrets
import socket
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.fake_bot_api_gifts import GiftShop
from sandbox.fake_bot_api_inline import InlineMode
from sandbox.fake_bot_api_methods import IMPLEMENTED, RULES, SPEC, SUBSCRIPTION_STATES, visible_markup
from sandbox.fake_bot_api_spec import BadRequestError, UploadedFile
from sandbox.lifecycle import Service

DEFAULT_TOKEN = "123456789:AAFakeSandboxTokenForMurmurLocalDev00"
MAX_BODY_BYTES = 50 * 1024 * 1024  # the Bot API's upload limit
_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?")
_CHARGE_ALPHABET = string.ascii_letters + string.digits

JSONDict = dict[str, Any]
ChatId = int | str

# The Bot API reference, answerPreCheckoutQuery: "The Bot API must receive an answer within 10 seconds
# after the pre-checkout query was sent."
PRE_CHECKOUT_ANSWER_SECONDS = 10.0
# answerCallbackQuery has the same "query is too old" error, but Telegram documents no number; bots
# report "seconds" to "about 15". 15 s is our estimate, not Telegram's word.
CALLBACK_ANSWER_SECONDS = 15.0
# The Bot API server's text for QUERY_ID_INVALID (telegram-bot-api Client.cpp, fail_query_with_error).
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"

# Methods that put a message into a chat or change one there: each success takes a flood slot.
# Sending and editing messages is what the Bots FAQ limits; answering queries, sendChatAction (no
# message: a status shown for 5 s), deleteMessage, createInvoiceLink (no chat) and the bot's settings
# are not counted. Methods the fake does not emulate are listed so that they count once added.
FLOOD_COUNTED_METHODS = frozenset(
    {
        "sendMessage", "sendInvoice", "sendPhoto", "sendDocument", "sendSticker", "sendMediaGroup",
        "sendVideo", "sendAnimation", "sendAudio", "sendVoice", "copyMessage", "copyMessages",
        "forwardMessage", "forwardMessages", "editMessageText", "editMessageReplyMarkup",
        "editMessageCaption", "editMessageMedia",
    }
)  # fmt: skip
_EPSILON = 1e-9  # float slack, so waiting exactly retry_after seconds always frees the slot


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's flood limits as the fake applies them, from the Bots FAQ ("My bot is hitting limits,
    how do I avoid this?"); None drops one limit.

    - per chat: "avoid sending more than one message per second. We may allow short bursts that go over
      this limit": a token bucket of `per_chat_burst` slots refilled at `per_chat_per_second`;
    - per group: "your bot will not be able to send more than 20 messages per minute to the same group":
      at most `group_per_minute` in any 60 s to a chat with a negative id or an @username (a channel
      or public group; PTB's wiki, from @BotSupport, says the group limit holds for channels too);
    - overall: "the API will not allow more than 30 messages per second or so": at most
      `global_per_second` in any 1 s across all chats.
    """

    per_chat_burst: int = 3
    per_chat_per_second: float | None = 1.0
    group_per_minute: int | None = 20
    global_per_second: int | None = 30

    def __post_init__(self) -> None:
        if self.per_chat_burst < 1:
            raise ValueError("per_chat_burst must be at least 1")
        for name in ("per_chat_per_second", "group_per_minute", "global_per_second"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, or None for no such limit")


class _FloodControl:
    """The flood state of one bot under `FloodLimits`: per-chat buckets and sliding windows."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._buckets: dict[ChatId, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._groups: dict[ChatId, deque[float]] = {}
        self._overall: deque[float] = deque()

    def wait(self, chat_id: ChatId | None, now: float) -> float:
        """Seconds until a message to `chat_id` (None: no chat known) may go; 0 when it may now."""
        limits, waits = self.limits, [0.0]
        if chat_id is not None and limits.per_chat_per_second is not None:
            tokens = self._tokens(chat_id, now)
            if tokens < 1 - _EPSILON:
                waits.append((1 - tokens) / limits.per_chat_per_second)
        if chat_id is not None and _is_group(chat_id) and limits.group_per_minute is not None:
            window = _prune(self._groups.setdefault(chat_id, deque()), now, 60.0)
            waits.append(_window_wait(window, limits.group_per_minute, now, 60.0))
        if limits.global_per_second is not None:
            waits.append(_window_wait(_prune(self._overall, now, 1.0), limits.global_per_second, now, 1.0))
        return max(waits)

    def take(self, chat_id: ChatId | None, now: float) -> None:
        """Count a message that went out (after `wait` said 0)."""
        limits = self.limits
        if chat_id is not None and limits.per_chat_per_second is not None:
            self._buckets[chat_id] = (max(0.0, self._tokens(chat_id, now) - 1), now)
        if chat_id is not None and _is_group(chat_id) and limits.group_per_minute is not None:
            self._groups.setdefault(chat_id, deque()).append(now)
        if limits.global_per_second is not None:
            self._overall.append(now)

    def _tokens(self, chat_id: ChatId, now: float) -> float:
        burst, rate = self.limits.per_chat_burst, self.limits.per_chat_per_second or 0.0
        tokens, at = self._buckets.get(chat_id, (float(burst), now))
        return min(float(burst), tokens + max(0.0, now - at) * rate)


def _is_group(chat_id: ChatId) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def _prune(window: deque[float], now: float, span: float) -> deque[float]:
    while window and window[0] <= now - span + _EPSILON:
        window.popleft()
    return window


def _window_wait(window: deque[float], limit: int, now: float, span: float) -> float:
    if len(window) < limit:
        return 0.0
    return window[len(window) - limit] + span - now


@dataclass(frozen=True)
class Call:
    """One request the fake answered: the method's canonical name, the decoded parameters
    (typed where they passed validation), whether it succeeded, and the JSON it answered.
    `valid`: whether it passed every check the fake makes of what was sent (the method exists and is
    implemented, its parameters and values are as the Bot API describes them and as Telegram's rules want);
    a call that failed for the state of things (a blocked user, a late answer, flood control) is valid."""

    method: str
    params: JSONDict
    ok: bool
    response: JSONDict
    valid: bool = True


class ApiError(Exception):
    """A non-400 failure answered in Telegram's error shape (401, 403, 404, injected ones)."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> str:
    """A 400's description as the Bot API server words it (Client.cpp, fail_query_with_error): "Bad Request: " and
    the error with its first letter lowered, unless it is a name such as BUTTON_DATA_INVALID."""
    if len(description) >= 2 and (description[1] == "_" or description[1].isupper()):
        return f"Bad Request: {description}"
    return f"Bad Request: {description[:1].lower()}{description[1:]}"


@dataclass
class _InjectedFailure:
    error_code: int
    description: str
    remaining: int
    retry_after: int | None


@dataclass
class _Charge:
    """A Stars payment in the ledger, and what happened to it since."""

    user_id: int
    amount: int
    payload: str
    subscription_period: int | None
    refunded: bool = False
    canceled: bool = False
    failed: bool = False  # a subscription whose renewal Telegram could not charge: it renews no more


class FakeBotApi(InlineMode, GiftShop, Service):
    """The fake Bot API server and the state behind it; all state sits behind one lock."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "murmur_sandbox_bot",
        bot_first_name: str = "Murmur",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        flood_control: bool | FloodLimits = True,
        supports_inline_queries: bool = False,
    ) -> None:
        """`clock` dates messages and transactions (the sandbox's business time, which may jump);
        `monotonic` times flood windows and query deadlines (real elapsed time; inject one in tests).
        `flood_control`: True for Telegram's limits (`FloodLimits()`), False for none, or given limits."""
        self._token = token
        self._address = (host, port)
        self._clock = clock
        self._monotonic = monotonic
        if isinstance(flood_control, FloodLimits):
            self._flood_limits: FloodLimits | None = flood_control
        else:
            self._flood_limits = FloodLimits() if flood_control else None
        bot_id = token.split(":", 1)[0]
        self._bot_user: JSONDict = {
            "id": int(bot_id) if bot_id.isdigit() else 1000,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            # Inline mode is switched on in @BotFather (/setinline); getMe tells.
            "supports_inline_queries": supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": True,
        }
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._reset_state()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Listen and serve in a daemon thread; returns self for chaining."""
        if self._server is not None:
            raise RuntimeError("FakeBotApi is already started")
        self._server = _Server(self._address, _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every socket, keep-alive connections included."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        thread.join(timeout=10)
        self._server = self._thread = None

    @property
    def token(self) -> str:
        """The one token this fake accepts."""
        return self._token

    @property
    def base_url(self) -> str:
        """What to hand PTB as `base_url`: it appends the token and "/<method>"."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://{self._address[0]}:{self._server.server_address[1]}/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot's User object, as getMe returns it."""
        return dict(self._bot_user)

    # --- inspection and control for tests and the simulator -------------------------------------

    def calls(self, method: str | None = None, **param_filters: Any) -> list[Call]:
        """Recorded calls, oldest first, rejected ones included; filter by method name
        (any case) and by parameter values, e.g. `calls("sendMessage", chat_id=42)`."""
        wanted = method.lower() if method else None
        with self._lock:
            recorded = list(self._calls)
        return [
            call
            for call in recorded
            if (wanted is None or call.method.lower() == wanted)
            and all(call.params.get(name, _MISSING) == value for name, value in param_filters.items())
        ]

    def succeeded(self, method: str | None = None, **param_filters: Any) -> list[Call]:
        """Like `calls`, but only the calls Telegram carried out (not refused, not throttled)."""
        return [call for call in self.calls(method, **param_filters) if call.ok]

    def throttled(self, chat_id: ChatId | None = None) -> list[Call]:
        """Calls answered 429 (by flood control, or injected with `fail_next`), oldest first;
        with `chat_id`, only those addressed to that chat."""
        with self._lock:
            recorded = list(self._calls)
        return [
            call
            for call in recorded
            if call.response.get("error_code") == HTTPStatus.TOO_MANY_REQUESTS
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    @property
    def flood_limits(self) -> FloodLimits | None:
        """The flood limits in force; None when flood control is off."""
        with self._lock:
            return self._flood_limits

    @flood_limits.setter
    def flood_limits(self, limits: FloodLimits | None) -> None:
        """Change the limits (None: off); the flood windows start afresh."""
        with self._lock:
            self._flood_limits = limits
            self._flood = _FloodControl(limits) if limits else None

    def pre_checkout_sent(self, query_id: str) -> None:
        """Note that a pre_checkout_query with this id went to the bot now: answerPreCheckoutQuery
        is accepted for it once, within PRE_CHECKOUT_ANSWER_SECONDS."""
        with self._lock:
            self._query_sent(self._pre_checkout_queries, query_id, PRE_CHECKOUT_ANSWER_SECONDS)

    def callback_query_sent(self, query_id: str) -> None:
        """Note that a callback_query with this id went to the bot now: answerCallbackQuery is
        accepted for it once, within CALLBACK_ANSWER_SECONDS."""
        with self._lock:
            self._query_sent(self._callback_queries, query_id, CALLBACK_ANSWER_SECONDS)

    def clear(self) -> None:
        """Forget recorded calls (state such as messages, invoices and the ledger stays)."""
        with self._lock:
            self._calls.clear()

    def reset(self) -> None:
        """Forget everything: calls, messages, invoices, ledger, webhook, injected failures,
        flood windows and pending queries (the flood limits themselves stay)."""
        with self._lock:
            self._reset_state()

    def messages_to(self, chat_id: int | str) -> list[JSONDict]:
        """The bot's messages in a chat, in order, as Message objects after edits and deletions."""
        with self._lock:
            return copy.deepcopy(self._messages.get(chat_id, []))

    def allocate_message_id(self, chat_id: int | str) -> int:
        """Take the next message id of a chat, for a message the simulated user sends:
        in Telegram, both sides of a private chat share one sequence."""
        with self._lock:
            return self._next_message_id(chat_id)

    def fail_next(
        self,
        method: str,
        error_code: int = 500,
        description: str = "Internal Server Error",
        times: int = 1,
        *,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail with this error once they passed the checks of what was
        sent, before flood control (with `retry_after`, the answer carries it as Telegram does for 429 flood waits)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._failures[method.lower()] = _InjectedFailure(error_code, description, times, retry_after)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of `method` answer only after `seconds` (Telegram being slow), so a
        caller's timeout, or a Lambda's, can be seen doing its work."""
        if times < 1 or seconds < 0:
            raise ValueError("times must be at least 1 and seconds not negative")
        with self._lock:
            self._delays[method.lower()] = [seconds, times]

    def blocked_by(self, chat_id: int, *, blocked: bool = True) -> None:
        """Mark (or unmark) a user who blocked the bot: sending to them answers 403."""
        with self._lock:
            if blocked:
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)

    def register_user(
        self, user_id: int, first_name: str, *, username: str | None = None, language_code: str | None = None
    ) -> JSONDict:
        """Give a user a name, so getChat and Stars transactions show it; returns the User object."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._lock:
            self._users[user_id] = user
        return dict(user)

    def invoice(self, slug: str) -> JSONDict:
        """The parameters of an invoice made by createInvoiceLink, by slug or by its whole link."""
        key = slug.rsplit("/", 1)[-1].removeprefix("$")
        with self._lock:
            if key not in self._invoices:
                raise KeyError(f"no invoice with slug {slug!r}")
            return copy.deepcopy(self._invoices[key])

    @property
    def webhook(self) -> JSONDict:
        """The webhook as last set, secret_token included (which getWebhookInfo never shows)."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The commands set with setMyCommands for a scope and language."""
        with self._lock:
            return copy.deepcopy(self._commands.get(_scope_key(scope, language_code), []))

    def record_star_payment(
        self,
        user_id: int,
        amount: int,
        payload: str,
        charge_id: str | None = None,
        subscription_period: int | None = None,
        affiliate: JSONDict | None = None,
    ) -> str:
        """Book a user's Stars payment, as Telegram does when they pay an invoice; returns its
        telegram_payment_charge_id (a realistic "stx..." one unless given). `affiliate` is the AffiliateInfo
        Telegram attaches when the payer came through an affiliate link (Affiliate Program)."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError("amount must be a positive number of Stars")
        charge_id = charge_id or "stx" + "".join(secrets.choice(_CHARGE_ALPHABET) for _ in range(80))
        with self._lock:
            if charge_id in self._charges:
                raise ValueError(f"charge {charge_id!r} is already recorded")
            self._charges[charge_id] = _Charge(user_id, amount, payload, subscription_period)
            self._credit_stars(amount)  # the bot's balance: what sendGift is paid from
            source: JSONDict = {
                "type": "user",
                "transaction_type": "invoice_payment",
                "user": self._user(user_id),
                "invoice_payload": payload,
            }
            if subscription_period is not None:
                source["subscription_period"] = subscription_period
            if affiliate is not None:
                source["affiliate"] = affiliate
            self._transactions.append({"id": charge_id, "amount": amount, "date": self._now(), "source": source})
        return charge_id

    def renew_subscription(self, charge_id: str) -> str:
        """Charge the next period of the subscription that `charge_id` paid for, as Telegram does when a period
        ends: a new invoice_payment in the ledger from the same user, with the same payload, amount and
        subscription_period, a new charge id and the current date. In getStarTransactions a renewal looks like
        a first payment (only the successful_payment update says is_first_recurring). Returns the new charge
        id; a subscription that was canceled (editUserStarSubscription) or refunded is not renewed."""
        with self._lock:
            charge = self._charges.get(charge_id)
            if charge is None or charge.subscription_period is None:
                raise KeyError(f"no subscription paid by charge {charge_id!r}")
            if charge.canceled or charge.refunded or charge.failed:
                raise ValueError(f"the subscription of charge {charge_id!r} is canceled, refunded or failed")
        return self.record_star_payment(
            charge.user_id, charge.amount, charge.payload, subscription_period=charge.subscription_period
        )

    def subscriptions_of(self, user_id: int) -> list[str]:
        """The user's subscriptions, oldest first, each named by its first charge (what editUserStarSubscription
        takes): a renewal is a later charge with the same payload."""
        with self._lock:
            first: dict[str, str] = {}
            for charge_id, charge in self._charges.items():
                if charge.user_id == user_id and charge.subscription_period is not None:
                    first.setdefault(charge.payload, charge_id)
            return list(first.values())

    def subscriptions_due(self, now: float) -> list[tuple[JSONDict, str]]:
        """The subscriptions Telegram would charge again by `now`: still renewing (not canceled, failed or refunded)
        and past the end of the period their latest charge paid for; each as (its user, its first charge id),
        oldest first."""
        with self._lock:
            first: dict[str, str] = {}
            latest: dict[str, int] = {}
            for transaction in self._transactions:
                charge = self._charges.get(transaction["id"])
                if charge is None or charge.subscription_period is None:
                    continue
                first.setdefault(charge.payload, transaction["id"])
                latest[charge.payload] = int(transaction["date"])
            due: list[tuple[JSONDict, str]] = []
            for payload, charge_id in first.items():
                charge = self._charges[charge_id]
                if charge.canceled or charge.failed or charge.refunded or charge.subscription_period is None:
                    continue
                if latest[payload] + charge.subscription_period <= now:
                    due.append((self._user(charge.user_id), charge_id))
            return due

    def charge(self, charge_id: str) -> JSONDict:
        """A Stars payment in the ledger as it stands: user_id, amount, payload, subscription_period, refunded,
        canceled, failed."""
        with self._lock:
            charge = self._charges.get(charge_id)
            if charge is None:
                raise KeyError(f"no charge {charge_id!r}")
            return asdict(charge)

    def change_subscription(self, charge_id: str, state: str) -> JSONDict:
        """The user changes the subscription that `charge_id` started, in Telegram's own interface ("canceled",
        "active": re-enabled), or its renewal could not be charged ("failed"); the ledger follows. Returns the
        BotSubscriptionUpdated that Telegram then sends the bot as Update.subscription (Bot API 10.2)."""
        if state not in SUBSCRIPTION_STATES:
            raise ValueError(f"a subscription's state is one of {', '.join(SUBSCRIPTION_STATES)}, not {state!r}")
        with self._lock:
            charge = self._charges.get(charge_id)
            if charge is None or charge.subscription_period is None:
                raise KeyError(f"no subscription paid by charge {charge_id!r}")
            if state == "active" and (charge.refunded or charge.failed):
                raise ValueError("only a canceled subscription can be re-enabled")
            charge.canceled = state == "canceled"
            charge.failed = state == "failed"
            return {"user": self._user(charge.user_id), "invoice_payload": charge.payload, "state": state}

    def subscription_canceled(self, user_id: int, charge_id: str) -> bool:
        """Whether editUserStarSubscription last set this user's subscription as canceled."""
        with self._lock:
            charge = self._charges.get(charge_id)
            if charge is None or charge.user_id != user_id:
                raise KeyError(f"no charge {charge_id!r} of user {user_id}")
            return charge.canceled

    # --- request handling (called by the HTTP handler) ------------------------------------------

    def handle(self, token: str, method: str, raw: JSONDict) -> tuple[int, JSONDict]:
        """Answer one Bot API call: HTTP status and JSON body; every call is recorded."""
        spec = SPEC.method(method)
        typed: JSONDict = {}
        status: int
        valid = False
        with self._lock:
            delay = self._delays.get(method.lower())
            if delay is not None:
                delay[1] -= 1
                if delay[1] <= 0:
                    del self._delays[method.lower()]
        if delay is not None:
            time.sleep(delay[0])  # outside the lock: other calls go on meanwhile
        with self._lock:
            try:
                if token != self._token:
                    raise ApiError(401, "Unauthorized")
                if spec is None:
                    raise ApiError(404, "Not Found: method not found")
                SPEC.check_call(spec, raw, typed, RULES)
                if spec.name not in IMPLEMENTED:
                    raise BadRequestError(
                        f"method not implemented by the fake: {spec.name} is in Bot API {SPEC.version} but Murmur "
                        "does not call it (add it to sandbox/fake_bot_api.py)"
                    )
                valid = True
                self._raise_injected_failure(spec.name)
                counted, flood_chat = self._flood_check(spec.name, typed)
                result = getattr(self, f"_do_{spec.name}")(typed)
                if counted and self._flood is not None:
                    self._flood.take(flood_chat, self._monotonic())
            except BadRequestError as error:
                status, body = HTTPStatus.BAD_REQUEST, ApiError(400, bad_request(error.description)).response()
            except ApiError as error:
                status, body = error.error_code, error.response()
            else:
                status, body = HTTPStatus.OK, {"ok": True, "result": result}
            name = spec.name if spec else method
            call = Call(name, _recordable(typed or dict(raw)), status == HTTPStatus.OK, body, valid)
            self._calls.append(call)
        if self.on_call is not None:
            self.on_call(call)  # outside the lock: an observer (make dev's console) may take its time
        return status, body

    def track(self, connection: socket.socket, open_: bool) -> None:
        """Keep the set of open connections, so stop() can close idle keep-alive ones."""
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # --- state ----------------------------------------------------------------------------------

    # Told of every call once it is answered (make dev's console prints what the bot said); None: nobody.
    on_call: Callable[[Call], None] | None = None

    def _reset_state(self) -> None:
        self._calls: list[Call] = []
        self._failures: dict[str, _InjectedFailure] = {}
        self._delays: dict[str, list[float]] = {}  # method -> [seconds, times left]
        self._blocked: set[int | str] = set()
        self._users: dict[int, JSONDict] = {}
        self._messages: dict[int | str, list[JSONDict]] = {}
        self._last_message_id: dict[int | str, int] = {}
        self._invoices: dict[str, JSONDict] = {}
        self._charges: dict[str, _Charge] = {}
        self._transactions: list[JSONDict] = []
        self._webhook: JSONDict = {"url": ""}
        self._commands: dict[str, list[JSONDict]] = {}
        self._flood = _FloodControl(self._flood_limits) if self._flood_limits else None
        self._pre_checkout_queries: dict[str, float] = {}
        self._callback_queries: dict[str, float] = {}
        self._reset_inline_state()
        self._reset_gift_state()

    def _now(self) -> int:
        return int(self._clock())

    def _flood_check(self, method: str, params: JSONDict) -> tuple[bool, ChatId | None]:
        """Whether this call takes a flood slot, and in which chat; 429 when no slot is free.
        An edit by inline_message_id has no chat the fake knows: only the global limit applies."""
        if self._flood is None or method not in FLOOD_COUNTED_METHODS:
            return False, None
        chat_id = params.get("chat_id") if params.get("inline_message_id") is None else None
        wait = self._flood.wait(chat_id, self._monotonic())
        if wait > 0:
            retry_after = max(1, math.ceil(wait - _EPSILON))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        return True, chat_id

    def _query_sent(self, sent: dict[str, float], query_id: str, deadline: float) -> None:
        now = self._monotonic()
        for stale in [key for key, at in sent.items() if now - at > deadline]:
            del sent[stale]
        sent[str(query_id)] = now

    def _answer_query(self, sent: dict[str, float], query_id: str, deadline: float) -> None:
        """A query may be answered once, in time; an unknown id gets the same error."""
        at = sent.pop(query_id, None)
        if at is None or self._monotonic() - at > deadline:
            raise BadRequestError(QUERY_TOO_OLD)

    def _next_message_id(self, chat_id: int | str) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _user(self, user_id: int) -> JSONDict:
        default = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        return dict(self._users.get(user_id) or default)

    def _chat(self, chat_id: int | str) -> JSONDict:
        if isinstance(chat_id, int) and chat_id > 0:
            user = self._user(chat_id)
            chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            return chat
        if isinstance(chat_id, str):
            return {"id": -1000000000001, "type": "channel", "title": chat_id[1:], "username": chat_id[1:]}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def _raise_injected_failure(self, method: str) -> None:
        failure = self._failures.get(method.lower())
        if failure is None:
            return
        failure.remaining -= 1
        if failure.remaining == 0:
            del self._failures[method.lower()]
        raise ApiError(failure.error_code, failure.description, failure.retry_after)

    def _check_reachable(self, chat_id: int | str) -> None:
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _new_message(self, params: JSONDict, **content: Any) -> JSONDict:
        chat_id = params["chat_id"]
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self._bot_user),
            "date": self._now(),
            "chat": self._chat(chat_id),
            **content,
        }
        markup = visible_markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        self._messages.setdefault(chat_id, []).append(message)
        return message

    def _find_message(self, params: JSONDict, missing: str) -> JSONDict:
        for message in self._messages.get(params["chat_id"], []):
            if message["message_id"] == params["message_id"]:
                return message
        raise BadRequestError(missing)

    # --- methods: one `_do_<name>` per implemented method, called with validated parameters -----

    def _do_getMe(self, params: JSONDict) -> JSONDict:
        return dict(self._bot_user)

    def _do_sendMessage(self, params: JSONDict) -> JSONDict:
        self._check_reachable(params["chat_id"])
        content: JSONDict = {"text": params["text"]}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return copy.deepcopy(self._new_message(params, **content))

    def _do_editMessageText(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id") is not None:
            return True
        message = self._find_message(params, "message to edit not found")
        if "text" not in message:
            raise BadRequestError("there is no text in the message to edit")
        text, entities = params["text"], params.get("entities") or []
        markup = visible_markup(params.get("reply_markup"))
        current = (message["text"], message.get("entities", []), message.get("reply_markup"))
        if (text, entities, markup) == current:
            raise BadRequestError(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message["text"] = text
        _set_optional(message, "entities", entities or None)
        _set_optional(message, "reply_markup", markup)  # an edit without markup drops the keyboard
        message["edit_date"] = self._now()
        return copy.deepcopy(message)

    def _do_editMessageReplyMarkup(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id") is not None:
            return True
        message = self._find_message(params, "message to edit not found")
        markup = visible_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise BadRequestError(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        _set_optional(message, "reply_markup", markup)
        message["edit_date"] = self._now()
        return copy.deepcopy(message)

    def _do_answerCallbackQuery(self, params: JSONDict) -> bool:
        self._answer_query(self._callback_queries, params["callback_query_id"], CALLBACK_ANSWER_SECONDS)
        return True

    def _invoice_params(self, params: JSONDict) -> JSONDict:
        return {
            key: copy.deepcopy(params.get(key))
            for key in ("title", "description", "payload", "currency", "prices", "subscription_period")
        }

    def _do_createInvoiceLink(self, params: JSONDict) -> str:
        slug = secrets.token_urlsafe(15)
        self._invoices[slug] = self._invoice_params(params)
        return f"https://t.me/${slug}"

    def _do_answerPreCheckoutQuery(self, params: JSONDict) -> bool:
        self._answer_query(self._pre_checkout_queries, params["pre_checkout_query_id"], PRE_CHECKOUT_ANSWER_SECONDS)
        return True

    def _charge_of(self, params: JSONDict) -> _Charge:
        charge = self._charges.get(params["telegram_payment_charge_id"])
        if charge is None or charge.user_id != params["user_id"]:
            raise BadRequestError("CHARGE_NOT_FOUND")
        return charge

    def _do_refundStarPayment(self, params: JSONDict) -> bool:
        charge = self._charge_of(params)
        if charge.refunded:
            raise BadRequestError("CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        self._debit_stars(charge.amount)
        receiver: JSONDict = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": self._user(charge.user_id),
            "invoice_payload": charge.payload,
        }
        self._transactions.append(
            {
                "id": params["telegram_payment_charge_id"],
                "amount": charge.amount,
                "date": self._now(),
                "receiver": receiver,
            }
        )
        return True

    def _do_getStarTransactions(self, params: JSONDict) -> JSONDict:
        offset, limit = params.get("offset", 0), params.get("limit", 100)
        # The Bot API returns transactions in chronological order; `offset` skips the oldest ones.
        return {"transactions": copy.deepcopy(self._transactions[offset : offset + limit])}

    def _do_editUserStarSubscription(self, params: JSONDict) -> bool:
        charge = self._charge_of(params)
        if charge.subscription_period is None:
            raise BadRequestError("SUBSCRIPTION_ID_INVALID")
        charge.canceled = params["is_canceled"]
        return True

    def _do_setWebhook(self, params: JSONDict) -> bool:
        if not params["url"]:
            self._webhook = {"url": ""}
            return True
        self._webhook = {
            "url": params["url"],
            "has_custom_certificate": isinstance(params.get("certificate"), UploadedFile),
            "max_connections": params.get("max_connections", 40),
            "allowed_updates": params.get("allowed_updates"),
            "ip_address": params.get("ip_address"),
            "secret_token": params.get("secret_token"),
        }
        return True

    def _do_setChatMenuButton(self, params: JSONDict) -> bool:
        return True  # the call, as recorded, is what the simulator and the tests look at

    def _do_setMyCommands(self, params: JSONDict) -> bool:
        self._commands[_scope_key(params.get("scope"), params.get("language_code", ""))] = params["commands"]
        return True

    def _do_setMyDescription(self, params: JSONDict) -> bool:
        return True

    def _do_setMyShortDescription(self, params: JSONDict) -> bool:
        return True


_MISSING = object()


def _set_optional(target: JSONDict, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _scope_key(scope: JSONDict | None, language_code: str) -> str:
    return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)


def _recordable(params: JSONDict) -> JSONDict:
    """Parameters as recorded: uploaded files become a short description, not their bytes."""
    return {
        name: {"filename": value.filename, "size": len(value.data)} if isinstance(value, UploadedFile) else value
        for name, value in params.items()
    }


# --- HTTP ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its FakeBotApi; handler threads are daemons."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: FakeBotApi) -> None:
        super().__init__(address, handler)
        self.api = api


class _Handler(BaseHTTPRequestHandler):
    """Turns an HTTP request into a `FakeBotApi.handle` call, like the Bot API's front end."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server
    timeout = 60  # an idle keep-alive connection is closed after this

    def setup(self) -> None:
        super().setup()
        self.server.api.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.api.track(self.connection, open_=False)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorded calls are the log."""

    def _serve(self) -> None:
        url = urlsplit(self.path)
        match = _PATH.fullmatch(url.path)
        try:
            body = self._read_body()
        except ApiError as error:
            self._answer(error.error_code, error.response())
            return
        if match is None:
            self._answer(HTTPStatus.NOT_FOUND, ApiError(404, "Not Found").response())
            return
        try:
            params: JSONDict = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(self._decode_body(body))
        except BadRequestError as error:
            self._answer(HTTPStatus.BAD_REQUEST, ApiError(400, bad_request(error.description)).response())
            return
        status, answer = self.server.api.handle(match["token"], match["method"], params)
        self._answer(status, answer)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, "Request Entity Too Large")
        return self.rfile.read(length) if length > 0 else b""

    def _decode_body(self, body: bytes) -> JSONDict:
        if not body:
            return {}
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError:
                raise BadRequestError("can't parse JSON encoded request body") from None
            if not isinstance(decoded, dict):
                raise BadRequestError("JSON encoded request body must be an object")
            return decoded
        if content_type == "multipart/form-data":
            return _decode_multipart(self.headers["Content-Type"], body)
        # Telegram reads any other body as a urlencoded form, as curl -d sends it.
        return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))

    def _answer(self, status: int, body: JSONDict) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _decode_multipart(content_type: str, body: bytes) -> JSONDict:
    """Form fields as strings and file parts as UploadedFile, keyed by part name."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BadRequestError("can't parse multipart/form-data request body")
    fields: JSONDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = UploadedFile(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8", errors="replace")
    return fields
