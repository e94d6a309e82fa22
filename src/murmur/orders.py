"""Orders, pre-checkout checks, exactly-once fulfilment and refunds (the order model of ARCHITECTURE.md).

Access is granted on `successful_payment` only, in one DynamoDB transaction with the ledger row whose
condition (a new telegram_payment_charge_id) makes every repeated or concurrent delivery a no-op."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from murmur import plans
from murmur.catalog import CURRENCY, Payer, Product, product
from murmur.clock import Clock
from murmur.errors import BannedError, ConflictError, MurmurError, NotFoundError, StorageUnavailableError
from murmur.inbox import MESSAGE_ID_RE, Inbox
from murmur.models import Message, Order, OrderStatus, Payment, PaymentStatus, Person, PlanKind, User
from murmur.store.batch import Ref
from murmur.store.dynamo import Op
from murmur.store.repositories import Repositories
from murmur.telegram.gateway import BotGateway

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


@dataclass(slots=True)
class Fulfilment:
    outcome: Outcome
    product: str | None
    payment: Payment | None = None
    flag: str | None = None
    plan_expires_at: int | None = None
    revoked: list[str] = field(default_factory=list)


def new_order_id() -> str:
    """The invoice payload: 1-128 bytes; unguessable so a payload cannot be forged onto another order."""
    return "o_" + secrets.token_urlsafe(18)


class Orders:
    def __init__(self, repos: Repositories, inbox: Inbox, clock: Clock, gateway: BotGateway, order_ttl: int) -> None:
        self.repos = repos
        self.inbox = inbox
        self.clock = clock
        self.gateway = gateway
        self.order_ttl = order_ttl

    # ------------------------------------------------------------------ creating
    def create(
        self, buyer: Person, product_id: str, message_id: str | None = None, recipient_id: int | None = None
    ) -> PaidOrder:
        """Price from the catalog, check the purchase makes sense, store a pending order, make the invoice."""
        item = product(product_id)
        now = self.clock.now()
        if item.needs_message and (not message_id or not MESSAGE_ID_RE.match(message_id)):
            raise NotFoundError("this product needs a message_id")
        owner_target = item.needs_message and item.payer is Payer.OWNER
        refs: list[Ref[Any]] = [self.repos.users.ref(buyer.id)]
        if owner_target:
            refs.append(self.repos.messages.ref(buyer.id, message_id or ""))
        user, *target = self.repos.batch.get(refs)  # the buyer and, for owner products, the message: one read
        if user is None:
            user = self.inbox.ensure_user(buyer)  # fulfilment writes plans onto a registered user
        if user.banned:
            raise BannedError()
        target_recipient: int | None = None
        if item.needs_message:
            if owner_target:
                message = target[0]
                if message is None:
                    raise NotFoundError("no such message")
                self._check_owner_target(item, message, user, now)
                target_recipient = buyer.id
            else:
                target_recipient = recipient_id or self._recipient_of_sent(buyer.id, message_id or "")
        elif item.id == "pro_month" and user.plan is PlanKind.PRO and user.plan_active(now):
            if not user.pro_cancelled:
                raise ConflictError("you already have Pro")
        elif item.id == "plus_week" and user.plan is PlanKind.PRO and user.plan_active(now):
            raise ConflictError("Pro already includes everything Plus does")
        order = Order(
            order_id=new_order_id(),
            buyer_id=buyer.id,
            product=item.id,
            amount=item.stars,
            currency=CURRENCY,
            status=OrderStatus.PENDING,
            created_at=int(now),
            expires_at=int(now) + self.order_ttl,
            recipient_id=target_recipient,
            message_id=message_id if item.needs_message else None,
        )
        self.repos.orders.put(order)
        link = self.gateway.create_invoice_link(
            title=item.title,
            description=item.description,
            payload=order.order_id,
            stars=item.stars,
            subscription_period=item.subscription_period,
        )
        return PaidOrder(order, link)

    def _check_owner_target(self, item: Product, message: Message, user: User, now: float) -> None:
        if item.id == "unlock" and (message.unlocked or user.plan_active(now)):
            raise ConflictError("this message is already readable")
        if item.id == "hint" and message.hints_revealed >= len(message.clues):
            raise ConflictError("there are no more hints for this message")

    def _recipient_of_sent(self, sender_id: int, message_id: str) -> int:
        for recipient, mid in self.repos.messages.keys_of_sender(sender_id):
            if mid == message_id:
                return recipient
        raise NotFoundError("no such message")

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
        """None to accept; otherwise why not. One read (order and payer), plus the target for messages."""
        order, payer = self._order_and_payer(payload, payer_id)
        if payer is not None and payer.banned:
            return Rejection.BANNED
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
        if order.message_id and order.recipient_id is not None:
            message = self.repos.messages.get(order.recipient_id, order.message_id, consistent=True)
            if message is None or (order.product == "hint" and message.hints_revealed >= len(message.clues)):
                return Rejection.TARGET_GONE
            if order.product == "unlock" and message.unlocked:
                return Rejection.TARGET_GONE
        return None

    # ------------------------------------------------------------------ fulfilment
    def fulfil(self, paid: SuccessfulPayment) -> Fulfilment:
        """Exactly once per charge id. Raises StorageUnavailableError when a retry can help."""
        now = int(self.clock.now())
        order, payer = self._order_and_payer(paid.payload, paid.payer_id)
        user = payer or User(user_id=paid.payer_id, first_name="")
        if paid.is_recurring and not paid.is_first_recurring:
            return self._renew(paid, order, user, now)
        flag = self._flag_of(paid, order)
        if flag is not None or order is None:
            return self._record_flagged(paid, order, flag or "unknown_order", now)
        item = product(order.product)
        for attempt in range(3):
            if attempt:
                user = self._user_for_plan(paid.payer_id)
            payment = self._payment(paid, order, now)
            ops = [
                self.repos.payments.record_op(payment, DuplicatePaymentError),
                Op(self.repos.orders.mark_paid_op(order.order_id, paid.charge_id).request, OrderNotPendingError),
            ]
            grant_ops, expires = self._grant(item, order, paid, user, now)
            ops += [Op(op.request, EntitlementChangedError) for op in grant_ops]
            try:
                self.repos.tx.write(ops)
                return Fulfilment(Outcome.GRANTED, item.id, payment, plan_expires_at=expires)
            except DuplicatePaymentError:
                return Fulfilment(Outcome.DUPLICATE, item.id)
            except OrderNotPendingError:
                return self._record_flagged(paid, order, "order_not_pending", now)
            except EntitlementChangedError:
                if item.id in ("plus_week", "pro_month"):
                    continue  # the plan changed under us (a concurrent renewal): recompute on fresh state
                return self._record_flagged(paid, order, "target_gone", now)
        raise StorageUnavailableError("the plan kept changing; retry")

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

    def _payment(self, paid: SuccessfulPayment, order: Order | None, now: int, flag: str | None = None) -> Payment:
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
        )

    def _grant(
        self, item: Product, order: Order, paid: SuccessfulPayment, user: User, now: int
    ) -> tuple[list[Op], int | None]:
        messages = self.repos.messages
        if item.id == "unlock":
            return [messages.set_unlocked_op(order.buyer_id, order.message_id or "", True)], None
        if item.id == "hint":
            return [messages.reveal_hint_op(order.buyer_id, order.message_id or "")], None
        if item.gift:
            return [
                messages.add_gift_op(order.recipient_id or 0, order.message_id or "", paid.charge_id, item.gift)
            ], None
        if item.id == "plus_week":
            op, expires = plans.plus_grant(self.repos.users, user, now)
        else:
            op, expires = plans.pro_grant(
                self.repos.users, user, now, paid.charge_id, paid.subscription_expiration_date
            )
        return [op], expires

    def _user_for_plan(self, user_id: int) -> User:
        user = self.repos.users.get(user_id, consistent=True)
        return user if user is not None else User(user_id=user_id, first_name="")

    def _record_flagged(self, paid: SuccessfulPayment, order: Order | None, flag: str, now: int) -> Fulfilment:
        """Never dropped: the ledger gets the payment with the reason it granted nothing, for support."""
        payment = self._payment(paid, order, now, flag)
        try:
            # A transaction even for one item: its retry after a timeout reuses the idempotency token, so a
            # first attempt that landed is not mistaken for a duplicate (and the flag and alarm lost).
            self.repos.tx.write([self.repos.payments.record_op(payment, DuplicatePaymentError)])
        except DuplicatePaymentError:
            return Fulfilment(Outcome.DUPLICATE, payment.product)
        log.warning("payment flagged: %s", flag)
        return Fulfilment(Outcome.FLAGGED, payment.product, payment, flag=flag)

    def _renew(self, paid: SuccessfulPayment, order: Order | None, user: User, now: int) -> Fulfilment:
        """A Pro renewal: Telegram charged again for the same invoice; move the plan's end."""
        if order is None or order.product != "pro_month" or order.buyer_id != paid.payer_id:
            return self._record_flagged(paid, order, "unknown_subscription", now)
        for attempt in range(3):
            if attempt:
                user = self._user_for_plan(paid.payer_id)
            payment = self._payment(paid, order, now)
            # The subscription keeps the charge id of its first payment: that is what identifies it
            # to editUserStarSubscription, whatever renewal charges follow.
            subscription = user.pro_charge_id if user.plan is PlanKind.PRO and user.pro_charge_id else paid.charge_id
            op, expires = plans.pro_grant(self.repos.users, user, now, subscription, paid.subscription_expiration_date)
            try:
                self.repos.tx.write(
                    [
                        self.repos.payments.record_op(payment, DuplicatePaymentError),
                        Op(op.request, EntitlementChangedError),
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
        """The payment to refund through Telegram first; None if it was refunded already."""
        payment = self.repos.payments.get(charge_id)
        if payment is None:
            raise NotFoundError("no payment with this charge id")
        return None if payment.status is PaymentStatus.REFUNDED else payment

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
            ops = [self.repos.payments.mark_refunded_op(charge_id, now, AlreadyRefundedError)]
            revoked: list[str] = []
            order = self.repos.orders.get(payment.order_id) if payment.order_id else None
            if order is not None and not payment.flag:
                ops.append(self.repos.orders.mark_refunded_op(order.order_id))
                revoke_ops, revoked = self._revoke(payment, order, now)
                ops += [Op(op.request, EntitlementChangedError) for op in revoke_ops]
            try:
                self.repos.tx.write(ops)
                return Fulfilment(Outcome.GRANTED, payment.product, payment, revoked=revoked)
            except AlreadyRefundedError:
                return Fulfilment(Outcome.DUPLICATE, payment.product, payment)
            except EntitlementChangedError:
                continue
        raise ConflictError("could not revoke; retry")

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
        user = self.repos.users.get(user_id, consistent=True)
        if user is None or user.plan is not PlanKind.PRO or not user.pro_charge_id:
            raise ConflictError("you have no Pro subscription")
        if not user.plan_active(self.clock.now()):
            raise ConflictError("your Pro subscription has ended")
        self.gateway.edit_star_subscription(user_id, user.pro_charge_id, cancelled)
        self.repos.users.set_pro_cancelled(user_id, user.pro_charge_id, cancelled)
        user.pro_cancelled = cancelled
        return user
