"""The domain's data types: plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PlanKind(StrEnum):
    FREE = "free"
    PLUS = "plus"  # a weekly pass, expired by the cron
    PRO = "pro"  # a native Stars subscription, renewed by Telegram


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"


class PaymentStatus(StrEnum):
    PAID = "paid"
    REFUNDED = "refunded"


@dataclass(slots=True)
class User:
    user_id: int
    first_name: str
    language_code: str = "en"
    link_code: str = ""
    accepts_messages: bool = True
    plan: PlanKind = PlanKind.FREE
    plan_expires_at: int | None = None
    pro_charge_id: str | None = None
    pro_cancelled: bool = False
    banned: bool = False
    referrals: int = 0
    created_at: int = 0
    received: int = 0  # counts from before the sharded tallies (store/tallies.py); their base
    unread: int = 0
    slow_mode_seconds: int = 0  # the owner's controls: one message per sender per this many seconds (0: off)
    daily_cap: int = 0  # at most this many messages a day (0: no cap)

    def plan_active(self, now: float) -> bool:
        return self.plan is not PlanKind.FREE and self.plan_expires_at is not None and now < self.plan_expires_at


@dataclass(slots=True)
class Message:
    recipient_id: int
    message_id: str
    sender_id: int  # never leaves the backend
    pseudonym: str  # HMAC(recipient, sender): stable per recipient, reveals nothing
    text: str
    created_at: int
    clues: list[str] = field(default_factory=list)  # the hint ladder the sender was shown
    nickname: str | None = None  # only when the sender chose to be recognisable
    unlocked: bool = False
    read: bool = False
    hints_revealed: int = 0
    gifts: dict[str, str] = field(default_factory=dict)  # charge id -> gift kind
    reported: bool = False


@dataclass(slots=True)
class Order:
    order_id: str
    buyer_id: int
    product: str
    amount: int
    currency: str
    status: OrderStatus
    created_at: int
    expires_at: int
    recipient_id: int | None = None
    message_id: str | None = None
    charge_id: str | None = None


@dataclass(slots=True)
class Payment:
    charge_id: str
    user_id: int
    product: str
    amount: int
    currency: str
    status: PaymentStatus
    created_at: int
    order_id: str | None = None
    # Why the payment could not be matched to a valid order (recorded and flagged, never dropped).
    flag: str | None = None
    is_recurring: bool = False
    subscription_expiration_date: int | None = None
    refunded_at: int | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """Who is acting, as Telegram vouched for them (initData or an update)."""

    id: int
    first_name: str
    language_code: str | None = None
    is_premium: bool = False


@dataclass(frozen=True, slots=True)
class OwedNotice:
    """A bot message Telegram could not take yet, kept in the outbox until it is delivered. Only the chat it
    goes to and what it says: a notice never names a sender, so neither does this."""

    key: str
    chat_id: int
    due_at: int  # epoch seconds; while a run holds it, the end of that run's lease
    text: str = ""  # empty when read from the due index, which holds keys and the chat only
    buttons: str = ""  # JSON, rows of buttons as `delivery.buttons_json` writes them
    attempts: int = 0
    expires_at: int = 0
    seq: int = 0  # announcements only: how many messages were announced into it
    quiet_until: int = 0  # announcements only: no new one before this

    @property
    def is_announcement(self) -> bool:
        """The coalesced "new messages" notice of one owner, written when it is delivered."""
        return self.key.startswith("outbox#notify#")
