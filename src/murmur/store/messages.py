"""Messages table: partition = recipient, sort = time-ordered message id (newest first by querying backwards)."""

from __future__ import annotations

import contextlib
from typing import Any

from murmur.models import Message, OwnerReply, ReportToReview
from murmur.store.batch import Ref, delete_items
from murmur.store.dynamo import Item, Op, b, get_b, get_list, get_map, get_n, get_s, n, s, ss_list

SENDER_INDEX = "by-sender"
# Reports waiting for an admin's decision: sparse, only a pending report carries `review`; oldest first.
REVIEW_INDEX = "reports-to-review"
REVIEW_PENDING = "pending"


def _to_message(item: Item) -> Message:
    return Message(
        recipient_id=int(item["recipient_id"]["N"]),
        message_id=item["message_id"]["S"],
        sender_id=get_n(item, "sender_id", 0) or 0,
        pseudonym=get_s(item, "pseudonym", "") or "",
        text=get_s(item, "text", "") or "",
        created_at=get_n(item, "created_at", 0) or 0,
        clues=get_list(item, "clues"),
        nickname=get_s(item, "nickname"),
        unlocked=get_b(item, "unlocked"),
        read=get_b(item, "read"),
        hints_revealed=get_n(item, "hints_revealed", 0) or 0,
        gifts=get_map(item, "gifts"),
        reported=get_b(item, "reported"),
        card=get_s(item, "card"),
        question=get_s(item, "question"),
        replies=[
            OwnerReply(get_s(r["M"], "text", "") or "", get_n(r["M"], "sent_at", 0) or 0)
            for r in item.get("replies", {}).get("L", [])
        ],
        reply_count=get_n(item, "reply_count", 0) or 0,
    )


class MessagesRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def key(recipient_id: int, message_id: str) -> Item:
        return {"recipient_id": n(recipient_id), "message_id": s(message_id)}

    def ref(self, recipient_id: int, message_id: str) -> Ref[Message]:
        return Ref(self.table, self.key(recipient_id, message_id), _to_message)

    def put_op(self, m: Message) -> Op:
        item: Item = {
            "recipient_id": n(m.recipient_id),
            "message_id": s(m.message_id),
            "sender_id": n(m.sender_id),
            "pseudonym": s(m.pseudonym),
            "text": s(m.text),
            "created_at": n(m.created_at),
            "clues": ss_list(m.clues),
            "unlocked": b(False),
            "read": b(False),
            "hints_revealed": n(0),
            "gifts": {"M": {charge_id: s(gift) for charge_id, gift in m.gifts.items()}},
        }
        if m.nickname:
            item["nickname"] = s(m.nickname)
        if m.card:
            item["card"] = s(m.card)
        if m.question:
            item["question"] = s(m.question)
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(message_id)",
                }
            }
        )

    def get(self, recipient_id: int, message_id: str, consistent: bool = False) -> Message | None:
        item = self.client.get_item(
            TableName=self.table, Key=self.key(recipient_id, message_id), ConsistentRead=consistent
        ).get("Item")
        return _to_message(item) if item else None

    def page(self, recipient_id: int, limit: int, after: str | None) -> tuple[list[Message], str | None]:
        """One page of an inbox, newest first; `after` is the last message id of the previous page."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "recipient_id = :r",
            "ExpressionAttributeValues": {":r": n(recipient_id)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = self.key(recipient_id, after)
        result = self.client.query(**kwargs)
        messages = [_to_message(i) for i in result.get("Items", [])]
        last = result.get("LastEvaluatedKey")
        return messages, (last["message_id"]["S"] if last else None)

    def mark_read_op(self, recipient_id: int, message_id: str) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "SET #r = :t",
                    "ConditionExpression": "attribute_exists(message_id) AND #r = :f",
                    "ExpressionAttributeNames": {"#r": "read"},
                    "ExpressionAttributeValues": {":t": b(True), ":f": b(False)},
                }
            }
        )

    def set_unlocked_op(self, recipient_id: int, message_id: str, unlocked: bool) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "SET unlocked = :v",
                    "ConditionExpression": "attribute_exists(message_id)",
                    "ExpressionAttributeValues": {":v": b(unlocked)},
                }
            }
        )

    def unlock_op(self, recipient_id: int, message_id: str) -> Op:
        """A paid unlock: fails on a message that is gone or unlocked already (a second unlock would give nothing,
        and refunding it would lock the message the first one paid for)."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "SET unlocked = :t",
                    "ConditionExpression": "attribute_exists(message_id) "
                    "AND (attribute_not_exists(unlocked) OR unlocked = :f)",
                    "ExpressionAttributeValues": {":t": b(True), ":f": b(False)},
                }
            }
        )

    def reveal_hint_op(self, recipient_id: int, message_id: str) -> Op:
        """One more clue, never beyond the ladder the sender was shown."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "ADD hints_revealed :one",
                    "ConditionExpression": "attribute_exists(message_id) AND hints_revealed < size(clues)",
                    "ExpressionAttributeValues": {":one": n(1)},
                }
            }
        )

    def hide_hint_op(self, recipient_id: int, message_id: str) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "ADD hints_revealed :minus",
                    "ConditionExpression": "hints_revealed > :zero",
                    "ExpressionAttributeValues": {":minus": n(-1), ":zero": n(0)},
                }
            }
        )

    def add_gift_op(self, recipient_id: int, message_id: str, charge_id: str, gift: str) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "SET gifts.#c = :g",
                    "ConditionExpression": "attribute_exists(message_id)",
                    "ExpressionAttributeNames": {"#c": charge_id},
                    "ExpressionAttributeValues": {":g": s(gift)},
                }
            }
        )

    def show_telegram_gift_op(self, recipient_id: int, message_id: str, charge_id: str, badge: str) -> Op:
        """A real Telegram gift delivered with the message: shown on it, and the message readable in full (the
        gift's own text showed its start already)."""
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "SET gifts.#c = :g, unlocked = :t",
                    "ConditionExpression": "attribute_exists(message_id)",
                    "ExpressionAttributeNames": {"#c": charge_id},
                    "ExpressionAttributeValues": {":g": s(badge), ":t": b(True)},
                }
            }
        )

    def remove_gift_op(self, recipient_id: int, message_id: str, charge_id: str) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "REMOVE gifts.#c",
                    "ConditionExpression": "attribute_exists(message_id)",
                    "ExpressionAttributeNames": {"#c": charge_id},
                }
            }
        )

    def replies_op(self, recipient_id: int, message_id: str, replies: list[OwnerReply], count: int) -> Op:
        """The owner's replies as they are now (`replies`, already bounded) and how many there have been in all, if
        the message still holds the `count - 1` replies they were computed from (its condition fails otherwise)."""
        before = count - 1
        values: Item = {
            ":replies": {"L": [{"M": {"text": s(r.text), "sent_at": n(r.sent_at)}} for r in replies]},
            ":count": n(count),
        }
        if before:
            values[":before"] = n(before)
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "SET replies = :replies, reply_count = :count",
                    "ConditionExpression": "attribute_exists(message_id) AND "
                    + ("reply_count = :before" if before else "attribute_not_exists(reply_count)"),
                    "ExpressionAttributeValues": values,
                }
            }
        )

    def report_op(self, recipient_id: int, message_id: str, reason: str, now: int) -> Op:
        """Flag a message for the admins' review, the first time only (its condition fails otherwise): `reported` for
        good, and `review` = "pending" with `reported_at`, the keys of the sparse index REVIEW_INDEX, until an
        admin decides (`reviewed`). The reason stays on the message, and goes with it when it is erased."""
        names = {"#review": "review", "#at": "reported_at"}
        values: Item = {":t": b(True), ":f": b(False), ":pending": s(REVIEW_PENDING), ":now": n(now)}
        update = "SET reported = :t, #review = :pending, #at = :now"
        if reason:
            names["#reason"] = "report_reason"
            values[":reason"] = s(reason)
            update += ", #reason = :reason"
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": update,
                    "ConditionExpression": "attribute_exists(message_id) AND (attribute_not_exists(reported) "
                    "OR reported = :f)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )

    def to_review(self, limit: int) -> list[ReportToReview]:
        """The oldest reports still waiting for an admin's decision (one Query of the sparse index)."""
        page = self.client.query(
            TableName=self.table,
            IndexName=REVIEW_INDEX,
            KeyConditionExpression="#review = :pending",
            ExpressionAttributeNames={"#review": "review"},
            ExpressionAttributeValues={":pending": s(REVIEW_PENDING)},
            ScanIndexForward=True,
            Limit=limit,
        )
        return [
            ReportToReview(
                recipient_id=int(item["recipient_id"]["N"]),
                message_id=item["message_id"]["S"],
                text=get_s(item, "text", "") or "",
                reason=get_s(item, "report_reason", "") or "",
                reported_at=get_n(item, "reported_at", 0) or 0,
            )
            for item in page.get("Items", [])
        ]

    def count_to_review(self) -> int:
        """How many reports wait for a decision (Select COUNT over the sparse index, page by page)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": REVIEW_INDEX,
            "KeyConditionExpression": "#review = :pending",
            "ExpressionAttributeNames": {"#review": "review"},
            "ExpressionAttributeValues": {":pending": s(REVIEW_PENDING)},
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = self.client.query(**request)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def reviewed(self, recipient_id: int, message_id: str) -> None:
        """An admin decided on a report: out of the review index (still `reported`, so never reported again).
        A message erased meanwhile needs nothing."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=self.key(recipient_id, message_id),
                UpdateExpression="REMOVE #review",
                ConditionExpression="attribute_exists(message_id)",
                ExpressionAttributeNames={"#review": "review"},
            )

    def received_page(self, recipient_id: int, limit: int) -> list[tuple[str, dict[str, str]]]:
        """Erasure: the ids and gifts of up to `limit` messages in an inbox (the oldest first). Deleted ones do not
        come back, so calling again is how erasure resumes: no cursor to keep."""
        page = self.client.query(
            TableName=self.table,
            KeyConditionExpression="recipient_id = :r",
            ExpressionAttributeValues={":r": n(recipient_id)},
            ProjectionExpression="message_id, gifts",
            ConsistentRead=True,
            Limit=limit,
        )
        return [(i["message_id"]["S"], get_map(i, "gifts")) for i in page.get("Items", [])]

    def sent_page(self, sender_id: int, limit: int) -> list[tuple[int, str]]:
        """Erasure: up to `limit` messages a user sent and is still linked to (by-sender, keys only). A message
        whose sender was forgotten leaves the index, so calling again resumes."""
        page = self.client.query(
            TableName=self.table,
            IndexName=SENDER_INDEX,
            KeyConditionExpression="sender_id = :s",
            ExpressionAttributeValues={":s": n(sender_id)},
            Limit=limit,
        )
        return [(int(i["recipient_id"]["N"]), i["message_id"]["S"]) for i in page.get("Items", [])]

    def delete_received(self, recipient_id: int, message_ids: list[str]) -> None:
        """Erasure of an inbox: BatchWriteItem, 25 messages a request."""
        delete_items(self.client, self.table, [self.key(recipient_id, m) for m in message_ids])

    def forget_sender(self, recipient_id: int, message_id: str) -> None:
        """Erasure of a sender: the recipient keeps the text, the link to the person is gone. A message deleted
        meanwhile (its recipient erased too) needs nothing."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=self.key(recipient_id, message_id),
                UpdateExpression="SET clues = :none REMOVE sender_id, nickname",
                ConditionExpression="attribute_exists(message_id)",
                ExpressionAttributeValues={":none": {"L": []}},
            )
