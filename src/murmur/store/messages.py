"""Messages table: partition = recipient, sort = time-ordered message id (newest first by querying backwards)."""

from __future__ import annotations

from typing import Any

from murmur.models import Message
from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, b, get_b, get_list, get_map, get_n, get_s, n, query_all, s, ss_list

SENDER_INDEX = "by-sender"


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
            "gifts": {"M": {}},
        }
        if m.nickname:
            item["nickname"] = s(m.nickname)
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

    def set_unlocked_op(self, recipient_id: int, message_id: str, unlocked: bool, on_failed: Any = None) -> Op:
        return Op(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(recipient_id, message_id),
                    "UpdateExpression": "SET unlocked = :v",
                    "ConditionExpression": "attribute_exists(message_id)",
                    "ExpressionAttributeValues": {":v": b(unlocked)},
                }
            },
            on_failed,
        )

    def reveal_hint_op(self, recipient_id: int, message_id: str, on_failed: Any = None) -> Op:
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
            },
            on_failed,
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

    def mark_reported(self, recipient_id: int, message_id: str) -> bool:
        """True the first time only."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self.key(recipient_id, message_id),
                UpdateExpression="SET reported = :t",
                ConditionExpression="attribute_exists(message_id) AND (attribute_not_exists(reported) "
                "OR reported = :f)",
                ExpressionAttributeValues={":t": b(True), ":f": b(False)},
            )
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def keys_of_recipient(self, recipient_id: int) -> list[tuple[int, str]]:
        items = query_all(
            self.client,
            TableName=self.table,
            KeyConditionExpression="recipient_id = :r",
            ExpressionAttributeValues={":r": n(recipient_id)},
            ProjectionExpression="recipient_id, message_id",
        )
        return [(recipient_id, i["message_id"]["S"]) for i in items]

    def keys_of_sender(self, sender_id: int) -> list[tuple[int, str]]:
        items = query_all(
            self.client,
            TableName=self.table,
            IndexName=SENDER_INDEX,
            KeyConditionExpression="sender_id = :s",
            ExpressionAttributeValues={":s": n(sender_id)},
        )
        return [(int(i["recipient_id"]["N"]), i["message_id"]["S"]) for i in items]

    def delete(self, recipient_id: int, message_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key=self.key(recipient_id, message_id))

    def forget_sender(self, recipient_id: int, message_id: str) -> None:
        """Erasure of a sender: the recipient keeps the text, the link to the person is gone."""
        self.client.update_item(
            TableName=self.table,
            Key=self.key(recipient_id, message_id),
            UpdateExpression="SET clues = :none REMOVE sender_id, nickname",
            ConditionExpression="attribute_exists(message_id)",
            ExpressionAttributeValues={":none": {"L": []}},
        )
