"""Real Telegram gifts the bot owes, in the outbox (State table): one item per paid gift, `outbox#gift#<charge id>`.

The item is written in the transaction that records the payment (so a redelivered or concurrent payment cannot owe
it twice) and sits in the outbox's sparse index `outbox-due` like any owed notice: the cron takes it with the same
conditional claim once the writer's hold (`due_at`) has run out. Every change here is conditional on that hold
(`due_at` still what the holder was given), so a run whose hold ran out changes nothing. `attempted_at` is written
before sendGift is called and never removed but for a call Telegram refused outright (429): from then on the gift
is sent by nobody, only looked for in the Stars ledger (`murmur.gift_delivery`). Settled, the item leaves the index
and keeps only its key, attempts and a `ttl` of now.

A gift found in the ledger is claimed by that transaction's id (`giftspend#<id>`, in the transaction that settles
the gift), so one spend never settles two gifts."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from murmur.errors import StorageUnavailableError
from murmur.models import OwedGift, TelegramGift
from murmur.store.dynamo import Item, Op, error_code, get_n, get_s, n, s
from murmur.store.outbox import SHARDS

GIFT_PREFIX = "outbox#gift#"
SPEND_PREFIX = "giftspend#"
_DETAILS = (
    "outbox_shard",
    "due_at",
    "chat_id",
    "recipient_id",
    "message_id",
    "gift_id",
    "gift_emoji",
    "gift_cost",
    "language",
    "attempted_at",
    "ledger_from",
    "refund_reason",
)


def _owed_gift(item: Item) -> OwedGift | None:
    if "recipient_id" not in item or "due_at" not in item:
        return None  # settled: only the husk is left
    return OwedGift(
        charge_id=str(get_s(item, "pk", "")).removeprefix(GIFT_PREFIX),
        buyer_id=get_n(item, "chat_id", 0) or 0,
        recipient_id=get_n(item, "recipient_id", 0) or 0,
        message_id=get_s(item, "message_id", "") or "",
        gift=TelegramGift(
            get_s(item, "gift_id", "") or "", get_s(item, "gift_emoji", "") or "", get_n(item, "gift_cost", 0) or 0
        ),
        language=get_s(item, "language", "en") or "en",
        held_until=get_n(item, "due_at", 0) or 0,
        attempted_at=get_n(item, "attempted_at", 0) or 0,
        ledger_from=get_n(item, "ledger_from", 0) or 0,
        refund_reason=get_s(item, "refund_reason", "") or "",
    )


class GiftOutboxRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def key_of(charge_id: str) -> str:
        return f"{GIFT_PREFIX}{charge_id}"

    def owe_op(self, gift: OwedGift, *, attempts: int, expires_at: int) -> Op:
        """For the transaction that records the payment: the gift owed for it, held by the writer until
        `gift.held_until` (it sends at once); after that the cron does. Once per charge."""
        item: Item = {
            "pk": s(self.key_of(gift.charge_id)),
            "outbox_shard": s(str(gift.buyer_id % SHARDS)),
            "due_at": n(gift.held_until),
            "chat_id": n(gift.buyer_id),
            "recipient_id": n(gift.recipient_id),
            "message_id": s(gift.message_id),
            "gift_id": s(gift.gift.gift_id),
            "gift_emoji": s(gift.gift.emoji),
            "gift_cost": n(gift.gift.star_count),
            "language": s(gift.language),
            "attempts": n(attempts),
            "ttl": n(expires_at),
        }
        return Op({"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}})

    def _call(self, method: str, **request: Any) -> Any:
        """A request on the table; a failed condition comes back as False, other failures as
        StorageUnavailableError."""
        try:
            return getattr(self.client, method)(TableName=self.table, **request)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise StorageUnavailableError(f"gift outbox {method}: {error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError("storage unreachable") from exc

    def get(self, key: str) -> OwedGift | None:
        """The owed gift as it stands (a consistent read); None once it is settled."""
        item = self._call("get_item", Key={"pk": s(key)}, ConsistentRead=True).get("Item")
        return _owed_gift(item) if item else None

    def mark_attempted(self, gift: OwedGift, now: int, ledger_from: int) -> bool:
        """Before sendGift: from now on this gift is never sent again. False if the hold ran out or another holder
        attempted it first: then that holder decides."""
        answer = self._call(
            "update_item",
            Key={"pk": s(self.key_of(gift.charge_id))},
            UpdateExpression="SET attempted_at = :now, ledger_from = :from",
            ConditionExpression="due_at = :held AND attribute_not_exists(attempted_at)",
            ExpressionAttributeValues={":now": n(now), ":from": n(ledger_from), ":held": n(gift.held_until)},
        )
        return answer is not False

    def not_attempted(self, gift: OwedGift, due_at: int) -> None:
        """Telegram turned the call away before doing anything (429, flood control): the gift may be sent at
        `due_at`, as if it had never been tried."""
        self._if_held(gift, "REMOVE attempted_at, ledger_from SET due_at = :next", {":next": n(due_at)})

    def postpone(self, gift: OwedGift, due_at: int, refund_reason: str = "") -> None:
        """Give it back, due again at `due_at`; with `refund_reason`, the decision to refund it is kept."""
        if refund_reason:
            self._if_held(
                gift, "SET due_at = :next, refund_reason = :why", {":next": n(due_at), ":why": s(refund_reason)}
            )
        else:
            self._if_held(gift, "SET due_at = :next", {":next": n(due_at)})

    def settle_op(self, gift: OwedGift, now: int) -> Op:
        """Done with it (sent or refunded), if the hold is still this caller's: out of the index, and nothing left
        of whom it was from or for; the husk expires now for TTL to delete."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": s(self.key_of(gift.charge_id))},
                    "UpdateExpression": f"REMOVE {', '.join(f'#d{i}' for i in range(len(_DETAILS)))} SET #ttl = :now",
                    "ConditionExpression": "due_at = :held",
                    # By name: some are DynamoDB reserved words (LANGUAGE).
                    "ExpressionAttributeNames": {"#ttl": "ttl", **{f"#d{i}": name for i, name in enumerate(_DETAILS)}},
                    "ExpressionAttributeValues": {":now": n(now), ":held": n(gift.held_until)},
                }
            }
        )

    def claim_spend_op(self, transaction_id: str, expires_at: int) -> Op:
        """A gift_purchase in the Stars ledger, taken as the spend of one owed gift: never of a second one."""
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {"pk": s(f"{SPEND_PREFIX}{transaction_id}"), "ttl": n(expires_at)},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )

    def _if_held(self, gift: OwedGift, update: str, values: dict[str, Any]) -> None:
        """An update while the hold is still this caller's; if it ran out and another run took the gift, that run
        decides (the failed condition is not an error)."""
        self._call(
            "update_item",
            Key={"pk": s(self.key_of(gift.charge_id))},
            UpdateExpression=update,
            ConditionExpression="due_at = :held",
            ExpressionAttributeValues={**values, ":held": n(gift.held_until)},
        )
