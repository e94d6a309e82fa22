"""BatchGetItem across tables: two items a request needs, in one round trip; BatchWriteItem deletes for erasure."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from murmur.errors import StorageUnavailableError
from murmur.store.dynamo import Item, error_code

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ref(Generic[T]):
    """Where an item lives, and how it becomes a model."""

    table: str
    key: Item
    parse: Callable[[Item], T]

    def identity(self, item: Item | None = None) -> tuple[str, str]:
        source = self.key if item is None else {name: item[name] for name in self.key}
        return self.table, json.dumps(source, sort_keys=True)


class BatchReader:
    def __init__(self, client: Any, max_attempts: int = 5) -> None:
        self.client = client
        self.max_attempts = max_attempts

    def get(self, refs: Sequence[Ref[Any]], consistent: bool = False) -> list[Any]:
        """The parsed item of each ref, in order (None where absent). One call unless DynamoDB throttles."""
        request: dict[str, dict[str, Any]] = {}
        for ref in refs:
            keys = request.setdefault(ref.table, {"Keys": [], "ConsistentRead": consistent})["Keys"]
            if ref.key not in keys:
                keys.append(ref.key)
        found: dict[tuple[str, str], Item] = {}
        for attempt in range(self.max_attempts):
            response = self.client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                for item in items:
                    for ref in refs:
                        if ref.table == table and all(name in item for name in ref.key):
                            found.setdefault(ref.identity(item), item)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return [ref.parse(found[ref.identity()]) if ref.identity() in found else None for ref in refs]
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise StorageUnavailableError("DynamoDB kept throttling a batch read")


BATCH_WRITE_LIMIT = 25  # DynamoDB's most writes in one BatchWriteItem


def delete_items(client: Any, table: str, keys: Sequence[Item], max_attempts: int = 8) -> None:
    """Delete every key, 25 to a BatchWriteItem; what DynamoDB leaves unprocessed (throttling) is sent again
    with backoff. A failure surfaces as StorageUnavailableError; deleting an absent key is no error."""
    for start in range(0, len(keys), BATCH_WRITE_LIMIT):
        request = {table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_WRITE_LIMIT]]}
        for attempt in range(max_attempts):
            try:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            except ClientError as exc:
                raise StorageUnavailableError(f"batch delete failed: {error_code(exc)}") from exc
            except BotoCoreError as exc:
                raise StorageUnavailableError("storage unreachable") from exc
            if not request:
                break
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
        else:
            raise StorageUnavailableError("DynamoDB kept throttling a batch delete")
