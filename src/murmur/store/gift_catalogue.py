"""The cached list of real Telegram gifts the bot can send (State table, one item `gifts#available`): written by the
cron from getAvailableGifts when it is older than an hour, read by the send page. Never on a send's write path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from murmur.models import TelegramGift
from murmur.store.batch import Ref
from murmur.store.dynamo import Item, get_n, get_s, n, s

KEY = "gifts#available"


@dataclass(frozen=True, slots=True)
class GiftCatalogue:
    gifts: list[TelegramGift]
    fetched_at: int


def _catalogue(item: Item) -> GiftCatalogue:
    raw = json.loads(get_s(item, "gifts", "[]") or "[]")
    gifts = [TelegramGift(g["id"], g["emoji"], int(g["stars"]), g.get("remaining")) for g in raw]
    return GiftCatalogue(gifts, get_n(item, "fetched_at", 0) or 0)


class GiftCatalogueRepository:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def ref(self) -> Ref[GiftCatalogue]:
        """For a BatchGetItem: the cron's (consistent, with its cursors), the send page's (eventually consistent:
        a page may show a list a few hundred milliseconds old)."""
        return Ref(self.table, {"pk": s(KEY)}, _catalogue)

    def save(self, gifts: list[TelegramGift], fetched_at: int) -> None:
        listed = [
            {
                "id": g.gift_id,
                "emoji": g.emoji,
                "stars": g.star_count,
                **({"remaining": g.remaining} if g.remaining is not None else {}),
            }
            for g in gifts
        ]
        self.client.put_item(
            TableName=self.table,
            Item={"pk": s(KEY), "gifts": s(json.dumps(listed, ensure_ascii=False)), "fetched_at": n(fetched_at)},
        )
