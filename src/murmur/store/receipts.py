"""Send receipts, in the State table: what a send made under a client's idempotency key, so that the client's
retry of the same send gets the same answer instead of a second message.

`receipt#send#<digest>`, the digest a SHA-256 of the sender's id and the key: scoped to the sender (another
person's key names another item), and naming no one (without the client's random key nobody can tell whose
receipt it is, so one that outlives its sender's erasure for the rest of its day links them to nothing).
Written in the send's own transaction on condition that no live receipt holds the key, gone by TTL. It keeps
a fingerprint of the request, never its text: the message item is the one copy of what was said."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, get_s, n, s


@dataclass(frozen=True, slots=True)
class SendReceipt:
    fingerprint: str  # of the request (link, text, gift, nickname): the same key for another request is refused
    recipient_id: int
    message_id: str
    order_id: str | None  # the gift's pending order, made in the same transaction
    expires_at: int


def _to_receipt(item: Item) -> SendReceipt:
    return SendReceipt(
        fingerprint=item["fingerprint"]["S"],
        recipient_id=int(item["recipient_id"]["N"]),
        message_id=item["message_id"]["S"],
        order_id=get_s(item, "order_id"),
        expires_at=int(item["ttl"]["N"]),
    )


class ReceiptsRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def key(sender_id: int, idempotency_key: str) -> Item:
        digest = hashlib.sha256(f"{sender_id}:{idempotency_key}".encode()).hexdigest()[:40]
        return {"pk": s(f"receipt#send#{digest}")}

    def ref(self, sender_id: int, idempotency_key: str) -> Ref[SendReceipt]:
        return Ref(self.table, self.key(sender_id, idempotency_key), _to_receipt)

    def get(self, sender_id: int, idempotency_key: str) -> SendReceipt | None:
        item = self.client.get_item(
            TableName=self.table, Key=self.key(sender_id, idempotency_key), ConsistentRead=True
        ).get("Item")
        return _to_receipt(item) if item else None

    def put_op(self, sender_id: int, idempotency_key: str, receipt: SendReceipt, now: int) -> Op:
        """For the send's transaction: fails (and with it the whole send) while a live receipt holds the key.
        An expired one that TTL has not deleted yet (it may lag by days) is overwritten."""
        item: Item = {
            **self.key(sender_id, idempotency_key),
            "fingerprint": s(receipt.fingerprint),
            "recipient_id": n(receipt.recipient_id),
            "message_id": s(receipt.message_id),
            "ttl": n(receipt.expires_at),
        }
        if receipt.order_id:
            item["order_id"] = s(receipt.order_id)
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk) OR #ttl <= :now",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {":now": n(now)},
                }
            }
        )
