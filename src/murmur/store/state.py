"""State table: small keyed items. Rate-limit windows and update ids expire by TTL; blocks and cursors stay."""

from __future__ import annotations

from typing import Any

from murmur.store.batch import Ref
from murmur.store.dynamo import Op, n, s


class StateRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    # ------------------------------------------------------------ rate limits
    def window_op(self, key: str, limit: int, expires_at: int, on_failed: Any) -> Op:
        """Count one event in a fixed window; fails (atomically) once the window holds `limit` events."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": s(f"rate#{key}")},
                    "UpdateExpression": "ADD #c :one SET #t = if_not_exists(#t, :ttl)",
                    "ConditionExpression": "attribute_not_exists(#c) OR #c < :limit",
                    "ExpressionAttributeNames": {"#c": "count", "#t": "ttl"},
                    "ExpressionAttributeValues": {":one": n(1), ":limit": n(limit), ":ttl": n(expires_at)},
                }
            },
            on_failed,
        )

    # ------------------------------------------------------------ blocks
    @staticmethod
    def _block_key(recipient_id: int, pseudonym: str) -> dict[str, Any]:
        return {"pk": s(f"block#{recipient_id}#{pseudonym}")}

    def block(self, recipient_id: int, pseudonym: str, at: int) -> None:
        self.client.put_item(
            TableName=self.table, Item={**self._block_key(recipient_id, pseudonym), "at": n(at)}
        )

    def unblock(self, recipient_id: int, pseudonym: str) -> None:
        self.client.delete_item(TableName=self.table, Key=self._block_key(recipient_id, pseudonym))

    def not_blocked_op(self, recipient_id: int, pseudonym: str, on_failed: Any) -> Op:
        return Op(
            {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": self._block_key(recipient_id, pseudonym),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            on_failed,
        )

    # ------------------------------------------------------------ once-only markers
    def claim(self, key: str, expires_at: int | None = None) -> bool:
        """Record `key` once; False if it was already there (update ids, reports)."""
        item: dict[str, Any] = {"pk": s(key)}
        if expires_at is not None:
            item["ttl"] = n(expires_at)
        try:
            self.client.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def release(self, key: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": s(key)})

    # ------------------------------------------------------------ cursors
    def cursor_ref(self, name: str) -> Ref[str]:
        return Ref(self.table, {"pk": s(f"cursor#{name}")}, lambda item: str(item["value"]["S"]))

    def cursor(self, name: str) -> str | None:
        item = self.client.get_item(TableName=self.table, Key={"pk": s(f"cursor#{name}")}, ConsistentRead=True).get(
            "Item"
        )
        return item["value"]["S"] if item else None

    def set_cursor(self, name: str, value: str) -> None:
        self.client.put_item(TableName=self.table, Item={"pk": s(f"cursor#{name}"), "value": s(value)})

    # ------------------------------------------------------------ revenue ledger summary (admin /stats)
    STATS_KEY = "stats#revenue"

    def add_revenue_op(self, product: str, stars: int, count: int) -> Op:
        """Kept inside the fulfilment and refund transactions, so /stats needs one GetItem, never a Scan."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": s(self.STATS_KEY)},
                    "UpdateExpression": "ADD #s :stars, #c :count",
                    "ExpressionAttributeNames": {"#s": f"stars_{product}", "#c": f"count_{product}"},
                    "ExpressionAttributeValues": {":stars": n(stars), ":count": n(count)},
                }
            }
        )

    def add_affiliate(self, stars: int, transactions: int) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": s(self.STATS_KEY)},
            UpdateExpression="ADD affiliate_stars :s, affiliate_transactions :t",
            ExpressionAttributeValues={":s": n(stars), ":t": n(transactions)},
        )

    def revenue(self) -> dict[str, int]:
        item = self.client.get_item(TableName=self.table, Key={"pk": s(self.STATS_KEY)}, ConsistentRead=True).get(
            "Item", {}
        )
        return {k: int(v["N"]) for k, v in item.items() if "N" in v}
