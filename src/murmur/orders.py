"""Orders, pre-checkout checks, exactly-once fulfilment and refunds (the order model of ARCHITECTURE.md).

Access is granted on `successful_payment` only, in one DynamoDB transaction with the ledger row whose
condition (a new telegram_payment_charge_id) makes every repeated or concurrent delivery a no-op."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from murmur import catalog, notices, plans, texts
from murmur.catalog import CURRENCY, Product, product
from murmur.clock import Clock
from murmur.delivery import KEEP_SECONDS, LEASE_SECONDS
from murmur.errors import (
    BannedError,
    BlockedError,
    ConflictError,
    ErasingError,
    MurmurError,
    NotAcceptingMessagesError,
    NotFoundError,
    RateLimitedError,
    StorageUnavailableError,
    TelegramRefusedError,
)
from murmur.ids import MESSAGE_ID_RE
from murmur.inbox import Gift, Inbox
from murmur.models import (
    HeldMessage,
    Message,
    Order,
    OrderStatus,
    OwedGift,
    OwedNotice,
    Payment,
    PaymentStatus,
    Person,
    PlanKind,
    User,
)
from murmur.ports import StarPayments
from murmur.standing import usable
from murmur.store.batch import Ref
from murmur.store.dynamo import Op
from murmur.store.repositories import Repositories
from murmur.user_text import preview_is_whole

log = logging.getLogger(__name__)


class DuplicatePaymentError(MurmurError):
    """This telegram_payment_charge_id is already in the ledger."""

    code = "duplicate_payment"


class OrderNotPendingError(MurmurError):
    """The order was already paid or refunded."""

    code = "order_not_pending"


class EntitlementChangedError(MurmurError):
    """What the order buys is no longer possible (no hints left, plan changed meanwhile)."""

    code = "entitlement_changed"


class AlreadyRefundedError(MurmurError):
    """The payment was refunded already."""

    code = "already_refunded"


class Rejection(StrEnum):
    """Why a pre-checkout is refused; the webhook shows a short localized text for each."""

    UNKNOWN_ORDER = "unknown_order"
    NOT_YOURS = "not_yours"
    NOT_PENDING = "not_pending"
    EXPIRED = "expired"
    WRONG_CURRENCY = "wrong_currency"
    WRONG_AMOUNT = "wrong_amount"
    TARGET_GONE = "target_gone"
    BANNED = "banned"
    BLOCKED = "blocked"
    NOT_ACCEPTING = "not_accepting"  # the inbox a held message goes to is paused (ADR 0011)
    # The purchase would give nothing now (`pointless_purchase`):
    ALREADY_PRO = "already_pro"
    PRO_INCLUDES_PLUS = "pro_includes_plus"
    ALREADY_READABLE = "already_readable"
    NO_HINTS_LEFT = "no_hints_left"


class Outcome(StrEnum):
    GRANTED = "granted"
    RENEWED = "renewed"
    DUPLICATE = "duplicate"
    FLAGGED = "flagged"


@dataclass(frozen=True, slots=True)
class PaidOrder:
    order: Order
    invoice_link: str


@dataclass(frozen=True, slots=True)
class SuccessfulPayment:
    """The fields of Telegram's SuccessfulPayment that fulfilment needs."""

    payer_id: int
    currency: str
    total_amount: int
    payload: str
    charge_id: str
    is_recurring: bool = False
    is_first_recurring: bool = False
    subscription_expiration_date: int | None = None
    language_code: str | None = None  # the payer's, as the update says: for telling them of a refund


@dataclass(slots=True)
class Fulfilment:
    outcome: Outcome
    product: str | None
    payment: Payment | None = None
    flag: str | None = None
    plan_expires_at: int | None = None
    revoked: list[str] = field(default_factory=list)
    # FLAGGED: the refund it is owed, held by the caller until its `due_at` (`NoticeDelivery.deliver_held` does
    # it now); after that a cron run does. GRANTED for a real Telegram gift: the gift owed, held the same way.
    owed: OwedNotice | None = None
    # GRANTED for a gift whose message waited for it (ADR 0011): the owner the stored message is announced to.
    announce_to: int | None = None


def pointless_purchase(product_id: str, buyer: User | None, message: Message | None, now: float) -> Rejection | None:
    """Why buying `product_id` now would give `buyer` nothing (None if it would give something): Pro while a Pro
    subscription renews, Plus while Pro is active, unlocking what is readable, a hint when none is left. Checked
    at pre-checkout, where an order made earlier meets today's state, and again at fulfilment."""
    if buyer is not None and buyer.plan is PlanKind.PRO and buyer.plan_active(now):
        if product_id == "pro_month" and buyer.renews:
            return Rejection.ALREADY_PRO
        if product_id == "plus_week":
            return Rejection.PRO_INCLUDES_PLUS
    if message is not None:
        plan = buyer is not None and buyer.plan_active(now)
        if product_id == "unlock" and (message.unlocked or plan or preview_is_whole(message.text)):
            return Rejection.ALREADY_READABLE
        if product_id == "hint" and message.hints_revealed >= len(message.clues):
            return Rejection.NO_HINTS_LEFT
    return None


def _erased(payer: User | None) -> bool:
    """The payer's account is gone, or going (`murmur.privacy`): nothing can be granted to it."""
    return payer is None or payer.erasing


# Bot API 10.2, BotSubscriptionUpdated.state: what each says of the renewal, as (cancelled, failed).
_SUBSCRIPTION_STATES = {"canceled": (True, False), "active": (False, False), "failed": (True, True)}

# The ledger's flag for a payment that `pointless_purchase` finds would give nothing by the time it arrives.
_FLAG_OF_POINTLESS = {
    Rejection.ALREADY_PRO: "duplicate_subscription",
    Rejection.PRO_INCLUDES_PLUS: "pro_includes_plus",
    Rejection.ALREADY_READABLE: "already_unlocked",
    Rejection.NO_HINTS_LEFT: "no_hints_left",
}


def new_order_id() -> str:
    """The invoice payload: 1-128 bytes; unguessable so a payload cannot be forged onto another order."""
    return "o_" + secrets.token_urlsafe(18)


class Orders:
    def __init__(self, repos: Repositories, inbox: Inbox, clock: Clock, gateway: StarPayments, order_ttl: int) -> None:
        self.repos = repos
        self.inbox = inbox
        self.clock = clock
        self.gateway = gateway
        self.order_ttl = order_ttl

    # ------------------------------------------------------------------ creating
    def create(
        self, buyer: Person, product_id: str, message_id: str | None = None, link_code: str | None = None
    ) -> PaidOrder:
        """Price from the catalog, check the purchase makes sense, store a pending order, make the invoice.
        A gift is for a message the buyer sent: `link_code` names the inbox it went to."""
        item = product(product_id)
        now = self.clock.now()
        if item.needs_message and (not message_id or not MESSAGE_ID_RE.match(message_id)):
            raise NotFoundError("this product needs a message_id")
        if item.gift:
            return self.invoice(self._gift_on_sent(buyer, item, message_id or "", link_code, now), buyer.language_code)
        refs: list[Ref[Any]] = [self.repos.users.ref(buyer.id)]
        if item.needs_message:
            refs.append(self.repos.messages.ref(buyer.id, message_id or ""))
        user, *target = self.repos.batch.get(refs)  # the buyer and, for owner products, the message: one read
        if user is None:
            user = self.inbox.ensure_user(buyer)  # fulfilment writes plans onto a registered user
        usable(user)  # neither banned nor being erased
        if item.needs_message:
            message = target[0]
            if message is None:
                raise NotFoundError("no such message")
            self._check_owner_target(item, message, user, now)
        elif item.id == "pro_month" and user.plan is PlanKind.PRO and user.plan_active(now):
            if not user.pro_cancelled:
                raise ConflictError("you already have Pro")
        elif item.id == "plus_week" and user.plan is PlanKind.PRO and user.plan_active(now):
            raise ConflictError("Pro already includes everything Plus does")
        order = self._pending(item, buyer.id, now, (buyer.id, message_id or "") if item.needs_message else None)
        self.repos.orders.put(order)
        return self.invoice(order, buyer.language_code)

    def gift(self, sender: Person, kind: str) -> Gift:
        """A gift sent with a new message: its pending order is made for that message and written in the
        message's own transaction (`Inbox.send_once`); `invoice` makes its link once the message is stored."""
        item = product(f"gift_{kind}")

        def order_for(message: Message) -> Order:
            return self._pending(item, sender.id, self.clock.now(), (message.recipient_id, message.message_id))

        return Gift(kind, order_for)

    def invoice(self, order: Order, language_code: str | None) -> PaidOrder:
        """The Stars invoice link of a stored pending order, in the buyer's language; made again for a send's retry
        (the same order)."""
        item = product(order.product)
        link = self.gateway.create_invoice_link(
            title=catalog.title(item, language_code),
            description=catalog.description(item, language_code),
            payload=order.order_id,
            stars=order.amount,
            subscription_period=item.subscription_period,
        )
        return PaidOrder(order, link)

    def _pending(self, item: Product, buyer_id: int, now: float, target: tuple[int, str] | None) -> Order:
        """A new pending order, priced from the catalog; `target` is the (recipient, message id) it is for."""
        return Order(
            order_id=new_order_id(),
            buyer_id=buyer_id,
            product=item.id,
            amount=item.stars,
            currency=CURRENCY,
            status=OrderStatus.PENDING,
            created_at=int(now),
            expires_at=int(now) + self.order_ttl,
            recipient_id=target[0] if target else None,
            message_id=target[1] if target else None,
        )

    def _gift_on_sent(self, buyer: Person, item: Product, message_id: str, link_code: str | None, now: float) -> Order:
        """A gift on a message the buyer sent earlier, stored as a pending order. The link it went to is checked
        as a send checks it, in one read (a banned or blocked sender hears what a send would tell them), then
        that one message is read by its key, never the buyer's whole history: the same 404 for a message that
        is absent and for someone else's."""
        if not link_code:  # a sent message is named by the link it went to and its id: without the link, none
            raise NotFoundError("no such message: a gift names it by link_code and message_id")
        owner, _ = self.inbox.admit(buyer, link_code)
        message = self.repos.messages.get(owner.user_id, message_id, consistent=True)
        if message is None or message.sender_id != buyer.id:
            raise NotFoundError("no such message")
        order = self._pending(item, buyer.id, now, (owner.user_id, message_id))
        self.repos.orders.put(order)
        return order

    def _check_owner_target(self, item: Product, message: Message, user: User, now: float) -> None:
        if item.id == "unlock" and (message.unlocked or user.plan_active(now) or preview_is_whole(message.text)):
            raise ConflictError("this message is already readable")
        if item.id == "hint" and message.hints_revealed >= len(message.clues):
            raise ConflictError("there are no more hints for this message")

    def cancel(self, buyer_id: int, order_id: str) -> None:
        """The buyer gives up a pending order: after a gift's payment was cancelled, to keep editing the message that
        waited in it or to send it without the gift (ADR 0011). Deleted with that message, so nothing can pay it
        any more; a ConflictError if it was paid meanwhile (then the message is stored, with its gift)."""
        order = self.status(buyer_id, order_id)
        if order.status is not OrderStatus.PENDING:
            raise ConflictError("this order is paid already")
        self.repos.tx.write_one(
            self.repos.orders.cancel_op(order_id).failing_with(lambda: ConflictError("paid meanwhile"))
        )

    def status(self, buyer_id: int, order_id: str) -> Order:
        order = self.repos.orders.get(order_id, consistent=True) if order_id.startswith("o_") else None
        if order is None or order.buyer_id != buyer_id:
            raise NotFoundError("no such order")
        return order

    # ------------------------------------------------------------------ pre-checkout
    def _order_and_payer(self, payload: str, payer_id: int) -> tuple[Order | None, User | None]:
        """One BatchGetItem: the order the payload names and the person paying."""
        if not payload.startswith("o_") or len(payload.encode()) > 128:
            return None, self.repos.users.get(payer_id, consistent=True)
        order, payer = self.repos.batch.get(
            [self.repos.orders.ref(payload), self.repos.users.ref(payer_id)], consistent=True
        )
        return order, payer

    def pre_checkout(self, payer_id: int, payload: str, currency: str, total_amount: int) -> Rejection | None:
        """None to accept; otherwise why not. One read (the order and the payer's ban record, which outlives an
        erased account, and the payer's plan), plus the target for messages. The order may be older than today's
        state (two Pro orders made before either was paid): what would give nothing now is refused before Telegram
        charges (`pointless_purchase`)."""
        refs: list[Ref[Any]] = [self.inbox.standings.ref(payer_id), self.repos.users.ref(payer_id)]
        if payload.startswith("o_") and len(payload.encode()) <= 128:
            refs.append(self.repos.orders.ref(payload))
        record, payer, *found = self.repos.batch.get(refs, consistent=True)
        if record is not None and record.banned:
            return Rejection.BANNED
        order: Order | None = found[0] if found else None
        if order is None:
            return Rejection.UNKNOWN_ORDER
        if order.buyer_id != payer_id:
            return Rejection.NOT_YOURS
        if order.status is not OrderStatus.PENDING:
            return Rejection.NOT_PENDING
        if self.clock.now() >= order.expires_at:
            return Rejection.EXPIRED
        if currency != CURRENCY:
            return Rejection.WRONG_CURRENCY
        if total_amount != order.amount:
            return Rejection.WRONG_AMOUNT
        if order.held is not None:
            return self._held_refusal(order.held)
        message: Message | None = None
        if order.message_id and order.recipient_id is not None:
            message, recipient = self._target(order.recipient_id, order.message_id, payer_id)
            if message is None:
                return Rejection.TARGET_GONE
            if recipient is not None and self._blocked(message, recipient):
                return Rejection.BLOCKED  # a gift ordered before the owner blocked its sender
        # A gift is for someone else's message: the payer's plan and that message's state are not theirs to use.
        mine = message if message is not None and message.recipient_id == payer_id else None
        return pointless_purchase(order.product, payer, mine, self.clock.now())

    def _held_refusal(self, held: HeldMessage) -> Rejection | None:
        """Why the inbox would not take a message that waits for its gift's payment (ADR 0011), before Telegram
        charges for it; None if it would. Its sender's rate, slow mode and the daily cap count when it is stored."""
        try:
            self.inbox.admit_held(held)
        except BannedError:
            return Rejection.BANNED
        except BlockedError:
            return Rejection.BLOCKED
        except NotAcceptingMessagesError:
            return Rejection.NOT_ACCEPTING
        except (NotFoundError, ErasingError):
            return Rejection.TARGET_GONE
        return None

    def _target(self, recipient_id: int, message_id: str, payer_id: int) -> tuple[Message | None, User | None]:
        """The message an order is for and, for someone else's message (a gift), its recipient's row, read with
        it in one batch: what `_blocked` needs to find the recipient's link."""
        if recipient_id == payer_id:
            return self.repos.messages.get(recipient_id, message_id, consistent=True), None
        message, recipient = self.repos.batch.get(
            [self.repos.messages.ref(recipient_id, message_id), self.repos.users.ref(recipient_id)], consistent=True
        )
        return message, recipient

    def _blocked(self, message: Message, recipient: User | None) -> bool:
        """Whether the recipient has blocked this message's sender (the block is their pseudonym on the link)."""
        if recipient is None or not recipient.link_code:
            return False
        owner = self.repos.links.owner_of(recipient.link_code)
        return owner is not None and message.pseudonym in owner.blocked

    # ------------------------------------------------------------------ fulfilment
    def fulfil(self, paid: SuccessfulPayment) -> Fulfilment:
        """Exactly once per charge id. Raises StorageUnavailableError when a retry can help. A payment that grants
        nothing (its order unknown, someone else's or paid already, its target gone, its payer erased, or pointless
        by now) is recorded flagged and refunded automatically (`_record_flagged`)."""
        now = int(self.clock.now())
        order, payer = self._order_and_payer(paid.payload, paid.payer_id)
        if paid.is_recurring and not paid.is_first_recurring:
            return self._renew(paid, order, payer, now)
        flag = self._flag_of(paid, order)
        if flag is not None or order is None:
            return self._record_flagged(paid, order, flag or "unknown_order", now, payer)
        item = product(order.product)
        if _erased(payer) and item.id in ("plus_week", "pro_month"):  # a plan needs its holder (a gift, no row)
            return self._record_flagged(paid, order, "payer_erased", now, payer)
        if order.held is not None:
            return self._store_held(paid, order, order.held, now, payer)
        user = payer or User(user_id=paid.payer_id, first_name="")
        for attempt in range(3):
            if attempt:
                user = self._user_for_plan(paid.payer_id)
            pointless = pointless_purchase(item.id, user, None, now)
            if pointless is not None:  # bought meanwhile (another order of Pro, paid first)
                return self._record_flagged(paid, order, _FLAG_OF_POINTLESS[pointless], now, user)
            payment = self._payment(paid, order, now)
            ops = [
                self.repos.payments.record_op(payment).failing_with(DuplicatePaymentError),
                self.repos.orders.mark_paid_op(order.order_id, paid.charge_id).failing_with(OrderNotPendingError),
            ]
            grant_ops, expires = self._grant(item, order, paid, user, now)
            ops += [op.failing_with(EntitlementChangedError) for op in grant_ops]
            try:
                self.repos.tx.write(ops)
                owed = self._gift_hold(paid, now) if item is catalog.TELEGRAM_GIFT else None
                return Fulfilment(Outcome.GRANTED, item.id, payment, plan_expires_at=expires, owed=owed)
            except DuplicatePaymentError:
                return Fulfilment(Outcome.DUPLICATE, item.id)
            except OrderNotPendingError:
                return self._record_flagged(paid, order, "order_not_pending", now, user)
            except EntitlementChangedError:
                if item.id in ("plus_week", "pro_month"):
                    continue  # the plan changed under us (a concurrent renewal): recompute on fresh state
                return self._record_flagged(paid, order, self._target_flag(order), now, user)
        raise StorageUnavailableError("the plan kept changing; retry")

    def _store_held(
        self, paid: SuccessfulPayment, order: Order, held: HeldMessage, now: int, payer: User | None
    ) -> Fulfilment:
        """A gift sent with a new message (ADR 0011): the message waited in the order for this payment and is stored
        now with its gift, as a send stores it, in the payment's transaction (the ledger row first: a redelivery is
        a duplicate before anything else). An inbox that no longer takes it (a ban, a block, paused, full for today,
        slow mode, the sender's rate) stores nothing: the payment is refunded."""
        item = product(order.product)
        message = replace(held.message, gifts={paid.charge_id: item.gift} if item.gift else {})
        payment = self._payment(paid, order, now)
        first = [
            self.repos.payments.record_op(payment).failing_with(DuplicatePaymentError),
            self.repos.orders.mark_paid_op(order.order_id, paid.charge_id).failing_with(OrderNotPendingError),
        ]
        if item is catalog.TELEGRAM_GIFT:  # the gift the bot owes for it, in the same transaction
            first.append(self._owe_gift_op(order, paid, payer, now))
        try:
            self.inbox.store_held(HeldMessage(held.code, message), first)
        except DuplicatePaymentError:
            return Fulfilment(Outcome.DUPLICATE, item.id)
        except OrderNotPendingError:  # cancelled and gone, or paid by another charge
            return self._record_flagged(paid, order, "order_not_pending", now, payer)
        except (BannedError, BlockedError, ErasingError, NotFoundError, NotAcceptingMessagesError, RateLimitedError):
            return self._record_flagged(paid, order, "message_refused", now, payer)
        owed = self._gift_hold(paid, now) if item is catalog.TELEGRAM_GIFT else None
        return Fulfilment(Outcome.GRANTED, item.id, payment, announce_to=message.recipient_id, owed=owed)

    def _target_flag(self, order: Order) -> str:
        """Why a message product granted nothing (its condition failed): read only on this rare path."""
        message = self.repos.messages.get(order.recipient_id or 0, order.message_id or "", consistent=True)
        if message is not None and order.product == "unlock" and message.unlocked:
            return "already_unlocked"
        if message is not None and order.product == "hint":
            return "no_hints_left"
        return "target_gone"

    def _flag_of(self, paid: SuccessfulPayment, order: Order | None) -> str | None:
        if order is None:
            return "unknown_order"
        if order.buyer_id != paid.payer_id:
            return "not_yours"
        if paid.currency != CURRENCY or paid.total_amount != order.amount:
            return "amount_mismatch"
        if order.status is not OrderStatus.PENDING:
            return "order_not_pending" if order.charge_id != paid.charge_id else None
        return None

    def _payment(
        self, paid: SuccessfulPayment, order: Order | None, now: int, flag: str | None = None, subscription: str = ""
    ) -> Payment:
        """The ledger row; a subscription's payment names its subscription (the first charge), the one to cancel
        if this payment is refunded for granting nothing."""
        return Payment(
            charge_id=paid.charge_id,
            user_id=paid.payer_id,
            product=order.product if order else "unknown",
            amount=paid.total_amount,
            currency=paid.currency,
            status=PaymentStatus.PAID,
            created_at=now,
            order_id=order.order_id if order else paid.payload[:128],
            flag=flag,
            is_recurring=paid.is_recurring,
            subscription_expiration_date=paid.subscription_expiration_date,
            subscription_charge_id=(subscription or paid.charge_id) if paid.is_recurring else None,
        )

    def _grant(
        self, item: Product, order: Order, paid: SuccessfulPayment, user: User, now: int
    ) -> tuple[list[Op], int | None]:
        messages = self.repos.messages
        if item.id == "unlock":
            return [messages.unlock_op(order.buyer_id, order.message_id or "")], None
        if item.id == "hint":
            return [messages.reveal_hint_op(order.buyer_id, order.message_id or "")], None
        if item.gift:
            return [
                messages.add_gift_op(order.recipient_id or 0, order.message_id or "", paid.charge_id, item.gift)
            ], None
        if item is catalog.TELEGRAM_GIFT:
            return [self._owe_gift_op(order, paid, user, now)], None
        if item.id == "plus_week":
            op, expires = plans.plus_grant(self.repos.users, user, now)
        else:
            op, expires = plans.pro_grant(
                self.repos.users, user, now, paid.charge_id, paid.subscription_expiration_date
            )
        return [op], expires

    def _gift_hold(self, paid: SuccessfulPayment, now: int) -> OwedNotice:
        """The real gift a payment owes (`murmur.gift_delivery`), held by the caller that recorded it until its
        `due_at`: it sends at once; after that, a cron run."""
        return OwedNotice(
            key=self.repos.gift_outbox.key_of(paid.charge_id),
            chat_id=paid.payer_id,
            due_at=now + LEASE_SECONDS,
            attempts=1,
            expires_at=now + KEEP_SECONDS,
        )

    def _owe_gift_op(self, order: Order, paid: SuccessfulPayment, payer: User | None, now: int) -> Op:
        """For the payment's transaction: the real gift it owes, once per charge."""
        if order.telegram_gift is None or order.recipient_id is None or not order.message_id:
            raise StorageUnavailableError("a Telegram gift order without its gift or message")
        held = self._gift_hold(paid, now)
        gift = OwedGift(
            charge_id=paid.charge_id,
            buyer_id=paid.payer_id,
            recipient_id=order.recipient_id,
            message_id=order.message_id,
            gift=order.telegram_gift,
            language=texts.lang_of(paid.language_code or (payer.language_code if payer is not None else None)),
            held_until=held.due_at,
        )
        return self.repos.gift_outbox.owe_op(gift, attempts=held.attempts, expires_at=held.expires_at)

    def _user_for_plan(self, user_id: int) -> User:
        user = self.repos.users.get(user_id, consistent=True)
        return user if user is not None else User(user_id=user_id, first_name="")

    def _record_flagged(
        self,
        paid: SuccessfulPayment,
        order: Order | None,
        flag: str,
        now: int,
        payer: User | None,
        subscription: str = "",
    ) -> Fulfilment:
        """Never dropped, never kept: the ledger gets the payment with the reason it granted nothing, and in the
        same transaction the outbox gets the refund it is owed (`murmur.refunds`), held by this caller for
        LEASE_SECONDS (it refunds at once); if that fails, a cron run refunds after the hold. A redelivery, or
        a second delivery at the same time, finds the ledger row and owes nothing more: one refund."""
        payment = self._payment(paid, order, now, flag, subscription)
        language = paid.language_code or (payer.language_code if payer is not None else None)
        notice = notices.auto_refunded(paid.payer_id, language, paid.total_amount, flag)
        owed = OwedNotice(
            key=f"outbox#refund#{paid.charge_id}",
            chat_id=paid.payer_id,
            due_at=now + LEASE_SECONDS,
            text=notice.text,
            attempts=1,
            expires_at=now + KEEP_SECONDS,
        )
        try:
            # A transaction even for one item: its retry after a timeout reuses the idempotency token, so a
            # first attempt that landed is not mistaken for a duplicate (and the flag and alarm lost).
            self.repos.tx.write(
                [
                    self.repos.payments.record_op(payment).failing_with(DuplicatePaymentError),
                    self.repos.outbox.owe_refund_op(
                        paid.charge_id,
                        owed.chat_id,
                        owed.text,
                        due_at=owed.due_at,
                        attempts=owed.attempts,
                        expires_at=owed.expires_at,
                    ),
                ]
            )
        except DuplicatePaymentError:
            return Fulfilment(Outcome.DUPLICATE, payment.product)
        log.warning("payment flagged, refund owed: %s", flag)
        return Fulfilment(Outcome.FLAGGED, payment.product, payment, flag=flag, owed=owed)

    def _renew(self, paid: SuccessfulPayment, order: Order | None, payer: User | None, now: int) -> Fulfilment:
        """A Pro renewal: Telegram charged again for the same invoice; move the plan's end. The subscription is
        named by its first payment's charge, which its order keeps (`mark_paid_op`): that is what
        editUserStarSubscription wants, whatever renewal this is, and even when Pro lapsed before a late renewal
        (the plan then no longer names it). A renewal that cannot renew anything is flagged and refunded, and its
        subscription cancelled (`murmur.refunds`): the payer was erased, the subscription is unknown, or it is a
        second one while another renews."""
        subscription = order.charge_id if order is not None and order.charge_id else paid.charge_id
        if payer is None or payer.erasing:
            return self._record_flagged(paid, order, "payer_erased", now, payer, subscription)
        if order is None or order.product != "pro_month" or order.buyer_id != paid.payer_id:
            return self._record_flagged(paid, order, "unknown_subscription", now, payer, subscription)
        user = payer
        for attempt in range(3):
            if attempt:
                user = self._user_for_plan(paid.payer_id)
            if user.renews and user.plan_active(now) and user.pro_charge_id != subscription:
                return self._record_flagged(paid, order, "duplicate_subscription", now, user, subscription)
            payment = self._payment(paid, order, now, subscription=subscription)
            op, expires = plans.pro_grant(self.repos.users, user, now, subscription, paid.subscription_expiration_date)
            try:
                self.repos.tx.write(
                    [
                        self.repos.payments.record_op(payment).failing_with(DuplicatePaymentError),
                        op.failing_with(EntitlementChangedError),
                    ]
                )
                return Fulfilment(Outcome.RENEWED, "pro_month", payment, plan_expires_at=expires)
            except DuplicatePaymentError:
                return Fulfilment(Outcome.DUPLICATE, "pro_month")
            except EntitlementChangedError:
                continue
        raise StorageUnavailableError("the plan kept changing; retry")

    # ------------------------------------------------------------------ refunds
    def refundable(self, charge_id: str) -> Payment | None:
        """The payment to refund through Telegram first, with its payer; None if it was refunded already. A payer
        who erased their account is still known for the refund window (`privacy.REFUND_WINDOW_SECONDS`)."""
        payment = self.repos.payments.get(charge_id)
        if payment is None:
            raise NotFoundError("no payment with this charge id")
        if payment.status is PaymentStatus.REFUNDED:
            return None
        if not payment.user_id:
            payer = self.repos.refund_payers.payer(charge_id, self.clock.now())
            if payer is None:
                raise ConflictError(
                    "the payer erased their account and the refund window has passed: Murmur no longer knows"
                    " whom Telegram should refund"
                )
            payment.user_id = payer
        return payment

    def refund(self, charge_id: str) -> Fulfilment:
        """Record a refund Telegram made (after our refundStarPayment, or its own refunded_payment) and
        revoke what can be revoked. Idempotent: a second call, or both paths for one charge, revoke once."""
        payment = self.repos.payments.get(charge_id)
        if payment is None:
            raise NotFoundError("no payment with this charge id")
        if payment.status is PaymentStatus.REFUNDED:
            return Fulfilment(Outcome.DUPLICATE, payment.product, payment)
        now = int(self.clock.now())
        for _attempt in range(3):
            ops = [self.repos.payments.mark_refunded_op(charge_id, now).failing_with(AlreadyRefundedError)]
            revoked: list[str] = []
            order = self.repos.orders.get(payment.order_id) if payment.order_id else None
            if order is not None and not payment.flag:
                ops.append(self.repos.orders.mark_refunded_op(order.order_id))
                revoke_ops, revoked = self._revoke(payment, order, now)
                ops += [op.failing_with(EntitlementChangedError) for op in revoke_ops]
            try:
                self.repos.tx.write(ops)
                return Fulfilment(Outcome.GRANTED, payment.product, payment, revoked=revoked)
            except AlreadyRefundedError:
                return Fulfilment(Outcome.DUPLICATE, payment.product, payment)
            except EntitlementChangedError:
                continue
        raise StorageUnavailableError("the entitlement kept changing; retry")  # a 5xx: Telegram redelivers

    def _revoke(self, payment: Payment, order: Order, now: int) -> tuple[list[Op], list[str]]:
        messages = self.repos.messages
        item = product(order.product)
        if item.id == "unlock" and order.message_id:
            return [messages.set_unlocked_op(order.buyer_id, order.message_id, False)], ["message relocked"]
        if item.id == "hint" and order.message_id:
            return [messages.hide_hint_op(order.buyer_id, order.message_id)], ["hint hidden"]
        if item.gift and order.message_id and order.recipient_id is not None:
            return [messages.remove_gift_op(order.recipient_id, order.message_id, payment.charge_id)], ["gift hidden"]
        user = self.repos.users.get(order.buyer_id, consistent=True)
        if user is None:
            return [], []
        if item.id == "plus_week":
            op = plans.plus_revoke(self.repos.users, user, now)
            return ([op], ["7 days of Plus removed"]) if op else ([], [])
        if item.id == "pro_month" and user.plan is PlanKind.PRO:
            return [plans.expire(self.repos.users, user)], ["Pro ended"]
        return [], []

    # ------------------------------------------------------------------ Pro subscription
    def set_pro_cancelled(self, user_id: int, cancelled: bool) -> User:
        """The user stops (or resumes) their Pro's renewals from the app: with Telegram first, then here."""
        user = self.repos.users.get(user_id, consistent=True)
        if user is None or user.plan is not PlanKind.PRO or not user.pro_charge_id:
            raise ConflictError("you have no Pro subscription")
        if not user.plan_active(self.clock.now()):
            raise ConflictError("your Pro subscription has ended")
        if not cancelled and user.pro_failed:
            raise ConflictError("Telegram could not charge your last Pro payment: subscribe again")
        self.gateway.edit_star_subscription(user_id, user.pro_charge_id, cancelled)
        self._set_renewal(user, cancelled=cancelled, failed=user.pro_failed and cancelled)
        return user

    def subscription_changed(self, payer_id: int, payload: str, state: str) -> User | None:
        """Telegram's word on a Pro subscription (Bot API 10.2's `subscription` update): "canceled" (Pro runs to
        the period's end; no renewal expected, so no grace), "active" (re-enabled: a renewal is expected again),
        "failed" (Telegram could not charge: Pro ends at the period's end, without the grace). Returns the user if
        this call changed their plan (the caller tells them of a failure); None when there was nothing to change:
        a redelivery, another subscription than the one their Pro runs on, or a state this code does not know."""
        change = _SUBSCRIPTION_STATES.get(state)
        if change is None:
            log.warning("subscription update with an unknown state ignored")
            return None
        order, user = self._order_and_payer(payload, payer_id)
        if order is None or user is None or order.product != "pro_month" or order.buyer_id != payer_id:
            return None
        if user.plan is not PlanKind.PRO or not order.charge_id or user.pro_charge_id != order.charge_id:
            return None  # an older subscription (its renewal would be refunded as a duplicate), or none
        cancelled, failed = change
        return user if self._set_renewal(user, cancelled=cancelled, failed=failed) else None

    def _set_renewal(self, user: User, *, cancelled: bool, failed: bool) -> bool:
        """Record whether Pro renews; False when there was nothing to change (so already, or the plan moved)."""
        if (user.pro_cancelled, user.pro_failed) == (cancelled, failed):
            return False
        try:
            self.repos.tx.write_one(plans.pro_renewal(self.repos.users, user, cancelled=cancelled, failed=failed))
        except ConflictError:
            return False  # a renewal moved the plan, or another delivery of this change wrote it first
        user.pro_cancelled, user.pro_failed = cancelled, failed
        return True

    def stop_renewals(self, user_id: int) -> None:
        """Before erasure, while the account is whole: a Pro subscription that still renews is cancelled with
        Telegram (by its first charge), so nothing charges an account that is gone. TelegramUnavailableError when
        Telegram cannot be reached: the erasure waits for the person's retry (erasing now would leave the
        subscription running). A renewal Telegram charged before the cancel, and delivers after the erasure,
        finds no payer and is refunded (`payer_erased`)."""
        user = self.repos.users.get(user_id, consistent=True)
        if user is None or not user.renews or not user.pro_charge_id:
            return
        try:
            self.gateway.edit_star_subscription(user_id, user.pro_charge_id, True)
        except TelegramRefusedError as exc:  # over at Telegram already (expired, refunded): nothing runs
            log.warning("Pro not cancelled before erasure: %s", exc.code)
