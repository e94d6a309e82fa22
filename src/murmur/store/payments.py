"""Payments table: the ledger. One row per telegram_payment_charge_id, written exactly once."""

from __future__ import annotations

from typing import Any

from murmur.models import Payment, PaymentStatus
from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, b, get_b, get_n, get_s, n, s

USER_INDEX = "by-user"


def _to_payment(item: Item) -> Payment:
    return Payment(
        charge_id=item["charge_id"]["S"],
        user_id=get_n(item, "user_id", 0) or 0,
        product=item["product"]["S"],
        amount=int(item["amount"]["N"]),
        currency=item["currency"]["S"],
        status=PaymentStatus(item["status"]["S"]),
        created_at=int(item["created_at"]["N"]),
        order_id=get_s(item, "order_id"),
        flag=get_s(item, "flag"),
        is_recurring=get_b(item, "is_recurring"),
        subscription_expiration_date=get_n(item, "subscription_expiration_date"),
        refunded_at=get_n(item, "refunded_at"),
        subscription_charge_id=get_s(item, "subscription_charge_id"),
    )


class PaymentsRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def ref(self, charge_id: str) -> Ref[Payment]:
        return Ref(self.table, {"charge_id": s(charge_id)}, _to_payment)

    def record_op(self, p: Payment) -> Op:
        item: Item = {
            "charge_id": s(p.charge_id),
            "user_id": n(p.user_id),
            "product": s(p.product),
            "amount": n(p.amount),
            "currency": s(p.currency),
            "status": s(p.status.value),
            "created_at": n(p.created_at),
            "is_recurring": b(p.is_recurring),
        }
        if p.order_id:
            item["order_id"] = s(p.order_id)
        if p.flag:
            item["flag"] = s(p.flag)
        if p.subscription_expiration_date:
            item["subscription_expiration_date"] = n(p.subscription_expiration_date)
        if p.subscription_charge_id:
            item["subscription_charge_id"] = s(p.subscription_charge_id)
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(charge_id)",
                }
            }
        )

    def get(self, charge_id: str) -> Payment | None:
        item = self.client.get_item(TableName=self.table, Key={"charge_id": s(charge_id)}, ConsistentRead=True).get(
            "Item"
        )
        return _to_payment(item) if item else None

    def of_user(self, user_id: int, limit: int = 50) -> list[Payment]:
        page = self.client.query(
            TableName=self.table,
            IndexName=USER_INDEX,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": n(user_id)},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_to_payment(i) for i in page.get("Items", [])]

    def mark_refunded_op(self, charge_id: str, at: int) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"charge_id": s(charge_id)},
                    "UpdateExpression": "SET #s = :r, refunded_at = :at",
                    "ConditionExpression": "#s = :paid",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":r": s(PaymentStatus.REFUNDED.value),
                        ":paid": s(PaymentStatus.PAID.value),
                        ":at": n(at),
                    },
                }
            }
        )

    def anonymize(self, charge_id: str) -> None:
        """Erasure: the ledger row stays (amount, product, date), the person is gone."""
        self.client.update_item(
            TableName=self.table,
            Key={"charge_id": s(charge_id)},
            UpdateExpression="REMOVE user_id, order_id SET anonymized = :t",
            ExpressionAttributeValues={":t": b(True)},
        )
