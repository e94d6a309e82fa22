"""Story images: the card picture an owner posts with `WebApp.shareToStory`, kept for the minutes Telegram
needs to fetch it. State items `story#<token>` (the JPEG bytes, its expiry), deleted by TTL."""

from __future__ import annotations

from typing import Any

from murmur.store.dynamo import Op, n, s


class StoryImagesRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def _key(token: str) -> dict[str, Any]:
        return {"pk": s(f"story#{token}")}

    def put_op(self, token: str, image: bytes, expires_at: int) -> Op:
        """A new image under an unguessable token; never over an existing one."""
        return Op(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **self._key(token),
                        "image": {"B": image},
                        "expires_at": n(expires_at),
                        "ttl": n(expires_at),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )

    def get(self, token: str) -> tuple[bytes, int] | None:
        """The image and when it expires (TTL deletes expired items within days, not at once: the caller checks)."""
        item = self.client.get_item(
            TableName=self.table,
            Key=self._key(token),
            ProjectionExpression="#i, #e",
            ExpressionAttributeNames={"#i": "image", "#e": "expires_at"},
        ).get("Item")
        if not item:
            return None
        return bytes(item["image"]["B"]), int(item["expires_at"]["N"])
