"""An inbox's counts as sharded counters in the State table: `tally#<owner>#<k>`, k < SHARDS.

A send adds one to a single shard, chosen at random, inside its transaction, so the counts stay exact while
no item is written by every send to the same owner (DynamoDB cancels concurrent transactions on one item).
Each shard holds `received`, `unread` and one `d<day>` attribute per UTC day (the day's messages on that
shard, for an owner's daily cap); a send removes the two days before its own, so a shard keeps about one.
Reading the counts is one BatchGetItem of the shards; the user item's own `received` / `unread` (written by
sends before the shards existed) are their base."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, n, s

SHARDS = 8


@dataclass(frozen=True, slots=True)
class Tally:
    """One shard's counts."""

    received: int = 0
    unread: int = 0
    today: int = 0


def day_attribute(day: int) -> str:
    return f"d{day}"


class TalliesRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def key(owner_id: int, shard: int) -> Item:
        return {"pk": s(f"tally#{owner_id}#{shard}")}

    def refs(self, owner_id: int, day: int) -> list[Ref[Tally]]:
        attribute = day_attribute(day)

        def parse(item: Item) -> Tally:
            return Tally(
                int(item.get("received", {"N": "0"})["N"]),
                int(item.get("unread", {"N": "0"})["N"]),
                int(item.get(attribute, {"N": "0"})["N"]),
            )

        return [Ref(self.table, self.key(owner_id, shard), parse) for shard in range(SHARDS)]

    def count_op(self, owner_id: int, shard: int, day: int, quota: int | None) -> Op:
        """One more message on one shard; with a quota (the daily cap's share of this shard), only while the
        shard holds fewer than `quota` of today's messages."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": self.key(owner_id, shard),
            "UpdateExpression": "ADD received :one, unread :one, #today :one REMOVE #before, #older",
            "ExpressionAttributeNames": {
                "#today": day_attribute(day),
                "#before": day_attribute(day - 1),
                "#older": day_attribute(day - 2),
            },
            "ExpressionAttributeValues": {":one": n(1)},
        }
        if quota is not None:
            update["ConditionExpression"] = "attribute_not_exists(#today) OR #today < :quota"
            update["ExpressionAttributeValues"][":quota"] = n(quota)
        return Op({"Update": update})

    def read_one_op(self, owner_id: int, shard: int) -> Op:
        """One message fewer unread (on any shard: only the sum means anything)."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(owner_id, shard),
                    "UpdateExpression": "ADD unread :minus",
                    "ExpressionAttributeValues": {":minus": n(-1)},
                }
            }
        )

    def delete_ops(self, owner_id: int) -> list[Op]:
        """Erasure of an inbox: its shards, deleted in the transaction that begins the erasure."""
        return [Op({"Delete": {"TableName": self.table, "Key": self.key(owner_id, shard)}}) for shard in range(SHARDS)]
