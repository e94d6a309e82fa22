"""Orders table: one pending order per invoice; unpaid ones are purged by TTL."""

from __future__ import annotations

import contextlib
from typing import Any

from murmur.models import Order, OrderStatus
from murmur.store.batch import Ref, delete_items
from murmur.store.dynamo import Item, Op, get_n, get_s, n, s

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
    )


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
        """Pending -> paid, once; the order is kept (no purge) as the record of what was bought."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"order_id": s(order_id)},
                    "UpdateExpression": "SET #s = :paid, charge_id = :c REMOVE purge_at",
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
