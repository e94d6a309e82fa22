"""Orders table: one pending order per invoice; unpaid ones are purged by TTL."""

from __future__ import annotations

import contextlib
from typing import Any

from murmur.models import HeldMessage, Message, Order, OrderStatus, TelegramGift
from murmur.store.batch import Ref, delete_items
from murmur.store.dynamo import Item, Op, get_list, get_n, get_s, n, s, ss_list

BUYER_INDEX = "by-buyer"
PURGE_AFTER = 7 * 86400  # keep an unpaid order a week past its expiry, for late payments and support


def _to_order(item: Item) -> Order:
    return Order(
        order_id=item["order_id"]["S"],
        buyer_id=int(item["buyer_id"]["N"]),
        product=item["product"]["S"],
        amount=int(item["amount"]["N"]),
        currency=item["currency"]["S"],
        status=OrderStatus(item["status"]["S"]),
        created_at=int(item["created_at"]["N"]),
        expires_at=int(item["expires_at"]["N"]),
        recipient_id=get_n(item, "recipient_id"),
        message_id=get_s(item, "message_id"),
        charge_id=get_s(item, "charge_id"),
        telegram_gift=_telegram_gift(item),
        held=_held(item),
    )


def _held(item: Item) -> HeldMessage | None:
    """The message waiting in a gift's order for its payment (ADR 0011): who sent it and to whom are the order's."""
    held = item.get("held", {}).get("M")
    if held is None:
        return None
    message = Message(
        recipient_id=int(item["recipient_id"]["N"]),
        message_id=item["message_id"]["S"],
        sender_id=int(item["buyer_id"]["N"]),
        pseudonym=get_s(held, "pseudonym", "") or "",
        text=get_s(held, "text", "") or "",
        created_at=get_n(held, "created_at", 0) or 0,
        clues=get_list(held, "clues"),
        nickname=get_s(held, "nickname"),
        card=get_s(held, "card"),
        question=get_s(held, "question"),
    )
    return HeldMessage(get_s(held, "code", "") or "", message)


def _held_item(held: HeldMessage) -> Item:
    m = held.message
    item: Item = {
        "code": s(held.code),
        "pseudonym": s(m.pseudonym),
        "text": s(m.text),
        "created_at": n(m.created_at),
        "clues": ss_list(m.clues),
    }
    for name, value in (("nickname", m.nickname), ("card", m.card), ("question", m.question)):
        if value:
            item[name] = s(value)
    return {"M": item}


def _telegram_gift(item: Item) -> TelegramGift | None:
    gift_id = get_s(item, "gift_id")
    if gift_id is None:
        return None
    return TelegramGift(gift_id, get_s(item, "gift_emoji", "") or "", get_n(item, "gift_cost", 0) or 0)


def _item(o: Order) -> Item:
    item: Item = {
        "order_id": s(o.order_id),
        "buyer_id": n(o.buyer_id),
        "product": s(o.product),
        "amount": n(o.amount),
        "currency": s(o.currency),
        "status": s(o.status.value),
        "created_at": n(o.created_at),
        "expires_at": n(o.expires_at),
        "purge_at": n(o.expires_at + PURGE_AFTER),
    }
    if o.recipient_id is not None:
        item["recipient_id"] = n(o.recipient_id)
    if o.message_id is not None:
        item["message_id"] = s(o.message_id)
    if o.telegram_gift is not None:  # what the bot sends once it is paid, and what that costs the bot
        item["gift_id"] = s(o.telegram_gift.gift_id)
        item["gift_emoji"] = s(o.telegram_gift.emoji)
        item["gift_cost"] = n(o.telegram_gift.star_count)
    if o.held is not None:
        item["held"] = _held_item(o.held)
    return item


class OrdersRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def ref(self, order_id: str) -> Ref[Order]:
        return Ref(self.table, {"order_id": s(order_id)}, _to_order)

    def put(self, o: Order) -> None:
        self.client.put_item(TableName=self.table, Item=_item(o), ConditionExpression="attribute_not_exists(order_id)")

    def put_op(self, o: Order) -> Op:
        """The new pending order inside another write's transaction (a gift, with the message it is for)."""
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _item(o),
                    "ConditionExpression": "attribute_not_exists(order_id)",
                }
            }
        )

    def get(self, order_id: str, consistent: bool = False) -> Order | None:
        item = self.client.get_item(TableName=self.table, Key={"order_id": s(order_id)}, ConsistentRead=consistent).get(
            "Item"
        )
        return _to_order(item) if item else None

    def mark_paid_op(self, order_id: str, charge_id: str) -> Op:
        """Pending -> paid, once; the order is kept (no purge) as the record of what was bought, without the message
        that waited in it (stored by the same transaction: no second copy of its text)."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"order_id": s(order_id)},
                    "UpdateExpression": "SET #s = :paid, charge_id = :c REMOVE purge_at, held",
                    "ConditionExpression": "#s = :pending",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":paid": s(OrderStatus.PAID.value),
                        ":pending": s(OrderStatus.PENDING.value),
                        ":c": s(charge_id),
                    },
                }
            }
        )

    def cancel_op(self, order_id: str) -> Op:
        """The buyer gave up a pending order (ADR 0011): deleted with any message waiting in it, so nothing can pay
        it any more; its condition fails if it was paid (or is gone) meanwhile."""
        return Op(
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": {"order_id": s(order_id)},
                    "ConditionExpression": "#s = :pending",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":pending": s(OrderStatus.PENDING.value)},
                }
            }
        )

    def mark_refunded_op(self, order_id: str) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"order_id": s(order_id)},
                    "UpdateExpression": "SET #s = :r",
                    "ConditionExpression": "attribute_exists(order_id)",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":r": s(OrderStatus.REFUNDED.value)},
                }
            }
        )

    def ids_of_buyer(self, buyer_id: int, limit: int) -> list[str]:
        """Erasure: up to `limit` of a buyer's orders (by-buyer, keys only). Deleted ones leave the index, so
        calling again resumes."""
        page = self.client.query(
            TableName=self.table,
            IndexName=BUYER_INDEX,
            KeyConditionExpression="buyer_id = :b",
            ExpressionAttributeValues={":b": n(buyer_id)},
            Limit=limit,
        )
        return [i["order_id"]["S"] for i in page.get("Items", [])]

    def forget_recipient(self, order_id: str) -> None:
        """Erasure of a recipient: a gift order someone else paid keeps its amount, not whom it was for."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):  # purged already
            self.client.update_item(
                TableName=self.table,
                Key={"order_id": s(order_id)},
                UpdateExpression="REMOVE recipient_id, message_id",
                ConditionExpression="attribute_exists(order_id)",
            )

    def delete_many(self, order_ids: list[str]) -> None:
        """Erasure of a buyer: BatchWriteItem, 25 orders a request."""
        delete_items(self.client, self.table, [{"order_id": s(order_id)} for order_id in order_ids])
