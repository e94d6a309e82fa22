"""The Bot API behind the domain's ports (`murmur.ports`): `HttpGateway` implements them for the synchronous
Lambdas (the Mini App API and the cron).

Why not python-telegram-bot there: importing `telegram` costs about as much as the whole boto3 floor of a
cold start (measured in bench/), and these two functions only make five plain calls. They use urllib3, which
botocore has loaded already, with one pooled keep-alive connection per container. The webhook is where
PTB's Application earns its place (update routing, typed updates); its callbacks use `context.bot`.
See docs/decisions/0003-bot-api-clients.md."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from murmur.errors import TelegramRateLimitedError, TelegramRefusedError, TelegramUnavailableError
from murmur.models import TelegramGift
from murmur.ports import Button, PreparedMessage, ShareCard, StarTransaction

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

log = logging.getLogger(__name__)
JSON_HEADERS = {"Content-Type": "application/json"}
DEFAULT_RETRY_AFTER = 5  # seconds, for a 429 that does not say (Telegram's always does)


def button_json(button: Button) -> dict[str, Any]:
    """An InlineKeyboardButton as the Bot API takes it."""
    answer: dict[str, Any] = {"text": button.text}
    if button.url:
        answer["url"] = button.url
    if button.web_app_url:
        answer["web_app"] = {"url": button.web_app_url}
    if button.callback_data:
        answer["callback_data"] = button.callback_data
    return answer


def star_transaction(tx: dict[str, Any]) -> StarTransaction:
    """A StarTransaction of getStarTransactions as the domain reads it."""
    partner = tx.get("source") or tx.get("receiver") or {}
    user = partner.get("user") or {}
    affiliate = partner.get("affiliate") or {}
    return StarTransaction(
        id=str(tx["id"]),
        user_id=int(user["id"]) if "id" in user else None,
        amount=int(tx["amount"]),
        date=int(tx["date"]),
        payload=partner.get("invoice_payload"),
        incoming="source" in tx,
        subscription_period=partner.get("subscription_period"),
        affiliate_stars=int(affiliate.get("amount", 0)),
        kind=partner.get("transaction_type"),
        gift_id=str(partner["gift"]["id"]) if isinstance(partner.get("gift"), dict) else None,
    )


def telegram_gift(gift: dict[str, Any]) -> TelegramGift | None:
    """A Gift of getAvailableGifts as the bot may send it; None for one it cannot (Premium buyers only, or sold
    out for everyone or for this bot)."""
    if gift.get("is_premium") or gift.get("remaining_count") == 0 or gift.get("personal_remaining_count") == 0:
        return None
    emoji = (gift.get("sticker") or {}).get("emoji") or "🎁"
    return TelegramGift(str(gift["id"]), emoji, int(gift["star_count"]), gift.get("remaining_count"))


def keyboard(buttons: list[list[Button]] | None) -> InlineKeyboardMarkup | None:
    """PTB markup for our buttons, for the webhook's callbacks."""
    if not buttons:
        return None
    from telegram import InlineKeyboardMarkup

    return InlineKeyboardMarkup.de_json({"inline_keyboard": [[button_json(b) for b in row] for row in buttons]}, None)


class BotApiPool:
    """The container's one keep-alive connection pool to the Bot API, shared by `HttpGateway` and, in the
    webhook, by PTB (`murmur.telegram.transport`): one TLS context and one connection, not one per client."""

    def __init__(self, connect_timeout: float = 3, read_timeout: float = 5) -> None:
        import urllib3

        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.http = urllib3.PoolManager(
            num_pools=1,
            maxsize=2,
            retries=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        )

    def close(self) -> None:
        self.http.clear()


class HttpGateway:
    """The ports of `murmur.ports` over HTTPS: JSON bodies, the Bot API's `{"ok", "result" | "description"}` answers."""

    def __init__(self, token: str, base_url: str, pool: BotApiPool | None = None) -> None:
        self._url = f"{base_url}{token}/"
        self._pool = pool or BotApiPool()

    def call(self, method: str, **params: Any) -> Any:
        import urllib3

        body = json.dumps({k: v for k, v in params.items() if v is not None}, ensure_ascii=False).encode()
        try:
            response = self._pool.http.request("POST", self._url + method, body=body, headers=JSON_HEADERS)
        except urllib3.exceptions.HTTPError as exc:
            raise TelegramUnavailableError(f"{method}: {type(exc).__name__}") from exc
        try:
            answer = json.loads(response.data)
        except ValueError:
            answer = {}
        if response.status == 200 and answer.get("ok"):
            return answer.get("result")
        description = str(answer.get("description") or f"HTTP {response.status}")
        if response.status == 429:
            retry_after = (answer.get("parameters") or {}).get("retry_after")
            raise TelegramRateLimitedError(int(retry_after or DEFAULT_RETRY_AFTER), f"{method}: {description}")
        if response.status >= 500:
            raise TelegramUnavailableError(f"{method}: {description}")
        raise TelegramRefusedError(response.status, f"{method}: {description}")

    def close(self) -> None:
        self._pool.close()

    def send_message(self, chat_id: int, text: str, buttons: list[list[Button]] | None = None) -> bool:
        """True if delivered; False if Telegram refused it for good (4xx); raises TelegramUnavailableError
        (TelegramRateLimitedError for a 429) when a later try may succeed: `murmur.delivery` decides."""
        markup = {"inline_keyboard": [[button_json(b) for b in row] for row in buttons]} if buttons else None
        try:
            self.call("sendMessage", chat_id=chat_id, text=text, reply_markup=markup)
            return True
        except TelegramRefusedError as exc:
            # The user blocked the bot or never started it: nothing to retry.
            log.info("message not delivered: HTTP %s", exc.status)
            return False

    def create_invoice_link(
        self, *, title: str, description: str, payload: str, stars: int, subscription_period: int | None
    ) -> str:
        link: str = self.call(
            "createInvoiceLink",
            title=title,
            description=description,
            payload=payload,
            currency="XTR",
            prices=[{"label": title, "amount": stars}],
            subscription_period=subscription_period,
        )
        return link

    def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        self.call("refundStarPayment", user_id=user_id, telegram_payment_charge_id=charge_id)

    def edit_star_subscription(self, user_id: int, charge_id: str, cancelled: bool) -> None:
        self.call(
            "editUserStarSubscription", user_id=user_id, telegram_payment_charge_id=charge_id, is_canceled=cancelled
        )

    def star_transactions(self, offset: int, limit: int) -> list[StarTransaction]:
        result = self.call("getStarTransactions", offset=offset, limit=limit)
        return [star_transaction(tx) for tx in result.get("transactions", [])]

    def available_gifts(self) -> list[TelegramGift]:
        """getAvailableGifts: the gifts the bot can send now."""
        result = self.call("getAvailableGifts")
        return [gift for gift in map(telegram_gift, result.get("gifts", [])) if gift is not None]

    def star_balance(self) -> int:
        """getMyStarBalance, in whole Stars (the nanostar part is never enough for a gift)."""
        return int(self.call("getMyStarBalance")["amount"])

    def send_gift(self, user_id: int, gift_id: str, text: str) -> None:
        """sendGift from the bot's balance, with `text` (0-128 characters) shown with it; no parse mode, so the
        text is shown as written. Raises as `call` does: a timeout or a 5xx leaves unknown whether it was sent."""
        self.call("sendGift", user_id=user_id, gift_id=gift_id, text=text or None)

    def save_prepared_message(self, user_id: int, card: ShareCard) -> PreparedMessage:
        """savePreparedInlineMessage: the card as an article any chat but a bot's may receive."""
        result = self.call(
            "savePreparedInlineMessage",
            user_id=user_id,
            result=article_json(card),
            allow_user_chats=True,
            allow_group_chats=True,
            allow_channel_chats=True,
        )
        return PreparedMessage(str(result["id"]), int(result["expiration_date"]))


def article_json(card: ShareCard) -> dict[str, Any]:
    """An InlineQueryResultArticle for a share card, as the Bot API takes it (the webhook's inline answers build
    the same article with PTB's types: `murmur.telegram.inline`)."""
    return {
        "type": "article",
        "id": card.id,
        "title": card.title,
        "description": card.description,
        "input_message_content": {"message_text": card.message_text, "link_preview_options": {"is_disabled": True}},
        "reply_markup": {"inline_keyboard": [[button_json(Button(card.button_text, url=card.url))]]},
    }
