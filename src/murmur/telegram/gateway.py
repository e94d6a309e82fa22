"""The Bot API as the domain sees it: a small Protocol, and its implementation over python-telegram-bot.

The Mini App API and the cron are synchronous Lambdas; PtbGateway runs PTB's coroutines on one event loop
kept for the container's life (never asyncio.run, which would close the loop PTB's HTTP client is bound to).
The webhook's callbacks are already async and talk to PTB's own `context.bot` instead."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from telegram import Bot, InlineKeyboardMarkup

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    url: str | None = None
    web_app_url: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True, slots=True)
class StarTransaction:
    """An incoming Stars payment as getStarTransactions reports it."""

    id: str
    user_id: int | None
    amount: int
    date: int
    payload: str | None
    incoming: bool
    subscription_period: int | None = None
    affiliate_stars: int = 0  # what Telegram paid an affiliate out of this transaction (Affiliate Program)


class BotGateway(Protocol):
    def send_message(self, chat_id: int, text: str, buttons: list[list[Button]] | None = None) -> bool: ...

    def create_invoice_link(
        self, *, title: str, description: str, payload: str, stars: int, subscription_period: int | None
    ) -> str: ...

    def refund_star_payment(self, user_id: int, charge_id: str) -> None: ...

    def edit_star_subscription(self, user_id: int, charge_id: str, cancelled: bool) -> None: ...

    def star_transactions(self, offset: int, limit: int) -> list[StarTransaction]: ...


def keyboard(buttons: list[list[Button]] | None) -> InlineKeyboardMarkup | None:
    """PTB markup for our buttons (also used by the webhook's callbacks)."""
    if not buttons:
        return None
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.text,
                    url=b.url,
                    web_app=WebAppInfo(b.web_app_url) if b.web_app_url else None,
                    callback_data=b.callback_data,
                )
                for b in row
            ]
            for row in buttons
        ]
    )


def star_transaction_of(tx: Any) -> StarTransaction:
    """Map PTB's StarTransaction (incoming from a user, or outgoing refund to a user)."""
    partner = tx.source if tx.source is not None else tx.receiver
    user = getattr(partner, "user", None)
    affiliate = getattr(partner, "affiliate", None)
    return StarTransaction(
        id=tx.id,
        user_id=user.id if user else None,
        amount=int(tx.amount),
        date=int(tx.date.timestamp()),
        payload=getattr(partner, "invoice_payload", None),
        incoming=tx.source is not None,
        subscription_period=int(p.total_seconds()) if (p := getattr(partner, "subscription_period", None)) else None,
        affiliate_stars=int(affiliate.amount) if affiliate is not None else 0,
    )


class PtbGateway:
    """BotGateway over a PTB `Bot`, created lazily so a cold start that needs no Bot API call imports no PTB."""

    def __init__(self, token: str, base_url: str) -> None:
        self._token = token
        self._base_url = base_url
        self._bot: Bot | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _run(self, coro_factory: Any) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        if self._bot is None:
            from telegram import Bot
            from telegram.request import HTTPXRequest

            self._bot = Bot(
                self._token,
                base_url=self._base_url,
                request=HTTPXRequest(connect_timeout=3, read_timeout=5),
            )
        coro: Coroutine[Any, Any, Any] = coro_factory(self._bot)
        return self._loop.run_until_complete(coro)

    def close(self) -> None:
        """Release PTB's HTTP client and the loop (the local stack calls it; Lambda just freezes)."""
        if self._loop is None:
            return
        if self._bot is not None:
            # The Bot was never initialize()d (that would cost a getMe per cold start), so
            # Bot.shutdown() would skip its HTTP client: close the client itself.
            self._loop.run_until_complete(self._bot.request.shutdown())
        self._loop.close()
        self._loop = None
        self._bot = None

    def send_message(self, chat_id: int, text: str, buttons: list[list[Button]] | None = None) -> bool:
        from telegram.error import BadRequest, Forbidden

        try:
            self._run(lambda bot: bot.send_message(chat_id, text, reply_markup=keyboard(buttons)))
            return True
        except (Forbidden, BadRequest) as exc:
            # The user blocked the bot or never started it: nothing to retry.
            log.info("message not delivered: %s", type(exc).__name__)
            return False

    def create_invoice_link(
        self, *, title: str, description: str, payload: str, stars: int, subscription_period: int | None
    ) -> str:
        from telegram import LabeledPrice

        link: str = self._run(
            lambda bot: bot.create_invoice_link(
                title=title,
                description=description,
                payload=payload,
                currency="XTR",
                prices=[LabeledPrice(title, stars)],
                provider_token="",
                subscription_period=subscription_period,
            )
        )
        return link

    def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        self._run(lambda bot: bot.refund_star_payment(user_id, charge_id))

    def edit_star_subscription(self, user_id: int, charge_id: str, cancelled: bool) -> None:
        self._run(lambda bot: bot.edit_user_star_subscription(user_id, charge_id, cancelled))

    def star_transactions(self, offset: int, limit: int) -> list[StarTransaction]:
        result = self._run(lambda bot: bot.get_star_transactions(offset=offset, limit=limit))
        return [star_transaction_of(tx) for tx in result.transactions]
