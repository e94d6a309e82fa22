"""Every product Murmur sells and its price in Telegram Stars: the one table prices come from. What an invoice
calls each product is in `murmur.texts` (`invoice_title_<id>`, `invoice_description_<id>`), in the buyer's
language."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from murmur import texts
from murmur.errors import InvalidInputError

CURRENCY = "XTR"
SUBSCRIPTION_PERIOD = 2592000  # 30 days: the only period Telegram allows for Stars subscriptions
PLUS_PASS_SECONDS = 7 * 86400


class Payer(StrEnum):
    OWNER = "owner"
    SENDER = "sender"


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    stars: int
    payer: Payer
    needs_message: bool
    subscription_period: int | None = None
    gift: str | None = None


PRODUCTS: dict[str, Product] = {
    p.id: p
    for p in (
        Product("unlock", 1, Payer.OWNER, True),
        Product("hint", 5, Payer.OWNER, True),
        Product("plus_week", 15, Payer.OWNER, False),
        Product("pro_month", 50, Payer.OWNER, False, subscription_period=SUBSCRIPTION_PERIOD),
        Product("gift_heart", 3, Payer.SENDER, True, gift="heart"),
        Product("gift_fire", 10, Payer.SENDER, True, gift="fire"),
        Product("gift_crown", 50, Payer.SENDER, True, gift="crown"),
    )
}

GIFTS = {p.gift: p for p in PRODUCTS.values() if p.gift}

# A real Telegram gift (`murmur.real_gifts`), which the bot buys from its own Star balance and sends with the
# sender's message. Not in the table above: each is priced from what Telegram asks for it (`telegram_gift_price`).
TELEGRAM_GIFT = Product("telegram_gift", 0, Payer.SENDER, True)
# The share of each Star a buyer pays that the bot keeps, at worst (numerator, denominator): the developer's payout
# per Star (bench/prices.py USD_PER_STAR_TO_DEVELOPER, $0.013) over what a Star costs a buyer
# (bench/prices.py USD_PER_STAR_TO_BUYER, about $0.02): Telegram and the app stores keep the other 35 %.
STARS_KEPT = (65, 100)


def telegram_gift_price(star_count: int) -> int:
    """What a sender pays for a real gift that costs the bot `star_count` Stars: enough that what the bot keeps of
    the payment covers the gift (rounded up), whether Telegram's share is taken from the Stars or at payout."""
    kept, paid = STARS_KEPT
    return -(-star_count * paid // kept)


def product(product_id: str) -> Product:
    if product_id == TELEGRAM_GIFT.id:
        return TELEGRAM_GIFT
    try:
        return PRODUCTS[product_id]
    except KeyError:
        raise InvalidInputError(f"unknown product: {product_id[:40]}") from None


def title(item: Product, language_code: str | None) -> str:
    """The product's name on its invoice (Telegram: 1-32 characters), in the buyer's language."""
    return texts.text(f"invoice_title_{item.id}", language_code)


def description(item: Product, language_code: str | None) -> str:
    """What the product gives, on its invoice (Telegram: 1-255 characters), in the buyer's language."""
    return texts.text(f"invoice_description_{item.id}", language_code)
