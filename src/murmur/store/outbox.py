"""The outbox of owed notices, in the State table (`murmur.delivery` decides what goes in and when it leaves).

One item per notice, `outbox#<random id>`: the chat, the text, the buttons (JSON), attempts, `ttl`. While it
is pending it also carries `outbox_shard` and `due_at`, the keys of the sparse index `outbox-due`; the cron
Queries that index for `due_at <= now`, so it reads what is due and nothing else. A run takes a notice with a
conditional update (`due_at` still what the index showed), so two overlapping runs never both send it; once
settled the item leaves the index and keeps no text, and TTL removes what is left.

New messages are announced through the same index, coalesced: one item per owner, `outbox#notify#<owner>`,
with no text (the cron writes it when it delivers, from the inbox itself). Every send adds one to its `seq`
and makes it pending if it was not (a single write after the send's transaction, never inside it); a run
that delivered it takes it out of the index only if `seq` is still what it claimed, so a message that
arrived while the notice was being written is announced by the next one. `quiet_until` paces an owner's
announcements.

An automatic refund is owed the same way (`murmur.refunds`): `outbox#refund#<charge id>`, written in the
transaction that records the payment which granted nothing (one per charge, so a redelivery cannot owe it
twice), with the buyer's chat and the notice to send once Telegram has refunded the charge. Whoever holds it
(the webhook that recorded it, or a cron run once that hold ran out) refunds, then says so.

Reports reach each admin the way new messages reach an owner: `outbox#reports#<admin>`, no text, `seq` = the
reports not told yet, written in each report's transaction; the cron writes the digest when it delivers it (from
the reports waiting for review) and subtracts what it told, at most once per `quiet_until` interval."""

from __future__ import annotations

import contextlib
import heapq
import secrets
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from murmur.errors import StorageUnavailableError
from murmur.models import OwedNotice
from murmur.store.dynamo import Item, Op, error_code, get_n, get_s, n, s

OUTBOX_INDEX = "outbox-due"
# Index partitions that the writes of a flood (Telegram down, every request keeping a notice) spread over.
# The cron Queries each one: four small Queries per run when nothing is owed.
SHARDS = 4
NAMES = {
    "#shard": "outbox_shard",
    "#due": "due_at",
    "#chat": "chat_id",
    "#text": "text",
    "#buttons": "buttons",
    "#attempts": "attempts",
    "#ttl": "ttl",
    "#seq": "seq",
    "#quiet": "quiet_until",
}
ANNOUNCEMENT_PREFIX = "outbox#notify#"
REFUND_PREFIX = "outbox#refund#"
REPORT_DIGEST_PREFIX = "outbox#reports#"


def _names(*wanted: str) -> dict[str, str]:
    return {name: NAMES[name] for name in wanted}


def _owed(item: Item) -> OwedNotice:
    return OwedNotice(
        key=str(get_s(item, "pk")),
        chat_id=get_n(item, "chat_id", 0) or 0,
        due_at=get_n(item, "due_at", 0) or 0,
        text=get_s(item, "text", "") or "",
        buttons=get_s(item, "buttons", "") or "",
        attempts=get_n(item, "attempts", 0) or 0,
        expires_at=get_n(item, "ttl", 0) or 0,
        seq=get_n(item, "seq", 0) or 0,
        quiet_until=get_n(item, "quiet_until", 0) or 0,
    )


class OutboxRepository:
    """Implements `murmur.delivery.NoticeOutbox`. Storage failures surface as StorageUnavailableError."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def _call(self, method: str, **request: Any) -> Any:
        try:
            return getattr(self.client, method)(TableName=self.table, **request)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise
            raise StorageUnavailableError(f"outbox {method}: {error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError("storage unreachable") from exc

    def keep(self, chat_id: int, text: str, buttons: str, *, due_at: int, attempts: int, expires_at: int) -> None:
        item: Item = {
            "pk": s(f"outbox#{secrets.token_urlsafe(12)}"),
            "outbox_shard": s(str(chat_id % SHARDS)),
            "due_at": n(due_at),
            "chat_id": n(chat_id),
            "text": s(text),
            "attempts": n(attempts),
            "ttl": n(expires_at),
        }
        if buttons:
            item["buttons"] = s(buttons)
        self._call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")

    def owe_refund_op(
        self, charge_id: str, chat_id: int, text: str, *, due_at: int, attempts: int, expires_at: int
    ) -> Op:
        """For the transaction that records a payment which granted nothing: the refund it is owed, and the notice
        saying so. `due_at` is the writer's own hold: until then it refunds; after, the cron does."""
        item: Item = {
            "pk": s(f"{REFUND_PREFIX}{charge_id}"),
            "outbox_shard": s(str(chat_id % SHARDS)),
            "due_at": n(due_at),
            "chat_id": n(chat_id),
            "text": s(text),
            "attempts": n(attempts),
            "ttl": n(expires_at),
        }
        return Op({"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}})

    def announce(self, owner_id: int, now: int, expires_at: int) -> None:
        """A new message for `owner_id`: count it, and make the owner's announcement pending unless it is."""
        self._call(
            "update_item",
            Key={"pk": s(f"{ANNOUNCEMENT_PREFIX}{owner_id}")},
            UpdateExpression="SET #due = if_not_exists(#due, :now), #shard = :shard, #chat = :chat, #ttl = :ttl "
            "ADD #seq :one",
            ExpressionAttributeNames=_names("#due", "#shard", "#chat", "#ttl", "#seq"),
            ExpressionAttributeValues={
                ":now": n(now),
                ":shard": s(str(owner_id % SHARDS)),
                ":chat": n(owner_id),
                ":ttl": n(expires_at),
                ":one": n(1),
            },
        )

    def settle_announcement(self, owed: OwedNotice, quiet_until: int) -> bool:
        """Done with a claimed announcement: out of the index, the owner left alone until `quiet_until`. False,
        changing nothing, when messages arrived since the claim (`seq` moved): the caller makes it due again."""
        try:
            self._call(
                "update_item",
                Key={"pk": s(owed.key)},
                UpdateExpression="REMOVE #due, #shard SET #quiet = :quiet",
                ConditionExpression="#due = :held AND #seq = :seq",
                ExpressionAttributeNames=_names("#due", "#shard", "#quiet", "#seq"),
                ExpressionAttributeValues={":quiet": n(quiet_until), ":held": n(owed.due_at), ":seq": n(owed.seq)},
            )
            return True
        except ClientError:  # only a failed condition is left as a ClientError
            return False

    def report_digest_op(self, admin_id: int, now: int, expires_at: int) -> Op:
        """For a report's transaction: count it into `admin_id`'s digest and make the digest pending unless it is.
        Written by every report (there are few: each reporter has a limit), never by a send."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": s(f"{REPORT_DIGEST_PREFIX}{admin_id}")},
                    "UpdateExpression": "SET #due = if_not_exists(#due, :now), #shard = :shard, #chat = :chat, "
                    "#ttl = :ttl ADD #seq :one",
                    "ExpressionAttributeNames": _names("#due", "#shard", "#chat", "#ttl", "#seq"),
                    "ExpressionAttributeValues": {
                        ":now": n(now),
                        ":shard": s(str(admin_id % SHARDS)),
                        ":chat": n(admin_id),
                        ":ttl": n(expires_at),
                        ":one": n(1),
                    },
                }
            }
        )

    def settle_report_digest(self, owed: OwedNotice, quiet_until: int) -> None:
        """Done with a claimed digest that told `owed.seq` reports: those are subtracted, and the admin is left
        alone until `quiet_until`. Out of the index when no report came since the claim; otherwise due again
        at `quiet_until`, with the newer ones still counted. Both on condition this run's lease still holds."""
        told = {":held": n(owed.due_at), ":quiet": n(quiet_until), ":told": n(-owed.seq)}
        try:
            self._call(
                "update_item",
                Key={"pk": s(owed.key)},
                UpdateExpression="REMOVE #due, #shard SET #quiet = :quiet ADD #seq :told",
                ConditionExpression="#due = :held AND #seq = :seq",
                ExpressionAttributeNames=_names("#due", "#shard", "#quiet", "#seq"),
                ExpressionAttributeValues={**told, ":seq": n(owed.seq)},
            )
            return
        except ClientError:  # only a failed condition is left as a ClientError: newer reports, or the lease ran out
            pass
        with contextlib.suppress(ClientError):
            self._call(
                "update_item",
                Key={"pk": s(owed.key)},
                UpdateExpression="SET #due = :quiet, #quiet = :quiet ADD #seq :told",
                ConditionExpression="#due = :held",
                ExpressionAttributeNames=_names("#due", "#quiet", "#seq"),
                ExpressionAttributeValues=told,
            )

    def forget_announcements_op(self, owner_id: int) -> Op:
        """Erasure: the owner's announcement item (it holds the chat id and a count, nothing else), deleted in
        the transaction that begins the erasure."""
        return Op({"Delete": {"TableName": self.table, "Key": {"pk": s(f"{ANNOUNCEMENT_PREFIX}{owner_id}")}}})

    def due(self, now: int, limit: int) -> list[OwedNotice]:
        """Up to `limit` notices due by `now`, the longest-owed first (key, chat and due time only)."""
        shards: list[list[OwedNotice]] = []
        for shard in range(SHARDS):
            found: list[OwedNotice] = []
            request: dict[str, Any] = {
                "IndexName": OUTBOX_INDEX,
                "KeyConditionExpression": "#shard = :shard AND #due <= :now",
                "ExpressionAttributeNames": _names("#shard", "#due"),
                "ExpressionAttributeValues": {":shard": s(str(shard)), ":now": n(now)},
            }
            while len(found) < limit:
                page = self._call("query", Limit=limit - len(found), **request)
                found += [_owed(item) for item in page.get("Items", [])]
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            shards.append(found)
        return list(heapq.merge(*shards, key=lambda owed: owed.due_at))[:limit]

    def claim(self, owed: OwedNotice, lease_until: int) -> OwedNotice | None:
        """Take a due notice for one run until `lease_until`, counting the attempt; None when another run
        took it first (or it was settled meanwhile): the index showed `owed.due_at`, the item no longer has it."""
        try:
            answer = self._call(
                "update_item",
                Key={"pk": s(owed.key)},
                UpdateExpression="SET #due = :lease ADD #attempts :one",
                ConditionExpression="#due = :seen",
                ExpressionAttributeNames=_names("#due", "#attempts"),
                ExpressionAttributeValues={":lease": n(lease_until), ":one": n(1), ":seen": n(owed.due_at)},
                ReturnValues="ALL_NEW",
            )
        except ClientError:
            return None
        return _owed(answer["Attributes"])

    def postpone(self, owed: OwedNotice, due_at: int) -> None:
        """Give a claimed notice back, due again at `due_at`."""
        self._if_still_held(
            owed,
            UpdateExpression="SET #due = :next",
            ExpressionAttributeNames=_names("#due"),
            ExpressionAttributeValues={":next": n(due_at)},
        )

    def settle(self, owed: OwedNotice, now: int) -> None:
        """Done with a claimed notice (delivered, refused or given up): out of the index, its text erased, and
        the remaining husk (key and attempts) expired now for TTL to delete."""
        self._if_still_held(
            owed,
            UpdateExpression="REMOVE #shard, #due, #chat, #text, #buttons SET #ttl = :now",
            ExpressionAttributeNames=_names("#shard", "#due", "#chat", "#text", "#buttons", "#ttl"),
            ExpressionAttributeValues={":now": n(now)},
        )

    def _if_still_held(self, owed: OwedNotice, **update: Any) -> None:
        """An update on condition that this run's lease (`owed.due_at` as claimed) still holds; if it ran out
        and another run took the notice, that run decides."""
        update["ExpressionAttributeNames"] = {**update["ExpressionAttributeNames"], "#due": "due_at"}
        update["ExpressionAttributeValues"] = {**update["ExpressionAttributeValues"], ":held": n(owed.due_at)}
        with contextlib.suppress(ClientError):  # only a failed condition is left as a ClientError
            self._call("update_item", Key={"pk": s(owed.key)}, ConditionExpression="#due = :held", **update)
