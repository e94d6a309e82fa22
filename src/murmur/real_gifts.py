"""Real Telegram gifts a sender can add to a message, besides the in-app ones: which the send page offers (Telegram's
catalogue, cached), what each costs (`catalog.telegram_gift_price`), and the pending order of one, made only when
the bot can afford the gift right now. Delivering a paid one is `murmur.gift_delivery`'s.

The receiver gets the gift from the bot, with the start of the sender's message as its text (`gift_text`): nothing
about the sender goes with it."""

from __future__ import annotations

from dataclasses import dataclass

from murmur import catalog
from murmur.clock import Clock
from murmur.errors import ConflictError
from murmur.inbox import Gift
from murmur.models import Message, Order, OrderStatus, Person, TelegramGift
from murmur.orders import new_order_id
from murmur.ports import GiftShop
from murmur.store.gift_catalogue import GiftCatalogue
from murmur.store.repositories import Repositories

# How long the cached catalogue serves the send page before the cron asks Telegram again. Telegram's catalogue
# changes rarely (a new gift, a limited one selling out); a sold-out gift is refused when its order is made anyway.
CATALOGUE_SECONDS = 3600
# sendGift's `text`: "0-128 characters". Counted here in UTF-16 code units, the stricter of the two ways Telegram
# counts, so an emoji never takes the text past the limit.
GIFT_TEXT_UNITS = 128
ELLIPSIS = "…"


class GiftUnavailableError(ConflictError):
    """This gift cannot be sent any more; choose another."""

    code = "gift_unavailable"


class GiftUnaffordableError(ConflictError):
    """The bot cannot send this gift right now; send your message without it, or choose another later."""

    code = "gift_unaffordable"


@dataclass(frozen=True, slots=True)
class OfferedGift:
    """A real gift as the send page offers it: the gift and its price to the sender, in Stars."""

    gift: TelegramGift
    stars: int


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def gift_text(message_text: str) -> str:
    """What Telegram shows with the gift: the message, or its first 127 units and an ellipsis when longer (the
    send page shows the sender exactly this before they pay)."""
    if _units(message_text) <= GIFT_TEXT_UNITS:
        return message_text
    kept: list[str] = []
    used = _units(ELLIPSIS)
    for char in message_text:
        used += _units(char)
        if used > GIFT_TEXT_UNITS:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


def offered(gifts: list[TelegramGift]) -> list[OfferedGift]:
    """The gifts a sender may choose, cheapest first, each at its price."""
    return sorted(
        (OfferedGift(gift, catalog.telegram_gift_price(gift.star_count)) for gift in gifts if gift.remaining != 0),
        key=lambda offer: (offer.stars, offer.gift.gift_id),
    )


class RealGifts:
    def __init__(self, repos: Repositories, shop: GiftShop, clock: Clock, order_ttl: int) -> None:
        self.repos = repos
        self.shop = shop
        self.clock = clock
        self.order_ttl = order_ttl

    def refresh(self, cached: GiftCatalogue | None) -> dict[str, int]:
        """The cron's part: ask Telegram again once the cached catalogue (as the run read it) is an hour old."""
        now = int(self.clock.now())
        if cached is not None and now - cached.fetched_at < CATALOGUE_SECONDS:
            return {"gift_catalogue_refreshed": 0}
        gifts = self.shop.available_gifts()
        self.repos.gift_catalogue.save(gifts, now)
        return {"gift_catalogue_refreshed": 1, "gifts_available": len(gifts)}

    def offer(self, sender: Person, gift_id: str) -> Gift:
        """A real gift sent with a new message. Its order is made for that message, in the message's own transaction
        (`Inbox.send_once`), and only if Telegram still offers the gift, at its price now, and the bot's balance
        covers it now (GiftUnavailableError, GiftUnaffordableError otherwise: nothing is written, no invoice made).
        Asked of Telegram when the order is made, not from the cache: the price must be today's."""

        def order_for(message: Message) -> Order:
            gift = next((g for g in self.shop.available_gifts() if g.gift_id == gift_id), None)
            if gift is None or gift.remaining == 0:
                raise GiftUnavailableError()
            if self.shop.star_balance() < gift.star_count:
                raise GiftUnaffordableError()
            now = int(self.clock.now())
            return Order(
                order_id=new_order_id(),
                buyer_id=sender.id,
                product=catalog.TELEGRAM_GIFT.id,
                amount=catalog.telegram_gift_price(gift.star_count),
                currency=catalog.CURRENCY,
                status=OrderStatus.PENDING,
                created_at=now,
                expires_at=now + self.order_ttl,
                recipient_id=message.recipient_id,
                message_id=message.message_id,
                telegram_gift=gift,
            )

        return Gift(f"telegram:{gift_id}", order_for)
