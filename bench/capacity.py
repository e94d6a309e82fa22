"""DynamoDB capacity units from item sizes, because moto does not report them truthfully.

moto 5.2 answers ReturnConsumedCapacity with fixed figures (1.0 for any PutItem, 0.5 for any GetItem,
strong or not) and nothing for transactions, so the bench computes units the way AWS bills them:
item size by the documented rule, writes per started KB (transactional x2), reads per started 4 KB
(eventually consistent x0.5, transactional x2)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bench import prices

Item = Mapping[str, Any]


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value, per "Item sizes and formats" in the DynamoDB developer guide."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in raw)
    if kind == "NS":
        return sum(_number_size(v) for v in raw)
    if kind == "BS":
        return sum(len(v) for v in raw)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: Item | None) -> int:
    """Bytes of an item: attribute names plus values (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size_bytes: int, *, transactional: bool = False) -> float:
    """WRU of one write (the larger of the item before and after); at least one unit."""
    units = max(1, math.ceil(size_bytes / prices.DYNAMODB_WRITE_UNIT_BYTES))
    return float(units * (2 if transactional else 1))


def read_units(size_bytes: int, *, consistent: bool = False, transactional: bool = False) -> float:
    """RRU of one read of `size_bytes` (a Query sums its items first); at least one 4 KB block."""
    blocks = max(1, math.ceil(size_bytes / prices.DYNAMODB_READ_UNIT_BYTES))
    if transactional:
        return float(blocks * 2)
    return float(blocks) * (1.0 if consistent else 0.5)
