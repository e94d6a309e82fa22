"""Invite credits over all owners, for /stats: sharded counters in the State table, `stats#invites#<k>`.

A sign-up that earns (or is refused) a credit and an unlock that spends one each add one to a single shard,
chosen at random, inside their own transaction: exact, and no item that every sign-up writes. /stats reads the
shards with one BatchGetItem."""

from __future__ import annotations

import random
from typing import Any

from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, n, s

SHARDS = 8
FIELDS = ("earned", "spent", "refused")


class InviteTalliesRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def key(shard: int) -> Item:
        return {"pk": s(f"stats#invites#{shard}")}

    def count_op(self, field: str) -> Op:
        """One more `field` ("earned", "spent", "refused") on a shard picked at random."""
        assert field in FIELDS
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(random.randrange(SHARDS)),
                    "UpdateExpression": "ADD #f :one",
                    "ExpressionAttributeNames": {"#f": field},
                    "ExpressionAttributeValues": {":one": n(1)},
                }
            }
        )

    def refs(self) -> list[Ref[dict[str, int]]]:
        """The shards, for one BatchGetItem (absent: nothing counted there yet)."""

        def parse(item: Item) -> dict[str, int]:
            return {name: int(item[name]["N"]) for name in FIELDS if name in item}

        return [Ref(self.table, self.key(shard), parse) for shard in range(SHARDS)]
