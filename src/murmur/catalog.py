"""Every product Murmur sells and its price in Telegram Stars: the one table prices come from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
    title: str
    description: str
    payer: Payer
    needs_message: bool
    subscription_period: int | None = None
    gift: str | None = None


PRODUCTS: dict[str, Product] = {
    p.id: p
    for p in (
        Product("unlock", 1, "Read a message", "The full text of one anonymous message.", Payer.OWNER, True),
        Product("hint", 5, "A hint", "The next clue about who sent this message.", Payer.OWNER, True),
        Product("plus_week", 15, "Murmur Plus, 7 days", "Read every message for a week.", Payer.OWNER, False),
        Product(
            "pro_month",
            50,
            "Murmur Pro",
            "Read every message; renews every 30 days until you cancel.",
            Payer.OWNER,
            False,
            subscription_period=SUBSCRIPTION_PERIOD,
        ),
        Product("gift_heart", 3, "Heart", "A heart shown with your message.", Payer.SENDER, True, gift="heart"),
        Product("gift_fire", 10, "Fire", "Fire shown with your message.", Payer.SENDER, True, gift="fire"),
        Product("gift_crown", 50, "Crown", "A crown shown with your message.", Payer.SENDER, True, gift="crown"),
    )
}

GIFTS = {p.gift: p for p in PRODUCTS.values() if p.gift}


def product(product_id: str) -> Product:
    try:
        return PRODUCTS[product_id]
    except KeyError:
        raise InvalidInputError(f"unknown product: {product_id[:40]}") from None
