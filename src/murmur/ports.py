"""What the domain asks of Telegram, in the domain's words: small Protocols, one per need, and the plain values
that cross them. The rules import these, never `murmur.telegram`; `murmur.telegram.gateway.HttpGateway` (the Bot
API over HTTPS) implements every one, and the composition root hands it in (ADR 0015)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from murmur.models import TelegramGift


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a message: opens a URL, opens the Mini App at a URL, or calls back with its data."""

    text: str
    url: str | None = None
    web_app_url: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True, slots=True)
class StarTransaction:
    """A Stars transaction as getStarTransactions reports it: incoming from a user, or a refund to one."""

    id: str
    user_id: int | None
    amount: int
    date: int
    payload: str | None
    incoming: bool
    subscription_period: int | None = None
    affiliate_stars: int = 0  # what Telegram paid an affiliate out of this transaction (Affiliate Program)
    kind: str | None = None  # TransactionPartnerUser.transaction_type: "invoice_payment", "gift_purchase", ...
    gift_id: str | None = None  # a "gift_purchase": the gift the bot sent (to `user_id`)

    @property
    def is_gift_purchase(self) -> bool:
        """A real Telegram gift the bot sent with sendGift, paid from its balance."""
        return not self.incoming and self.kind == "gift_purchase"


@dataclass(frozen=True, slots=True)
class ShareCard:
    """One thing to share: what the chat shows before sending (title, description) and after (the message text and
    one URL button to the deep link). A URL button, not a web_app one: those work only in the bot's own chat."""

    id: str  # the card id (or `murmur.sharing.LINK`): the inline result's id
    title: str
    description: str
    message_text: str
    button_text: str
    url: str


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """What savePreparedInlineMessage answers: the id `WebApp.shareMessage` takes, and until when it works."""

    id: str
    expiration_date: int


class Messenger(Protocol):
    """Sending a notice (`murmur.delivery`)."""

    def send_message(self, chat_id: int, text: str, buttons: list[list[Button]] | None = None) -> bool:
        """True if delivered; False if Telegram refused it for good (the user blocked the bot, no such chat);
        raises TelegramUnavailableError (TelegramRateLimitedError for a 429) when a later try may succeed."""
        ...


class StarPayments(Protocol):
    """Invoices, refunds, subscriptions and the Stars ledger (`murmur.orders`, `.refunds`, `.reconciliation`)."""

    def create_invoice_link(
        self, *, title: str, description: str, payload: str, stars: int, subscription_period: int | None
    ) -> str: ...

    def refund_star_payment(self, user_id: int, charge_id: str) -> None: ...

    def edit_star_subscription(self, user_id: int, charge_id: str, cancelled: bool) -> None: ...

    def star_transactions(self, offset: int, limit: int) -> list[StarTransaction]: ...


class GiftShop(Protocol):
    """What Telegram tells about gifts before one is bought (`murmur.real_gifts`)."""

    def available_gifts(self) -> list[TelegramGift]: ...

    def star_balance(self) -> int: ...


class GiftSender(Protocol):
    """What delivering a paid gift asks of Telegram (`murmur.gift_delivery`)."""

    def send_gift(self, user_id: int, gift_id: str, text: str) -> None: ...

    def star_transactions(self, offset: int, limit: int) -> list[StarTransaction]: ...


class PreparedMessages(Protocol):
    """savePreparedInlineMessage, as sharing needs it (`murmur.sharing`)."""

    def save_prepared_message(self, user_id: int, card: ShareCard) -> PreparedMessage: ...


class BotGateway(Messenger, StarPayments, GiftShop, GiftSender, PreparedMessages, Protocol):
    """Every port at once: what the composition root holds and hands to each rule."""
