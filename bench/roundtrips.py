"""Round trips per operation next to the minimum the data model allows, and why any excess exists.

Minimums come from the access patterns (docs/ and murmur.store): a send needs the link (to find the
owner, with its blocks) and the sender (ban) in one batch read, and one transaction for the rest; an inbox
page a Query and the owner (plan); reads of two items in different tables can share one BatchGetItem; a cron
tick with nothing due reads its cursors, Queries each plan index and each shard of the outbox index."""

from __future__ import annotations

from typing import Any

# operation: (DynamoDB minimum, Bot API minimum from the Lambda, how the minimum is reached)
MINIMUMS: dict[str, tuple[int, int, str]] = {
    "send": (
        4,
        0,
        "BatchGetItem (link with its blocks + sender's ban) + GetItem (the owner's controls, which no send "
        "writes) + TransactWriteItems (message, sender's window, one tally shard) + UpdateItem (the owner's "
        "coalesced announcement, ADR 0007); no Bot API call",
    ),
    "inbox_page": (2, 0, "Query messages + GetItem owner (plan decides what is readable)"),
    "read": (2, 0, "BatchGetItem (message + owner) + TransactWriteItems (mark read, unread counter)"),
    "create_order": (2, 1, "BatchGetItem (buyer + message) + PutItem order; 1 createInvoiceLink"),
    "pre_checkout": (2, 0, "BatchGetItem (order + payer's ban) + GetItem target message (unlock)"),
    "fulfil": (2, 0, "BatchGetItem (order + payer) + one TransactWriteItems (payment, order, grant)"),
    "cron_tick": (
        7,
        1,
        "BatchGetItem (2 sweep cursors + Stars offset) + 1 Query per plan index + 1 Query per outbox shard "
        "(4, ADR 0005); 1 getStarTransactions",
    ),
}

# Why the measured count is above the minimum (shown only when it is).
EXCESS: dict[str, str] = {
    "read": "two sequential reads where one BatchGetItem would do",
    "create_order": "two sequential reads where one BatchGetItem would do",
    "pre_checkout": "an update-id claim or a separate ban read on the money path",
    "fulfil": "an update-id claim or a separate read on the money path",
    "cron_tick": "a write of an unchanged cursor, or a Query per past day bucket",
    "send": "",
    "inbox_page": "",
}


def compare(warm: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for op, (ddb_min, bot_min, how) in MINIMUMS.items():
        measured = warm[op]
        calls = measured["dynamodb_calls"]
        out[op] = {
            "dynamodb_calls": calls,
            "dynamodb_ops": measured["dynamodb_ops"],
            "dynamodb_minimum": ddb_min,
            "excess": calls - ddb_min,
            "bot_api_calls_in_handler": measured["bot_api_calls_in_handler"],
            "bot_api_calls_total": measured["bot_api_calls_total"],
            "bot_api_minimum_in_handler": bot_min,
            "rru": measured["rru"],
            "wru": measured["wru"],
            "how_the_minimum_is_reached": how,
            "why_excess": EXCESS.get(op, "") if calls > ddb_min else "",
        }
    return out
