"""State table: small keyed items. Rate-limit windows and update ids expire by TTL; cursors and the revenue
summary stay."""

from __future__ import annotations

from typing import Any

from murmur.store.batch import Ref
from murmur.store.dynamo import Op, n, s


class StateRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    # ------------------------------------------------------------ rate limits
    def window_op(self, key: str, limit: int, expires_at: int) -> Op:
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
            }
        )

    def slow_mode_op(self, owner_id: int, pseudonym: str, now: int, until: int) -> Op:
        """One sender's turn in an inbox in slow mode: taken if their previous turn there has ended. Keyed by
        the per-owner pseudonym (not the Telegram id), written only by that sender's sends to that owner."""
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {"pk": s(f"slow#{owner_id}#{pseudonym}"), "until": n(until), "ttl": n(until + 60)},
                    "ConditionExpression": "attribute_not_exists(pk) OR #u <= :now",
                    "ExpressionAttributeNames": {"#u": "until"},
                    "ExpressionAttributeValues": {":now": n(now)},
                }
            }
        )

    # ------------------------------------------------------------ webhook updates, processed once
    def claim_update(self, key: str, now: int, lease_until: int, expires_at: int) -> str | None:
        """Take update `key` for processing. None when this call took it; otherwise the holder's state:
        "done", or "processing" while another container's lease runs. A lease that ran out unfinished
        (Lambda stopped that container at its timeout) is taken over, so a redelivery is processed, not
        dropped by its own dedupe record."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={"pk": s(key), "state": s("processing"), "lease": n(lease_until), "ttl": n(expires_at)},
                ConditionExpression="attribute_not_exists(pk) OR (#st = :processing AND #lease < :now)",
                ExpressionAttributeNames={"#st": "state", "#lease": "lease"},
                ExpressionAttributeValues={":processing": s("processing"), ":now": n(now)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item") or {}
            return str(old.get("state", {}).get("S", "done"))

    def finish_update(self, key: str) -> None:
        """The update's effects happened: a redelivery from now on is acknowledged without processing."""
        self.client.update_item(
            TableName=self.table,
            Key={"pk": s(key)},
            UpdateExpression="SET #st = :done REMOVE #lease",
            ExpressionAttributeNames={"#st": "state", "#lease": "lease"},
            ExpressionAttributeValues={":done": s("done")},
        )

    def release(self, key: str) -> None:
        """Give an update back after a failure a retry can mend: Telegram's redelivery processes it."""
        self.client.delete_item(TableName=self.table, Key={"pk": s(key)})

    # ------------------------------------------------------------ cursors
    def cursor_ref(self, name: str) -> Ref[str]:
        return Ref(self.table, {"pk": s(f"cursor#{name}")}, lambda item: str(item["value"]["S"]))

    def set_cursor(self, name: str, value: str) -> None:
        self.client.put_item(TableName=self.table, Item={"pk": s(f"cursor#{name}"), "value": s(value)})

    def advance_cursor_op(self, name: str, seen: str | None, value: str) -> Op:
        """Move a cursor from the value this run read (`seen`, None if unset); fails if another run moved it."""
        condition = "attribute_not_exists(pk)" if seen is None else "#v = :seen"
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": {"pk": s(f"cursor#{name}"), "value": s(value)},
            "ConditionExpression": condition,
        }
        if seen is not None:
            request["ExpressionAttributeNames"] = {"#v": "value"}
            request["ExpressionAttributeValues"] = {":seen": s(seen)}
        return Op({"Put": request})  # a failed condition is a ConflictError: the cursor moved

    # ------------------------------------------------------------ revenue ledger summary (admin /stats)
    STATS_KEY = "stats#revenue"

    def add_ledger_page_op(self, totals: dict[str, int]) -> Op:
        """Add one page of Telegram's Stars ledger to the summary (`stars_<product>`, `count_<product>`,
        `affiliate_*`): one item, one update, written by the cron together with its cursor. Kept off the
        payment path, where every purchase would otherwise write this one item (a hot key in each
        fulfilment transaction)."""
        names = {f"#a{i}": name for i, name in enumerate(totals)}
        values = {f":a{i}": n(value) for i, value in enumerate(totals.values())}
        adds = ", ".join(f"#a{i} :a{i}" for i in range(len(totals)))
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": s(self.STATS_KEY)},
                    "UpdateExpression": f"ADD {adds}",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )

    def revenue_ref(self) -> Ref[dict[str, int]]:
        """The revenue summary, for /stats's one BatchGetItem (absent: nothing reconciled yet)."""
        return Ref(
            self.table, {"pk": s(self.STATS_KEY)}, lambda item: {k: int(v["N"]) for k, v in item.items() if "N" in v}
        )
