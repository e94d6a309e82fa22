"""Links table: personal link code -> owner (with the owner's display name and language, so a send or a
link page needs no second read). Codes are claimed with a condition, so they are unique."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.store.dynamo import Op, get_s, n, s


@dataclass(frozen=True, slots=True)
class LinkOwner:
    user_id: int
    first_name: str
    language_code: str


class LinksRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def owner_of(self, code: str) -> LinkOwner | None:
        item = self.client.get_item(TableName=self.table, Key={"code": s(code)}).get("Item")
        if not item:
            return None
        return LinkOwner(
            int(item["user_id"]["N"]), get_s(item, "first_name", "") or "", get_s(item, "language_code", "en") or "en"
        )

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

    def delete(self, code: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"code": s(code)})
