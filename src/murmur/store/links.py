"""Links table: personal link code -> owner (with the owner's display name and language, so a send or a
link page needs no second read). Codes are claimed with a condition, so they are unique.

The link also carries the owner's blocks: the pseudonyms of senders who may no longer use it (a string
set, capped). A send reads the link anyway, so the block check costs no extra request and no transactional
write; erasing the owner deletes the link and its blocks with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.store.batch import Ref
from murmur.store.dynamo import Item, Op, get_s, n, s

MAX_BLOCKS = 500  # 500 pseudonyms of 24 characters: about 13 KB on the link item


@dataclass(frozen=True, slots=True)
class LinkOwner:
    user_id: int
    first_name: str
    language_code: str
    blocked: frozenset[str] = frozenset()
    question: str | None = None  # the owner's own question card (`murmur.cards`), if they wrote one


def _to_owner(item: Item) -> LinkOwner:
    return LinkOwner(
        int(item["user_id"]["N"]),
        get_s(item, "first_name", "") or "",
        get_s(item, "language_code", "en") or "en",
        frozenset(item.get("blocked", {}).get("SS", ())),
        get_s(item, "question"),
    )


class LinksRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def ref(self, code: str) -> Ref[LinkOwner]:
        return Ref(self.table, {"code": s(code)}, _to_owner)

    def owner_of(self, code: str) -> LinkOwner | None:
        item = self.client.get_item(TableName=self.table, Key={"code": s(code)}).get("Item")
        return _to_owner(item) if item else None

    def block(self, code: str, pseudonym: str) -> bool:
        """Add a sender's pseudonym to the link's blocks; False when the link holds MAX_BLOCKS already."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"code": s(code)},
                UpdateExpression="ADD blocked :p",
                ConditionExpression="attribute_exists(code) AND (attribute_not_exists(blocked) "
                "OR contains(blocked, :one) OR size(blocked) < :max)",
                ExpressionAttributeValues={":p": {"SS": [pseudonym]}, ":one": s(pseudonym), ":max": n(MAX_BLOCKS)},
            )
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def claim_op(self, code: str, owner: LinkOwner, created_at: int) -> Op:
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "code": s(code),
                        "user_id": n(owner.user_id),
                        "first_name": s(owner.first_name),
                        "language_code": s(owner.language_code),
                        "created_at": n(created_at),
                    },
                    "ConditionExpression": "attribute_not_exists(code)",
                }
            }
        )

    def update_owner_profile(self, code: str, first_name: str, language_code: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"code": s(code)},
            UpdateExpression="SET first_name = :f, language_code = :l",
            ConditionExpression="attribute_exists(code)",
            ExpressionAttributeValues={":f": s(first_name), ":l": s(language_code)},
        )

    def set_question(self, code: str, question: str | None) -> None:
        """The owner's own question card, or none: on the link, which a send and the send page read anyway."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"code": s(code)},
            "ConditionExpression": "attribute_exists(code)",
        }
        if question is None:
            update["UpdateExpression"] = "REMOVE question"
        else:
            update["UpdateExpression"] = "SET question = :q"
            update["ExpressionAttributeValues"] = {":q": s(question)}
        self.client.update_item(**update)

    def delete_op(self, code: str) -> Op:
        """Erasure: the link and its blocks, in the transaction that begins the erasure (no one can write to
        the person from then on)."""
        return Op({"Delete": {"TableName": self.table, "Key": {"code": s(code)}}})
