"""Who paid a charge, kept past the payer's erasure for the refund window only, in the State table.

Erasure anonymizes the ledger row (it keeps no `user_id`), but Telegram's refundStarPayment needs the payer's
id. `refund#<charge id>` keeps `payer_id` until `ttl` (the payment's date plus the refund window); TTL then
deletes it, and a read ignores it once `ttl` has passed even if TTL has not got to it yet."""

from __future__ import annotations

from typing import Any

from murmur.store.dynamo import get_n, n, s


class RefundPayersRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def key(charge_id: str) -> dict[str, Any]:
        return {"pk": s(f"refund#{charge_id}")}

    def keep(self, charge_id: str, payer_id: int, until: int) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={**self.key(charge_id), "payer_id": n(payer_id), "ttl": n(until)},
        )

    def payer(self, charge_id: str, now: float) -> int | None:
        """The payer of an anonymized charge while its refund window lasts; None after it."""
        item = self.client.get_item(TableName=self.table, Key=self.key(charge_id), ConsistentRead=True).get("Item")
        if not item or (get_n(item, "ttl", 0) or 0) <= now:
            return None
        return get_n(item, "payer_id")
