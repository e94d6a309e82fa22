"""The domain's data types: plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PlanKind(StrEnum):
    FREE = "free"
    PLUS = "plus"  # a weekly pass, expired by the cron
    PRO = "pro"  # a native Stars subscription, renewed by Telegram


# How long Pro stays readable past its paid period while Telegram's renewal is on its way. Telegram charges the
# next period as the last one ends and sends successful_payment at once; a late one means our webhook was
# failing (Telegram redelivers) or the update was lost (the cron's reconciliation finds the charge within
# minutes). Three hours covers either with room to spare, and is 0.4 % of a period: a subscription that ends
# without a word gets little for free. Only while a renewal is expected: never after a cancel or a failed payment.
RENEWAL_GRACE_SECONDS = 3 * 3600


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"


class PaymentStatus(StrEnum):
    PAID = "paid"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class InviteCredits:
    """Free unlocks an owner earned by inviting people (rules: `murmur.invite_credits`). `version` guards every
    change: a write names the version it was computed from, so concurrent spends or earnings cannot both land."""

    expiries: tuple[int, ...] = ()  # one per credit held, the soonest first (epoch seconds)
    week: int = 0  # the week `earned_in_week` counts (epoch seconds // one week)
    earned_in_week: int = 0
    version: int = 0

    def held(self, now: float) -> int:
        return sum(1 for expiry in self.expiries if expiry > now)


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
    pro_cancelled: bool = False  # no renewal expected: cancelled by the user, or its payment failed
    pro_failed: bool = False  # Telegram could not charge the renewal (Bot API 10.2 `subscription` update)
    banned: bool = False
    referrals: int = 0
    created_at: int = 0
    received: int = 0  # counts from before the sharded tallies (store/tallies.py); their base
    unread: int = 0
    slow_mode_seconds: int = 0  # the owner's controls: one message per sender per this many seconds (0: off)
    daily_cap: int = 0  # at most this many messages a day (0: no cap)
    erasing: bool = False  # erasure has begun: the account is unusable until it ends (murmur.privacy)
    invite_credits: InviteCredits = field(default_factory=InviteCredits)

    @property
    def renews(self) -> bool:
        """Pro that Telegram is expected to renew: neither cancelled nor failed."""
        return self.plan is PlanKind.PRO and not self.pro_cancelled

    @property
    def access_until(self) -> int | None:
        """When the plan stops giving access: its paid end, plus the grace while a renewal is on its way."""
        if self.plan is PlanKind.FREE or self.plan_expires_at is None:
            return None
        return self.plan_expires_at + (RENEWAL_GRACE_SECONDS if self.renews else 0)

    def plan_active(self, now: float) -> bool:
        until = self.access_until
        return until is not None and now < until


@dataclass(frozen=True, slots=True)
class OwnerReply:
    """What the owner answered a message with (the bot took it to the sender): shown to the owner only."""

    text: str
    sent_at: int


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
    card: str | None = None  # the question card it answers (`murmur.cards`), if any
    question: str | None = None  # the owner's own question as it read when sent (card "own")
    replies: list[OwnerReply] = field(default_factory=list)  # the owner's latest replies, oldest first (bounded)
    reply_count: int = 0  # every reply recorded so far: guards the next write of `replies`


# How a message's `gifts` map marks a delivered real Telegram gift (`tg:<emoji>`); in-app gifts are named by kind.
TELEGRAM_GIFT_BADGE = "tg:"


@dataclass(frozen=True, slots=True)
class TelegramGift:
    """A gift from Telegram's own catalogue (getAvailableGifts) that the bot sends with `sendGift`: what it costs
    the bot, and how the inbox shows it (its sticker's emoji). `remaining` counts a limited gift's stock."""

    gift_id: str
    emoji: str
    star_count: int
    remaining: int | None = None

    @property
    def badge(self) -> str:
        """How a message's `gifts` map names it once delivered (in-app gifts are named by their kind)."""
        return f"{TELEGRAM_GIFT_BADGE}{self.emoji}"


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message waiting in its gift's order for the payment (ADR 0011): the message as the send made it, and the
    link it was sent through (admitted again, as a send is, when it is stored)."""

    code: str
    message: Message


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
    telegram_gift: TelegramGift | None = None  # product "telegram_gift": the gift the bot sends when it is paid
    # A gift sent with a new message: the message, stored only once the gift is paid (ADR 0011), and never kept
    # here after that; cancelling the order drops it.
    held: HeldMessage | None = None


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
    # A subscription's payment: the subscription it belongs to, named by its first charge (what
    # editUserStarSubscription takes); cancelled along with the refund of a payment that granted nothing.
    subscription_charge_id: str | None = None


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

    @property
    def is_report_digest(self) -> bool:
        """The coalesced digest of new reports for one admin (`seq`: reports not told yet), written when delivered."""
        return self.key.startswith("outbox#reports#")

    @property
    def refund_charge_id(self) -> str | None:
        """An automatic refund's notice: the charge Telegram must refund before the notice, which says so, is sent."""
        return self.key.removeprefix("outbox#refund#") if self.key.startswith("outbox#refund#") else None

    @property
    def gift_charge_id(self) -> str | None:
        """A real Telegram gift owed for a payment (`murmur.gift_delivery`): the charge that paid for it."""
        return self.key.removeprefix("outbox#gift#") if self.key.startswith("outbox#gift#") else None


@dataclass(frozen=True, slots=True)
class OwedGift:
    """A paid real Telegram gift the bot owes (`murmur.gift_delivery`), as the outbox keeps it until it is sent or
    refunded. Its text is not kept: it is read from the message when the gift is sent."""

    charge_id: str
    buyer_id: int  # the sender, who paid: told if it is refunded; never shown to the recipient
    recipient_id: int
    message_id: str
    gift: TelegramGift
    language: str  # the buyer's, for what they are told
    held_until: int  # `due_at`: the hold of whoever works on it now
    attempted_at: int = 0  # when sendGift was called: from then on it is never called again for this gift
    ledger_from: int = 0  # the Stars ledger's offset before that call: where its spend is looked for
    refund_reason: str = ""  # decided: it will not be sent, and its Stars go back


@dataclass(frozen=True, slots=True)
class ReportToReview:
    """A reported message waiting for an admin's decision: what the admin sees. Never its sender."""

    recipient_id: int
    message_id: str
    text: str
    reason: str
    reported_at: int

    @property
    def key(self) -> str:
        """How an admin's buttons name it (`ban:<key>`, `blk:<key>`, `ok:<key>`)."""
        return f"{self.recipient_id}:{self.message_id}"
